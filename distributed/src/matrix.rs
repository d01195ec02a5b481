//! A dense matrix in ScaLAPACK's 2-D block-cyclic layout (docs/distributed.md, "Layout"): global rows are dealt
//! in blocks of nb to the grid's process rows in turn, columns likewise to its process columns, and each process
//! stores its blocks column-major (leading dimension = its row count). No process holds more than its own
//! entries; `.npy` files are read and written by every process at once, each at the offsets of its entries.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use deq_kernels::kernel::block::BlockIndices;
use deq_kernels::Real;
use mpi::collective::SystemOperation;
use mpi::traits::*;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::grid::ProcessGrid;
use crate::{agree, ffi, Error, Result};

/// Element types of a distributed matrix: f64 and f32.
pub trait Element: Real + Equivalence {
    /// The `.npy` descriptor of the type ('<f8', '<f4').
    const NPY: &'static str;
    /// Bytes per element.
    const BYTES: usize;
    /// Little-endian bytes.
    fn to_le(self, out: &mut Vec<u8>);
}

impl Element for f64 {
    const NPY: &'static str = "<f8";
    const BYTES: usize = 8;
    fn to_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Element for f32 {
    const NPY: &'static str = "<f4";
    const BYTES: usize = 4;
    fn to_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// Number of indices of a dimension of length `n`, in blocks of `nb`, that process `p` of `np` holds (the first
/// block on process 0): ScaLAPACK's NUMROC.
pub fn local_count(n: usize, nb: usize, p: usize, np: usize) -> usize {
    let blocks = n / nb;
    let mut count = (blocks / np) * nb;
    let extra = blocks % np;
    if p < extra {
        count += nb;
    } else if p == extra {
        count += n % nb;
    }
    count
}

/// The global index of local index `l` on process `p` of `np`, blocks of `nb`.
pub fn local_to_global(l: usize, nb: usize, p: usize, np: usize) -> usize {
    ((l / nb) * np + p) * nb + l % nb
}

/// The process and local index of global index `g`, blocks of `nb` over `np` processes.
pub fn global_to_local(g: usize, nb: usize, np: usize) -> (usize, usize) {
    ((g / nb) % np, (g / (nb * np)) * nb + g % nb)
}

/// An m×n matrix distributed block-cyclically over a [`ProcessGrid`], square blocks of nb.
pub struct DistributedMatrix<'g, T: Element> {
    grid: &'g ProcessGrid,
    shape: (usize, usize),
    nb: usize,
    rows: Vec<usize>,
    cols: Vec<usize>,
    data: Vec<T>,
    desc: [i32; 9],
}

impl<'g, T: Element> DistributedMatrix<'g, T> {
    /// A zero m×n matrix in blocks of `nb` over `grid` (collective). Refused: nb = 0, an empty matrix, a grid
    /// with more process rows or columns than the matrix has blocks (a process would hold nothing), and local
    /// blocks of 2³¹ or more entries (the packaged ScaLAPACK's 32-bit indices; use more processes).
    pub fn zeros(grid: &'g ProcessGrid, shape: (usize, usize), nb: usize) -> Result<Self> {
        let local = Self::layout(grid, shape, nb);
        agree(grid.comm(), local)
            .and_then(|(rows, cols)| Self::with_indices(grid, shape, nb, rows, cols))
    }

