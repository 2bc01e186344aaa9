//! The connections to a `grpcs://` server: TCP, then the TLS handshake, then HTTP/2 through
//! tonic. The connector runs the handshake itself so that it sees what went wrong: a failed
//! handshake, and also a server that closes the connection right after it, as a TLS 1.3
//! server does with a client certificate it does not take, which otherwise reaches a call
//! only as "connection closed" or "broken pipe".

use super::config::Remote;
use super::tls::{self, Seen};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

/// Opens TLS connections to one server.
#[derive(Clone)]
pub(super) struct Connector {
    tls: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
    /// `host:port`.
    address: String,
    /// The client certificate's file, if one is given.
    identity: Option<String>,
    seen: Arc<Seen>,
}

impl Connector {
    /// A connector to `host:port` with the TLS settings of `remote`, its files read and
    /// checked.
    pub(super) fn new(remote: &Remote, host: &str, port: u16) -> Result<Connector, String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|_| format!("`{host}` is not a host name or address for TLS"))?;
        let seen = Arc::<Seen>::default();
        Ok(Connector {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls::client_config(remote, &seen)?)),
            name,
            address: format!("{host}:{port}"),
            identity: remote
                .identity
                .as_ref()
                .map(|(cert, _)| cert.display().to_string()),
            seen,
        })
    }

    /// What the connections showed.
    pub(super) fn seen(&self) -> Arc<Seen> {
        self.seen.clone()
    }

    async fn connect(self) -> io::Result<hyper_util::rt::TokioIo<Watched>> {
        self.seen.set(None);
        self.seen.asked.store(false, Ordering::Release);
        let tcp = TcpStream::connect(&self.address).await?;
        tcp.set_nodelay(true)?;
        let stream = match self.tls.connect(self.name.clone(), tcp).await {
            Ok(stream) => stream,
            Err(error) => {
                self.seen.set(tls::explain(&error));
                return Err(error);
            }
        };
        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
            let why = "the server does not offer HTTP/2 (ALPN h2), which gRPC needs";
            self.seen.set(Some(why.to_owned()));
            return Err(io::Error::other(why));
        }
        Ok(hyper_util::rt::TokioIo::new(Watched {
            stream,
            answered: false,
            connector: self,
        }))
    }

    /// Why a connection that closed before the server sent anything did: a client
    /// certificate the server asked for and did not take, if it asked.
    fn closed_early(&self) -> Option<String> {
        if !self.seen.asked.load(Ordering::Acquire) {
            return None;
        }
        Some(match &self.identity {
            Some(cert) => format!(
                "the server refused the client certificate {cert} (it closed the connection \
                 right after the handshake)"
            ),
            None => tls::NO_CLIENT_CERTIFICATE.to_owned(),
        })
    }
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = hyper_util::rt::TokioIo<Watched>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        Box::pin(self.clone().connect())
    }
}

/// A TLS connection that tells its connector why it failed, until the server answers.
pub(super) struct Watched {
    stream: TlsStream<TcpStream>,
    /// The server sent something: the handshake's outcome is known to be good.
    answered: bool,
    connector: Connector,
}

impl Watched {
    fn watch<T>(&self, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(error)) = &poll {
            match tls::explain(error) {
                Some(why) => self.connector.seen.set(Some(why)),
                None if !self.answered => self.connector.seen.set(self.connector.closed_early()),
                None => {}
            }
        }
        poll
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll
            && !self.answered
        {
            if buf.filled().len() > before {
                self.answered = true;
                self.connector.seen.set(None);
            } else {
                self.connector.seen.set(self.connector.closed_early());
            }
        }
        self.watch(poll)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(poll)
    }
}
