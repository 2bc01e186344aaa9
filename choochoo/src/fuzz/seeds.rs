//! The seeds of the fuzz corpus: real encodings the crate makes, one list per decoder.

use super::{Meta, Release, Sample, Tree};
use crate::defect::observation::FailedAttempt;
use crate::discovered::{Discovered, Source};
use crate::file::{Dir, File};
use crate::hash::Digest;
use crate::memo::Head;
use crate::store::discovered::encode_discovered;
use crate::store::ledger_rows::{FAILURES_COLUMN, attempts_to_json};
use crate::store::records::{RecordRow, encode_files};
use crate::store::stats::StatRow;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).unwrap_or_default()
}

pub(super) fn record_seeds() -> Vec<Vec<u8>> {
    let files = [
        (PathBuf::from("out/report.html"), Digest::of(b"report")),
        (PathBuf::from("data"), Digest::of(b"data")),
    ];
    [&files[..], &[]]
        .iter()
        .map(|files| RecordRow {
            algorithm: crate::hash::ALGORITHM.to_owned(),
            output_hash: Digest::of(b"output").as_bytes().to_vec(),
            encoding_hash: Digest::of(b"encoding").as_bytes().to_vec(),
            size: 6,
            inline: (!files.is_empty()).then(|| b"output".to_vec()),
            files: encode_files(files).unwrap_or_default(),
            used_dir: files.is_empty(),
        })
        .map(|row| encode(&row))
        .collect()
}

pub(super) fn discovered_seeds() -> Vec<Vec<u8>> {
    let input = |source, content: &[u8]| Discovered {
        source,
        digest: Digest::of(content),
    };
    let inputs = [
        input(Source::File(PathBuf::from("src/lua.h")), b"lua.h"),
        input(
            Source::File(PathBuf::from("/usr/include/stdio.h")),
            b"stdio.h",
        ),
        input(Source::Dir(PathBuf::from("assets")), b"assets"),
        input(Source::Env("CC".to_owned()), b"gcc"),
    ];
    [&inputs[..], &inputs[3..]]
        .iter()
        .filter_map(|inputs| encode_discovered(inputs).ok().flatten())
        .collect()
}

pub(super) fn head_seeds() -> Vec<Vec<u8>> {
    let head = Head {
        key: Digest::of(b"key"),
        fingerprint: Digest::of(b"fingerprint"),
        inputs: vec![Digest::of(b"a"), Digest::of(b"b")],
        values: vec![Some("{\"n\":3}".to_owned()), None],
    };
    vec![encode(&head)]
}

pub(super) fn stat_seeds() -> Vec<Vec<u8>> {
    let row = StatRow {
        path: b"/srv/data/input.csv".to_vec(),
        dev: 2049,
        ino: 1_234_567,
        size: 4096,
        mtime_ns: 1_700_000_000_000_000_000,
        ctime_ns: 1_700_000_000_000_000_000,
        recorded_ns: 1_700_000_001_000_000_000,
        digest: Digest::of(b"input").as_bytes().to_vec(),
    };
    vec![encode(&row)]
}

pub(super) fn observation_seeds() -> Vec<Vec<u8>> {
    let inputs = [("doc", Digest::of(b"doc")), ("n", Digest::of(b"3"))];
    let inputs: Vec<(&str, String)> = inputs
        .iter()
        .map(|(name, digest)| (*name, digest.to_hex()))
        .collect();
    let lines = ["error: disk full", "caused by: os error 28"];
    let attempts = [1, 2].map(|attempt| FailedAttempt {
        attempt,
        message: "connection refused: 127.0.0.1:5432".to_owned(),
        finished_ns: 1_700_000_000_000_000_000,
        duration_ns: 1_500_000,
        kept_dir: (attempt == 2).then(|| PathBuf::from("work/default/.failed/shop.db.run3.1")),
    });
    let failures = FAILURES_COLUMN as u8;
    [
        [vec![0], serde_json::to_vec(&inputs).unwrap_or_default()].concat(),
        [vec![1], serde_json::to_vec(&lines).unwrap_or_default()].concat(),
        [vec![failures], attempts_to_json(&attempts).into_bytes()].concat(),
        // The shortest form serde accepts for a struct: its fields as a list.
        [
            vec![failures],
            br#"[[1,"",0,0,null],[2,"x",1,2,"d"]]"#.to_vec(),
        ]
        .concat(),
    ]
    .to_vec()
}

pub(super) fn value_seeds() -> Vec<Vec<u8>> {
    let seed = |sample: Sample, encoding: Vec<u8>| [vec![sample as u8], encoding].concat();
    let release = Release {
        name: "choochoo".to_owned(),
        version: (0, 1, 0),
        artifacts: vec![File::new("target/app"), File::new("README.md")],
        notes: Some("first".to_owned()),
        meta: BTreeMap::from([
            ("tags".to_owned(), Meta::Tags(vec!["a".to_owned()])),
            ("span".to_owned(), Meta::Span { from: 1, to: 9 }),
            ("ratio".to_owned(), Meta::Ratio(0.5)),
            ("out".to_owned(), Meta::Dir(Dir::new("out"))),
            ("flag".to_owned(), Meta::Flag),
            ("count".to_owned(), Meta::Count(-3)),
        ]),
        by_host: HashMap::from([("ci".to_owned(), vec![1, 300, u64::MAX])]),
    };
    let tree = Tree::Node(vec![
        Tree::Leaf("x".to_owned()),
        Tree::Node(vec![Tree::Leaf("y".to_owned())]),
    ]);
    vec![
        seed(Sample::Text, encode(&"hello".to_owned())),
        seed(Sample::File, encode(&File::new("data/input.csv"))),
        seed(Sample::Texts, encode(&vec!["a".to_owned(), String::new()])),
        seed(Sample::Release, encode(&release)),
        seed(Sample::Tree, encode(&tree)),
        seed(
            Sample::Files,
            encode(&vec![(File::new("a"), Digest::of(b"a"))]),
        ),
        seed(
            Sample::Sets,
            encode(&HashMap::from([("k".to_owned(), HashSet::from([1u64, 2]))])),
        ),
        seed(
            Sample::Dirs,
            encode(&vec![
                Dir::new("src").include("**/*.c").exclude("build/**"),
                Dir::new("assets"),
            ]),
        ),
    ]
}
