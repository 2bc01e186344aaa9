//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the store's decoders as an
//! ordinary test: every input must decode or fail with a message, never panic, and allocate
//! at most `Decoder::allowed(its length)` at its peak. The fuzz targets check the same on
//! the inputs they generate; this keeps what they found checked on every `cargo test`.

use choochoo::fuzz::Decoder;
use peak_alloc::PeakAlloc;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Counts live heap bytes and their peak. The harness runs this binary's one test alone,
/// so what it counts is the decode's.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// The peak of what `f` allocates, above what was live before it ran.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let result = f();
    (result, ALLOCATOR.peak_usage() - before)
}

fn corpus(decoder: Decoder) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(decoder.name());
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    inputs
}

/// Whether one input decoded (or was refused with a message), or what went wrong; the peak
/// it allocated.
fn replay(decoder: Decoder, bytes: &[u8]) -> (Result<bool, String>, usize) {
    let (result, peak) = peak_of(|| catch_unwind(AssertUnwindSafe(|| decoder.decode(bytes))));
    let outcome = match result {
        Err(_) => Err("panicked".to_owned()),
        Ok(Err(error)) if error.is_empty() => Err("failed with an empty message".to_owned()),
        Ok(_) if peak > decoder.allowed(bytes.len()) => Err(format!(
            "allocated {peak} bytes at its peak, more than the {} allowed for {} bytes",
            decoder.allowed(bytes.len()),
            bytes.len()
        )),
        Ok(decoded) => Ok(decoded.is_ok()),
    };
    (outcome, peak)
}

#[test]
fn the_fuzz_corpus_decodes_without_panics_within_the_allocation_bound() {
    // The counter must see allocations, or every bound below would hold vacuously.
    let (_, peak) = peak_of(|| Vec::<u8>::with_capacity(1 << 20));
    assert!(peak >= 1 << 20, "the counting allocator saw {peak} bytes");

    let mut problems = Vec::new();
    for decoder in Decoder::ALL {
        let inputs = corpus(decoder);
        assert!(!inputs.is_empty(), "no corpus for {}", decoder.name());
        let (mut decoded, mut ratio, mut largest) = (0, 0.0_f64, (0, 0));
        for path in &inputs {
            let bytes = std::fs::read(path).unwrap();
            let (outcome, peak) = replay(decoder, &bytes);
            match outcome {
                Ok(ok) => decoded += usize::from(ok),
                Err(problem) => problems.push(format!("{}: {problem}", path.display())),
            }
            largest = largest.max((peak, bytes.len()));
            ratio = ratio.max(
                peak.saturating_sub(choochoo::fuzz::FIXED_BYTES) as f64 / bytes.len().max(1) as f64,
            );
        }
        println!(
            "{}: {} inputs, {decoded} decoded, the rest refused; largest peak {} bytes (a {}-byte input); at most {ratio:.1} bytes per input byte above {} (allowed {})",
            decoder.name(),
            inputs.len(),
            largest.0,
            largest.1,
            choochoo::fuzz::FIXED_BYTES,
            decoder.bytes_per_input_byte(),
        );
        for seed in decoder.seeds() {
            assert_eq!(
                decoder.decode(&seed),
                Ok(()),
                "a seed of {}",
                decoder.name()
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
