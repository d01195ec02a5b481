//! Symmetric operators known through block products Y = AX, and the dense block product used for kernel
//! matrices.
//!
//! For a dense n×n matrix and a thin block X (b ≪ n columns) a general GEMM packs A into panels on every call,
//! which doubles the memory traffic of a product that is bound by reading A once. [`dense_block_product`]
//! reads A in place, row by row, with the rows of X (zero-padded to a fixed width W) held in L2-sized column
//! blocks: one pass over A per product, eight rows per task on all threads, compiled for AVX2 as well and
//! chosen at run time.

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::{matmul_into, EigenScalar};

/// A symmetric linear operator on ℝⁿ, applied to blocks of vectors.
pub trait SymmetricOperator<T>: Sync {
    /// The dimension n.
    fn dim(&self) -> usize;
    /// y ← A·x for an n×b block x.
    fn apply(&self, x: ArrayView2<T>, y: ArrayViewMut2<T>);
}

/// A dense symmetric matrix as an operator (one pass over the matrix per block).
impl<T: EigenScalar> SymmetricOperator<T> for ArrayView2<'_, T> {
    fn dim(&self) -> usize {
        self.nrows()
    }
    fn apply(&self, x: ArrayView2<T>, y: ArrayViewMut2<T>) {
        dense_block_product(self.view(), x, y);
    }
}

/// An operator given by a closure `f(x, y)` that writes A·x into y.
pub struct FnOperator<F> {
    n: usize,
    f: F,
}

impl<F> FnOperator<F> {
    /// The operator of dimension n whose product `f(x, y)` writes A·x into y.
    pub fn new(n: usize, f: F) -> Self {
        FnOperator { n, f }
    }
}

impl<T, F> SymmetricOperator<T> for FnOperator<F>
where
    F: Fn(ArrayView2<T>, ArrayViewMut2<T>) + Sync,
{
    fn dim(&self) -> usize {
        self.n
    }
    fn apply(&self, x: ArrayView2<T>, y: ArrayViewMut2<T>) {
        (self.f)(x, y)
    }
}

/// Rows of X per column block: their W numbers each stay in L2 while the rows of A stream past.
const COLS: usize = 1024;
/// Rows of A per task.
const ROWS: usize = 8;

/// y ← A·x for a standard-layout square A and an n×b block x.
pub fn dense_block_product<T: EigenScalar>(
    a: ArrayView2<T>,
    x: ArrayView2<T>,
    y: ArrayViewMut2<T>,
) {
    if a.as_slice().is_none() {
        return matmul_into(y, a, x, false);
    }
    // The accumulator width: the block's width rounded up to 4, 8, 12 or 16 (wider blocks in groups of 16).
    match x.ncols() {
        0 => {}
        1..=4 => product_with_width::<T, 4>(a, x, y),
        5..=8 => product_with_width::<T, 8>(a, x, y),
        9..=12 => product_with_width::<T, 12>(a, x, y),
        _ => product_with_width::<T, 16>(a, x, y),
    }
}

fn product_with_width<T: EigenScalar, const W: usize>(
    a: ArrayView2<T>,
    x: ArrayView2<T>,
    mut y: ArrayViewMut2<T>,
) {
    let n = a.nrows();
    let a_slice = a.as_slice().expect("standard layout");
    let b = x.ncols();
    for c0 in (0..b).step_by(W) {
        let w = W.min(b - c0);
        // The rows of x[:, c0..c0+w], zero-padded to W.
        let mut xr = vec![[T::zero(); W]; n];
        for (j, row) in xr.iter_mut().enumerate() {
            for c in 0..w {
                row[c] = x[[j, c0 + c]];
            }
        }
        let mut out = vec![[T::zero(); W]; n];
        out.par_chunks_mut(ROWS)
            .enumerate()
            .for_each(|(chunk, rows)| {
                let i0 = chunk * ROWS;
                let a_rows = &a_slice[i0 * n..(i0 + rows.len()) * n];
                rows_times_block(a_rows, n, &xr, rows);
            });
        for (i, row) in out.iter().enumerate() {
            for c in 0..w {
                y[[i, c0 + c]] = row[c];
            }
        }
    }
}

crate::widest_vectors! {
    /// out[r] = Σ_j a_rows[r·n + j]·xr[j] for the rows r of one task.
    fn rows_times_block[T: EigenScalar, const W: usize](
        a_rows: &[T],
        n: usize,
        xr: &[[T; W]],
        out: &mut [[T; W]]
    ) = rows_times_block_with::<T, W, false>, fused = rows_times_block_with::<T, W, true>
}

/// Rows of A advanced together in the inner loop: independent accumulator chains that share each row of X.
const LOCKSTEP: usize = 4;

#[inline(always)]
fn rows_times_block_with<T: EigenScalar, const W: usize, const FUSED: bool>(
    a_rows: &[T],
    n: usize,
    xr: &[[T; W]],
    out: &mut [[T; W]],
) {
    for j0 in (0..n).step_by(COLS) {
        let j1 = (j0 + COLS).min(n);
        let xb = &xr[j0..j1];
        let mut r = 0;
        while r + LOCKSTEP <= out.len() {
            let ar: [&[T]; LOCKSTEP] =
                std::array::from_fn(|k| &a_rows[(r + k) * n + j0..(r + k) * n + j1]);
            let mut s: [[T; W]; LOCKSTEP] = std::array::from_fn(|k| out[r + k]);
            for (j, xj) in xb.iter().enumerate() {
                for k in 0..LOCKSTEP {
                    let aij = ar[k][j];
                    for c in 0..W {
                        s[k][c] = crate::simd::madd::<T, FUSED>(aij, xj[c], s[k][c]);
                    }
                }
            }
            out[r..r + LOCKSTEP].copy_from_slice(&s);
            r += LOCKSTEP;
        }
        for (k, acc) in out.iter_mut().enumerate().skip(r) {
            let ar = &a_rows[k * n + j0..k * n + j1];
            let mut s = *acc;
            for (&aij, xj) in ar.iter().zip(xb) {
                for c in 0..W {
                    s[c] = crate::simd::madd::<T, FUSED>(aij, xj[c], s[c]);
                }
            }
            *acc = s;
        }
    }
}
