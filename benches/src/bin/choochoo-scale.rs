//! `choochoo-scale [--jobs N] [--runs R] [SIZE..]`: the runner's cost per station as graphs
//! grow, on square grids of trivial in-memory stations built through the builder (each
//! station adds its two upstream neighbours: `u64` in, `u64` out, two inputs each), for each
//! SIZE (default 10000 100000 1000000): a clean run into an empty store, then a no-op on it,
//! R times (default 3), each pair in a store of its own.
//!
//! Each run is a process of its own (this program again, `--one`), so its peak resident
//! memory is its own. Prints one table row per kind of run: stations, and the median of the R
//! runs' wall seconds, user + system CPU per station (with the lowest and highest), peak RSS,
//! and RSS per station over the baseline (the same program running a one-station grid). One
//! run alone moves with the machine's speed by a third here; a median of three moves less.

use benches::grid::grid;
use choochoo::{Runner, Store};
use std::error::Error;
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: choochoo-scale [--jobs N] [--runs R] [SIZE..]";

/// The grid for about `size` stations: width ⌊√size⌋, depth the rest.
fn shape(size: usize) -> (usize, usize) {
    let width = (size as f64).sqrt() as usize;
    let width = width.max(1);
    (width, size.div_ceil(width).max(width))
}

/// What one run cost, as the process measured itself.
struct Cost {
    wall: f64,
    cpu: f64,
    rss_kb: u64,
}

fn usage_of_self() -> (f64, u64) {
    // SAFETY: getrusage fills the struct it is given and touches nothing else.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss as u64,
    )
}

/// `--one STORE SIZE JOBS`: one run in this process, its cost on one line.
fn one(store: &str, size: usize, jobs: usize) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let (width, depth) = shape(size);
    let (graph, last) = grid(width, depth);
    let store = Store::open(store)?;
    Runner::new(&store).jobs(jobs).run_graph(&graph, last)?;
    drop(store);
    let wall = started.elapsed().as_secs_f64();
    let (cpu, rss) = usage_of_self();
    println!("{wall} {cpu} {rss}");
    Ok(())
}

fn measure(store: &std::path::Path, size: usize, jobs: usize) -> Result<Cost, Box<dyn Error>> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--one")
        .arg(store)
        .arg(size.to_string())
        .arg(jobs.to_string())
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    let line = String::from_utf8(output.stdout)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [wall, cpu, rss] = fields[..] else {
        return Err(format!("cannot read `{line}`").into());
    };
    Ok(Cost {
        wall: wall.parse()?,
        cpu: cpu.parse()?,
        rss_kb: rss.parse()?,
    })
}

fn stations(size: usize) -> usize {
    let (width, depth) = shape(size);
    width * depth
}

fn table(sizes: &[usize], jobs: usize, runs: usize) -> Result<(), Box<dyn Error>> {
    let scratch = std::env::temp_dir().join(format!("choochoo-scale-{}", std::process::id()));
    let baseline = measure(&scratch.join("baseline"), 1, jobs)?.rss_kb;
    println!(
        "baseline (1 station): peak RSS {:.1} MB; --jobs {jobs}; medians of {runs} runs",
        baseline as f64 / 1024.0
    );
    println!(
        "| stations | run | wall s | CPU µs per station (lowest–highest) | peak RSS MB | RSS B per station over baseline |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for &size in sizes {
        let n = stations(size);
        let mut costs = [Vec::new(), Vec::new()];
        for turn in 0..runs {
            let store = scratch.join(format!("{size}-{turn}"));
            for kind in &mut costs {
                kind.push(measure(&store, size, jobs)?);
            }
            std::fs::remove_dir_all(&store)?;
        }
        for (run, kind) in ["clean", "no-op"].into_iter().zip(&costs) {
            let per_station = |cost: &Cost| cost.cpu * 1e6 / n as f64;
            let cpu: Vec<f64> = kind.iter().map(per_station).collect();
            let rss = median(kind.iter().map(|cost| cost.rss_kb as f64).collect());
            let over = (rss - baseline as f64).max(0.0) * 1024.0 / n as f64;
            println!(
                "| {n} | {run} | {:.3} | {:.2} ({:.2}–{:.2}) | {:.1} | {over:.0} |",
                median(kind.iter().map(|cost| cost.wall).collect()),
                median(cpu.clone()),
                cpu.iter().copied().fold(f64::INFINITY, f64::min),
                cpu.iter().copied().fold(0.0, f64::max),
                rss / 1024.0,
            );
        }
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

/// The middle of `values` (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 0 => (values[middle - 1] + values[middle]) / 2.0,
        _ => values[middle],
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, store, size, jobs] if flag == "--one" => match (size.parse(), jobs.parse()) {
            (Ok(size), Ok(jobs)) => one(store, size, jobs),
            _ => Err(USAGE.into()),
        },
        rest => parse(rest).and_then(|(jobs, runs, sizes)| table(&sizes, jobs, runs)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("choochoo-scale: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(usize, usize, Vec<usize>), Box<dyn Error>> {
    let mut jobs = 2;
    let mut runs = 3;
    let mut sizes = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jobs" => jobs = args.next().ok_or(USAGE)?.parse()?,
            "--runs" => runs = args.next().ok_or(USAGE)?.parse::<usize>()?.max(1),
            size => sizes.push(size.parse().map_err(|_| format!("{USAGE}: `{size}`"))?),
        }
    }
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    Ok((jobs, runs, sizes))
}
