//! The token of the dashboard's forms: made when the server starts, written into every form
//! it serves, and required with every write. A page of another site cannot read the
//! dashboard's pages, so it cannot know the token, and a form it posts here is refused.

use crate::error::Error;
use axum::http::{HeaderMap, header};

/// The forms' token: random, one per server.
pub(super) struct Token(String);

impl Token {
    pub(super) fn new() -> Result<Token, Error> {
        let mut bytes = [0u8; 24];
        getrandom::getrandom(&mut bytes).map_err(|error| {
            Error::internal(format!("cannot make the dashboard's form token: {error}"))
        })?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The hidden field every form carries.
    pub(super) fn field(&self) -> String {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", self.0)
    }

    /// Whether a write may go on: it carries the token, and the browser does not say it
    /// comes from another site. `Err` says why not.
    pub(super) fn check(&self, given: Option<&str>, headers: &HeaderMap) -> Result<(), String> {
        if let Some(origin) = foreign_origin(headers) {
            return Err(format!(
                "The form was sent from another site ({origin}); only this dashboard's own \
                 pages may change the store."
            ));
        }
        match given {
            Some(given) if same(given.as_bytes(), self.0.as_bytes()) => Ok(()),
            Some(_) => Err(
                "The form's token is not this server's: the page is older than \
                            the server, or came from elsewhere. Reload the page and send it again."
                    .to_owned(),
            ),
            None => Err(
                "The form carries no token; only this dashboard's own pages may \
                         change the store. Reload the page and send it again."
                    .to_owned(),
            ),
        }
    }
}

/// The `Origin` of a request when it is not the host it was sent to.
fn foreign_origin(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("?");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let ours = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host));
    (!ours).then(|| origin.to_owned())
}

/// Compares in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn a_write_needs_the_token_and_no_foreign_origin() {
        let token = Token::new().unwrap();
        let real = token.0.clone();
        assert!(token.check(Some(&real), &headers(None)).is_ok());
        assert!(
            token
                .check(Some(&real), &headers(Some("http://127.0.0.1:8080")))
                .is_ok()
        );
        assert!(token.check(None, &headers(None)).is_err());
        assert!(token.check(Some("00"), &headers(None)).is_err());
        let wrong = real.replace(&real[..1], if &real[..1] == "a" { "b" } else { "a" });
        assert!(token.check(Some(&wrong), &headers(None)).is_err());
        let error = token
            .check(Some(&real), &headers(Some("http://evil.example")))
            .unwrap_err();
        assert!(error.contains("evil.example"), "{error}");
    }
}
