//! What goes to a worker and comes back: the node, its code fingerprint and the CAS digests
//! of its inputs' encodings; the digest of its output's encoding and the worker's name.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How often a worker says it is still running a station.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(500);
/// How long without a heartbeat before a worker is taken for lost and its station given to
/// another.
pub(crate) const LOST_AFTER: Duration = Duration::from_secs(3);
/// The largest output encoding an answer carries itself, beside its digest, so the
/// coordinator need not download it.
pub(crate) const INLINE: usize = 16 * 1024;

/// A blob of the remote cache's CAS: its SHA-256 (hex) and size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BlobRef {
    pub(crate) hash: String,
    pub(crate) size: i64,
}

impl BlobRef {
    pub(crate) fn of(digest: &crate::remote::wire::WireDigest) -> BlobRef {
        BlobRef {
            hash: digest.hash.clone(),
            size: digest.size_bytes,
        }
    }

    pub(crate) fn digest(&self) -> crate::remote::wire::WireDigest {
        crate::remote::wire::WireDigest {
            hash: self.hash.clone(),
            size_bytes: self.size,
        }
    }
}

/// Attempts a lost worker adds to a station's own: its station goes to another worker.
pub(crate) const LOST_ATTEMPTS: u32 = 2;

/// One station to run: the node's name in the store, the coordinator's fingerprint of its
/// code, the encoding of each value it reads, in the order of its inputs' sources, and how
/// many times a transient failure of it is tried again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Task {
    pub(crate) node: String,
    pub(crate) fingerprint: String,
    pub(crate) inputs: Vec<BlobRef>,
    #[serde(default)]
    pub(crate) retries: u32,
}

/// A station that ran on a worker: its output's encoding (in the CAS, and here too when it
/// is small), and the worker that ran it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub(crate) output: BlobRef,
    #[serde(default)]
    pub(crate) inline: Option<Vec<u8>>,
    pub(crate) worker: String,
    /// Temporal's number of the attempt that succeeded, from 1.
    #[serde(default)]
    pub(crate) attempt: u32,
}

/// Why a worker did not answer a task with an output.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) kind: Kind,
    pub(crate) message: String,
    /// The worker that failed it, when one did.
    pub(crate) worker: Option<String>,
}

/// What kind of failure, as the activity's failure type names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The station failed with a `Transient` error: worth another attempt.
    Transient,
    /// The station failed.
    Failed,
    /// The worker refused the task (another build of the station).
    Refused,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Transient => "choochoo.transient",
            Kind::Failed => "choochoo.failed",
            Kind::Refused => "choochoo.refused",
        }
    }

    pub(crate) fn named(name: &str) -> Kind {
        match name {
            "choochoo.transient" => Kind::Transient,
            "choochoo.refused" => Kind::Refused,
            _ => Kind::Failed,
        }
    }
}

impl Failed {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Failed {
        Failed {
            kind,
            message: message.into(),
            worker: None,
        }
    }
}
