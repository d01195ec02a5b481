//! Infinite-width kernel matrices.
//!
//! - [`explicit`]: the exact CK (NNGP) and NTK of L-layer fully connected networks (SPEC §4).
//!
//! Shared machinery: the Gram matrix by a triangular (SYRK-like) product ([`gram`]), per-layer entrywise dual
//! kernels evaluated from closed forms or per-sample Hermite tables ([`LayerDual`]), and parallel passes over
//! one triangle of a symmetric matrix.

pub mod explicit;
mod fastmath;
pub mod implicit;
mod layer_dual;
mod symmetric;

use ndarray::{Array2, ArrayView2};

pub use layer_dual::{LayerDual, BLOCK, MEHLER_MAX_TERMS, MEHLER_TOLERANCE};
pub use symmetric::mirror_lower_to_upper;

pub use crate::real::Real;
use crate::{Error, Result};

/// Observer of a long computation (the CLI draws a progress bar with it). `advance` is called from worker
/// threads with the number of work units just finished; `total` is announced first.
pub trait Progress: Sync {
    fn start(&self, _total: u64) {}
    fn advance(&self, _units: u64) {}
    fn finish(&self) {}
}

/// The silent observer.
pub struct NoProgress;

impl Progress for NoProgress {}

/// The data scale τ₀ = √(‖X‖_F²/n) (root mean squared norm of the rows), SPEC §6's default input scale.
pub fn data_scale(x: ArrayView2<f64>) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64).sqrt()
}

/// Refuse empty, non-finite or non-contiguous-shaped data (n×p, one sample per row).
pub fn check_data(x: ArrayView2<f64>) -> Result<()> {
    let (n, p) = x.dim();
    if n == 0 || p == 0 {
        return Err(Error::Shape {
            what: format!(
                "data matrix is {n}×{p}; need at least one sample (row) and one feature (column)"
            ),
        });
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "data matrix",
            location: format!("row {i}, column {j} (value {v})"),
        });
    }
    Ok(())
}

/// The lower triangle (with the diagonal) of G = X·Xᵀ for X n×p (rows are samples), by faer's triangular
/// matrix product on all threads. The strict upper triangle is left zero.
pub fn gram_lower(x: ArrayView2<f64>) -> Array2<f64> {
    let (n, p) = x.dim();
    let mut g = crate::buffer::zeroed_matrix::<f64>(n, n);
    let xs = x.as_standard_layout();
    // SAFETY: `xs` is a standard-layout n×p buffer and `g` an owned n×n buffer; both views live only in this
    // scope and do not alias.
    let (xf, gf) = unsafe {
        (
            faer::MatRef::from_raw_parts(xs.as_ptr(), n, p, p as isize, 1),
            faer::MatMut::from_raw_parts_mut(g.as_mut_ptr(), n, n, n as isize, 1),
        )
    };
    faer::linalg::matmul::triangular::matmul(
        gf,
        faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
        faer::Accum::Replace,
        xf,
        faer::linalg::matmul::triangular::BlockStructure::Rectangular,
        xf.transpose(),
        faer::linalg::matmul::triangular::BlockStructure::Rectangular,
        1.0,
        faer::Par::rayon(0),
    );
    g
}

/// Reuse an f64 matrix as `Array2<T>` when T is f64, convert otherwise.
pub(crate) fn into_real<T: Real>(a: Array2<f64>) -> Array2<T> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f64>() {
        // SAFETY: T is f64, checked above.
        let a = std::mem::ManuallyDrop::new(a);
        unsafe { std::ptr::read(&*a as *const Array2<f64> as *const Array2<T>) }
    } else {
        a.mapv(T::from_f64)
    }
}
