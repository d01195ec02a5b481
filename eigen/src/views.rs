//! ndarray views as faer matrices (any strides, no copy), and the matrix product the solvers use.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::EigenScalar;

/// A faer view of an ndarray view, any strides, no copy.
pub fn faer_ref<T>(a: ArrayView2<'_, T>) -> faer::MatRef<'_, T> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, shape and strides come from a live ndarray view of the same lifetime.
    unsafe { faer::MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

/// A mutable faer view of an ndarray view, any strides, no copy.
pub fn faer_mut<T>(mut a: ArrayViewMut2<'_, T>) -> faer::MatMut<'_, T> {
    let (r, c) = a.dim();
    let s = a.strides().to_vec();
    // SAFETY: as for `faer_ref`; the view is borrowed mutably for the same lifetime.
    unsafe { faer::MatMut::from_raw_parts_mut(a.as_mut_ptr(), r, c, s[0], s[1]) }
}

/// dst ← lhs·rhs (or dst += lhs·rhs with `accumulate`), faer's product on the caller's rayon pool.
pub fn matmul_into<T: EigenScalar>(
    dst: ArrayViewMut2<T>,
    lhs: ArrayView2<T>,
    rhs: ArrayView2<T>,
    accumulate: bool,
) {
    faer::linalg::matmul::matmul(
        faer_mut(dst),
        if accumulate {
            faer::Accum::Add
        } else {
            faer::Accum::Replace
        },
        faer_ref(lhs),
        faer_ref(rhs),
        T::one(),
        faer::Par::rayon(0),
    );
}
