use choochoo::station;
use std::path::{Path, PathBuf};

#[station(check = is_created)]
fn create(name: &str) -> PathBuf {
    PathBuf::from(name)
}

fn is_created(name: &u64, path: &Path) -> bool {
    *name > 0 && path.exists()
}

fn main() {}
