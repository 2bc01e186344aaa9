//! The ledger from the command line, as the person on call uses it: two defects a person
//! knows to be one are merged (and the merge says who did it), and a defect whose stations
//! ran well since is shown quiet, still open.

use crate::cli::Site;

#[test]
fn defects_merge_joins_two_defects_and_records_who_merged_them() {
    let site = Site::new().with("USER", "alice");
    site.expect_with(1, &["run"], &[("DEPLOY_BROKEN", "upload")]);
    site.expect_with(
        1,
        &["run", "--keep-going", "--force", "deploy.schema"],
        &[("DEPLOY_BROKEN", "migrate")],
    );
    let list = site.expect(0, &["defects"]).stdout;
    assert_eq!(list.lines().count(), 3, "a heading and two defects: {list}");
    assert!(
        list.contains("open, quiet since run 2"),
        "the upload ran in run 2: {list}"
    );

    let merged = site.expect(0, &["defects", "merge", "1", "#2"]).stdout;
    assert_eq!(
        merged.trim(),
        "#2 is merged into #1: 2 observations in 2 runs, 2 signatures; \
         later failures like #2's count for #1"
    );
    let list = site.expect(0, &["defects", "list"]).stdout;
    assert_eq!(list.lines().count(), 2, "one defect: {list}");
    assert!(
        !list.contains("quiet"),
        "the migration failed in run 2: {list}"
    );
    let show = site.expect(0, &["defects", "show", "2"]).stdout;
    assert!(show.starts_with("defect #1: cannot upload"), "{show}");
    assert!(
        show.contains("  seen           2 times, last in run 2"),
        "{show}"
    );
    assert!(show.contains("  merged #2 into it by alice at "), "{show}");
    assert!(show.contains("\nrun 2 · "), "{show}");
    assert!(
        show.contains("  observation #2 · deploy.schema\n"),
        "{show}"
    );
    assert!(show.contains("lock timeout on table `orders`"), "{show}");
    let ticket: serde_json::Value = serde_json::from_str(
        &site
            .expect(0, &["defects", "export", "1", "--format", "json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(ticket["decisions"][0]["by"], "alice");
    assert_eq!(ticket["decisions"][0]["what"], "merged #2 into it");

    let itself = site.expect(2, &["defects", "merge", "1", "1"]);
    assert!(
        itself.stderr.contains("cannot merge #1 into itself"),
        "{}",
        itself.stderr
    );
    let missing = site.expect(2, &["defects", "merge", "1", "99"]);
    assert!(
        missing.stderr.contains("there is no defect #99"),
        "{}",
        missing.stderr
    );

    // A good run: the merged defect is quiet since it, and still open.
    site.expect(0, &["run"]);
    let list = site.expect(0, &["defects"]).stdout;
    assert!(list.contains("open, quiet since run 3"), "{list}");
    site.expect(0, &["defects", "fix", "1"]);
    let show = site.expect(0, &["defects", "show", "1"]).stdout;
    assert!(show.contains("  marked fixed by alice at "), "{show}");
}

#[test]
fn items_failing_alike_tell_one_story() {
    let site = Site::new().with(crate::cli::PROGRAM, "items");
    let src = site.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for name in ["a", "b", "c", "d"] {
        let text = if name == "d" {
            "int d;\n"
        } else {
            "#error no\n"
        };
        std::fs::write(src.join(format!("{name}.c")), text).unwrap();
    }
    let failed = site.expect(1, &["run", "--keep-going"]);
    let told: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|line| line.trim_start().starts_with("defect #"))
        .map(str::trim)
        .collect();
    assert_eq!(
        told,
        [
            "defect #1 (new): deploy defects show 1",
            "defect #1, as above",
            "defect #1, as above"
        ],
        "{}",
        failed.stderr
    );
    let show = site.expect(0, &["defects", "show", "1"]).stdout;
    assert!(
        show.contains("  seen           once, last in run 1 (3 observations)"),
        "{show}"
    );
    let heading = show
        .lines()
        .find(|line| line.starts_with("run 1 · "))
        .unwrap_or_else(|| panic!("{show}"));
    let (_, alike) = heading.split_once(" · 3 failed alike: ").unwrap();
    let mut items: Vec<&str> = alike.split(", ").collect();
    items.sort_unstable();
    assert_eq!(
        items,
        ["objects[src/a.c]", "objects[src/b.c]", "objects[src/c.c]"]
    );
    assert!(
        show.contains("  impact         1 station blocked"),
        "{show}"
    );
}
