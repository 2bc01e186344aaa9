use super::export::ExportFormat;
use super::model::{Defect, DefectId, DefectStatus, NewObservation, NoteKind, time};
use crate::hash::Digest;
use crate::store::Store;
use std::path::PathBuf;
use std::time::Duration;

/// 2024-05-01 10:00:00 UTC.
const T0: i64 = 1_714_557_600_000_000_000;
const MINUTE: i64 = 60_000_000_000;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A failure of `app::fetch` on `instance`, two seconds long, that blocked three stations.
fn failure(message: &str, instance: &str, finished_ns: i64) -> NewObservation {
    NewObservation {
        station_id: "app::fetch".to_owned(),
        station_name: "fetch".to_owned(),
        node: "upload.fetch".to_owned(),
        profile: "default".to_owned(),
        instance: instance.to_owned(),
        run_id: 1,
        started_ns: finished_ns - 2_000_000_000,
        finished_ns,
        duration: Duration::from_secs(2),
        message: message.to_owned(),
        chain: vec![message.to_owned()],
        blocked: 3,
        ..NewObservation::default()
    }
}

fn disk_full(path: &str) -> String {
    format!("cannot write {path}: No space left on device (os error 28)")
}

fn only_defect(store: &Store) -> Defect {
    let mut defects = store.defects().unwrap();
    assert_eq!(defects.len(), 1, "{defects:#?}");
    defects.remove(0)
}

#[test]
fn ten_failures_of_one_kind_on_two_instances_are_one_defect() {
    let (_dir, store) = store();
    // At 0, 1, 4, 9, … 81 minutes: irregular, 9 minutes apart on average.
    for k in 0..10 {
        let message = disk_full(&format!("/tmp/upload-{k}/part.bin"));
        let instance = if k % 2 == 0 { "replica-1" } else { "replica-2" };
        let mut observed = failure(&message, instance, T0 + k * k * MINUTE);
        observed.run_id = k + 1;
        store.observe(&observed).unwrap();
    }
    let defect = only_defect(&store);
    assert_eq!(defect.count(), 10);
    assert_eq!(defect.runs_seen(), 10);
    assert_eq!(defect.last_run(), 10);
    assert_eq!(defect.instances(), ["replica-1", "replica-2"]);
    assert_eq!(defect.stations(), ["app::fetch"]);
    assert_eq!(defect.first_seen(), time(T0));
    assert_eq!(defect.last_seen(), time(T0 + 81 * MINUTE));
    assert_eq!(defect.mean_interval(), Some(Duration::from_secs(9 * 60)));
    assert_eq!(defect.next_expected(), Some(time(T0 + 90 * MINUTE)));
    assert_eq!(defect.blocked(), 30);
    assert_eq!(defect.time_lost(), Duration::from_secs(20));
    assert_eq!(defect.title(), disk_full("/tmp/upload-0/part.bin"));
    assert_eq!(defect.status(), DefectStatus::Open);
    assert!(!defect.regressed());

    let observations = store.observations(defect.id()).unwrap();
    assert_eq!(observations.len(), 10);
    assert_eq!(
        observations[1].title(),
        format!(
            "Handle: \"{}\" on \"replica-2\"",
            disk_full("/tmp/upload-1/part.bin")
        )
    );
    assert!(observations.iter().all(|o| o.defect() == defect.id()));
}

#[test]
fn a_different_error_opens_a_second_defect() {
    let (_dir, store) = store();
    store
        .observe(&failure(&disk_full("/tmp/a"), "replica-1", T0))
        .unwrap();
    store
        .observe(&failure(&disk_full("/tmp/b"), "replica-2", T0 + MINUTE))
        .unwrap();
    let denied = "cannot write /tmp/a: Permission denied (os error 13)";
    store
        .observe(&failure(denied, "replica-1", T0 + 2 * MINUTE))
        .unwrap();
    let defects = store.defects().unwrap();
    let counts: Vec<(&str, u64)> = defects.iter().map(|d| (d.title(), d.count())).collect();
    assert_eq!(counts, [(disk_full("/tmp/a").as_str(), 2), (denied, 1)]);
    assert_eq!(defects[1].mean_interval(), None);
    assert_eq!(defects[1].next_expected(), None);
}

#[test]
fn a_failure_after_the_fix_reopens_the_defect_as_regressed() {
    let (_dir, store) = store();
    let observe = |k: i64| {
        let observed = failure(&disk_full("/tmp/x"), "replica-1", T0 + k * MINUTE);
        store.observe(&observed).unwrap()
    };
    observe(0);
    let id = only_defect(&store).id();

    // Mitigated means the cause is still there: seeing it again is expected.
    store.mark_mitigated(id).unwrap();
    observe(1);
    let defect = store.defect(id).unwrap().unwrap();
    assert_eq!(defect.status(), DefectStatus::Mitigated);
    assert!(!defect.regressed());

    store.mark_fixed(id).unwrap();
    assert_eq!(
        store.defect(id).unwrap().unwrap().status(),
        DefectStatus::Fixed
    );
    observe(2);
    let defect = store.defect(id).unwrap().unwrap();
    assert!(defect.regressed());
    assert_eq!(defect.status(), DefectStatus::Open);
    assert_eq!(defect.count(), 3);
}

