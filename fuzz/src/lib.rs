//! What every fuzz target checks: decoding never panics, a failure says what was malformed,
//! and the peak of what one decode allocates stays within `Decoder::allowed(input length)`.

use choochoo::fuzz::Decoder;
use peak_alloc::PeakAlloc;

/// Counts the bytes live on the heap, and their peak, for the bound below.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Decodes `bytes` with `decoder` and checks the bounds; a violation aborts the run so that
/// libFuzzer keeps the input.
pub fn check(decoder: Decoder, bytes: &[u8]) {
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let result = decoder.decode(bytes);
    let peak = ALLOCATOR.peak_usage() - before;
    assert!(
        peak <= decoder.allowed(bytes.len()),
        "{}: decoding {} bytes allocated {peak} bytes at its peak, more than the {} allowed",
        decoder.name(),
        bytes.len(),
        decoder.allowed(bytes.len()),
    );
    if let Err(error) = result {
        assert!(!error.is_empty(), "{}: an empty error", decoder.name());
    }
}
