//! Reading and writing `.npy` arrays (feature `io`): little-endian f64 or f32 in C order for data and kernels,
//! integers for labels; outputs are written atomically ([`crate::output::write_atomic`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::output::write_atomic;
use crate::{Error, Result};

/// What a `.npy` header says (format versions 1 to 3): the element type as NumPy spells it (`'<f8'`), the
/// order, the shape, and where the data start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The element type, e.g. `<f8` (little-endian f64) or `<f4`.
    pub descr: String,
    /// Column-major (Fortran) order.
    pub fortran_order: bool,
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The offset of the first data byte.
    pub data_offset: u64,
}

/// Headers longer than this are refused (NumPy writes under 100 bytes for any plain array).
const MAX_HEADER: usize = 1 << 20;

impl NpyHeader {
    /// Parse the header at the start of `reader`; the error says what is wrong with it.
    pub fn parse(reader: &mut impl Read) -> std::result::Result<Self, String> {
        let mut magic = [0u8; 8];
        reader
            .read_exact(&mut magic)
            .map_err(|_| "shorter than a .npy header".to_string())?;
        if &magic[..6] != b"\x93NUMPY" {
            return Err("no .npy magic number".into());
        }
        let (len, start) = match magic[6] {
            1 => {
                let mut l = [0u8; 2];
                reader
                    .read_exact(&mut l)
                    .map_err(|_| "header length cut short".to_string())?;
                (usize::from(u16::from_le_bytes(l)), 10)
            }
            2 | 3 => {
                let mut l = [0u8; 4];
                reader
                    .read_exact(&mut l)
                    .map_err(|_| "header length cut short".to_string())?;
                (u32::from_le_bytes(l) as usize, 12)
            }
            v => return Err(format!("unknown .npy format version {v}")),
        };
        if len > MAX_HEADER {
            return Err(format!("header of {len} bytes (at most {MAX_HEADER})"));
        }
        let mut dict = vec![0u8; len];
        reader
            .read_exact(&mut dict)
            .map_err(|_| "header cut short".to_string())?;
        let dict = String::from_utf8_lossy(&dict);
        let value = |key: &str| -> Option<&str> {
            let at = dict.find(&format!("'{key}'"))? + key.len() + 2;
            let rest = dict[at..].trim_start().strip_prefix(':')?.trim_start();
            let end = if rest.starts_with('(') {
                rest.find(')')? + 1
            } else {
                rest.find([',', '}'])?
            };
            Some(rest[..end].trim())
        };
        let descr = value("descr")
            .ok_or("header has no descr")?
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        let fortran_order = match value("fortran_order") {
            Some("False") => false,
            Some("True") => true,
            _ => return Err("header has no fortran_order".into()),
        };
        let shape = value("shape").ok_or("header has no shape")?;
        let inner = shape
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| format!("shape {shape} is not a tuple"))?;
        let shape = inner
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.parse::<usize>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| format!("shape {shape} is not a tuple of sizes"))?;
        Ok(NpyHeader {
            descr,
            fortran_order,
            shape,
            data_offset: (start + len) as u64,
        })
    }

    /// Bytes per element, from the size that ends `descr` (`<f8` → 8); `None` for other element types.
    pub fn element_bytes(&self) -> Option<usize> {
        let digits = self.descr.trim_start_matches(|c: char| !c.is_ascii_digit());
        digits.parse().ok().filter(|&b| b > 0)
    }

    /// The data's length in bytes (at least one byte per element when the type is not a plain one); `None`
    /// when it overflows.
    pub fn data_bytes(&self) -> Option<u64> {
        let per = self.element_bytes().unwrap_or(1) as u64;
        self.shape
            .iter()
            .try_fold(per, |acc, &d| acc.checked_mul(d as u64))
    }

    /// Read a file's header and check that the file holds all the data its shape announces.
    pub fn read(path: &Path) -> Result<Self> {
        Source::File(path).header()
    }
}

/// Where `.npy` bytes come from: a file (opened again for each attempt at an element type) or memory.
#[derive(Clone, Copy)]
enum Source<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

