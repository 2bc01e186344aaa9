//! How much of a remote hit is downloaded, in Bazel's terms ("builds without the bytes").
//! A remote hit always brings its metadata: the ActionResult and the result's manifest,
//! which holds the output's encoding and the BLAKE3 digest of each file inside it. That is
//! what a store needs to record the result and key the stations after it, so the encoding of
//! a value is downloaded whatever its size (a value meant to stay in the cache belongs in a
//! [`File`](crate::File)). The mode decides about the bytes of those files.

/// Which files of remote hits are downloaded ([`Remote::download`](super::config::Remote::download),
/// `--remote-download`, `CHOOCHOO_REMOTE_DOWNLOAD`).
///
/// A file not downloaded stays in the remote cache: the local store records its result with
/// the file's digest, so the next run is a local hit without asking the server, and fetches
/// the bytes when they are needed, checked against both digests: when a station that runs
/// reads the value, for the outputs a mode downloads, and when asked (`choochoo fetch`).
/// When the server cannot give them then, the station that made them runs here again, with
/// a warning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub enum Download {
    /// Every file of every remote hit (the default).
    #[default]
    All,
    /// The files of the workflow's outputs (the nodes the run returns; a station nothing
    /// downstream reads but the workflow does not return is not one), and those of any value
    /// a station that runs reads.
    Outputs,
    /// No file at once: only what a station that runs reads, when it runs.
    Minimal,
}

impl Download {
    /// The mode's name, as `--remote-download` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Download::All => "all",
            Download::Outputs => "outputs",
            Download::Minimal => "minimal",
        }
    }
}

impl std::fmt::Display for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Download {
    type Err = String;

    fn from_str(text: &str) -> Result<Download, String> {
        match text.trim() {
            "all" => Ok(Download::All),
            "outputs" => Ok(Download::Outputs),
            "minimal" => Ok(Download::Minimal),
            other => Err(format!(
                "`{other}` is not a download mode; write all, outputs or minimal"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_back_from_their_names() {
        for mode in [Download::All, Download::Outputs, Download::Minimal] {
            assert_eq!(mode.name().parse::<Download>(), Ok(mode));
        }
        let wrong = "some".parse::<Download>().unwrap_err();
        assert_eq!(
            wrong,
            "`some` is not a download mode; write all, outputs or minimal"
        );
    }
}