    fn layout(
        grid: &ProcessGrid,
        (m, n): (usize, usize),
        nb: usize,
    ) -> Result<(Vec<usize>, Vec<usize>)> {
        let (pr, pc) = grid.shape();
        if nb == 0 || m == 0 || n == 0 {
            return Err(Error::Layout(format!(
                "a {m}x{n} matrix in blocks of {nb}: the matrix must be non-empty and the block size at least 1"
            )));
        }
        if pr > m.div_ceil(nb) || pc > n.div_ceil(nb) {
            return Err(Error::Layout(format!(
                "the {pr}x{pc} process grid is larger than a {m}x{n} matrix in blocks of {nb} ({}x{} blocks): \
                 some processes would hold nothing; use a smaller --block or fewer processes",
                m.div_ceil(nb),
                n.div_ceil(nb)
            )));
        }
        let (r, c) = grid.coords();
        let (lr, lc) = (local_count(m, nb, r, pr), local_count(n, nb, c, pc));
        if lr
            .max(1)
            .checked_mul(lc.max(1))
            .is_none_or(|e| e > i32::MAX as usize)
            || m > i32::MAX as usize
        {
            return Err(Error::Layout(format!(
                "a process's part of the {m}x{n} matrix ({lr}x{lc} entries) exceeds the 2^31 entries that \
                 ScaLAPACK's 32-bit indices allow; run on more processes"
            )));
        }
        Ok((
            (0..lr).map(|l| local_to_global(l, nb, r, pr)).collect(),
            (0..lc).map(|l| local_to_global(l, nb, c, pc)).collect(),
        ))
    }

    fn with_indices(
        grid: &'g ProcessGrid,
        shape: (usize, usize),
        nb: usize,
        rows: Vec<usize>,
        cols: Vec<usize>,
    ) -> Result<Self> {
        let lld = rows.len().max(1) as i32;
        let mut desc = [0i32; 9];
        let mut info = 0;
        let (m, n, b, zero, ctx) = (
            shape.0 as i32,
            shape.1 as i32,
            nb as i32,
            0i32,
            grid.context(),
        );
        // SAFETY: descinit_ writes nine integers into `desc` and one into `info`.
        unsafe {
            ffi::descinit_(
                desc.as_mut_ptr(),
                &m,
                &n,
                &b,
                &b,
                &zero,
                &zero,
                &ctx,
                &lld,
                &mut info,
            )
        };
        agree(
            grid.comm(),
            if info == 0 {
                Ok(())
            } else {
                Err(Error::Scalapack {
                    routine: "descinit",
                    info,
                    meaning: "the descriptor's argument -INFO is invalid".into(),
                })
            },
        )?;
        let data = vec![T::default(); rows.len() * cols.len()];
        Ok(DistributedMatrix {
            grid,
            shape,
            nb,
            rows,
            cols,
            data,
            desc,
        })
    }

    /// The grid the matrix lives on.
    pub fn grid(&self) -> &'g ProcessGrid {
        self.grid
    }

    /// (m, n), the global shape.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// The block size nb.
    pub fn block_size(&self) -> usize {
        self.nb
    }

    /// Global indices of this process's rows, ascending.
    pub fn local_rows(&self) -> &[usize] {
        &self.rows
    }

    /// Global indices of this process's columns, ascending.
    pub fn local_cols(&self) -> &[usize] {
        &self.cols
    }

    /// This process's entries: element (r, c) is global entry `(local_rows[r], local_cols[c])`.
    pub fn local(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape((self.rows.len(), self.cols.len()).f(), &self.data)
            .expect("column-major local block")
    }

