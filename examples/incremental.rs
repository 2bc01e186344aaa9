//! Skipping what did not change: builds a small report from three text files, edits one,
//! touches another, and runs again each time, printing which stations ran and why.
//!
//! `cargo run --release --example incremental`

use choochoo::{Ctx, File, Runner, Status, Store, station, workflow};

/// Counts the words of one file.
#[station]
fn count_words(doc: &File) -> Result<usize, std::io::Error> {
    Ok(std::fs::read_to_string(doc.path())?
        .split_whitespace()
        .count())
}

/// Adds three counts.
#[station]
fn total(a: &usize, b: &usize, c: &usize) -> usize {
    a + b + c
}

/// Writes the report into this station's own directory.
#[station]
fn write_report(
    ctx: &Ctx,
    a: &usize,
    b: &usize,
    c: &usize,
    total: &usize,
) -> Result<File, std::io::Error> {
    let path = ctx.out_dir().join("report.txt");
    std::fs::write(
        &path,
        format!("intro: {a}\nbody: {b}\nend: {c}\ntotal: {total}\n"),
    )?;
    Ok(File::new(path))
}

workflow! {
    /// Counts the words of three chapters and writes a report.
    fn report(intro: File, body: File, end: File) -> File {
        let a = count_words(intro);
        let b = count_words(body);
        let c = count_words(end);
        let sum = total(a, b, c);
        write_report(a, b, c, sum)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("choochoo-incremental-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let chapter = |name: &str| dir.join(name);
    std::fs::write(chapter("intro.txt"), "fail at ninety percent")?;
    std::fs::write(chapter("body.txt"), "fix the bug and run again")?;
    std::fs::write(chapter("end.txt"), "only the last ten percent runs")?;
    let store = Store::open(dir.join(".choochoo"))?;
    let runner = Runner::new(&store);
    let run = || {
        runner.run(report(
            File::new(chapter("intro.txt")),
            File::new(chapter("body.txt")),
            File::new(chapter("end.txt")),
        ))
    };

    show("first run", &run()?);
    show("second run, nothing changed", &run()?);

    std::thread::sleep(std::time::Duration::from_millis(50));
    std::fs::write(chapter("body.txt"), "fix the other bug and run it again")?;
    show("after editing body.txt", &run()?);

    // Same words, different bytes: `b` runs, but its count is unchanged, so nothing after it does.
    std::fs::write(chapter("end.txt"), "only  the  last  ten  percent  runs")?;
    show("after re-spacing end.txt (same word count)", &run()?);

    let bytes = std::fs::read(chapter("intro.txt"))?;
    std::fs::write(chapter("intro.txt"), bytes)?;
    let last = run()?;
    show("after rewriting intro.txt with the same bytes", &last);

    println!(
        "report:\n{}",
        std::fs::read_to_string(last.output().path())?
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn show(title: &str, run: &choochoo::Run<File>) {
    println!(
        "== {title}: {} ran, {} cached",
        run.report().count(Status::Ran),
        run.report().count(Status::Cached)
    );
    for entry in run.report().with_status(Status::Ran) {
        println!(
            "   ran {:<8} because {}",
            entry.label().unwrap_or(entry.name()),
            entry.reason().unwrap_or("-")
        );
    }
}
