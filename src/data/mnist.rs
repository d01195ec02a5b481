//! MNIST from a folder holding the four standard IDX files, gzipped (`*.gz`) or not.
//!
//! IDX: a big-endian header — two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions d —
//! then d big-endian u32 sizes, then the data in C order. Images are (count, 28, 28) and labels (count).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::Dataset;
use crate::{Error, Result};

/// Which half of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60 000 training images.
    Train,
    /// The 10 000 test images.
    Test,
}

fn io_err(path: &Path, detail: impl Into<String>) -> Error {
    Error::format(path, detail)
}

/// The file `stem` in `dir`, gzipped or not.
fn locate(dir: &Path, stem: &str) -> Result<PathBuf> {
    if !dir.is_dir() {
        return Err(io_err(
            dir,
            "is not a folder; give the folder that holds the MNIST IDX files",
        ));
    }
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(io_err(
        &dir.join(stem),
        "missing: the folder needs the four MNIST IDX files (train-images-idx3-ubyte, …), gzipped or not",
    ))
}

/// The whole content of an IDX file, decompressed when it starts with the gzip magic bytes.
fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Error::io(path, e))?
        .read_to_end(&mut raw)
        .map_err(|e| Error::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::Format {
                path: path.to_path_buf(),
                detail: format!("corrupt gzip stream ({e})"),
                source: Some(std::sync::Arc::new(e)),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The dimensions and the payload of an unsigned-byte IDX file with `dims` dimensions.
fn parse_idx<'a>(path: &Path, bytes: &'a [u8], dims: usize) -> Result<(Vec<usize>, &'a [u8])> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(io_err(path, "not an IDX file (bad magic number)"));
    }
    if bytes[2] != 0x08 {
        return Err(io_err(
            path,
            format!(
                "IDX type code 0x{:02x}; MNIST files hold unsigned bytes (0x08)",
                bytes[2]
            ),
        ));
    }
    if bytes[3] as usize != dims {
        return Err(io_err(
            path,
            format!("IDX file has {} dimensions, expected {dims}", bytes[3]),
        ));
    }
    let header = 4 + 4 * dims;
    if bytes.len() < header {
        return Err(io_err(path, "truncated IDX header"));
    }
    let shape: Vec<usize> = (0..dims)
        .map(|k| {
            let b = &bytes[4 + 4 * k..8 + 4 * k];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let len: usize = shape.iter().product();
    let payload = &bytes[header..];
    if payload.len() != len {
        return Err(io_err(
            path,
            format!(
                "IDX header announces {len} values ({shape:?}) but the file holds {}",
                payload.len()
            ),
        ));
    }
    Ok((shape, payload))
}

/// Images (count × 784, values 0–255 as f64) and labels of one split.
pub fn load(dir: &Path, split: Split) -> Result<Dataset> {
    let (img, lab) = match split {
        Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    };
    let (ip, lp) = (locate(dir, img)?, locate(dir, lab)?);
    let ib = read_bytes(&ip)?;
    let lb = read_bytes(&lp)?;
    let (ishape, ipay) = parse_idx(&ip, &ib, 3)?;
    let (lshape, lpay) = parse_idx(&lp, &lb, 1)?;
    if ishape[0] != lshape[0] {
        return Err(io_err(
            &lp,
            format!("{} labels for {} images", lshape[0], ishape[0]),
        ));
    }
    if let Some(bad) = lpay.iter().find(|&&l| l > 9) {
        return Err(io_err(&lp, format!("label {bad} is not a digit")));
    }
    let p = ishape[1] * ishape[2];
    let x = Array2::from_shape_vec((ishape[0], p), ipay.iter().map(|&v| v as f64).collect())
        .expect("payload length checked");
    let labels = Array1::from_iter(lpay.iter().map(|&l| l as i64));
    Dataset::new(x, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn parses_and_refuses() {
        let p = Path::new("x");
        let good = idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let (shape, pay) = parse_idx(p, &good, 3).unwrap();
        assert_eq!((shape, pay.len()), (vec![2, 2, 2], 8));
        assert!(parse_idx(p, &good[..10], 3).is_err());
        assert!(parse_idx(p, &good[..good.len() - 1], 3).is_err());
        assert!(parse_idx(p, &good, 1).is_err());
        let mut bad = good.clone();
        bad[0] = 7;
        assert!(parse_idx(p, &bad, 3).is_err());
        bad = good.clone();
        bad[2] = 0x0d;
        assert!(parse_idx(p, &bad, 3).is_err());
    }
}
