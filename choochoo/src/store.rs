//! The store: the one directory where a workflow program keeps what it remembers between
//! runs (by default `.choochoo` in the working directory).

use crate::Error;
use std::path::{Path, PathBuf};

/// A workflow store on disk. Open it once and share it between runners.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens the store in `dir`, creating the directory if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, Error> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|error| Error::io("create the store directory", dir, error))?;
        Ok(Store { dir: dir.to_path_buf() })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
