//! Secret inputs and the remote cache, against a real BuildGrid: stores sharing a team key
//! (`CHOOCHOO_SECRET_KEY`) share the results made with a secret, a store with a key of its
//! own shares only the stations that do not read it, and the secret's bytes are in none of
//! the server's files.

use crate::buildgrid::BuildGrid;
use crate::secrets::{assert_nowhere, cli};

/// How the stations of a `run --verbose` ended, line by line: `ran deploy.tables`.
fn outcomes(printed: &str) -> Vec<String> {
    let mut lines: Vec<String> = printed
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let status = words.next()?;
            let node = words.next().filter(|node| node.starts_with("deploy."))?;
            let node = node.trim_end_matches(':');
            ["ran", "cached"]
                .contains(&status)
                .then(|| format!("{status} {node}"))
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_team_key_shares_results_made_with_a_secret_and_the_server_never_sees_it() {
    let Some(server) = BuildGrid::start() else {
        return;
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let secret = format!("pw-remote-{}-shared-by-the-team", std::process::id());
    let team = "5".repeat(64);
    let url = server.url.as_str();
    let mut printed = String::new();
    let mut run = |dir: &tempfile::TempDir, key: Option<&str>, write: bool| {
        let mut args = vec!["run", "--verbose", "--remote", url];
        if write {
            args.push("--remote-write");
        }
        let mut env = vec![("CHOOCHOO_TEST_DB_PASSWORD", secret.as_str())];
        env.extend(key.map(|key| ("CHOOCHOO_SECRET_KEY", key)));
        let (code, text) = cli(dir.path(), &args, &env);
        assert_eq!(code, 0, "{text}");
        printed += &text;
        outcomes(&text)
    };
    let ran = [
        "ran deploy.manual",
        "ran deploy.seeded",
        "ran deploy.tables",
    ];
    assert_eq!(run(&dirs[0], Some(&team), true), ran);
    // Another store with the team's key: every result comes from the server.
    let cached = [
        "cached deploy.manual",
        "cached deploy.seeded",
        "cached deploy.tables",
    ];
    assert_eq!(run(&dirs[1], Some(&team), false), cached);
    // A store with its own key makes other keys for the secret's stations.
    let own = [
        "cached deploy.manual",
        "ran deploy.seeded",
        "ran deploy.tables",
    ];
    assert_eq!(run(&dirs[2], None, false), own);

    let mut places: Vec<&std::path::Path> = dirs.iter().map(|dir| dir.path()).collect();
    places.push(server.dir());
    let searched = assert_nowhere(&[secret], &places, &printed);
    assert!(searched > 10, "only {searched} files were searched");
    assert!(
        !printed.contains(&team),
        "the team key was printed:\n{printed}"
    );
}