#[test]
fn merged_defects_share_observations_signatures_notes_and_future_failures() {
    let (_dir, store) = store();
    let full = failure(&disk_full("/tmp/a"), "replica-1", T0);
    let quota = failure(
        "Disk quota exceeded (os error 122)",
        "replica-2",
        T0 + MINUTE,
    );
    store.observe(&full).unwrap();
    store.observe(&quota).unwrap();
    let [a, b] = [0, 1].map(|i| store.defects().unwrap()[i].id());
    store
        .add_note(b, NoteKind::Remedy, "empty /tmp on the replica")
        .unwrap();

    store.merge(a, b).unwrap();
    let merged = only_defect(&store);
    assert_eq!(merged.id(), a);
    assert_eq!(merged.count(), 2);
    assert_eq!(merged.instances(), ["replica-1", "replica-2"]);
    assert_eq!(merged.signatures().len(), 2);
    assert_eq!(merged.notes()[0].text(), "empty /tmp on the replica");
    assert_eq!(merged.title(), disk_full("/tmp/a"));

    // The merged id still leads to the defect, and so does its signature.
    assert_eq!(store.defect(b).unwrap().unwrap().id(), a);
    let later = failure(
        "Disk quota exceeded (os error 122)",
        "replica-3",
        T0 + 5 * MINUTE,
    );
    store.observe(&later).unwrap();
    assert_eq!(only_defect(&store).count(), 3);
    assert_eq!(store.observations(b).unwrap().len(), 3);

    // Merging again changes nothing; an unknown defect is refused.
    store.merge(a, b).unwrap();
    assert_eq!(only_defect(&store).count(), 3);
    assert!(store.merge(a, DefectId(99)).is_err());
}

#[test]
fn unknown_defects_and_empty_notes_are_refused() {
    let (_dir, store) = store();
    let nobody = DefectId(7);
    assert!(store.defect(nobody).unwrap().is_none());
    assert!(store.observations(nobody).is_err());
    assert!(store.mark_fixed(nobody).is_err());
    let error = store
        .add_note(nobody, NoteKind::NextSteps, "look")
        .unwrap_err();
    assert!(error.to_string().contains("no defect #7"), "{error}");
    store.observe(&failure("boom", "replica-1", T0)).unwrap();
    let id = only_defect(&store).id();
    assert!(store.add_note(id, NoteKind::NextSteps, "  ").is_err());
    assert_eq!("#1".parse::<DefectId>(), Ok(id));
}

#[test]
fn the_ledger_outlives_the_process_that_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path())
        .unwrap()
        .observe(&failure("boom", "replica-1", T0))
        .unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(only_defect(&store).count(), 1);
}

/// Two failures of the upload on two replicas, the second with every kind of evidence, and
/// a remedy note.
fn ledger() -> (tempfile::TempDir, Store, DefectId) {
    let (dir, store) = store();
    let mut first = failure(&disk_full("/tmp/up-1/part.bin"), "replica-1", T0);
    first.duration = Duration::from_millis(1_500);
    store.observe(&first).unwrap();
    let mut second = failure(
        &disk_full("/tmp/up-2/part.bin"),
        "replica-2",
        T0 + 26 * 60 * MINUTE,
    );
    second.run_id = 2;
    second.chain = vec![
        disk_full("/tmp/up-2/part.bin"),
        "No space left on device (os error 28)".to_owned(),
    ];
    second.panic = Some("called `Result::unwrap()` on an `Err` value".to_owned());
    second.log_tail = vec!["unpacking app.zip".to_owned(), "wrote 1.2 GB".to_owned()];
    second.inputs = vec![
        ("archive".to_owned(), Digest::of(b"app.zip")),
        ("limits".to_owned(), Digest::of(b"limits")),
    ];
    second.input_values = vec![("archive".to_owned(), "\"app|v2.zip\"".to_owned())];
    second.kept_dir = Some(PathBuf::from(
        "/srv/store/work/default/.failed/upload.fetch.run2.1",
    ));
    store.observe(&second).unwrap();
    let id = only_defect(&store).id();
    store
        .add_note(id, NoteKind::Remedy, "`df -h /tmp` is at 100%:\nempty /tmp")
        .unwrap();
    (dir, store, id)
}

