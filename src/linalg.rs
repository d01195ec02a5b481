//! The crate's own linear-algebra plumbing: the Gram matrix by a triangular product, mirroring one triangle of a
//! symmetric matrix, and f64 buffers handed out as the caller's element type. Products and ndarray ↔ faer views
//! come from [`crate::eigen::views`].

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

pub(crate) use crate::eigen::buffer::{zeroed_matrix, zeroed_vec};
pub(crate) use crate::eigen::views::{faer_mut, faer_ref, matmul_into};
use crate::{Real, Result};

/// The lower triangle (with the diagonal) of G = X·Xᵀ for X n×p (rows are samples), by faer's triangular
/// matrix product on the caller's rayon pool. The strict upper triangle is left zero.
pub(crate) fn gram_lower(x: ArrayView2<f64>) -> Result<Array2<f64>> {
    let n = x.nrows();
    let mut g = zeroed_matrix::<f64>(n, n)?;
    let xs = x.as_standard_layout();
    faer::linalg::matmul::triangular::matmul(
        faer_mut(g.view_mut()),
        faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
        faer::Accum::Replace,
        faer_ref(xs.view()),
        faer::linalg::matmul::triangular::BlockStructure::Rectangular,
        faer_ref(xs.t()),
        faer::linalg::matmul::triangular::BlockStructure::Rectangular,
        1.0,
        faer::Par::rayon(0),
    );
    Ok(g)
}

/// The full Gram matrix G = X·Xᵀ (n×n) of the samples (rows) of X.
pub(crate) fn gram(x: ArrayView2<f64>) -> Result<Array2<f64>> {
    let mut g = gram_lower(x)?;
    mirror_lower_to_upper(&mut g);
    Ok(g)
}

/// Hand an f64 matrix out as `Array2<T>`: the same buffer when T is f64, a rounded copy otherwise.
pub(crate) fn into_real<T: Real>(a: Array2<f64>) -> Array2<T> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f64>() {
        // SAFETY: T is f64, checked above, so Array2<f64> and Array2<T> are the same type.
        let a = std::mem::ManuallyDrop::new(a);
        unsafe { std::ptr::read(&*a as *const Array2<f64> as *const Array2<T>) }
    } else {
        a.mapv(T::from_f64)
    }
}

/// A rows×cols matrix whose entries `draw` gives in row-major order; an allocation error (instead of an abort)
/// when the memory is not there.
pub(crate) fn filled_matrix(
    rows: usize,
    cols: usize,
    mut draw: impl FnMut() -> f64,
) -> Result<Array2<f64>> {
    let mut out = zeroed_matrix::<f64>(rows, cols)?;
    out.iter_mut().for_each(|x| *x = draw());
    Ok(out)
}

/// Rows and columns of the square tiles that [`mirror_lower_to_upper`] copies.
const MIRROR_TILE: usize = 64;

struct SharedPtr<T>(*mut T);
unsafe impl<T: Send> Send for SharedPtr<T> {}
unsafe impl<T: Send> Sync for SharedPtr<T> {}

/// Copy the strict lower triangle onto the upper one, in cache-sized blocks on all threads.
pub(crate) fn mirror_lower_to_upper<T: Copy + Send + Sync>(a: &mut Array2<T>) {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "mirror_lower_to_upper needs a square matrix");
    if !a.is_standard_layout() {
        for i in 0..n {
            for j in 0..i {
                a[[j, i]] = a[[i, j]];
            }
        }
        return;
    }
    let ptr = SharedPtr(a.as_mut_ptr());
    let nb = n.div_ceil(MIRROR_TILE);
    (0..nb).into_par_iter().for_each(|bi| {
        let p = &ptr;
        let i0 = bi * MIRROR_TILE;
        let i1 = (i0 + MIRROR_TILE).min(n);
        for bj in bi..nb {
            let j0 = bj * MIRROR_TILE;
            let j1 = (j0 + MIRROR_TILE).min(n);
            for i in i0..i1 {
                for j in j0.max(i + 1)..j1 {
                    // SAFETY: writes go to (i, j) with i < j (upper triangle, rows of this block only), reads
                    // come from (j, i) in the lower triangle, which no task writes.
                    unsafe { *p.0.add(i * n + j) = *p.0.add(j * n + i) };
                }
            }
        }
    });
}
