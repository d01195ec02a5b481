//! Writing results so that a failed run never leaves a half-written file: every file goes to a temporary name
//! beside its destination and is renamed into place when complete ([`write_atomic`]); a folder of results is
//! filled under a temporary name and renamed as a whole ([`OutputDir`]). An existing output is replaced only when
//! the caller says so (`force`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Refuse every path of `paths` that exists unless `force`: check all outputs before writing any, so that a
/// refusal leaves nothing behind.
pub fn refuse_existing(paths: &[&Path], force: bool) -> Result<()> {
    match paths.iter().find(|p| p.exists() && !force) {
        Some(p) => Err(Error::OutputExists {
            path: p.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// The folder `path` is in (`.` for a bare file name), which must exist.
fn parent_folder(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(Error::format(
            path,
            format!("the folder {} does not exist", dir.display()),
        ))
    }
}

/// A hidden name beside `path`, unique to this process.
fn temporary_beside(path: &Path, dir: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Write `path` atomically: `write` fills a temporary file beside it, which is synced and renamed into place.
/// Refuses to replace an existing file unless `force`; on any error the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    refuse_existing(&[path], force)?;
    let dir = parent_folder(path)?;
    let tmp = temporary_beside(path, &dir);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A folder of results filled under a temporary name beside its destination and renamed into place by
/// [`commit`](Self::commit); dropped without a commit (an error on the way), it is removed with its contents.
#[derive(Debug)]
pub struct OutputDir {
    temporary: PathBuf,
    destination: PathBuf,
    force: bool,
    committed: bool,
}

impl OutputDir {
    /// Start a folder that will become `destination`; refuses an existing one unless `force`.
    pub fn create(destination: &Path, force: bool) -> Result<Self> {
        refuse_existing(&[destination], force)?;
        let dir = parent_folder(destination)?;
        let temporary = temporary_beside(destination, &dir);
        if temporary.exists() {
            std::fs::remove_dir_all(&temporary).map_err(|e| Error::io(&temporary, e))?;
        }
        std::fs::create_dir_all(&temporary).map_err(|e| Error::io(&temporary, e))?;
        Ok(OutputDir {
            temporary,
            destination: destination.to_path_buf(),
            force,
            committed: false,
        })
    }

    /// Where to write a file `name` of the folder now.
    pub fn path(&self, name: &str) -> PathBuf {
        self.temporary.join(name)
    }

    /// Rename the folder into place (replacing an existing one, which `create` allowed only with `force`).
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.destination.exists() {
            refuse_existing(&[&self.destination], self.force)?;
            std::fs::remove_dir_all(&self.destination)
                .map_err(|e| Error::io(&self.destination, e))?;
        }
        std::fs::rename(&self.temporary, &self.destination)
            .map_err(|e| Error::io(&self.destination, e))?;
        self.committed = true;
        Ok(self.destination.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders_appear_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        write_atomic(&file, false, |w| {
            w.write_all(b"one").unwrap();
            Ok(())
        })
        .unwrap();
        assert!(matches!(
            write_atomic(&file, false, |_| Ok(())),
            Err(Error::OutputExists { .. })
        ));
        let failed = write_atomic(&file, true, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::format(&file, "stopped"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one");
        let out = dir.path().join("results");
        {
            let d = OutputDir::create(&out, false).unwrap();
            std::fs::write(d.path("x"), b"1").unwrap();
        }
        assert!(!out.exists());
        let d = OutputDir::create(&out, false).unwrap();
        std::fs::write(d.path("x"), b"1").unwrap();
        d.commit().unwrap();
        assert!(out.join("x").is_file());
        assert!(OutputDir::create(&out, false).is_err());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