    /// This process's entries, mutable.
    pub fn local_mut(&mut self) -> ArrayViewMut2<'_, T> {
        ArrayViewMut2::from_shape((self.rows.len(), self.cols.len()).f(), &mut self.data)
            .expect("column-major local block")
    }

    pub(crate) fn raw(&mut self) -> (*mut T, &[i32; 9]) {
        (self.data.as_mut_ptr(), &self.desc)
    }

    /// A copy on the same grid and layout.
    pub fn duplicate(&self) -> Self {
        DistributedMatrix {
            grid: self.grid,
            shape: self.shape,
            nb: self.nb,
            rows: self.rows.clone(),
            cols: self.cols.clone(),
            data: self.data.clone(),
            desc: self.desc,
        }
    }

    /// self − other, entrywise (same shape and layout; collective for the error agreement).
    pub fn difference(&self, other: &Self) -> Result<Self> {
        let same = if self.shape == other.shape && self.nb == other.nb {
            Ok(())
        } else {
            Err(Error::Layout(format!(
                "cannot subtract a {}x{} matrix in blocks of {} from a {}x{} one in blocks of {}",
                other.shape.0, other.shape.1, other.nb, self.shape.0, self.shape.1, self.nb
            )))
        };
        agree(self.grid.comm(), same)?;
        let mut d = self.duplicate();
        for (x, &y) in d.data.iter_mut().zip(&other.data) {
            *x = T::from_f64(x.to_f64() - y.to_f64());
        }
        Ok(d)
    }

    /// Σ a_ij² over the whole matrix, on every process (collective).
    pub fn frobenius_squared(&self) -> f64 {
        let mine: f64 = self.data.iter().map(|v| v.to_f64() * v.to_f64()).sum();
        let mut all = 0.0;
        self.grid
            .comm()
            .all_reduce_into(&mine, &mut all, SystemOperation::sum());
        all
    }

    /// Set every local entry to f(i, j) of its global indices.
    pub fn fill(&mut self, f: impl Fn(usize, usize) -> T) {
        let nr = self.rows.len();
        for (c, &j) in self.cols.iter().enumerate() {
            for (r, &i) in self.rows.iter().enumerate() {
                self.data[c * nr + r] = f(i, j);
            }
        }
    }

    /// Fill the local entries by blocks (collective, for the error agreement): `block` receives indices of
    /// up to `tile_rows` local rows and all local columns, and returns their values (|rows|×|cols|).
    pub fn fill_blocks(
        &mut self,
        tile_rows: usize,
        block: impl FnMut(&BlockIndices) -> Result<Array2<T>>,
    ) -> Result<()> {
        self.fill_tiles(tile_rows, false, block)
    }

    /// Fill a symmetric matrix from its lower triangle (collective): `block` is asked only for tiles of local
    /// rows against the local columns up to the tile's last row (about half the entries of
    /// [`fill_blocks`](Self::fill_blocks) for thin tiles), and the upper triangle is then formed by one
    /// distributed transpose (PBLAS p?tran): A ← L + Lᵀ − diag(L). Memory: a second local block during the
    /// transpose.
    pub fn fill_symmetric_blocks(
        &mut self,
        tile_rows: usize,
        block: impl FnMut(&BlockIndices) -> Result<Array2<T>>,
    ) -> Result<()>
    where
        T: crate::eigen::ScalapackEigen,
    {
        self.fill_tiles(tile_rows, true, block)?;
        let nr = self.rows.len();
        for (c, &j) in self.cols.iter().enumerate() {
            for (r, &i) in self.rows.iter().enumerate() {
                if i < j {
                    self.data[c * nr + r] = T::default();
                }
            }
        }
        let lower = self.duplicate();
        let n = self.shape.0 as i32;
        let (one, unit) = (1i32, T::from_f64(1.0));
        // SAFETY: `lower` and `self` are n×n with the same descriptor; p?tran reads `lower` and updates `self`
        // to self + lowerᵀ.
        unsafe {
            T::tran(
                n,
                unit,
                lower.data.as_ptr(),
                &lower.desc,
                unit,
                self.data.as_mut_ptr(),
                &self.desc,
                one,
            )
        };
        let half = T::from_f64(0.5);
        for (c, &j) in self.cols.iter().enumerate() {
            for (r, &i) in self.rows.iter().enumerate() {
                if i == j {
                    let v = &mut self.data[c * nr + r];
                    *v = T::from_f64(v.to_f64() * half.to_f64());
                }
            }
        }
        Ok(())
    }

    fn fill_tiles(
        &mut self,
        tile_rows: usize,
        lower: bool,
        mut block: impl FnMut(&BlockIndices) -> Result<Array2<T>>,
    ) -> Result<()> {
        let mut outcome = Ok(());
        let nr = self.rows.len();
        for start in (0..nr).step_by(tile_rows.max(1)) {
            let end = (start + tile_rows.max(1)).min(nr);
            // Local rows and columns ascend, so the columns at or below the tile's last row are a prefix.
            let width = if lower {
                self.cols.partition_point(|&j| j <= self.rows[end - 1])
            } else {
                self.cols.len()
            };
            let idx = match BlockIndices::new(
                self.rows[start..end].to_vec(),
                self.cols[..width].to_vec(),
                self.shape.0.max(self.shape.1),
            ) {
                Ok(idx) => idx,
                Err(e) => {
                    outcome = Err(e.into());
                    break;
                }
            };
            match block(&idx) {
                Ok(values) => {
                    let mut local = self.local_mut();
                    local
                        .slice_mut(ndarray::s![start..end, ..width])
                        .assign(&values);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        agree(self.grid.comm(), outcome)
    }

    /// Global rows `range` (all columns) on every process (collective): each contributes its entries to one
    /// sum over the communicator. Memory: |range|×n per process.
    pub fn gather_rows(&self, range: std::ops::Range<usize>) -> Array2<T> {
        let (lo, hi) = (range.start.min(self.shape.0), range.end.min(self.shape.0));
        let (len, n) = (hi.saturating_sub(lo), self.shape.1);
        let mut mine = vec![T::default(); len * n];
        let nr = self.rows.len();
        for (r, &i) in self.rows.iter().enumerate() {
            if (lo..hi).contains(&i) {
                for (c, &j) in self.cols.iter().enumerate() {
                    mine[(i - lo) * n + j] = self.data[c * nr + r];
                }
            }
        }
        let mut all = vec![T::default(); len * n];
        self.grid
            .comm()
            .all_reduce_into(&mine[..], &mut all[..], SystemOperation::sum());
        Array2::from_shape_vec((len, n), all).expect("rows × n")
    }

    /// Write the columns `columns` (all of them when `None`) as a C-order `.npy` file (collective):
    /// process 0 writes the header into a temporary file beside `path` and sizes it, every process writes its
    /// entries at their offsets, and process 0 renames the file to `path` once all have finished, so a failed
    /// or interrupted run never leaves a half-written `path`. An existing `path` is replaced only with `force`.
    pub fn write_npy(
        &self,
        path: &Path,
        columns: Option<std::ops::Range<usize>>,
        force: bool,
    ) -> Result<()> {
        let comm = self.grid.comm();
        let columns = columns.unwrap_or(0..self.shape.1);
        let columns = columns.start.min(self.shape.1)..columns.end.min(self.shape.1);
        let (m, n) = (self.shape.0, columns.len());
        let header = npy_header(T::NPY, m, n);
        let mut token = [0u64; 1];
        let prepared = if comm.rank() == 0 {
            prepare_output(
                path,
                force,
                header.len() as u64 + (m * n * T::BYTES) as u64,
                &header,
            )
            .map(|t| token[0] = t)
        } else {
            Ok(())
        };
        agree(comm, prepared)?;
        comm.process_at_rank(0).broadcast_into(&mut token[..]);
        let partial = partial_path(path, token[0]);
        let written = self.write_entries(&partial, header.len() as u64, columns);
        agree(comm, written).inspect_err(|_| {
            if comm.rank() == 0 {
                let _ = std::fs::remove_file(&partial);
            }
        })?;
        let renamed = if comm.rank() == 0 {
            std::fs::rename(&partial, path).map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                Error::Io(format!(
                    "cannot move the finished file to {}: {e}",
                    path.display()
                ))
            })
        } else {
            Ok(())
        };
        agree(comm, renamed)
    }

    fn write_entries(
        &self,
        partial: &Path,
        offset: u64,
        columns: std::ops::Range<usize>,
    ) -> Result<()> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(partial)
            .map_err(|e| Error::Io(format!("cannot open {}: {e}", partial.display())))?;
        let (nr, width) = (self.rows.len(), columns.len());
        let mut buf = Vec::with_capacity(self.nb * T::BYTES);
        let inside = |c: usize| c < self.cols.len() && columns.contains(&self.cols[c]);
        for (r, &i) in self.rows.iter().enumerate() {
            // Runs of consecutive global columns are contiguous in the file's row i.
            let mut c = 0;
            while c < self.cols.len() {
                if !inside(c) {
                    c += 1;
                    continue;
                }
                let start = c;
                buf.clear();
                while inside(c) && self.cols[c] == self.cols[start] + (c - start) {
                    self.data[c * nr + r].to_le(&mut buf);
                    c += 1;
                }
                let at =
                    offset + ((i * width + self.cols[start] - columns.start) * T::BYTES) as u64;
                file.write_all_at(&buf, at)
                    .map_err(|e| Error::Io(format!("cannot write {}: {e}", partial.display())))?;
            }
        }
        Ok(())
    }

    /// Read a square C- or Fortran-order `.npy` matrix (f64 or f32, converted to T) into blocks of `nb` over
    /// `grid` (collective): every process reads the header and then only its own entries.
    pub fn read_npy(grid: &'g ProcessGrid, path: &Path, nb: usize) -> Result<Self> {
        let header = agree(grid.comm(), NpyHeader::read(path))?;
        let mut a = Self::zeros(grid, header.shape, nb)?;
        let read = a.read_entries(path, &header);
        agree(grid.comm(), read)?;
        Ok(a)
    }

    fn read_entries(&mut self, path: &Path, h: &NpyHeader) -> Result<()> {
        let file = File::open(path)
            .map_err(|e| Error::Io(format!("cannot open {}: {e}", path.display())))?;
        let (m, n) = h.shape;
        let nr = self.rows.len();
        let (rows, cols) = (self.rows.clone(), self.cols.clone());
        // The file's contiguous direction: along a row (C order) or down a column (Fortran order).
        let (outer, inner, stride) = if h.fortran {
            (&cols, &rows, m)
        } else {
            (&rows, &cols, n)
        };
        let mut buf = Vec::new();
        for (o, &go) in outer.iter().enumerate() {
            let mut k = 0;
            while k < inner.len() {
                let start = k;
                while k < inner.len() && inner[k] == inner[start] + (k - start) {
                    k += 1;
                }
                buf.resize((k - start) * h.bytes, 0);
                let at = h.offset + ((go * stride + inner[start]) * h.bytes) as u64;
                file.read_exact_at(&mut buf, at).map_err(|e| {
                    Error::Io(format!(
                        "{} is shorter than its header says: {e}",
                        path.display()
                    ))
                })?;
                for (t, chunk) in buf.chunks_exact(h.bytes).enumerate() {
                    let v = h.value(chunk);
                    if !v.is_finite() {
                        return Err(Error::Io(format!(
                            "{} holds a non-finite value ({v}); the matrix must be finite",
                            path.display()
                        )));
                    }
                    let (r, c) = if h.fortran {
                        (start + t, o)
                    } else {
                        (o, start + t)
                    };
                    self.data[c * nr + r] = T::from_f64(v);
                }
            }
        }
        Ok(())
    }
}

