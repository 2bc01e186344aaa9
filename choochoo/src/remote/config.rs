//! What names a remote cache and how to reach it: its URL and instance, whether this process
//! writes to it, its time limits, TLS (the authorities to trust, a client certificate) and
//! the credentials every call carries (headers, a bearer token).

use super::download::Download;
use std::path::PathBuf;
use std::time::Duration;

/// A value that is sent but never shown.
#[derive(Clone)]
pub(crate) struct Secret(pub(super) String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where the bearer token comes from.
#[derive(Clone, Debug)]
pub(crate) enum Token {
    Value(Secret),
    /// Read when the runner connects.
    File(PathBuf),
}

/// Where and how to use a remote cache: a `grpc://host:port` (or `grpcs://` for TLS) URL, the
/// REAPI instance name, whether this process may write to it, and the credentials it needs.
///
/// ```
/// use choochoo::Remote;
/// let remote = Remote::new("grpcs://cache.internal:443")
///     .instance("main")
///     .bearer_token_file("/run/secrets/cache-token")
///     .write(true);
/// # let _ = remote;
/// ```
///
/// Header values and tokens are never shown: `Debug` prints them as `<redacted>`, and no
/// warning names them.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub struct Remote {
    pub(super) url: String,
    pub(super) instance: String,
    pub(super) write: bool,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
    /// PEM certificate authorities trusted instead of the system's roots.
    pub(super) ca: Option<PathBuf>,
    /// PEM client certificate and private key, for mutual TLS.
    pub(super) identity: Option<(PathBuf, PathBuf)>,
    pub(super) headers: Vec<(String, Secret)>,
    pub(super) token: Option<Token>,
    /// What was wrong with credentials given as text (an entry of `CHOOCHOO_REMOTE_HEADERS`
    /// without `=`): the cache stays off, with this warning.
    pub(super) invalid: Option<String>,
    pub(super) download: Download,
}

impl Remote {
    /// A read-only remote cache at `url` (`grpc://` or `http://` in plain text, `grpcs://`
    /// or `https://` over TLS), default instance name (empty), a 10 s limit per call and
    /// 3 s to connect.
    pub fn new(url: impl Into<String>) -> Remote {
        Remote {
            url: url.into(),
            instance: String::new(),
            write: false,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            ca: None,
            identity: None,
            headers: Vec::new(),
            token: None,
            invalid: None,
            download: Download::All,
        }
    }

    /// The REAPI instance name the server expects (empty unless set).
    pub fn instance(mut self, name: impl Into<String>) -> Remote {
        self.instance = name.into();
        self
    }

    /// Whether stations that run are uploaded (`false` unless set). Enable it only for
    /// trusted writers, such as CI on the main branch: readers verify every byte against its
    /// digest, but cannot tell a wrong result that a writer computed honestly.
    pub fn write(mut self, write: bool) -> Remote {
        self.write = write;
        self
    }

    /// Which files of remote hits are downloaded ([`Download::All`] unless set): with
    /// [`Download::Outputs`] only the workflow's outputs and what a station that runs reads,
    /// with [`Download::Minimal`] only what a station that runs reads. The others stay in
    /// the remote cache, remembered by digest, fetched when needed.
    pub fn download(mut self, mode: Download) -> Remote {
        self.download = mode;
        self
    }

    /// Which files of remote hits are downloaded.
    pub fn download_mode(&self) -> Download {
        self.download
    }

    /// Reads the download mode from `source` (a variable), or turns the cache off with a
    /// warning naming it.
    pub(crate) fn download_from(mut self, source: &str, text: Option<String>) -> Remote {
        match text.map(|text| text.parse::<Download>()) {
            Some(Ok(mode)) => self.download = mode,
            Some(Err(problem)) => self.invalid(&format!("{source}: {problem}")),
            None => {}
        }
        self
    }

    /// The time limit of each call to the server (10 s unless set); connecting gets at most
    /// the same.
    pub fn timeout(mut self, limit: Duration) -> Remote {
        self.timeout = limit;
        self.connect_timeout = self.connect_timeout.min(limit);
        self
    }

    /// Trusts the certificate authorities in this PEM file for the server's certificate,
    /// instead of the system's roots (`grpcs://` only).
    pub fn ca(mut self, path: impl Into<PathBuf>) -> Remote {
        self.ca = Some(path.into());
        self
    }

    /// Presents this client certificate, with its private key, both PEM files, to a server
    /// that asks for one (mutual TLS; `grpcs://` only).
    pub fn identity(mut self, certificate: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Remote {
        self.identity = Some((certificate.into(), key.into()));
        self
    }

    /// Sends this gRPC header with every call, such as `x-buildbuddy-api-key`; called again,
    /// adds another. The value is never shown.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Remote {
        self.headers.push((name.into(), Secret::new(value.into())));
        self
    }

