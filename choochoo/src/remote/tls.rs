//! TLS settings for `grpcs://` remotes, through rustls (with ring): the system's root
//! certificates unless a CA file is given, and a client certificate for servers that ask for
//! one; and TLS failures told in plain words, read from rustls's own error.

use super::config::Remote;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls;

/// What the connections to one server showed of TLS.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// The server asked for a client certificate in the last handshake.
    pub(super) asked: AtomicBool,
    /// Why the last connection failed before the server sent anything, in plain words.
    why: Mutex<Option<String>>,
}

impl Seen {
    /// Why the last connection failed, if TLS can tell.
    pub(super) fn why(&self) -> Option<String> {
        self.why.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn set(&self, why: Option<String>) {
        *self.why.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }
}

/// The rustls settings of `remote`: its roots, its client certificate, HTTP/2. `seen` learns
/// whether a server asked for a client certificate.
pub(super) fn client_config(
    remote: &Remote,
    seen: &Arc<Seen>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = match &remote.identity {
        Some((cert, key)) => {
            let certs = certificates(cert, "client certificate")?;
            let certified =
                CertifiedKey::from_der(certs, private_key(key)?, &provider).map_err(|error| {
                    format!(
                        "the client certificate {} and key {} cannot be used: {error}",
                        cert.display(),
                        key.display()
                    )
                })?;
            Some(Arc::new(certified))
        }
        None => None,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("cannot set up TLS: {error}"))?
        .with_root_certificates(roots(remote.ca.as_deref())?)
        .with_client_cert_resolver(Arc::new(ClientCertificate {
            key,
            seen: seen.clone(),
        }));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// The client certificate, if any, for a server that asks for one; notes that it asked.
#[derive(Debug)]
struct ClientCertificate {
    key: Option<Arc<CertifiedKey>>,
    seen: Arc<Seen>,
}

impl ResolvesClientCert for ClientCertificate {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.seen.asked.store(true, Ordering::Release);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// The authorities of the CA file, or else the system's.
fn roots(ca: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = match ca {
        Some(path) => certificates(path, "CA")?,
        None => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(format!(
                    "no root certificates found on this system ({:?}); name the server's CA \
                     with --remote-ca (CHOOCHOO_REMOTE_CA, Remote::ca)",
                    found.errors
                ));
            }
            found.certs
        }
    };
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(match ca {
            Some(path) => format!("the CA file {} holds no usable certificate", path.display()),
            None => "none of the system's root certificates can be used".to_owned(),
        });
    }
    Ok(roots)
}

/// The certificates of a PEM file (`what` names it in an error).
fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read(path, what)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    if certs.is_empty() {
        return Err(format!(
            "the {what} file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read(path, "client key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        format!(
            "the client key file {} holds no PEM private key",
            path.display()
        )
    })
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|error| format!("cannot read the {what} file {}: {error}", path.display()))
}

/// What went wrong in TLS, in plain words, if rustls's error is in `error`'s source chain.
pub(super) fn explain(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = inner {
            return Some(describe(tls));
        }
        next = error.source();
    }
    None
}

/// What a server that wants a client certificate and got none is told.
pub(super) const NO_CLIENT_CERTIFICATE: &str = "the server asks for a client certificate; give \
    one with --remote-cert and --remote-key (CHOOCHOO_REMOTE_CERT and CHOOCHOO_REMOTE_KEY, \
    Remote::identity)";

fn describe(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error};
    match error {
        Error::InvalidCertificate(Cert::NotValidForNameContext {
            expected,
            presented,
        }) => {
            let names: Vec<&str> = presented.iter().map(|name| plain_name(name)).collect();
            format!(
                "certificate for {} is not valid for {}",
                names.join(", "),
                expected.to_str()
            )
        }
        Error::InvalidCertificate(Cert::UnknownIssuer) => {
            "the server's certificate is not signed by an authority this client trusts; name \
             its CA with --remote-ca (CHOOCHOO_REMOTE_CA, Remote::ca)"
                .to_owned()
        }
        Error::InvalidCertificate(problem) => {
            format!("the server's certificate is not valid: {problem}")
        }
        Error::AlertReceived(Alert::CertificateRequired) => NO_CLIENT_CERTIFICATE.to_owned(),
        Error::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate
            | Alert::AccessDenied),
        ) => format!("the server refused the client certificate ({alert:?})"),
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } => {
            "the server does not answer in TLS; is it a plain grpc:// endpoint?".to_owned()
        }
        other => format!("TLS failed: {other}"),
    }
}

/// `cache.internal` for rustls's `DnsName("cache.internal")`, `127.0.0.1` for
/// `IpAddress(127.0.0.1)`.
fn plain_name(name: &str) -> &str {
    let inner = name
        .strip_prefix("DnsName(")
        .or_else(|| name.strip_prefix("IpAddress("))
        .and_then(|rest| rest.strip_suffix(')'));
    inner.map_or(name, |inner| inner.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_mismatch_names_both_names() {
        let error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
                expected: rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap(),
                presented: vec![
                    "DnsName(\"cache.internal\")".to_owned(),
                    "IpAddress(10.0.0.1)".to_owned(),
                ],
            });
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
        assert_eq!(
            explain(&io).unwrap(),
            "certificate for cache.internal, 10.0.0.1 is not valid for 127.0.0.1"
        );
        assert_eq!(explain(&std::io::Error::other("plain")), None);
    }

    #[test]
    fn unreadable_or_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let seen = Arc::default();
        let remote = Remote::new("grpcs://cache:443").ca(&empty);
        let error = client_config(&remote, &seen).unwrap_err();
        assert!(error.contains("holds no PEM certificate"), "{error}");
        let remote = Remote::new("grpcs://cache:443").ca(dir.path().join("missing.pem"));
        let error = client_config(&remote, &seen).unwrap_err();
        assert!(error.starts_with("cannot read the CA file"), "{error}");
    }
}
