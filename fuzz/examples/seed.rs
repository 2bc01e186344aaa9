//! Writes real encodings made by choochoo into `corpus/<target>/seed-<n>`, the starting
//! points the fuzzer mutates: `cargo run --example seed` in `fuzz/`.

use choochoo::fuzz::Decoder;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for decoder in Decoder::ALL {
        let dir = corpus.join(decoder.name());
        std::fs::create_dir_all(&dir)?;
        for (n, seed) in decoder.seeds().iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n}")), seed)?;
        }
    }
    Ok(())
}