    /// Sends `authorization: Bearer <token>` with every call. The token is never shown;
    /// prefer [`bearer_token_file`](Remote::bearer_token_file) over a token in the code.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Remote {
        self.token = Some(Token::Value(Secret::new(token.into())));
        self
    }

    /// Sends `authorization: Bearer <token>` with every call, the token read from this file
    /// (surrounding white space left out) when the runner connects.
    pub fn bearer_token_file(mut self, path: impl Into<PathBuf>) -> Remote {
        self.token = Some(Token::File(path.into()));
        self
    }

    /// The remote named by the environment, each variable unset or empty for none:
    /// `CHOOCHOO_REMOTE` (the URL), `CHOOCHOO_REMOTE_INSTANCE`, `CHOOCHOO_REMOTE_WRITE=1` to
    /// write; `CHOOCHOO_REMOTE_CA` ([`ca`](Remote::ca)), `CHOOCHOO_REMOTE_CERT` and
    /// `CHOOCHOO_REMOTE_KEY` ([`identity`](Remote::identity));
    /// `CHOOCHOO_REMOTE_DOWNLOAD` (`all`, `outputs` or `minimal`: [`download`](Remote::download));
    /// `CHOOCHOO_REMOTE_HEADERS`
    /// (`name=value` entries separated by commas, so no value may hold one); and a bearer
    /// token from the file `CHOOCHOO_REMOTE_TOKEN_FILE` names, or else from
    /// `CHOOCHOO_REMOTE_TOKEN`.
    pub fn from_env() -> Option<Remote> {
        let url = var("CHOOCHOO_REMOTE")?;
        let instance = var("CHOOCHOO_REMOTE_INSTANCE").unwrap_or_default();
        let write = std::env::var("CHOOCHOO_REMOTE_WRITE").is_ok_and(|v| v == "1" || v == "true");
        let mut remote = Remote::new(url).instance(instance).write(write);
        if let Some(ca) = var("CHOOCHOO_REMOTE_CA") {
            remote = remote.ca(ca);
        }
        let cert = var("CHOOCHOO_REMOTE_CERT").map(PathBuf::from);
        let key = var("CHOOCHOO_REMOTE_KEY").map(PathBuf::from);
        Some(
            remote
                .download_from("CHOOCHOO_REMOTE_DOWNLOAD", var("CHOOCHOO_REMOTE_DOWNLOAD"))
                .identity_from(cert, key)
                .headers_from_env()
                .token_from_env(),
        )
    }

    /// Adds the headers of `CHOOCHOO_REMOTE_HEADERS`.
    pub(crate) fn headers_from_env(self) -> Remote {
        match var("CHOOCHOO_REMOTE_HEADERS") {
            Some(headers) => self.header_entries("CHOOCHOO_REMOTE_HEADERS", headers.split(',')),
            None => self,
        }
    }

    /// Takes the bearer token from the file `CHOOCHOO_REMOTE_TOKEN_FILE` names, or else
    /// from `CHOOCHOO_REMOTE_TOKEN`.
    pub(crate) fn token_from_env(self) -> Remote {
        if let Some(file) = var("CHOOCHOO_REMOTE_TOKEN_FILE") {
            self.bearer_token_file(file)
        } else if let Some(token) = var("CHOOCHOO_REMOTE_TOKEN") {
            self.bearer_token(token)
        } else {
            self
        }
    }

    /// A client certificate and key given one by one (flags, variables): both or neither.
    pub(crate) fn identity_from(mut self, cert: Option<PathBuf>, key: Option<PathBuf>) -> Remote {
        match (cert, key) {
            (Some(cert), Some(key)) => self.identity(cert, key),
            (None, None) => self,
            (Some(_), None) => {
                self.invalid(
                    "a client certificate needs its key (--remote-key, CHOOCHOO_REMOTE_KEY)",
                );
                self
            }
            (None, Some(_)) => {
                self.invalid(
                    "a client key needs its certificate (--remote-cert, CHOOCHOO_REMOTE_CERT)",
                );
                self
            }
        }
    }

    /// Adds headers written `name=value`, as `source` (a flag, a variable) gives them. An
    /// entry without `=` turns the cache off, with a warning that does not show it.
    pub(crate) fn header_entries<'e>(
        mut self,
        source: &str,
        entries: impl IntoIterator<Item = &'e str>,
    ) -> Remote {
        for (n, entry) in entries.into_iter().enumerate() {
            match entry.split_once('=') {
                Some((name, value)) => self = self.header(name.trim(), value),
                None => self.invalid(&format!(
                    "{source}: entry {} has no `=`; write name=value",
                    n + 1
                )),
            }
        }
        self
    }

    fn invalid(&mut self, problem: &str) {
        self.invalid.get_or_insert_with(|| problem.to_owned());
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this remote is written to.
    pub fn writes(&self) -> bool {
        self.write
    }
}

/// An environment variable, `None` when unset or empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_credential() {
        let remote = Remote::new("grpcs://cache:443")
            .header("x-api-key", "hunter2-header")
            .bearer_token("hunter2-token")
            .header_entries("CHOOCHOO_REMOTE_HEADERS", ["x-other=hunter2-entry"]);
        let shown = format!("{remote:?} {remote:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("x-api-key") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn a_header_entry_without_a_value_is_named_by_its_place_only() {
        let remote = Remote::new("grpc://cache:1")
            .header_entries("CHOOCHOO_REMOTE_HEADERS", ["x-a=1", "hunter2"]);
        let invalid = remote.invalid.as_deref().unwrap();
        assert_eq!(
            invalid,
            "CHOOCHOO_REMOTE_HEADERS: entry 2 has no `=`; write name=value"
        );
        let remote =
            Remote::new("grpc://cache:1").identity_from(Some(PathBuf::from("c.pem")), None);
        assert!(remote.invalid.unwrap().contains("needs its key"));
    }
}
