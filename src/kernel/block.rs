//! Rectangular blocks K[rows, cols] of a kernel matrix, by global sample index, without the rest of K
//! (docs/distributed.md).
//!
//! Every kernel here is entrywise in (x_iᵀx_i, x_jᵀx_j, x_iᵀx_j) once the per-sample diagonal is known, and that
//! diagonal depends on sample i alone (at a fixed τ₀). So any block — the tiles a process owns in a 2-D
//! block-cyclic layout, or a band of rows streamed to disk — is computed from X, the block's indices and
//! nothing else: G[rows, cols] = X_rows·X_colsᵀ by one matrix product, the diagonal solved for the samples the
//! block touches, then each entry by the same per-entry solver as the full matrix. Entries agree with the
//! corresponding entries of the full matrix to rounding (the Gram values come from a different product).
//!
//! The entry functions are [`super::explicit::mlp_kernels_block`], [`super::implicit::deq_kernels_block`] and
//! [`super::implicit::fk_kernels_block`].

use ndarray::{Array2, ArrayView2, Axis};

use super::layer_dual::BLOCK;
use crate::linalg::{matmul_into, zeroed_matrix};
use crate::{Error, Real, Result};

/// The rows and columns of an n×n kernel matrix to compute, as global sample indices (each below n; in any
/// order, repeats allowed). Output entry (r, c) is `K[rows[r], cols[c]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockIndices {
    rows: Vec<usize>,
    cols: Vec<usize>,
    n: usize,
}

impl BlockIndices {
    /// Checked: every index below `n`.
    pub fn new(rows: Vec<usize>, cols: Vec<usize>, n: usize) -> Result<Self> {
        if let Some(&bad) = rows.iter().chain(&cols).find(|&&i| i >= n) {
            return Err(Error::Shape {
                what: format!(
                    "block index {bad} is out of range for {n} samples (indices run from 0 to {})",
                    n.saturating_sub(1)
                ),
            });
        }
        Ok(BlockIndices { rows, cols, n })
    }

    /// The rows' sample indices.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// The columns' sample indices.
    pub fn cols(&self) -> &[usize] {
        &self.cols
    }

    /// The number of samples the indices refer to.
    pub fn samples(&self) -> usize {
        self.n
    }

    /// (rows, columns) of the block.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows.len(), self.cols.len())
    }

    /// Whether output entry (r, c) lies on the diagonal of K.
    #[inline]
    pub(crate) fn on_diagonal(&self, r: usize, c: usize) -> bool {
        self.rows[r] == self.cols[c]
    }

    /// The samples the per-sample tables of a block are built over: the rows, padded with copies of the first
    /// to a multiple of the evaluator's lane width, then the columns. Row r sits at position r and column c at
    /// `col_offset() + c`, so that runs of lane-width columns starting at multiples of it are lane-aligned.
    pub(crate) fn layout(&self) -> Vec<usize> {
        let pad = self.col_offset() - self.rows.len();
        let first = self.rows.first().copied().unwrap_or(0);
        let mut samples = Vec::with_capacity(self.col_offset() + self.cols.len());
        samples.extend_from_slice(&self.rows);
        samples.extend(std::iter::repeat_n(first, pad));
        samples.extend_from_slice(&self.cols);
        samples
    }

    /// Position of column 0 in [`layout`](Self::layout).
    #[inline]
    pub(crate) fn col_offset(&self) -> usize {
        self.rows.len().div_ceil(BLOCK) * BLOCK
    }

    /// The lane-aligned runs of one output row: (first column, whether the run is a full lane block free of
    /// diagonal entries). Runs that are not are evaluated entry by entry.
    pub(crate) fn runs(&self, r: usize) -> impl Iterator<Item = (usize, bool)> + '_ {
        let nc = self.cols.len();
        (0..nc.div_ceil(BLOCK)).map(move |k| {
            let c0 = k * BLOCK;
            let full = c0 + BLOCK <= nc && (c0..c0 + BLOCK).all(|c| !self.on_diagonal(r, c));
            (c0, full)
        })
    }

    /// `count` zeroed |rows|×|cols| outputs, and for each output row r the rows r of all of them, to be filled
    /// in parallel.
    pub(crate) fn outputs<T: Real>(&self, count: usize) -> Result<Vec<Array2<T>>> {
        let (nr, nc) = self.shape();
        Ok((0..count)
            .map(|_| zeroed_matrix::<T>(nr, nc))
            .collect::<std::result::Result<_, _>>()?)
    }

    /// For each output row r, row r of every matrix of `outs` (each |rows|×|cols|, standard layout).
    pub(crate) fn output_rows<'a, T>(&self, outs: &'a mut [Array2<T>]) -> Vec<Vec<&'a mut [T]>> {
        let (nr, nc) = self.shape();
        let mut per_row: Vec<Vec<&mut [T]>> =
            (0..nr).map(|_| Vec::with_capacity(outs.len())).collect();
        for m in outs.iter_mut() {
            let slice = m.as_slice_mut().expect("standard layout");
            for (r, row) in slice.chunks_mut(nc.max(1)).take(nr).enumerate() {
                per_row[r].push(row);
            }
        }
        per_row
    }

    /// G[rows, cols] = X_rows·X_colsᵀ and ‖x_s‖² for every sample s of [`layout`](Self::layout), from X (n×p).
    pub(crate) fn gram(&self, x: ArrayView2<f64>) -> Result<(Array2<f64>, Vec<f64>)> {
        if x.nrows() != self.n {
            return Err(Error::Shape {
                what: format!(
                    "the block indices refer to {} samples but the data has {} rows",
                    self.n,
                    x.nrows()
                ),
            });
        }
        let (nr, nc) = self.shape();
        let xr = x.select(Axis(0), &self.rows);
        let xc = x.select(Axis(0), &self.cols);
        let mut g = zeroed_matrix::<f64>(nr, nc)?;
        if nr > 0 && nc > 0 {
            matmul_into(g.view_mut(), xr.view(), xc.t(), false);
        }
        let norms = self
            .layout()
            .iter()
            .map(|&s| x.row(s).dot(&x.row(s)))
            .collect();
        Ok((g, norms))
    }
}
