//! What travels to and from the server: SHA-256 digests, the `Action` a station key maps
//! to, and the manifest that lists a result's encoded value and files.

use crate::hash::Digest;
use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use prost::Message;
use sha2::Digest as _;
use std::collections::HashMap;

/// A wire digest (SHA-256 and size).
pub(crate) type WireDigest = re::Digest;

/// The output path of a result's manifest in its ActionResult.
pub(crate) const VALUE: &str = "choochoo/value";

/// The output path prefix of the files of a result, relative to the store's `work/`.
pub(crate) const WORK: &str = "work/";

/// The SHA-256 digest of `bytes`, as REAPI names blobs.
pub(crate) fn sha256(bytes: &[u8]) -> WireDigest {
    let hash = sha2::Sha256::digest(bytes);
    WireDigest {
        hash: hash.iter().map(|byte| format!("{byte:02x}")).collect(),
        size_bytes: bytes.len() as i64,
    }
}

/// Checks downloaded bytes against the digest they were asked for.
pub(crate) fn verify(expected: &WireDigest, bytes: &[u8]) -> Result<(), String> {
    if i64::try_from(bytes.len()) != Ok(expected.size_bytes) {
        return Err(format!(
            "blob {} came with {} bytes, not {}",
            expected.hash,
            bytes.len(),
            expected.size_bytes
        ));
    }
    if sha256(bytes).hash != expected.hash {
        return Err(format!("blob {} does not match its digest", expected.hash));
    }
    Ok(())
}

/// What a station's key is made of, in the portable form every store computes alike.
pub(crate) struct Key<'a> {
    pub station: &'a str,
    pub fingerprint: &'a Digest,
    pub output_type: &'a str,
    pub profile: &'a str,
    /// The portable content digest of each input, in order.
    pub inputs: &'a [Digest],
}

/// The digest of the `Action` a key maps to: a `Command` naming the station, its code
/// fingerprint, its output type and the profile, and an input root with one file per input
/// whose content is the input's content digest (in hex). Deterministic: protobuf encodes
/// these messages' fields in order, and the input files are named in sorted order.
pub(crate) fn action_digest(key: &Key<'_>) -> WireDigest {
    let variable = |name: &str, value: String| re::command::EnvironmentVariable {
        name: name.to_owned(),
        value,
    };
    let command = re::Command {
        arguments: vec!["choochoo".to_owned(), key.station.to_owned()],
        // Sorted by name, as REAPI asks.
        environment_variables: vec![
            variable("CHOOCHOO_FINGERPRINT", key.fingerprint.to_hex()),
            variable("CHOOCHOO_OUTPUT_TYPE", key.output_type.to_owned()),
            variable("CHOOCHOO_PROFILE", key.profile.to_owned()),
        ],
        output_paths: vec![VALUE.to_owned()],
        ..Default::default()
    };
    let input_root = re::Directory {
        files: key
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| re::FileNode {
                name: format!("input-{i:06}"),
                digest: Some(sha256(input.to_hex().as_bytes())),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let action = re::Action {
        command_digest: Some(sha256(&command.encode_to_vec())),
        input_root_digest: Some(sha256(&input_root.encode_to_vec())),
        ..Default::default()
    };
    sha256(&action.encode_to_vec())
}

/// A result's manifest: the output's portable encoding and, for each file inside it, its
/// path relative to the store's `work/` directory and its BLAKE3 content digest.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Manifest {
    pub encoding: Vec<u8>,
    pub files: Vec<(String, Digest)>,
}

/// A result as downloaded: every blob already checked against its SHA-256 digest.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub manifest: Vec<u8>,
    /// File digests by path relative to `work/`, with their contents when they were
    /// downloaded (`None`: they stay in the remote cache).
    pub files: HashMap<String, (WireDigest, Option<Vec<u8>>)>,
}

/// A result to upload under `action`: its blobs, by output path.
#[derive(Debug)]
pub(crate) struct Upload {
    pub action: WireDigest,
    pub blobs: Vec<Blob>,
}

/// One blob of an upload.
#[derive(Debug)]
pub(crate) struct Blob {
    /// Its output path in the ActionResult.
    pub path: String,
    pub digest: WireDigest,
    pub source: Source,
}

/// Where an upload's blob comes from.
#[derive(Debug)]
pub(crate) enum Source {
    Bytes(Vec<u8>),
    /// A file whose SHA-256 the store already knew: read only if the server lacks it, and
    /// checked against the digest then.
    File(std::path::PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_the_wire_digest() {
        // The SHA-256 of the empty string, as every REAPI server knows it.
        assert_eq!(
            sha256(b"").hash,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(verify(&sha256(b"abc"), b"abc").is_ok());
        assert!(verify(&sha256(b"abc"), b"abd").is_err());
        assert!(verify(&sha256(b"abc"), b"ab").is_err());
    }

    #[test]
    fn every_part_of_the_key_changes_the_action() {
        let (fp, a, b) = (Digest::of(b"fn"), Digest::of(b"a"), Digest::of(b"b"));
        let key = |station, profile, inputs: &[Digest]| {
            action_digest(&Key {
                station,
                fingerprint: &fp,
                output_type: "u64",
                profile,
                inputs,
            })
        };
        let base = key("m::s", "default", &[a, b]);
        assert_eq!(base, key("m::s", "default", &[a, b]));
        assert_ne!(base, key("m::t", "default", &[a, b]));
        assert_ne!(base, key("m::s", "prod", &[a, b]));
        assert_ne!(base, key("m::s", "default", &[b, a]));
        assert_ne!(base, key("m::s", "default", &[a]));
    }
}