/// The partial file a collective write goes to before its rename: hidden, beside the destination, named by a
/// token process 0 chose.
fn partial_path(path: &Path, token: u64) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.partial-{token:x}"))
}

/// Process 0's part of a collective write: refuse an existing output without `force`, create the partial file
/// with the header and the final size; returns its token.
fn prepare_output(path: &Path, force: bool, size: u64, header: &[u8]) -> Result<u64> {
    if path.exists() && !force {
        return Err(Error::Io(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    let token = (std::process::id() as u64) << 32
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
    let partial = partial_path(path, token);
    let file = File::create(&partial).map_err(|e| {
        Error::Io(format!(
            "cannot create a file beside {}: {e}",
            path.display()
        ))
    })?;
    file.write_all_at(header, 0)
        .and_then(|()| file.set_len(size))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Error::Io(format!("cannot size {}: {e}", partial.display()))
        })?;
    Ok(token)
}

/// A version-1.0 `.npy` header for a C-order m×n array of `descr`, padded to a multiple of 64 bytes.
pub fn npy_header(descr: &str, m: usize, n: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({m}, {n}), }}");
    let unpadded = 10 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// What a square matrix's `.npy` header says.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// (rows, columns).
    pub shape: (usize, usize),
    /// Fortran (column-major) order.
    pub fortran: bool,
    /// 8 for '<f8', 4 for '<f4'.
    pub bytes: usize,
    /// Where the data start.
    pub offset: u64,
}