#[test]
fn exports_a_markdown_ticket() {
    let (_dir, store, id) = ledger();
    let archive = Digest::of(b"app.zip").to_hex();
    let limits = Digest::of(b"limits").to_hex();
    let expected = format!(
        r#"# Defect #1: cannot write /tmp/up-1/part.bin: No space left on device (os error 28)

| | |
|---|---|
| Status | open |
| Runs seen | 2, last in run 2 |
| Observations | 2 |
| First seen | 2024-05-01 10:00:00 UTC |
| Last seen | 2024-05-02 12:00:00 UTC |
| Mean interval | unknown (seen in 2 runs; figured from 3) |
| Next expected | unknown (seen in 2 runs; figured from 3) |
| Stations | `app::fetch` |
| Instances | `replica-1`, `replica-2` |
| Blocked downstream | 6 stations |
| Time lost | 3.5s |
| Signatures | `app::fetch: cannot write <path>: No space left on device (os error <n>)` |

## Timeline

| Observation | Failed | Instance | Station | Run | Attempts | Took | Blocked |
|---|---|---|---|---|---|---|---|
| #1 | 2024-05-01 10:00:00 UTC | `replica-1` | `fetch` | 1 | 1 | 1.5s | 3 |
| #2 | 2024-05-02 12:00:00 UTC | `replica-2` | `fetch` | 2 | 1 | 2.0s | 3 |

## Evidence

### Observation #2: Handle: "cannot write /tmp/up-2/part.bin: No space left on device (os error 28)" on "replica-2"

- Station: `app::fetch` (`fetch`), node `upload.fetch`, profile `default`
- Run 2: started 2024-05-02 11:59:58 UTC, failed 2024-05-02 12:00:00 UTC, took 2.0s
- Blocked downstream: 3 stations
- Kept directory: `/srv/store/work/default/.failed/upload.fetch.run2.1`

Error:

```text
cannot write /tmp/up-2/part.bin: No space left on device (os error 28)
caused by: No space left on device (os error 28)
panic: called `Result::unwrap()` on an `Err` value
```

Log tail:

```text
unpacking app.zip
wrote 1.2 GB
```

Inputs:

| Input | Hash | Value |
|---|---|---|
| `archive` | `{archive16}` | `"app\|v2.zip"` |
| `limits` | `{limits16}` | |

### Observation #1: Handle: "cannot write /tmp/up-1/part.bin: No space left on device (os error 28)" on "replica-1"

- Station: `app::fetch` (`fetch`), node `upload.fetch`, profile `default`
- Run 1: started 2024-05-01 09:59:58 UTC, failed 2024-05-01 10:00:00 UTC, took 1.5s
- Blocked downstream: 3 stations

Error:

```text
cannot write /tmp/up-1/part.bin: No space left on device (os error 28)
```

## How to identify / remedy

- `df -h /tmp` is at 100%:
  empty /tmp

## Next steps for investigation

_None yet._
"#,
        archive16 = &archive[..16],
        limits16 = &limits[..16],
    );
    let markdown = store.export(id, ExportFormat::Markdown).unwrap();
    assert_eq!(markdown, expected, "\n{markdown}");
}

#[test]
fn exports_a_json_ticket_with_all_the_evidence() {
    let (_dir, store, id) = ledger();
    let text = store.export(id, ExportFormat::Json).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["count"], 2);
    assert_eq!(json["runs_seen"], 2);
    assert_eq!(json["first_seen"], "2024-05-01T10:00:00Z");
    // Two runs give one interval: no pace yet.
    assert_eq!(json["mean_interval_seconds"], serde_json::Value::Null);
    assert_eq!(json["notes"][0]["kind"], "remedy");
    let second = &json["observations"][1];
    assert_eq!(second["instance"], "replica-2");
    assert_eq!(second["log_tail"][1], "wrote 1.2 GB");
    assert_eq!(second["inputs"][0]["hash"], Digest::of(b"app.zip").to_hex());
    assert_eq!(second["inputs"][1]["value"], serde_json::Value::Null);
    assert_eq!(
        second["kept_dir"],
        "/srv/store/work/default/.failed/upload.fetch.run2.1"
    );
    assert_eq!(second["attempts"], 1);
    assert_eq!(second["failed_attempts"][0]["attempt"], 1);

    // A third run, 26 hours later again: now the pace is figured.
    let mut third = failure(
        &disk_full("/tmp/up-3/part.bin"),
        "replica-1",
        T0 + 52 * 60 * MINUTE,
    );
    third.run_id = 3;
    store.observe(&third).unwrap();
    let text = store.export(id, ExportFormat::Json).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["mean_interval_seconds"], 26.0 * 3600.0);
    assert_eq!(json["next_expected"], "2024-05-04T16:00:00Z");
}
