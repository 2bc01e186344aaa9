use choochoo::station;
use std::path::{Path, PathBuf};

#[station(check = is_created)]
fn create(name: &str) -> PathBuf {
    PathBuf::from(name)
}

fn is_created(path: &Path) -> bool {
    path.exists()
}

fn main() {}