impl NpyHeader {
    /// Parse the header of a 2-D little-endian f64 or f32 `.npy` file (versions 1–3, by the library's parser)
    /// and check that the file holds all its data.
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |what: String| {
            Error::Io(format!(
                "{} is not a 2-D f64/f32 .npy matrix: {what}",
                path.display()
            ))
        };
        let header =
            deq_kernels::npy::NpyHeader::read(path).map_err(|e| Error::Io(e.to_string()))?;
        let bytes = match header.descr.as_str() {
            "<f8" => 8,
            "<f4" => 4,
            d => {
                return Err(bad(format!(
                    "element type '{d}'; write f64 ('<f8') or f32 ('<f4')"
                )))
            }
        };
        let [m, n] = header.shape[..] else {
            return Err(bad(format!("shape {:?} is not 2-D", header.shape)));
        };
        Ok(NpyHeader {
            shape: (m, n),
            fortran: header.fortran_order,
            bytes,
            offset: header.data_offset,
        })
    }

    fn value(&self, chunk: &[u8]) -> f64 {
        if self.bytes == 8 {
            f64::from_le_bytes(chunk.try_into().expect("8 bytes"))
        } else {
            f32::from_le_bytes(chunk.try_into().expect("4 bytes")) as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rust index maps against ScaLAPACK's own NUMROC, and local ↔ global as inverse maps covering every
    /// index once.
    #[test]
    fn index_maps_match_numroc_and_invert() {
        for n in [1usize, 2, 7, 64, 100, 129, 1000] {
            for nb in [1usize, 2, 3, 8, 64] {
                for np in 1..=5usize {
                    let mut seen = vec![0u8; n];
                    for p in 0..np {
                        let (n32, nb32, p32, zero, np32) =
                            (n as i32, nb as i32, p as i32, 0i32, np as i32);
                        // SAFETY: NUMROC reads five integers.
                        let theirs = unsafe { ffi::numroc_(&n32, &nb32, &p32, &zero, &np32) };
                        let ours = local_count(n, nb, p, np);
                        assert_eq!(ours as i32, theirs, "n={n} nb={nb} p={p} np={np}");
                        for l in 0..ours {
                            let g = local_to_global(l, nb, p, np);
                            assert_eq!(global_to_local(g, nb, np), (p, l));
                            seen[g] += 1;
                        }
                    }
                    assert!(seen.iter().all(|&c| c == 1), "n={n} nb={nb} np={np}");
                }
            }
        }
    }

    /// Headers this crate writes parse back, and the parser refuses what it cannot read.
    #[test]
    fn npy_headers_round_trip_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let mut bytes = npy_header("<f8", 3, 2);
        let header = bytes.len() as u64;
        assert_eq!(header % 64, 0);
        bytes.extend(std::iter::repeat_n(0u8, 48));
        std::fs::write(&path, &bytes).unwrap();
        let h = NpyHeader::read(&path).unwrap();
        assert_eq!(
            (h.shape, h.fortran, h.bytes, h.offset),
            ((3, 2), false, 8, header)
        );
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(NpyHeader::read(&path).is_err(), "short data");
        let mut other = npy_header("<i8", 3, 2);
        other.extend(std::iter::repeat_n(0u8, 48));
        std::fs::write(&path, &other).unwrap();
        assert!(NpyHeader::read(&path).is_err(), "integer data");
        std::fs::write(&path, b"not a numpy file at all").unwrap();
        assert!(NpyHeader::read(&path).is_err(), "no magic");
    }
}
