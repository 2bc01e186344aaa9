//! A plain HTTP/1.1 client over a `TcpStream`, for the tests that talk to the dashboard
//! and to chromedriver: one request per connection, and a reader for an event stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What a server answered.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to `addr` and reads the whole answer. `headers` are added to `Host`
/// (the address itself unless given), `Connection: close` and the body's length.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = connect(addr, method, path, headers, body);
    let mut reader = BufReader::new(&mut stream);
    let (status, headers) = head(&mut reader);
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut raw = Vec::new();
    match length {
        // A server may keep the connection open after the body, whatever it was asked.
        Some(length) => {
            raw.resize(length, 0);
            reader.read_exact(&mut raw).expect("read the body");
        }
        None => {
            reader.read_to_end(&mut raw).expect("read the body");
        }
    }
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(&raw).0 } else { raw };
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[], b"")
}

/// Posts a form (`application/x-www-form-urlencoded`), with `headers` besides.
pub fn post_form(addr: SocketAddr, path: &str, form: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    request(addr, "POST", path, &all, form.as_bytes())
}

fn connect(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    stream.write_all(text.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream
}

/// The status and headers of an answer.
fn head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read the status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read a header");
        let header = line.trim_end();
        if header.is_empty() {
            return (status, headers);
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

/// The data of the complete chunks of `raw`, and how many bytes of it they took.
fn dechunk(raw: &[u8]) -> (Vec<u8>, usize) {
    let (mut data, mut at) = (Vec::new(), 0);
    loop {
        let Some(end) = raw[at..].windows(2).position(|w| w == b"\r\n") else {
            return (data, at);
        };
        let size = std::str::from_utf8(&raw[at..at + end])
            .ok()
            .and_then(|hex| usize::from_str_radix(hex.trim(), 16).ok());
        let Some(size) = size else {
            return (data, at);
        };
        let start = at + end + 2;
        if size == 0 || raw.len() < start + size + 2 {
            return (data, at);
        }
        data.extend_from_slice(&raw[start..start + size]);
        at = start + size + 2;
    }
}

/// An event stream being read: what arrived so far, decoded.
pub struct Events {
    stream: TcpStream,
    raw: Vec<u8>,
    pub status: u16,
    pub text: String,
}

impl Events {
    /// Opens the event stream at `path`.
    pub fn open(addr: SocketAddr, path: &str) -> Events {
        let mut stream = connect(addr, "GET", path, &[("Accept", "text/event-stream")], b"");
        let mut raw = Vec::new();
        let mut byte = [0u8; 1];
        // The head, byte by byte, so that nothing of the body is read past it.
        while !raw.ends_with(b"\r\n\r\n") {
            assert_eq!(
                stream.read(&mut byte).expect("read the head"),
                1,
                "the head ends"
            );
            raw.push(byte[0]);
        }
        let (status, _) = head(&mut &raw[..]);
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Events {
            stream,
            raw: Vec::new(),
            status,
            text: String::new(),
        }
    }

    /// Reads until the text so far satisfies `done`; `false` after `timeout`.
    pub fn until(&mut self, timeout: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut buffer = [0u8; 8192];
        while !done(&self.text) {
            if Instant::now() > deadline {
                return false;
            }
            match self.stream.read(&mut buffer) {
                Ok(0) => return done(&self.text),
                Ok(n) => self.raw.extend_from_slice(&buffer[..n]),
                Err(_) => continue,
            }
            self.text = String::from_utf8_lossy(&dechunk(&self.raw).0).into_owned();
        }
        true
    }
}
