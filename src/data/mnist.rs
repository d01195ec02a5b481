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

/// The whole content of an IDX file.
fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Error::io(path, e))?
        .read_to_end(&mut raw)
        .map_err(|e| Error::io(path, e))?;
    Ok(raw)
}

/// The bytes themselves, or decompressed when they start with the gzip magic bytes. No more is inflated than
/// the IDX header inside announces (plus one byte, so that a longer stream is still seen to be too long): a
/// small corrupt or hostile stream cannot fill memory.
fn decompressed<'a>(path: &Path, raw: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(raw));
    }
    let corrupt = |e: std::io::Error| Error::Format {
        path: path.to_path_buf(),
        detail: format!("corrupt gzip stream ({e})"),
        source: Some(std::sync::Arc::new(e)),
    };
    let mut stream = flate2::read::GzDecoder::new(raw);
    let mut out = Vec::new();
    (&mut stream)
        .take(4)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let dims = out.get(3).map_or(0, |&d| u64::from(d));
    (&mut stream)
        .take(4 * dims)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let announced = out[4.min(out.len())..]
        .chunks_exact(4)
        .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        .try_fold(1u64, |acc, d| acc.checked_mul(d))
        .unwrap_or(u64::MAX);
    stream
        .take(announced.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(std::borrow::Cow::Owned(out))
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
    let payload = &bytes[header..];
    let len = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if len != Some(payload.len()) {
        return Err(io_err(
            path,
            format!(
                "IDX header announces {shape:?} values but the file holds {}",
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
    parse(&ip, &read_bytes(&ip)?, &lp, &read_bytes(&lp)?)
}

/// [`load`] from the contents of an images file and a labels file (gzipped or not).
pub fn from_bytes(images: &[u8], labels: &[u8]) -> Result<Dataset> {
    parse(
        Path::new("(IDX images)"),
        images,
        Path::new("(IDX labels)"),
        labels,
    )
}

fn parse(ip: &Path, images: &[u8], lp: &Path, labels: &[u8]) -> Result<Dataset> {
    let ib = decompressed(ip, images)?;
    let lb = decompressed(lp, labels)?;
    let (ishape, ipay) = parse_idx(ip, &ib, 3)?;
    let (lshape, lpay) = parse_idx(lp, &lb, 1)?;
    if ishape[0] != lshape[0] {
        return Err(io_err(
            lp,
            format!("{} labels for {} images", lshape[0], ishape[0]),
        ));
    }
    if let Some(bad) = lpay.iter().find(|&&l| l > 9) {
        return Err(io_err(lp, format!("label {bad} is not a digit")));
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

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn pairs_load_from_bytes_gzipped_or_not() {
        let images = idx(&[3, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let labels = idx(&[3], &[7, 0, 9]);
        for (i, l) in [
            (images.clone(), labels.clone()),
            (gzip(&images), gzip(&labels)),
        ] {
            let d = from_bytes(&i, &l).unwrap();
            assert_eq!(d.x.dim(), (3, 4));
            assert_eq!(d.x[[2, 3]], 11.0);
            assert_eq!(d.labels.to_vec(), vec![7, 0, 9]);
        }
        let ten = idx(&[3], &[7, 10, 9]);
        assert!(from_bytes(&images, &ten)
            .unwrap_err()
            .to_string()
            .contains("label 10"));
        assert!(from_bytes(&images, &idx(&[2], &[1, 2])).is_err());
    }

    /// Sizes whose product overflows (this panicked on the multiplication), and a gzip stream that inflates
    /// past what its header announces (read no further than one byte past it).
    #[test]
    fn overflowing_and_overlong_files_are_refused() {
        let p = Path::new("x");
        let huge = idx(&[u32::MAX, u32::MAX, u32::MAX], &[0; 16]);
        assert!(parse_idx(p, &huge, 3).is_err());
        let labels = idx(&[2], &[1, 2]);
        let mut long = labels.clone();
        long.extend(std::iter::repeat_n(0u8, 1 << 20));
        let packed = gzip(&long);
        let inflated = decompressed(p, &packed).unwrap();
        assert_eq!(inflated.len(), labels.len() + 1);
        assert!(from_bytes(&gzip(&idx(&[2, 1, 1], &[3, 4])), &gzip(&long)).is_err());
        assert!(decompressed(p, &[0x1f, 0x8b, 0, 1, 2]).is_err());
    }
}
