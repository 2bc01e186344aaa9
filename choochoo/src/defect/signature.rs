//! Signatures: what two failures must share to count as the same defect.
//!
//! A signature is the station id and the error message with its volatile parts masked, so
//! that "No space left on device (os error 28)" on Monday and on Friday, or the same refused
//! connection to two ports, land on one defect, while a different message opens another.
//! A small hand-written scanner does the masking: the shapes are few and simple, and a regex
//! engine would cost every user of the crate its build time.

/// What a number or a hex id becomes. One placeholder for both, because a hex id that happens
/// to be all decimal digits must not split a defect in two.
const NUMBER: &str = "<n>";
const QUOTED: &str = "<q>";
const PATH: &str = "<path>";
const UUID: &str = "<uuid>";
const TIME: &str = "<time>";
const ADDRESS: &str = "<addr>";
/// Every placeholder a masked message may hold.
pub(super) const PLACEHOLDERS: [&str; 6] = [NUMBER, QUOTED, PATH, UUID, TIME, ADDRESS];

/// The length of the volatile part a recognizer finds at the start of its input, if any.
type Recognizer = fn(&[u8]) -> Option<usize>;

/// The signature of a failure of the station `station_id` with the error `message`.
pub(crate) fn signature(station_id: &str, message: &str) -> String {
    // A station id is a Rust path: it holds no ": ", so the two parts cannot run together.
    format!("{station_id}: {}", mask(message))
}

/// How much of a message the signature is made from. A signature is a database key, and a
/// message that runs on for pages (a command's whole output) is told apart by its start.
const SIGNIFICANT: usize = 1024;

/// `message` with numbers, hex ids, UUIDs, paths, quoted values, timestamps and IP addresses
/// replaced by placeholders, and runs of whitespace collapsed to one space.
pub(crate) fn mask(message: &str) -> String {
    let message = &message[..message.floor_char_boundary(SIGNIFICANT)];
    let bytes = message.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            out.push(b' ');
            i += run(&bytes[i..], |b| b.is_ascii_whitespace());
        } else if let Some((len, placeholder)) = volatile_at(bytes, i) {
            out.extend_from_slice(placeholder.as_bytes());
            i += len;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Every recognizer stops at an ASCII byte, so no UTF-8 sequence is ever cut.
    String::from_utf8_lossy(&out).trim().to_owned()
}

/// The length and placeholder of the volatile part starting at `i`, if one does.
fn volatile_at(s: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let rest = &s[i..];
    let prev = |back: usize| i.checked_sub(back).map(|j| s[j]);
    let in_word = prev(1).is_some_and(|b| b.is_ascii_alphanumeric())
        || (prev(1) == Some(b'.') && prev(2).is_some_and(|b| b.is_ascii_digit()));
    if in_word {
        // Inside a word only digits vary (`replica2`, `1.2.3`); an apostrophe is not a quote
        // (`can't`), and the tail of a version number is not an address.
        return digits(rest).map(|n| (n, NUMBER));
    }
    let recognizers: [(Recognizer, &str); 7] = [
        (quoted, QUOTED),
        (timestamp, TIME),
        (uuid, UUID),
        (address, ADDRESS),
        (path, PATH),
        (hex_id, NUMBER),
        (digits, NUMBER),
    ];
    recognizers
        .iter()
        .find_map(|(recognize, placeholder)| recognize(rest).map(|n| (n, *placeholder)))
}

/// `'…'`, `"…"` or `` `…` ``: the closing quote is the first one not followed by a letter.
fn quoted(s: &[u8]) -> Option<usize> {
    let quote = *s.first().filter(|b| matches!(b, b'\'' | b'"' | b'`'))?;
    (1..s.len())
        .find(|&j| s[j] == quote && !s.get(j + 1).is_some_and(u8::is_ascii_alphanumeric))
        .map(|j| j + 1)
}

/// An ISO-8601 date with an optional time (`2024-05-01T12:34:56.789Z`, `2024-05-01 12:34`),
/// or a time of day alone (`12:34:56`).
fn timestamp(s: &[u8]) -> Option<usize> {
    if !shape(s, b"dddd-dd-dd") {
        return time_of_day(s).filter(|&n| ends_word(s, n));
    }
    let date = 10;
    let time = match s.get(date) {
        Some(b'T' | b' ') => time_of_day(&s[date + 1..]).map_or(0, |n| n + 1),
        _ => 0,
    };
    let zone = if time > 0 { zone(&s[date + time..]) } else { 0 };
    Some(date + time + zone)
}

