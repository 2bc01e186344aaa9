//! The workflow program the tests run as a coordinator and as workers: this test binary,
//! asked to run only [`program`], behind `choochoo::cli`. Its 200 stations (100 squares, the
//! 99 sums of neighbouring squares, and their total) each append a line naming what they
//! computed to a file of their process in the directory [`COUNTS`] names.

use choochoo::{Graph, Node, station};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The program's arguments, as JSON.
pub const ARGS: &str = "CHOOCHOO_TEST_TEMPORAL_ARGS";
/// The directory each station's execution appends a line to, in a file named for its
/// process id.
pub const COUNTS: &str = "CHOOCHOO_TEST_TEMPORAL_COUNTS";
/// How long each station takes, in milliseconds (default 5).
pub const PACE: &str = "CHOOCHOO_TEST_TEMPORAL_PACE_MS";
/// `changed` builds the graph with another `total` station (its code changed), as a worker
/// of another build of the program would.
pub const BUILD: &str = "CHOOCHOO_TEST_TEMPORAL_BUILD";
/// The square that fails (a plain error) in the process given this variable.
pub const FAIL: &str = "CHOOCHOO_TEST_TEMPORAL_FAIL";
/// The square whose first two attempts fail with a `Transient` error, in all processes.
pub const FLAKY: &str = "CHOOCHOO_TEST_TEMPORAL_FLAKY";
/// How many squares the graph has, when the variable [`SIZE`] does not say.
pub const SQUARES: u64 = 100;
/// How many squares the graph has (the benchmark's graphs: twice as many stations).
pub const SIZE: &str = "CHOOCHOO_TEST_TEMPORAL_SIZE";

fn squares() -> u64 {
    std::env::var(SIZE)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SQUARES)
}

/// The workflow program: a one-line `main`, reached through this test.
#[test]
#[ignore = "the program the temporal tests run as coordinator and workers"]
fn program() {
    let Ok(args) = std::env::var(ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("the arguments as JSON");
    let code = choochoo::cli::main_with_args(args, graph);
    let code = (0..=u8::MAX)
        .find(|n| ExitCode::from(*n) == code)
        .unwrap_or(101);
    std::process::exit(i32::from(code));
}

/// Notes that this process computed `what`, then takes the station's pace.
fn executed(what: String) {
    let pace = std::env::var(PACE)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(5);
    executed_no_pace(what);
    std::thread::sleep(Duration::from_millis(pace));
}

/// Notes that this process computed `what`: a line in its file of the counts directory.
fn executed_no_pace(what: String) {
    if let Some(dir) = std::env::var_os(COUNTS) {
        let path = Path::new(&dir).join(format!("{}.txt", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the counts file");
        // One write, so the lines of stations running at once do not interleave.
        file.write_all(format!("{what}\n").as_bytes())
            .expect("a line in the counts file");
    }
}

/// Squares a number, tried again twice after a transient failure.
#[station(retries = 2, backoff = "10ms")]
fn square(x: &u64) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    let which = x.to_string();
    if std::env::var(FAIL).is_ok_and(|fail| fail == which) {
        executed_no_pace(format!("attempt square {x}"));
        return Err(std::io::Error::other(format!("square {x} fails here")).into());
    }
    if std::env::var(FLAKY).is_ok_and(|flaky| flaky == which) {
        let attempts = attempts_of(&format!("attempt square {x}"));
        executed_no_pace(format!("attempt square {x}"));
        if attempts < 2 {
            let why = std::io::Error::other(format!("square {x} is not ready yet"));
            return Err(choochoo::Transient::new(why).into());
        }
    }
    executed(format!("square {x}"));
    Ok(x * x)
}

/// How many times any process noted `line` in the counts directory.
fn attempts_of(line: &str) -> usize {
    let Some(dir) = std::env::var_os(COUNTS) else {
        return 0;
    };
    let files = std::fs::read_dir(dir).expect("the counts directory");
    files
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .map(|text| text.lines().filter(|l| *l == line).count())
        .sum()
}

/// Adds two numbers.
#[station]
fn add(a: &u64, b: &u64) -> u64 {
    executed(format!("add {a} {b}"));
    a + b
}

/// Adds numbers up.
#[station]
fn total(xs: &Vec<u64>) -> u64 {
    executed("total".to_owned());
    xs.iter().sum()
}

/// The graph: 200 stations in three layers.
pub fn graph() -> (Graph, Node<u64>) {
    let mut g = Graph::new();
    let xs: Vec<Node<u64>> = (1..=squares()).map(|x| g.input(x)).collect();
    let squares: Vec<Node<u64>> = xs.iter().map(|x| g.add(Square, (x,))).collect();
    let sums: Vec<Node<u64>> = squares
        .windows(2)
        .map(|pair| g.add(Add, (&pair[0], &pair[1])))
        .collect();
    let total = match std::env::var(BUILD).as_deref() {
        Ok("changed") => g.add_named("total", changed::Total, (&sums,)),
        _ => g.add_named("total", Total, (&sums,)),
    };
    (g, total)
}

/// The same station in another build of the program: its code changed.
mod changed {
    use choochoo::station;

    /// Adds numbers up, and one.
    #[station]
    pub(super) fn total(xs: &Vec<u64>) -> u64 {
        super::executed("changed total".to_owned());
        xs.iter().sum::<u64>() + 1
    }
}

/// Every line the stations of one complete run append, sorted.
pub fn every_execution() -> Vec<String> {
    let squares = (1..=SQUARES).map(|x| format!("square {x}"));
    let sums = (1..SQUARES).map(|x| format!("add {} {}", x * x, (x + 1) * (x + 1)));
    let mut all: Vec<String> = squares.chain(sums).collect();
    all.push("total".to_owned());
    all.sort();
    all
}
