//! Why a call to the server gave no usable answer, read from its gRPC status: which
//! problems end the use of the remote for the run, and their messages without credentials.

use super::auth::Credentials;
use super::tls;

/// Why a call did not give a usable answer.
#[derive(Clone, Debug)]
pub(crate) enum Problem {
    /// No connection, or no answer in time: the remote is left alone for the rest of the run.
    Unreachable(String),
    /// The TLS handshake failed: the remote is left alone for the rest of the run.
    Tls(String),
    /// The server refused the credentials (`UNAUTHENTICATED`, `PERMISSION_DENIED`): the
    /// remote is left alone for the rest of the run.
    Denied(String),
    /// The server refused to store a result, having answered lookups: nothing more is
    /// uploaded.
    WriteDenied(String),
    /// The server answered with an error.
    Refused(String),
    /// The server does not have what was asked for.
    Missing,
    /// The server's answer does not verify.
    Rejected(String),
    /// What was to be uploaded changed on disk since it was hashed.
    Changed(String),
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Problem {
        use tonic::Code;
        if let Some(why) = tls::explain(&status) {
            return Problem::Tls(why);
        }
        let message = format!("{}: {}", code_name(status.code()), detail(&status));
        match status.code() {
            Code::NotFound => Problem::Missing,
            Code::Unauthenticated | Code::PermissionDenied => Problem::Denied(message),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
                Problem::Unreachable(message)
            }
            _ => Problem::Refused(message),
        }
    }
}

impl Problem {
    /// Whether the remote is of no use for the rest of the run.
    pub(super) fn is_fatal(&self) -> bool {
        matches!(
            self,
            Problem::Unreachable(_) | Problem::Tls(_) | Problem::Denied(_)
        )
    }

    /// The problem with every credential in its message blanked out.
    pub(super) fn scrubbed(self, credentials: &Credentials) -> Problem {
        match self {
            Problem::Unreachable(why) => Problem::Unreachable(credentials.scrub(why)),
            Problem::Denied(why) => Problem::Denied(credentials.scrub(why)),
            Problem::Refused(why) => Problem::Refused(credentials.scrub(why)),
            Problem::Rejected(why) => Problem::Rejected(credentials.scrub(why)),
            other => other,
        }
    }
}

/// A status code as gRPC writes it: `PERMISSION_DENIED`.
fn code_name(code: tonic::Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// A status's message, followed by what its sources add ("transport error" alone says
/// nothing).
fn detail(status: &tonic::Status) -> String {
    let mut text = status.message().to_owned();
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        let more = error.to_string();
        if !text.contains(&more) {
            text = if text.is_empty() {
                more
            } else {
                format!("{text}: {more}")
            };
        }
        source = error.source();
    }
    text
}
