//! Credentials for the remote cache: extra gRPC headers (an API key) and a bearer token, sent
//! with every call and never shown. Their values print as `<redacted>` in `Debug` output, no
//! warning or error names them, they travel as sensitive headers (never indexed by HTTP/2
//! header compression), and a server's error message that repeats one has it blanked out.

use super::config::{Remote, Secret, Token};
use std::sync::Arc;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

/// The headers every call carries, ready for the wire, and the values to keep out of
/// anything shown.
#[derive(Clone, Default)]
pub(crate) struct Credentials {
    headers: Arc<Vec<(AsciiMetadataKey, AsciiMetadataValue)>>,
    secrets: Arc<Vec<String>>,
}

impl Credentials {
    /// The credentials of `remote`: its headers checked, its token read.
    pub(crate) fn new(remote: &Remote) -> Result<Credentials, String> {
        let mut headers = Vec::new();
        let mut secrets = Vec::new();
        for (name, Secret(value)) in &remote.headers {
            headers.push((key(name)?, value_of(value, &format!("header `{name}`"))?));
            secrets.push(value.clone());
        }
        if let Some(token) = &remote.token {
            if headers
                .iter()
                .any(|(name, _)| name.as_str() == "authorization")
            {
                return Err(
                    "both a bearer token and an `authorization` header are given; keep one".into(),
                );
            }
            let (token, source) = read(token)?;
            let header = value_of(&format!("Bearer {token}"), &source)?;
            headers.push((AsciiMetadataKey::from_static("authorization"), header));
            secrets.push(token);
        }
        secrets.retain(|secret| !secret.is_empty());
        Ok(Credentials {
            headers: Arc::new(headers),
            secrets: Arc::new(secrets),
        })
    }

    /// `text` (a server's message) with every credential in it blanked out.
    pub(crate) fn scrub(&self, mut text: String) -> String {
        for secret in self.secrets.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "<redacted>");
            }
        }
        text
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Credentials")
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

impl tonic::service::Interceptor for Credentials {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let metadata = request.metadata_mut();
        for (name, value) in self.headers.iter() {
            metadata.append(name.clone(), value.clone());
        }
        Ok(request)
    }
}

/// A header name as gRPC metadata: lower case ASCII, and not a binary (`-bin`) header.
fn key(name: &str) -> Result<AsciiMetadataKey, String> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("-bin") {
        return Err(format!(
            "header `{name}`: binary (`-bin`) headers are not supported"
        ));
    }
    AsciiMetadataKey::from_bytes(lower.as_bytes())
        .map_err(|_| format!("`{name}` is not a valid gRPC header name"))
}

/// A credential as a header value, marked sensitive; `what` names it in an error, which
/// never shows the value.
fn value_of(value: &str, what: &str) -> Result<AsciiMetadataValue, String> {
    let mut value = AsciiMetadataValue::try_from(value)
        .map_err(|_| format!("the value of {what} is not printable ASCII"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The token and where it came from.
fn read(token: &Token) -> Result<(String, String), String> {
    match token {
        Token::Value(Secret(token)) => Ok((token.trim().to_owned(), "the bearer token".into())),
        Token::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                format!("cannot read the token file {}: {error}", path.display())
            })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(format!("the token file {} is empty", path.display()));
            }
            Ok((token.to_owned(), format!("the token in {}", path.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_is_sent_and_none_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "  hunter2-file\n").unwrap();
        let remote = Remote::new("grpc://cache:1")
            .header("X-Api-Key", "hunter2-key")
            .bearer_token_file(&file);
        let credentials = Credentials::new(&remote).unwrap();
        let mut interceptor = credentials.clone();
        let request =
            tonic::service::Interceptor::call(&mut interceptor, tonic::Request::new(())).unwrap();
        let metadata = request.metadata();
        assert_eq!(metadata.get("x-api-key").unwrap(), "hunter2-key");
        assert_eq!(
            metadata.get("authorization").unwrap(),
            "Bearer hunter2-file"
        );
        assert!(metadata.get("x-api-key").unwrap().is_sensitive());
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert_eq!(
            credentials.scrub("bad key hunter2-key, bad token hunter2-file".into()),
            "bad key <redacted>, bad token <redacted>"
        );
    }

    #[test]
    fn a_bad_credential_is_named_but_not_shown() {
        let error = |remote: Remote| Credentials::new(&remote).unwrap_err();
        let remote = || Remote::new("grpc://cache:1");
        let bad = error(remote().header("x-api-key", "hunter2\n"));
        assert_eq!(
            bad,
            "the value of header `x-api-key` is not printable ASCII"
        );
        assert!(error(remote().header("x key", "v")).contains("not a valid gRPC header name"));
        assert!(error(remote().header("x-key-bin", "v")).contains("binary"));
        let missing = error(remote().bearer_token_file("/nonexistent/token"));
        assert!(missing.starts_with("cannot read the token file /nonexistent/token"));
        let both = error(remote().header("authorization", "x").bearer_token("y"));
        assert!(both.contains("keep one"));
    }
}
