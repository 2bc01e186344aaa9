//! Credentials for the remote cache: a real BuildGrid checking JWT bearer tokens, an
//! in-process server checking an API key header and counting the calls it gets, and the
//! command line with secrets that must show up nowhere it prints or writes.

use crate::buildgrid::{self, BuildGrid};
use crate::fake;
use crate::remote::shared;
use crate::support::{counts, executed, serial, take_executions, temp_store};
use choochoo::{Graph, Node, Remote, Runner, station};
use sha2::Digest as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An HS256 JSON Web Token for `subject`, valid for an hour, signed with `secret`.
fn jwt(secret: &[u8], subject: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = base64url(format!(r#"{{"sub":"{subject}","exp":{exp}}}"#).as_bytes());
    let signed = format!("{header}.{claims}");
    format!(
        "{signed}.{}",
        base64url(&hmac_sha256(secret, signed.as_bytes()))
    )
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = sha2::Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    sha2::Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            text.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    text
}

#[test]
fn the_jwt_helper_signs_as_rfc_4231_says() {
    // RFC 4231, test case 2.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(base64url(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw");
}

#[test]
fn buildgrid_takes_a_good_token_and_refuses_a_bad_one_once() {
    let dir = tempfile::tempdir().unwrap();
    let secret = b"the signing secret of this cache";
    let secret_file = dir.path().join("jwt-secret");
    std::fs::write(&secret_file, secret).unwrap();
    let options = buildgrid::Options {
        jwt_secret: Some(secret_file),
        ..Default::default()
    };
    let Some(grid) = BuildGrid::start_with(&options) else {
        return;
    };
    let _serial = serial();
    let remote = || Remote::new(&grid.url).timeout(Duration::from_secs(20));
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{}\n", jwt(secret, "ci"))).unwrap();
    let all = counts(&[("produce", 1), ("measure", 1), ("combine", 1)]);

    let writer = temp_store();
    let run = Runner::new(&writer.store)
        .remote(remote().bearer_token_file(&token_file).write(true))
        .run(shared("behind a token".to_owned()))
        .unwrap();
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );
    assert_eq!(take_executions(), all);
    let reader = temp_store();
    let run = Runner::new(&reader.store)
        .remote(remote().bearer_token(jwt(secret, "laptop")))
        .run(shared("behind a token".to_owned()))
        .unwrap();
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );
    assert_eq!(take_executions(), counts(&[]));

    let refusals = || {
        grid.log()
            .matches("Authentication failed for request")
            .count()
    };
    for remote in [
        remote().bearer_token(jwt(b"another secret", "intruder")),
        remote(),
    ] {
        let before = refusals();
        let store = temp_store();
        let run = Runner::new(&store.store)
            .remote(remote)
            .run(shared("behind a token".to_owned()))
            .unwrap();
        assert_eq!(take_executions(), all);
        let warnings = run.report().warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("refused the credentials (UNAUTHENTICATED: ")
                && warnings[0].ends_with("this run goes on with the local store only"),
            "{warnings:?}"
        );
        // One call, refused; the log line may come a moment after the answer.
        let logged = crate::support::wait_until(Duration::from_secs(5), || refusals() > before);
        assert!(logged, "{}", grid.log());
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(refusals() - before, 1, "{}", grid.log());
    }
}

#[station]
fn cube(x: &u64) -> u64 {
    executed("cube");
    std::thread::sleep(Duration::from_millis(5));
    x * x * x
}

#[station]
fn sum(xs: &Vec<u64>) -> u64 {
    executed("sum");
    xs.iter().sum()
}

/// 40 stations ready at once (each a remote lookup at the start of the run), and their sum;
/// the run's report.
fn run_cubes(runner: Runner<'_>, remote: Remote) -> choochoo::Report {
    let mut graph = Graph::new();
    let cubes: Vec<Node<u64>> = (0..40u64)
        .map(|i| {
            let x = graph.input(i);
            graph.add(Cube, (&x,))
        })
        .collect();
    let total = graph.add(Sum, (&cubes,));
    let run = runner
        .jobs(2)
        .remote(remote.timeout(Duration::from_secs(10)))
        .run_graph(&graph, total)
        .unwrap();
    assert_eq!(*run.output(), (0..40u64).map(|x| x * x * x).sum::<u64>());
    run.report().clone()
}

/// A refused key costs the run one call and one warning, not a call per station.
#[test]
fn a_refused_key_costs_one_call_and_one_warning() {
    let _serial = serial();
    let fake = fake::Server::start_with(fake::Options {
        require: Some(("x-api-key", "the right key".to_owned())),
        ..Default::default()
    });
    let store = temp_store();
    let wrong = Remote::new(&fake.url).header("x-api-key", "a wrong key");
    let report = run_cubes(Runner::new(&store.store), wrong);
    assert_eq!(take_executions(), counts(&[("cube", 40), ("sum", 1)]));
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("refused the credentials (UNAUTHENTICATED: "),
        "{warnings:?}"
    );
    assert_eq!(fake.calls(), 1);

    // The right key is taken: a writer fills the cache, and another store runs nothing.
    let right = || Remote::new(&fake.url).header("x-api-key", "the right key");
    let (writer, reader) = (temp_store(), temp_store());
    run_cubes(Runner::new(&writer.store), right().write(true));
    assert_eq!(take_executions(), counts(&[("cube", 40), ("sum", 1)]));
    let report = run_cubes(Runner::new(&reader.store), right());
    assert_eq!(take_executions(), counts(&[]));
    assert!(report.warnings().is_empty(), "{:?}", report.warnings());
}

/// A key that may read but not write: one warning, nothing stored, and the lookups go on.
#[test]
fn a_read_only_key_stops_uploads_not_lookups() {
    let _serial = serial();
    let fake = fake::Server::start();
    let writer = temp_store();
    run_cubes(
        Runner::new(&writer.store),
        Remote::new(&fake.url).write(true),
    );
    assert_eq!(take_executions(), counts(&[("cube", 40), ("sum", 1)]));
    let stored = fake.results();
    fake.set_read_only(true);
    // The cubes run again and their uploads are refused; the sum, looked up after the
    // refusals, is still taken from the cache.
    let store = temp_store();
    let runner = Runner::new(&store.store).force(["cube"]);
    let report = run_cubes(runner, Remote::new(&fake.url).write(true));
    assert_eq!(take_executions(), counts(&[("cube", 40)]));
    assert_eq!(fake.results(), stored);
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("refused to store a result (PERMISSION_DENIED: ")
            && warnings[0].ends_with("lookups go on"),
        "{warnings:?}"
    );
}
