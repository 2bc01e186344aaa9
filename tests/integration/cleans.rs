//! Safe cleans on the command line, with no terminal: `clean` lists what it will undo and
//! refuses without `--yes`, `--dry-run` changes nothing, `clean NAME` cleans what depends on
//! NAME first, `--only` cleans NAME alone. The program is a small shop whose stations make
//! things in a "world" directory of the site and write each visit and each clean to logs
//! there ([`crate::cleans_shop`]), so the logs say exactly what ran and what was undone, in
//! order.

use crate::cleans_shop::{CLEANED, PAGES, RAN, WORLD};
use crate::cli::{Output, PROGRAM, Site};
use choochoo::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A site with the pages written and the shop run once.
fn shop() -> Site {
    let site = Site::new().with(PROGRAM, "cleans");
    std::fs::create_dir_all(site.path().join("pages")).unwrap();
    std::fs::create_dir_all(site.path().join(WORLD)).unwrap();
    for page in PAGES {
        std::fs::write(site.path().join(page), format!("# {page}\n")).unwrap();
    }
    site.expect(0, &["run"]);
    let mut ran = take(&site, RAN);
    ran.sort();
    assert_eq!(
        ran,
        [
            "audit",
            "db",
            "pages[pages/a.md]",
            "pages[pages/b.md]",
            "pages[pages/c.md]",
            "report",
            "schema",
            "site"
        ],
        "the first run runs everything"
    );
    site
}

/// The lines of a log, which is then emptied.
fn take(site: &Site, file: &str) -> Vec<String> {
    let path = site.path().join(WORLD).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::remove_file(&path).ok();
    text.lines().map(str::to_owned).collect()
}

/// Every file under `dir` and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The store's files and the world's, byte for byte; but for SQLite's shared-memory
/// index of the log (`store.db-shm`), which every reader writes and which holds no data.
fn everything(site: &Site) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = snapshot(site.path());
    files.retain(|path, _| !path.to_string_lossy().ends_with("-shm"));
    assert!(
        files
            .keys()
            .any(|path| path.ends_with(".choochoo/store.db")),
        "the store is compared"
    );
    files
}

/// The nodes of the listing `clean` prints (two spaces, the node, its station), in order.
fn listed(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter_map(|line| line.split(' ').next())
        .collect()
}

const ALL: [&str; 9] = [
    "report",
    "audit",
    "site",
    "pages[pages/c.md]",
    "pages[pages/b.md]",
    "pages[pages/a.md]",
    "pages",
    "schema",
    "db",
];

fn world_has(site: &Site, file: &str) -> bool {
    site.path().join(WORLD).join(file).exists()
}

#[test]
fn clean_name_cleans_what_depends_on_it_first_then_it() {
    let site = shop();
    let cleaned = site.expect(0, &["clean", "--yes", "schema"]);
    assert_eq!(
        take(&site, CLEANED),
        ["report", "site", "schema"],
        "the last dependent first; audit and the pages do not read the schema"
    );
    assert_eq!(cleaned.stdout.trim(), "cleaned 3: report, site, schema");
    assert_eq!(listed(&cleaned.stderr), ["report", "site", "schema"]);
    assert!(
        cleaned
            .stderr
            .contains("schema (migrate): calls its clean function; output 2"),
        "{}",
        cleaned.stderr
    );
    assert!(!world_has(&site, "site.txt") && !world_has(&site, "schema"));
    assert!(world_has(&site, "shop.db") && world_has(&site, "a.html"));

    let store = Store::open(site.path().join(".choochoo")).unwrap();
    for node in ["report", "site", "schema"] {
        let evidence = store.evidence(node).unwrap();
        assert_eq!(evidence.len(), 1, "{node}: its evidence, recorded once");
    }
    for node in ["audit", "db", "pages[pages/a.md]"] {
        assert!(store.evidence(node).unwrap().is_empty(), "{node} was kept");
    }
    drop(store);

    site.expect(0, &["run"]);
    assert_eq!(
        take(&site, RAN),
        ["schema", "site", "report"],
        "exactly what was cleaned runs again"
    );
}

#[test]
fn clean_an_item_cleans_what_reads_its_map_first_and_keeps_the_other_items() {
    let site = shop();
    let cleaned = site.expect(0, &["clean", "--yes", "pages[pages/b.md]"]);
    assert_eq!(
        take(&site, CLEANED),
        ["report", "site", "pages[pages/b.md]"]
    );
    assert_eq!(
        cleaned.stdout.trim(),
        "cleaned 4: report, site, pages[pages/b.md], pages",
        "the map's list goes too (it was made of the item's output), its other items stay"
    );
    assert!(!world_has(&site, "b.html"));
    assert!(world_has(&site, "a.html") && world_has(&site, "c.html"));

    site.expect(0, &["run"]);
    assert_eq!(take(&site, RAN), ["pages[pages/b.md]", "site", "report"]);
}

