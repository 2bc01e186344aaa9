//! `cargo bench -p benches --bench hashing`: hashing throughput by size, 1 KiB to 64 MiB.
//!
//! - `choochoo_file`: choochoo's own file-hashing path, end to end. A one-station graph whose
//!   input is a [`File`] of that size runs against one store; before each iteration the file's
//!   timestamps are set again (untimed), so its stat-cache entry no longer matches and the run
//!   reads and hashes the whole file. The station itself stays cached (the bytes do not
//!   change), so an iteration is "hash the file + a one-station no-op run". Files of 16 MiB or
//!   more go through the memory-mapped, pool-parallel path (`update_mmap_rayon`, 2 jobs);
//!   smaller ones are read in 256 KiB blocks on one thread.
//! - `noop_run` (group `hashing_baseline`): the same run without touching the file, i.e. the
//!   fixed cost of a run with nothing to hash, to subtract from `choochoo_file`.
//! - `blake3_hash`: the `blake3` crate's `blake3::hash` on the same bytes in memory (one
//!   thread, SIMD). `choochoo::Digest::of` is exactly this call, so it is not timed apart.
//! - `blake3_rayon`: `blake3::Hasher::update_rayon` on the bytes in memory, on the global rayon
//!   pool (2 threads here): the ceiling for the parallel path without file I/O.
//!
//! The files live in a temporary directory and are read from the page cache.

use choochoo::{File, Graph, Node, Runner, Status, Store, station};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const SIZES: [usize; 6] = [KIB, 64 * KIB, MIB, 8 * MIB, 16 * MIB, 64 * MIB];

/// A station that reads no bytes itself: all the hashing is the runner's.
#[station]
fn length(file: &File) -> u64 {
    std::fs::metadata(file.path()).map_or(0, |meta| meta.len())
}

/// `size` pseudo-random bytes (xorshift), so nothing about the data is special.
fn bytes(size: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size);
    out
}

/// Sets the file's modification time (which also moves its ctime to now), so the stat cache
/// no longer trusts its entry and the next run hashes the file again.
fn touch(path: &Path, round: &mut u64) {
    *round += 1;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000 + *round);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(at))
        .expect("set the file's mtime");
}

fn label(size: usize) -> String {
    if size >= MIB {
        format!("{}MiB", size / MIB)
    } else {
        format!("{}KiB", size / KIB)
    }
}

fn hashing(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("store")).expect("store");
    let runner = Runner::new(&store).jobs(2);
    let mut group = c.benchmark_group("hashing");
    group.sample_size(10);
    let mut round = 0;
    for size in SIZES {
        let data = bytes(size);
        let path = dir.path().join(format!("input-{size}.bin"));
        std::fs::write(&path, &data).expect("write the input");
        let mut graph = Graph::new();
        let file: Node<File> = graph.input(File::new(&path));
        let out = graph.add(Length, (&file,));
        // The first run runs the station; from then on it is cached and only the file is hashed.
        runner.run_graph(&graph, out).expect("first run");
        touch(&path, &mut round);
        let run = runner.run_graph(&graph, out).expect("second run");
        assert_eq!(
            run.report().count(Status::Cached),
            1,
            "the station is cached"
        );

        group.throughput(Throughput::Bytes(size as u64));
        let name = label(size);
        group.bench_function(BenchmarkId::new("choochoo_file", &name), |b| {
            b.iter_batched(
                || touch(&path, &mut round),
                |()| runner.run_graph(&graph, out).expect("run"),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("blake3_hash", &name), |b| {
            b.iter(|| blake3::hash(black_box(&data)))
        });
        group.bench_function(BenchmarkId::new("blake3_rayon", &name), |b| {
            b.iter(|| {
                blake3::Hasher::new()
                    .update_rayon(black_box(&data))
                    .finalize()
            })
        });
    }
    group.finish();

    // The fixed cost: the same one-station run when the stat cache already knows the file.
    let path = dir.path().join("input-1024.bin");
    let mut graph = Graph::new();
    let file: Node<File> = graph.input(File::new(&path));
    let out = graph.add(Length, (&file,));
    std::thread::sleep(Duration::from_millis(50)); // past the stat cache's racy window
    runner
        .run_graph(&graph, out)
        .expect("settle the stat cache");
    let mut group = c.benchmark_group("hashing_baseline");
    group.sample_size(10);
    group.bench_function("noop_run", |b| {
        b.iter(|| runner.run_graph(&graph, out).expect("run"))
    });
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
