//! The remote cache over TLS (`grpcs://`): a real BuildGrid serving certificates the tests
//! make, with and without client certificates; certificate errors told plainly; and never a
//! plain-text connection in place of TLS.

use crate::buildgrid::{self, BuildGrid};
use crate::fake;
use crate::remote::{outcome, shared, statuses};
use crate::support::{counts, serial, take_executions, temp_store};
use choochoo::{Remote, Runner, Status};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A certificate authority of a test, which issues certificates for names.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, in PEM.
pub struct Issued {
    pub cert: String,
    pub key: String,
}

impl Authority {
    pub fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Authority { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses), signed by this authority.
    pub fn issue(&self, names: &[&str]) -> Issued {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// Writes `text` to `name` in `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// What a run against a refusing or broken remote must be: every station run here, and one
/// warning, which contains `expected`.
fn runs_locally(remote: Remote, text: &str, expected: &str) {
    let store = temp_store();
    let run = Runner::new(&store.store)
        .remote(remote.timeout(Duration::from_secs(10)))
        .run(shared(text.to_owned()))
        .unwrap();
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)]),
        "expected a local run for {expected:?}"
    );
    let warnings = run.report().warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(expected), "{warnings:?}");
    assert!(
        warnings[0].ends_with("this run goes on with the local store only"),
        "{warnings:?}"
    );
}

/// A writer and an empty reader share results through `url`: the reader executes nothing.
fn shares(remote: impl Fn() -> Remote, text: &str) {
    let writer = temp_store();
    let run = Runner::new(&writer.store)
        .remote(remote().write(true))
        .run(shared(text.to_owned()))
        .unwrap();
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
    );
    let expected = outcome(&run, &writer.store);
    let reader = temp_store();
    let run = Runner::new(&reader.store)
        .remote(remote())
        .run(shared(text.to_owned()))
        .unwrap();
    assert!(
        run.report().warnings().is_empty(),
        "{:?}",
        run.report().warnings()
    );
    assert_eq!(take_executions(), counts(&[]));
    assert_eq!(statuses(run.report()), [Status::Cached; 3]);
    assert_eq!(outcome(&run, &reader.store), expected);
}

#[test]
fn buildgrid_over_tls_shares_results_and_refuses_wrong_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("choochoo test CA");
    let server = ca.issue(&["localhost"]);
    let options = buildgrid::Options {
        tls: Some((
            write(dir.path(), "server.pem", &server.cert),
            write(dir.path(), "server.key", &server.key),
        )),
        ..Default::default()
    };
    let Some(grid) = BuildGrid::start_with(&options) else {
        return;
    };
    let _serial = serial();
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let url = format!("grpcs://localhost:{}", grid.port);
    let remote = || {
        Remote::new(&url)
            .ca(&ca_file)
            .timeout(Duration::from_secs(20))
    };
    shares(remote, "shared over TLS");

    // Another authority, or the system's roots, do not vouch for the server.
    let other = write(dir.path(), "other.pem", &Authority::new("other CA").pem());
    let untrusted = "not signed by an authority this client trusts";
    runs_locally(Remote::new(&url).ca(&other), "shared over TLS", untrusted);
    runs_locally(Remote::new(&url), "shared over TLS", untrusted);
    // The certificate names `localhost`, not the address.
    let by_address = format!("grpcs://127.0.0.1:{}", grid.port);
    runs_locally(
        Remote::new(&by_address).ca(&ca_file),
        "shared over TLS",
        "certificate for localhost is not valid for 127.0.0.1",
    );
    // A plain-text client gets nothing from a TLS server.
    let plain = format!("grpc://localhost:{}", grid.port);
    runs_locally(Remote::new(&plain), "shared over TLS", "unreachable");
}

#[test]
fn buildgrid_with_client_certificates_takes_only_those_it_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("choochoo test CA");
    let server = ca.issue(&["localhost"]);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let options = buildgrid::Options {
        tls: Some((
            write(dir.path(), "server.pem", &server.cert),
            write(dir.path(), "server.key", &server.key),
        )),
        client_ca: Some(ca_file.clone()),
        ..Default::default()
    };
    let Some(grid) = BuildGrid::start_with(&options) else {
        return;
    };
    let _serial = serial();
    let client = ca.issue(&["ci-runner"]);
    let (cert, key) = (
        write(dir.path(), "client.pem", &client.cert),
        write(dir.path(), "client.key", &client.key),
    );
    let url = format!("grpcs://localhost:{}", grid.port);
    let remote = || {
        Remote::new(&url)
            .ca(&ca_file)
            .timeout(Duration::from_secs(20))
    };
    shares(|| remote().identity(&cert, &key), "shared over mutual TLS");

    runs_locally(
        remote(),
        "shared over mutual TLS",
        "the server asks for a client certificate",
    );
    let stranger = Authority::new("stranger CA").issue(&["ci-runner"]);
    let (cert, key) = (
        write(dir.path(), "stranger.pem", &stranger.cert),
        write(dir.path(), "stranger.key", &stranger.key),
    );
    runs_locally(
        remote().identity(&cert, &key),
        "shared over mutual TLS",
        "the server refused the client certificate",
    );
}

