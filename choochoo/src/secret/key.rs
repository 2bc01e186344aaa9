//! The key secrets are hashed with. `CHOOCHOO_SECRET_KEY`, when set, is a team's key: 32
//! bytes as 64 hexadecimal characters or in base64, so that stores sharing a remote cache
//! make the same keys for the same secret and share its results. Without it, each store
//! makes a random key of its own once, in `secret.key` (`0600`, 64 hexadecimal characters).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable holding a team's secret key.
pub(crate) const VARIABLE: &str = "CHOOCHOO_SECRET_KEY";

/// The name of a store's own key file, in the store's directory.
pub(crate) const FILE: &str = "secret.key";

/// A store's secret keys: the key, found on first use; and, for a plan of a store that has
/// none yet (a plan writes nothing), a key for this process only.
#[derive(Debug)]
pub(crate) struct Keys {
    dir: PathBuf,
    key: OnceLock<Result<[u8; 32], String>>,
    passing: OnceLock<[u8; 32]>,
}

impl Keys {
    pub(crate) fn new(dir: &Path) -> Keys {
        Keys {
            dir: dir.to_path_buf(),
            key: OnceLock::new(),
            passing: OnceLock::new(),
        }
    }

    /// The key: the environment's, else the store's, made now if `create` (else, when the
    /// store has none, one for this process that is never written).
    pub(super) fn get(&self, create: bool) -> Result<[u8; 32], String> {
        if let Some(key) = self.key.get() {
            return key.clone();
        }
        if !create && std::env::var_os(VARIABLE).is_none() && !self.dir.join(FILE).exists() {
            return random().map(|key| *self.passing.get_or_init(|| key));
        }
        self.key.get_or_init(|| self.find()).clone()
    }

    fn find(&self) -> Result<[u8; 32], String> {
        match std::env::var(VARIABLE) {
            Ok(text) => parse(&text).ok_or_else(|| {
                format!(
                    "{VARIABLE} is not a key: give 32 bytes as 64 hexadecimal characters or in \
                     base64 (`openssl rand -hex 32`)"
                )
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "{VARIABLE} is not UTF-8; give 64 hexadecimal characters"
            )),
            Err(std::env::VarError::NotPresent) => self.stored(),
        }
    }

    /// The store's key, made if it has none (another process may make it at the same time:
    /// the first one's is kept, and both use it).
    fn stored(&self) -> Result<[u8; 32], String> {
        let path = self.dir.join(FILE);
        if !path.exists() {
            make(&self.dir, &path)?;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        parse(&text).ok_or_else(|| {
            format!(
                "{} is not a key (64 hexadecimal characters); remove it to make a new one, \
                 and every station reading a secret runs again",
                path.display()
            )
        })
    }
}

/// Writes a new random key into a temporary file and links it in place, so `path` is
/// never seen half written; a key another process linked first is kept.
fn make(dir: &Path, path: &Path) -> Result<(), String> {
    let key = random()?;
    let temp = dir
        .join("tmp")
        .join(format!("secret.key.{}", std::process::id()));
    let written = crate::privacy::create(&temp).and_then(|mut file| {
        use std::io::Write;
        file.write_all(crate::hash::Digest::from_bytes(key).to_hex().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    let linked = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&temp);
    linked.map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn random() -> Result<[u8; 32], String> {
    let mut key = [0; 32];
    getrandom::getrandom(&mut key).map_err(|error| format!("cannot make a secret key: {error}"))?;
    Ok(key)
}

/// A key written as 64 hexadecimal characters or as base64 of 32 bytes, around spaces.
fn parse(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if let Ok(digest) = crate::hash::Digest::from_hex(text) {
        return Some(*digest.as_bytes());
    }
    base64(text)?.try_into().ok()
}

/// Standard or URL-safe base64, padded or not.
fn base64(text: &str) -> Option<Vec<u8>> {
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let digits = text.trim_end_matches('=').bytes().map(sextet);
    let mut bytes = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for digit in digits {
        acc = (acc << 6) | u32::from(digit?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_as_hex_or_base64() {
        let hex = "00".repeat(31) + "ff";
        let mut expected = [0; 32];
        expected[31] = 0xff;
        assert_eq!(parse(&hex), Some(expected));
        assert_eq!(
            parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=\n"),
            Some(expected)
        );
        assert_eq!(
            parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8"),
            Some(expected)
        );
        assert_eq!(parse("too short"), None);
        assert_eq!(parse(&"ab".repeat(31)), None);
    }

    #[test]
    fn a_store_makes_its_key_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let keys = Keys::new(dir.path());
        if std::env::var_os(VARIABLE).is_some() {
            return;
        }
        let passing = keys.get(false).unwrap();
        assert!(!dir.path().join(FILE).exists(), "a plan writes no key");
        let key = keys.get(true).unwrap();
        assert_ne!(key, passing);
        assert_eq!(Keys::new(dir.path()).get(false).unwrap(), key);
        assert!(
            std::fs::read_dir(dir.path().join("tmp"))
                .unwrap()
                .next()
                .is_none()
        );
    }
}