impl<'a> Source<'a> {
    fn name(&self) -> &'a Path {
        match self {
            Source::File(path) => path,
            Source::Bytes(_) => Path::new("(.npy bytes)"),
        }
    }

    fn open(&self) -> Result<Box<dyn Read + 'a>> {
        match *self {
            Source::File(path) => Ok(Box::new(
                File::open(path)
                    .map(BufReader::new)
                    .map_err(|e| Error::io(path, e))?,
            )),
            Source::Bytes(bytes) => Ok(Box::new(bytes)),
        }
    }

    fn len(&self) -> Result<u64> {
        match self {
            Source::File(path) => std::fs::metadata(path)
                .map(|m| m.len())
                .map_err(|e| Error::io(path, e)),
            Source::Bytes(bytes) => Ok(bytes.len() as u64),
        }
    }

    /// The header, checked against the bytes there are: a shape whose data the source does not hold is
    /// refused before anything is allocated for it.
    fn header(&self) -> Result<NpyHeader> {
        let header =
            NpyHeader::parse(&mut self.open()?).map_err(|e| format_error(self.name(), e))?;
        let have = self.len()?.saturating_sub(header.data_offset);
        match header.data_bytes() {
            Some(need) if need <= have => Ok(header),
            need => Err(format_error(
                self.name(),
                format!(
                    "its shape {:?} of {} needs {} bytes of data, the file holds {have}",
                    header.shape,
                    header.descr,
                    need.map_or("more than 2^64".to_string(), |b| b.to_string())
                ),
            )),
        }
    }

    /// The header, which must have `dims` dimensions.
    fn header_with_dims(&self, dims: usize, what: &str) -> Result<NpyHeader> {
        let header = self.header()?;
        if header.shape.len() != dims {
            return Err(format_error(
                self.name(),
                format!("not {what}: its shape is {:?}", header.shape),
            ));
        }
        Ok(header)
    }
}

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

/// An f64 array, or an f32 one widened, of the dimension `D`.
fn read_real<D: ndarray::Dimension>(source: Source, what: &str) -> Result<ndarray::Array<f64, D>>
where
    ndarray::Array<f64, D>: ReadNpyExt,
    ndarray::Array<f32, D>: ReadNpyExt,
{
    let dims = D::NDIM.unwrap_or(0);
    source.header_with_dims(dims, what)?;
    match ndarray::Array::<f64, D>::read_npy(source.open()?) {
        Ok(a) => Ok(a),
        Err(first) => match ndarray::Array::<f32, D>::read_npy(source.open()?) {
            Ok(a) => Ok(a.mapv(f64::from)),
            Err(_) => Err(malformed(source.name(), what, first)),
        },
    }
}

const MATRIX: &str = "a 2-D little-endian f64/f32 .npy array";
const VECTOR: &str = "a 1-D little-endian f64/f32 .npy array";

/// Read a 2-D `.npy` of f64 or f32 as f64.
pub fn read_matrix(path: &Path) -> Result<Array2<f64>> {
    read_real(Source::File(path), MATRIX)
}

/// Read a 2-D `.npy` of f64 or f32 as `T`. A file of type `T` is read into the result directly, with no wider
/// copy on the way (a 10 GB f32 kernel takes 10 GB to read as f32); a file of the other type is converted.
pub fn read_matrix_as<T: crate::Real>(path: &Path) -> Result<Array2<T>> {
    let source = Source::File(path);
    let header = source.header_with_dims(2, MATRIX)?;
    let read: Box<dyn std::any::Any> = if header.descr.ends_with("f4") {
        Box::new(Array2::<f32>::read_npy(source.open()?).map_err(|e| malformed(path, MATRIX, e))?)
    } else {
        Box::new(Array2::<f64>::read_npy(source.open()?).map_err(|e| malformed(path, MATRIX, e))?)
    };
    let read = match read.downcast::<Array2<T>>() {
        Ok(same) => return Ok(*same),
        Err(other) => other,
    };
    match read.downcast::<Array2<f32>>() {
        Ok(a) => Ok(a.mapv(|v| T::from_f64(f64::from(v)))),
        Err(other) => match other.downcast::<Array2<f64>>() {
            Ok(a) => Ok(a.mapv(T::from_f64)),
            Err(_) => unreachable!("the file was read as f32 or f64"),
        },
    }
}

/// [`read_matrix`] from the bytes of a `.npy` file.
pub fn matrix_from_bytes(bytes: &[u8]) -> Result<Array2<f64>> {
    read_real(Source::Bytes(bytes), MATRIX)
}

/// Read a 1-D `.npy` of f64 or f32 as f64.
pub fn read_vector(path: &Path) -> Result<Array1<f64>> {
    read_real(Source::File(path), VECTOR)
}

/// [`read_vector`] from the bytes of a `.npy` file.
pub fn vector_from_bytes(bytes: &[u8]) -> Result<Array1<f64>> {
    read_real(Source::Bytes(bytes), VECTOR)
}

fn read_integer_labels(source: Source) -> Result<Array1<i64>> {
    let what = "a 1-D integer (int64, int32 or uint8) .npy array";
    source.header_with_dims(1, what)?;
    if let Ok(a) = Array1::<i64>::read_npy(source.open()?) {
        return Ok(a);
    }
    if let Ok(a) = Array1::<i32>::read_npy(source.open()?) {
        return Ok(a.mapv(i64::from));
    }
    if let Ok(a) = Array1::<u8>::read_npy(source.open()?) {
        return Ok(a.mapv(i64::from));
    }
    Err(format_error(source.name(), format!("not {what}")))
}

/// Read a 1-D integer `.npy` (labels).
pub fn read_labels(path: &Path) -> Result<Array1<i64>> {
    read_integer_labels(Source::File(path))
}

