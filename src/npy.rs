//! Reading and writing `.npy` arrays (feature `io`): little-endian f64 or f32 in C order for data and kernels,
//! integers for labels; outputs are written atomically ([`crate::output::write_atomic`]).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::output::write_atomic;
use crate::{Error, Result};

/// A `.npy` that could not be read as what was asked, with ndarray-npy's error as the source.
fn malformed(path: &Path, what: &str, e: ndarray_npy::ReadNpyError) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        detail: format!("not {what} ({e})"),
        source: Some(std::sync::Arc::new(e)),
    }
}

fn format_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::format(path, e.to_string())
}

/// Read a 2-D `.npy` of f64 or f32 as f64.
pub fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| Error::io(path, e))
    };
    match Array2::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(first) => match Array2::<f32>::read_npy(open()?) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(_) => Err(malformed(
                path,
                "a 2-D little-endian f64/f32 .npy array in C order",
                first,
            )),
        },
    }
}

/// Read a 1-D `.npy` of f64 or f32 as f64.
pub fn read_vector(path: &Path) -> Result<Array1<f64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| Error::io(path, e))
    };
    match Array1::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a),
        Err(first) => match Array1::<f32>::read_npy(open()?) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(_) => Err(malformed(
                path,
                "a 1-D little-endian f64/f32 .npy array",
                first,
            )),
        },
    }
}

/// Read a 1-D integer `.npy` (labels).
pub fn read_labels(path: &Path) -> Result<Array1<i64>> {
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| Error::io(path, e))
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
    Err(format_error(
        path,
        "not a 1-D integer (int64, int32 or uint8) .npy array",
    ))
}

/// Write an f64 or f32 matrix as `.npy` (C order), atomically.
pub fn write_matrix<T: crate::Real>(path: &Path, a: &Array2<T>, force: bool) -> Result<()> {
    let any = a as &dyn std::any::Any;
    // `Real` is sealed to f32 and f64, so one of the two holds; the array is written where it lies.
    if let Some(a) = any.downcast_ref::<Array2<f64>>() {
        write_atomic(path, force, |w| {
            a.write_npy(w).map_err(|e| format_error(path, e))
        })
    } else if let Some(a) = any.downcast_ref::<Array2<f32>>() {
        write_atomic(path, force, |w| {
            a.write_npy(w).map_err(|e| format_error(path, e))
        })
    } else {
        unreachable!("Real is f32 or f64")
    }
}

/// Write an f64 or f32 vector as `.npy`, atomically.
pub fn write_vector<T: crate::Real>(path: &Path, a: &Array1<T>, force: bool) -> Result<()> {
    let any = a as &dyn std::any::Any;
    if let Some(a) = any.downcast_ref::<Array1<f64>>() {
        write_atomic(path, force, |w| {
            a.write_npy(w).map_err(|e| format_error(path, e))
        })
    } else if let Some(a) = any.downcast_ref::<Array1<f32>>() {
        write_atomic(path, force, |w| {
            a.write_npy(w).map_err(|e| format_error(path, e))
        })
    } else {
        unreachable!("Real is f32 or f64")
    }
}

/// Write integer labels as an int64 `.npy`, atomically.
pub fn write_labels(path: &Path, labels: &Array1<i64>, force: bool) -> Result<()> {
    write_atomic(path, force, |w| {
        labels.write_npy(w).map_err(|e| format_error(path, e))
    })
}
