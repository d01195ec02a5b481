//! Reading and writing `.npy` arrays (SPEC §11): little-endian f64 or f32, C order; outputs are written to
//! a temporary file in the same folder and renamed, so a failed run never leaves a half-written file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::{Error, Result};

fn io_err(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// Read a 2-D `.npy` of f64 or f32 as f64.
pub fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| io_err(path, e))
    };
    match Array2::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(first) => match Array2::<f32>::read_npy(open()?) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(_) => Err(io_err(
                path,
                format!("not a 2-D little-endian f64/f32 .npy array in C order ({first})"),
            )),
        },
    }
}

/// Read a 1-D `.npy` of f64 or f32 as f64.
pub fn read_vector(path: &Path) -> Result<Array1<f64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| io_err(path, e))
    };
    match Array1::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(first) => match Array1::<f32>::read_npy(open()?) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(_) => Err(io_err(
                path,
                format!("not a 1-D little-endian f64/f32 .npy array ({first})"),
            )),
        },
    }
}

/// Read a 1-D integer `.npy` (labels).
pub fn read_labels(path: &Path) -> Result<Array1<i64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| io_err(path, e))
    };
    if let Ok(a) = Array1::<i64>::read_npy(open()?) {
        return Ok(a);
    }
    if let Ok(a) = Array1::<i32>::read_npy(open()?) {
        return Ok(a.mapv(i64::from));
    }
    if let Ok(a) = Array1::<u8>::read_npy(open()?) {
        return Ok(a.mapv(i64::from));
    }
    Err(io_err(
        path,
        "not a 1-D integer (int64, int32 or uint8) .npy array",
    ))
}

/// Write `bytes` to `path` atomically: a temporary file beside it, then a rename. Refuses to replace an
/// existing file unless `force`.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    if path.exists() && !force {
        return Err(io_err(path, "exists already; pass --force to replace it"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(io_err(
            path,
            format!("folder {} does not exist", dir.display()),
        ));
    }
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| io_err(&tmp, e.error()))?;
        file.sync_all().map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write a 2-D array as `.npy`, atomically.
pub fn write_matrix<A: ndarray_npy::WritableElement>(
    path: &Path,
    a: &Array2<A>,
    force: bool,
) -> Result<()> {
    write_atomic(path, force, |w| a.write_npy(w).map_err(|e| io_err(path, e)))
}

/// Write a 1-D array as `.npy`, atomically.
pub fn write_vector<A: ndarray_npy::WritableElement>(
    path: &Path,
    a: &Array1<A>,
    force: bool,
) -> Result<()> {
    write_atomic(path, force, |w| a.write_npy(w).map_err(|e| io_err(path, e)))
}