#[test]
fn clean_only_cleans_just_the_named_station() {
    let site = shop();
    let cleaned = site.expect(0, &["clean", "--yes", "--only", "schema"]);
    assert_eq!(take(&site, CLEANED), ["schema"]);
    assert_eq!(cleaned.stdout.trim(), "cleaned 1: schema");
    assert!(
        world_has(&site, "site.txt"),
        "what reads the schema is kept"
    );

    site.expect(0, &["run"]);
    assert_eq!(
        take(&site, RAN),
        ["schema"],
        "the schema comes back the same: its dependents stay cached"
    );
}

/// Exits 2 with the refusal, having cleaned nothing and changed no byte.
fn refuses(site: &Site, args: &[&str]) -> Output {
    let before = everything(site);
    let refused = site.expect(2, args);
    assert!(
        refused.stderr.contains(
            "`clean` asks before it undoes anything, and standard input is not a terminal to \
             ask on; pass `--yes` to clean without asking, or `--dry-run` to only see the list"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(take(site, CLEANED), Vec::<String>::new(), "{args:?}");
    let after = everything(site);
    let changed: Vec<&PathBuf> = after
        .keys()
        .chain(before.keys())
        .filter(|p| after.get(*p) != before.get(*p))
        .collect();
    assert!(changed.is_empty(), "{args:?} changed {changed:?}");
    refused
}

#[test]
fn clean_without_yes_and_no_terminal_refuses_and_cleans_nothing() {
    let site = shop();
    let all = refuses(&site, &["clean"]);
    assert!(
        all.stderr
            .contains("clean will undo these 9, the last station first, in the profile"),
        "{}",
        all.stderr
    );
    assert_eq!(listed(&all.stderr), ALL, "the list comes with the refusal");
    let named = refuses(&site, &["clean", "schema"]);
    assert_eq!(listed(&named.stderr), ["report", "site", "schema"]);
    let only = refuses(&site, &["clean", "--only", "schema"]);
    assert_eq!(listed(&only.stderr), ["schema"], "--only asks too");
    assert!(
        only.stderr
            .contains("clean will undo this one in the profile `default`:\n  schema (migrate)"),
        "{}",
        only.stderr
    );

    site.expect(0, &["run"]);
    assert_eq!(
        take(&site, RAN),
        Vec::<String>::new(),
        "all still remembered"
    );
}

#[test]
fn dry_run_lists_in_order_and_changes_nothing() {
    let site = shop();
    let before = everything(&site);
    let dry = site.expect(0, &["clean", "--dry-run"]);
    assert!(
        everything(&site) == before,
        "the store and the world, byte for byte"
    );
    assert_eq!(take(&site, CLEANED), Vec::<String>::new());
    assert_eq!(listed(&dry.stdout), ALL);
    let lines: Vec<&str> = dry.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "clean would undo these 9, the last station first, in the profile `default`:"
    );
    assert_eq!(
        lines[7],
        "  pages (render): forgets its result only; output [\"world/a.html\",\"world/b.html\",\"world/c.html\"]"
    );
    assert_eq!(lines.last(), Some(&"nothing was cleaned (dry run)"));

    let named = site.expect(0, &["clean", "--dry-run", "pages[pages/b.md]"]);
    assert_eq!(
        listed(&named.stdout),
        ["report", "site", "pages[pages/b.md]", "pages"]
    );
    assert!(everything(&site) == before);

    site.expect(0, &["run"]);
    assert_eq!(
        take(&site, RAN),
        Vec::<String>::new(),
        "all still remembered"
    );
}

#[test]
fn clean_yes_cleans_everything_last_station_first() {
    let site = shop();
    let cleaned = site.expect(0, &["clean", "--yes"]);
    assert_eq!(
        take(&site, CLEANED),
        [
            "report",
            "audit",
            "site",
            "pages[pages/c.md]",
            "pages[pages/b.md]",
            "pages[pages/a.md]",
            "schema",
            "db"
        ],
        "each clean function once, the last station first, a map's items before it"
    );
    assert_eq!(
        cleaned.stdout.trim(),
        format!("cleaned 9: {}", ALL.join(", "))
    );
    let left: Vec<String> = std::fs::read_dir(site.path().join(WORLD))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, Vec::<String>::new(), "nothing is left in the world");

    let again = site.expect(0, &["clean"]);
    assert!(
        again.stdout.starts_with("nothing to clean"),
        "nothing remembered, nothing to ask: {}",
        again.stdout
    );
    site.expect(0, &["run"]);
    assert_eq!(take(&site, RAN).len(), 8, "everything runs again");
}
