use choochoo::station;
use std::path::{Path, PathBuf};

#[station(clean = remove)]
fn create(name: &str) -> PathBuf {
    PathBuf::from(name)
}

fn remove(_name: String, path: &Path) -> std::io::Result<()> {
    std::fs::remove_file(path)
}

fn main() {}