/// [`read_labels`] from the bytes of a `.npy` file.
pub fn labels_from_bytes(bytes: &[u8]) -> Result<Array1<i64>> {
    read_integer_labels(Source::Bytes(bytes))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1.0 header for `dict`, padded to 64 bytes as NumPy pads it.
    fn header(dict: &str) -> Vec<u8> {
        let total = (10 + dict.len() + 1).div_ceil(64) * 64;
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    }

    #[test]
    fn arrays_round_trip_through_bytes() {
        let a = Array2::from_shape_fn((3, 2), |(i, j)| i as f64 - 0.5 * j as f64);
        let mut bytes = Vec::new();
        a.write_npy(&mut bytes).unwrap();
        assert_eq!(matrix_from_bytes(&bytes).unwrap(), a);
        let h = NpyHeader::parse(&mut &bytes[..]).unwrap();
        assert_eq!(
            (h.descr.as_str(), h.fortran_order, h.shape.clone()),
            ("<f8", false, vec![3, 2])
        );
        assert_eq!((h.element_bytes(), h.data_bytes()), (Some(8), Some(48)));
        let mut f32_bytes = Vec::new();
        a.mapv(|v| v as f32).write_npy(&mut f32_bytes).unwrap();
        assert_eq!(matrix_from_bytes(&f32_bytes).unwrap(), a);
        let labels = Array1::from(vec![3i64, 0, 7]);
        let mut label_bytes = Vec::new();
        labels.write_npy(&mut label_bytes).unwrap();
        assert_eq!(labels_from_bytes(&label_bytes).unwrap(), labels);
        // A matrix is not a vector, nor a vector a matrix.
        assert!(vector_from_bytes(&bytes).is_err());
        assert!(matrix_from_bytes(&label_bytes).is_err());
    }

    /// An f32 file is read as f32 bit for bit, an f64 file rounded; both widen to f64 exactly.
    #[test]
    fn matrices_read_as_the_asked_type() {
        let dir = std::env::temp_dir().join(format!("deqk-npy-as-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wide = Array2::from_shape_fn((4, 3), |(i, j)| (i as f64 + 0.1) / (j as f64 + 3.0));
        let narrow = wide.mapv(|v| v as f32);
        let (p64, p32) = (dir.join("wide.npy"), dir.join("narrow.npy"));
        write_matrix(&p64, &wide, true).unwrap();
        write_matrix(&p32, &narrow, true).unwrap();
        assert_eq!(read_matrix_as::<f32>(&p32).unwrap(), narrow);
        assert_eq!(read_matrix_as::<f32>(&p64).unwrap(), narrow);
        assert_eq!(read_matrix_as::<f64>(&p64).unwrap(), wide);
        assert_eq!(read_matrix_as::<f64>(&p32).unwrap(), narrow.mapv(f64::from));
        std::fs::write(&p32, b"not npy").unwrap();
        assert!(read_matrix_as::<f32>(&p32).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A header that announces more data than the file holds is refused before anything is allocated for it
    /// (this aborted with a failed allocation of the announced size).
    #[test]
    fn shapes_larger_than_the_data_are_refused() {
        for shape in [
            "(1000000000000, 1000000000000)",
            "(100000, 100000)",
            "(3, 3)",
        ] {
            let mut bytes = header(&format!(
                "{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
            ));
            bytes.extend_from_slice(&[0u8; 64]);
            let e = matrix_from_bytes(&bytes).unwrap_err().to_string();
            assert!(
                e.contains("needs") && e.contains("holds 64"),
                "{shape}: {e}"
            );
        }
        let mut huge = header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }",
        );
        huge.extend_from_slice(&[0u8; 8]);
        assert!(matrix_from_bytes(&huge)
            .unwrap_err()
            .to_string()
            .contains("more than 2^64"));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bytes in [
            &b""[..],
            b"\x93NUMPY",
            b"\x93NUMPX\x01\x00\x00\x00",
            b"\x93NUMPY\x09\x00\x10\x00",
            b"\x93NUMPY\x01\x00\xff\x00{'descr'",
            b"\x93NUMPY\x02\x00\xff\xff\xff\xff",
        ] {
            assert!(matrix_from_bytes(bytes).is_err(), "{bytes:?}");
            assert!(labels_from_bytes(bytes).is_err(), "{bytes:?}");
        }
        for dict in [
            "{'fortran_order': False, 'shape': (2, 2), }",
            "{'descr': '<f8', 'shape': (2, 2), }",
            "{'descr': '<f8', 'fortran_order': False, }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': 4, }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -2), }",
        ] {
            let mut bytes = header(dict);
            bytes.extend_from_slice(&[0u8; 32]);
            assert!(NpyHeader::parse(&mut &bytes[..]).is_err(), "{dict}");
            assert!(matrix_from_bytes(&bytes).is_err(), "{dict}");
        }
    }
}
