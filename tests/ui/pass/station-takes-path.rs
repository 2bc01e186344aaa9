use choochoo::{station, workflow};
use std::path::{Path, PathBuf};

#[station]
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

workflow! {
    fn name_of(path: PathBuf) -> String {
        file_name(path)
    }
}

fn main() {
    let _ = name_of(PathBuf::from("docs/readme.md"));
}