/// `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff` (or `,fff`).
fn time_of_day(s: &[u8]) -> Option<usize> {
    if !shape(s, b"dd:dd") {
        return None;
    }
    let mut n = 5;
    if shape(&s[n..], b":dd") {
        n += 3;
        if matches!(s.get(n), Some(b'.' | b',')) {
            n += match digits(&s[n + 1..]) {
                Some(fraction) => fraction + 1,
                None => 0,
            };
        }
    }
    Some(n)
}

/// `Z`, `+02:00`, `-0500` or nothing.
fn zone(s: &[u8]) -> usize {
    match s.first() {
        Some(b'Z') => 1,
        Some(b'+' | b'-') if shape(&s[1..], b"dd:dd") => 6,
        Some(b'+' | b'-') if shape(&s[1..], b"dddd") => 5,
        _ => 0,
    }
}

/// `550e8400-e29b-41d4-a716-446655440000`.
fn uuid(s: &[u8]) -> Option<usize> {
    let n = 36;
    (shape(s, b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") && ends_word(s, n)).then_some(n)
}

/// An IPv4 address (`127.0.0.1`) or a bracketed IPv6 one (`[::1]`), with an optional port.
fn address(s: &[u8]) -> Option<usize> {
    let host = ipv4(s).or_else(|| ipv6(s))?;
    let port = match s.get(host) {
        Some(b':') => digits(&s[host + 1..]).map_or(0, |n| n + 1),
        _ => 0,
    };
    let n = host + port;
    // `1.2.3.4.5` is a version number, not an address followed by a full stop.
    let continues = s.get(n) == Some(&b'.') && s.get(n + 1).is_some_and(u8::is_ascii_digit);
    (ends_word(s, n) && !continues).then_some(n)
}

fn ipv4(s: &[u8]) -> Option<usize> {
    let mut n = 0;
    for part in 0..4 {
        if part > 0 {
            (s.get(n) == Some(&b'.')).then_some(())?;
            n += 1;
        }
        let len = digits(&s[n..]).filter(|&len| len <= 3)?;
        n += len;
    }
    Some(n)
}

fn ipv6(s: &[u8]) -> Option<usize> {
    (s.first() == Some(&b'[')).then_some(())?;
    let inside = run(&s[1..], |b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    let closed = s.get(1 + inside) == Some(&b']') && s[1..1 + inside].contains(&b':');
    closed.then_some(inside + 2)
}

/// A Unix path, absolute (`/tmp/x`) or relative (`./x`, `data/in.csv`): a word holding a
/// `/`, whatever comes before its first `/` being a plain name.
fn path(s: &[u8]) -> Option<usize> {
    let word = run(s, |b| {
        !b.is_ascii_whitespace() && !b"'\"`,;()[]{}<>|".contains(&b)
    });
    // A full stop or colon after a path ends the sentence or introduces the next part.
    let len = word
        - s[..word]
            .iter()
            .rev()
            .take_while(|b| b".:!?".contains(b))
            .count();
    let word = &s[..len];
    let slash = word.iter().position(|&b| b == b'/')?;
    let plain_name = word[..slash]
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"_.~-".contains(&b));
    (plain_name && word.iter().any(u8::is_ascii_alphanumeric)).then_some(len)
}

/// `0x7f3a`, or a whole word of at least six hex digits with at least one decimal digit
/// (`fa4cd67e`), which leaves words such as `deadbeef` or `facade` alone.
fn hex_id(s: &[u8]) -> Option<usize> {
    if matches!(s, [b'0', b'x' | b'X', ..]) {
        let n = run(&s[2..], |b| b.is_ascii_hexdigit());
        return (n > 0 && ends_word(s, n + 2)).then_some(n + 2);
    }
    let n = run(s, |b| b.is_ascii_hexdigit());
    (n >= 6 && s[..n].iter().any(u8::is_ascii_digit) && ends_word(s, n)).then_some(n)
}

fn digits(s: &[u8]) -> Option<usize> {
    Some(run(s, |b| b.is_ascii_digit())).filter(|&n| n > 0)
}

/// Whether `s` starts with `pattern`, where `d` is a decimal digit, `x` a hex digit, and
/// any other byte itself.
fn shape(s: &[u8], pattern: &[u8]) -> bool {
    s.len() >= pattern.len()
        && pattern.iter().zip(s).all(|(&p, &b)| match p {
            b'd' => b.is_ascii_digit(),
            b'x' => b.is_ascii_hexdigit(),
            _ => p == b,
        })
}

/// Whether the word ends after `n` bytes of `s` (what follows is not a letter or digit).
fn ends_word(s: &[u8], n: usize) -> bool {
    !s.get(n).is_some_and(u8::is_ascii_alphanumeric)
}

/// The length of the run of bytes at the start of `s` that satisfy `f`.
fn run(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().take_while(|&&b| f(b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_realistic_messages() {
        let cases = [
            (
                "No space left on device (os error 28)",
                "No space left on device (os error <n>)",
            ),
            (
                "connection refused: 127.0.0.1:5432",
                "connection refused: <addr>",
            ),
            ("connect to [::1]:8080 failed", "connect to <addr> failed"),
            ("file /tmp/x7f3/app.zip not found", "file <path> not found"),
            (
                "cannot read ./data/in.csv: gone",
                "cannot read <path>: gone",
            ),
            (
                "job 550e8400-e29b-41d4-a716-446655440000 was lost",
                "job <uuid> was lost",
            ),
            (
                "lease expired at 2024-05-01T12:34:56.789+02:00.",
                "lease expired at <time>.",
            ),
            (
                "deadline 2024-05-01 12:34:56Z passed",
                "deadline <time> passed",
            ),
            ("at 09:15:02, retry", "at <time>, retry"),
            (
                r#"unknown column 'user_id' in "orders""#,
                "unknown column <q> in <q>",
            ),
            ("can't open `a b`", "can't open <q>"),
            ("worker_fa4cd67e died", "worker_<n> died"),
            ("bad pointer 0x7f3a", "bad pointer <n>"),
            (
                "replica2 is a deadbeef facade",
                "replica<n> is a deadbeef facade",
            ),
            ("version 1.2.3.4.5", "version <n>.<n>.<n>.<n>.<n>"),
            ("  out of\n  memory ", "out of memory"),
            (
                "Datei /tmp/ä.txt fehlt, Größe 42",
                "Datei <path> fehlt, Größe <n>",
            ),
        ];
        for (message, masked) in cases {
            assert_eq!(mask(message), masked, "masking {message:?}");
        }
    }

    #[test]
    fn volatile_differences_share_a_signature() {
        let pairs = [
            (
                "No space left on device (os error 28)",
                "No space left on device (os error 5)",
            ),
            (
                "connection refused: 127.0.0.1:5432",
                "connection refused: 10.0.12.7:6543",
            ),
            (
                "file /tmp/x7f3/app.zip not found",
                "file /var/tmp/other/b.tar.gz not found",
            ),
            (
                "job 550e8400-e29b-41d4-a716-446655440000 was lost",
                "job 123e4567-e89b-12d3-a456-426614174000 was lost",
            ),
            (
                "lease expired at 2024-05-01T12:34:56Z",
                "lease expired at 2025-12-31T23:59:59Z",
            ),
            ("commit a1b2c3d is missing", "commit 1234567 is missing"),
            ("key 'alpha' exists", "key 'beta-2' exists"),
        ];
        for (a, b) in pairs {
            assert_eq!(signature("app::fetch", a), signature("app::fetch", b));
        }
    }

    #[test]
    fn different_failures_have_different_signatures() {
        let disk = "No space left on device (os error 28)";
        let denied = "Permission denied (os error 13)";
        assert_ne!(
            signature("app::fetch", disk),
            signature("app::fetch", denied)
        );
        assert_ne!(signature("app::fetch", disk), signature("app::store", disk));
        assert_eq!(
            signature("app::fetch", disk),
            "app::fetch: No space left on device (os error <n>)"
        );
    }

    #[test]
    fn only_the_start_of_a_long_message_counts() {
        let long = format!("{}ü and then some", "x".repeat(SIGNIFICANT - 1));
        assert_eq!(mask(&long), "x".repeat(SIGNIFICANT - 1));
    }

    #[test]
    fn keeps_text_that_only_looks_volatile() {
        for message in ["a / b", "it's the user's file", "decade", "'unterminated"] {
            assert_eq!(mask(message), message);
        }
    }
}