/// TLS settings that cannot be honoured turn the cache off before anything is sent: no call
/// reaches the plain-text server, so nothing goes out in plain text instead of TLS.
#[test]
fn tls_never_falls_back_to_plain_text() {
    let _serial = serial();
    let plain = fake::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &Authority::new("test CA").pem());
    let address = plain.url.strip_prefix("grpc://").unwrap();
    let secure = format!("grpcs://{address}");
    runs_locally(
        Remote::new(&secure).ca(&ca),
        "plain",
        "the server does not answer in TLS",
    );
    runs_locally(
        Remote::new(&secure).ca(dir.path().join("missing.pem")),
        "plain",
        "cannot read the CA file",
    );
    runs_locally(
        Remote::new(&plain.url).ca(&ca),
        "plain",
        "a CA or a client certificate is given for a plain-text URL; write grpcs://",
    );
    assert_eq!(plain.calls(), 0);
}

/// `--remote-ca`, `--remote-cert` and `--remote-key` on the command line, against the
/// in-process server requiring a client certificate.
#[test]
fn the_command_line_takes_a_ca_and_a_client_certificate() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("test CA");
    let server = ca.issue(&["localhost"]);
    let fake = fake::Server::start_with(fake::Options {
        tls: Some((server.cert, server.key)),
        client_ca: Some(ca.pem()),
        ..Default::default()
    });
    let port = fake.url.rsplit(':').next().unwrap();
    let url = format!("grpcs://localhost:{port}");
    let client = ca.issue(&["laptop"]);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let cert = write(dir.path(), "client.pem", &client.cert);
    let key = write(dir.path(), "client.key", &client.key);
    let tls = [
        "--remote-ca",
        ca_file.to_str().unwrap(),
        "--remote-cert",
        cert.to_str().unwrap(),
        "--remote-key",
        key.to_str().unwrap(),
    ];
    let cli = |store: &Path, extra: &[&str]| {
        let mut args = vec!["workflow", "--quiet", "--store", store.to_str().unwrap()];
        args.extend_from_slice(&["run", "--remote", &url]);
        args.extend_from_slice(&tls);
        args.extend_from_slice(extra);
        let code = choochoo::cli::main_with_args(args, || shared("by flags".to_owned()));
        assert_eq!(code, std::process::ExitCode::SUCCESS);
    };
    let (writer, reader) = (temp_store(), temp_store());
    cli(writer.store.dir(), &["--remote-write"]);
    assert_eq!(
        take_executions(),
        counts(&[("produce", 1), ("measure", 1), ("combine", 1)])
    );
    assert_eq!(fake.results(), 3);
    cli(reader.store.dir(), &[]);
    assert_eq!(take_executions(), counts(&[]));
}

/// `CHOOCHOO_REMOTE_CA`, `CHOOCHOO_REMOTE_CERT` and `CHOOCHOO_REMOTE_KEY`, read by
/// `Runner::new` in a program of its own.
#[test]
fn the_environment_names_a_ca_and_a_client_certificate() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("test CA");
    let server = ca.issue(&["localhost"]);
    let fake = fake::Server::start_with(fake::Options {
        tls: Some((server.cert, server.key)),
        client_ca: Some(ca.pem()),
        ..Default::default()
    });
    let port = fake.url.rsplit(':').next().unwrap();
    let url = format!("grpcs://localhost:{port}");
    let client = ca.issue(&["laptop"]);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let cert = write(dir.path(), "client.pem", &client.cert);
    let key = write(dir.path(), "client.key", &client.key);
    let env = [
        ("CHOOCHOO_REMOTE", url.as_str()),
        ("CHOOCHOO_REMOTE_CA", ca_file.to_str().unwrap()),
        ("CHOOCHOO_REMOTE_CERT", cert.to_str().unwrap()),
        ("CHOOCHOO_REMOTE_KEY", key.to_str().unwrap()),
    ];
    let run = |store: &str, write: &str| {
        let env = [&env[..], &[("CHOOCHOO_REMOTE_WRITE", write)]].concat();
        let (code, printed) = crate::remote_secrets::cli(dir.path(), &["library", store], &env);
        assert_eq!(code, 0, "{printed}");
        printed
    };
    let written = run("writer", "1");
    assert!(written.contains("warnings: []"), "{written}");
    assert_eq!(fake.results(), 3, "{written}");
    let read = run("reader", "0");
    assert!(
        read.contains("statuses: [Cached, Cached, Cached]"),
        "{read}"
    );
    assert!(read.contains("warnings: []"), "{read}");
}
