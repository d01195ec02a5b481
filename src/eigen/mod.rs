//! Dense symmetric eigenvalues of kernel matrices.
//!
//! Backends behind one trait: [`FaerEigen`] (pure Rust, always available) and, with the `openblas` feature,
//! [`LapackEigen`] calling LAPACK's divide-and-conquer driver `dsyevd` directly (not through
//! ndarray-linalg, whose `eigh` uses the much slower `dsyev`).

use ndarray::ArrayView2;

use crate::{Error, Result};

/// A dense symmetric eigenvalue solver.
pub trait SymmetricEigensolver {
    /// Backend name, as the CLI spells it.
    fn name(&self) -> &'static str;
    /// All eigenvalues of the symmetric matrix `a` (its lower triangle is read), ascending.
    fn eigenvalues(&self, a: ArrayView2<f64>) -> Result<Vec<f64>>;
}

/// Refuse non-square, non-finite or non-symmetric input: |a_ij − a_ji| ≤ `rel_tol`·max|a|.
pub fn check_symmetric(a: ArrayView2<f64>, rel_tol: f64) -> Result<()> {
    let (n, m) = a.dim();
    if n != m {
        return Err(Error::Shape {
            what: format!("a symmetric matrix must be square, got {n}×{m}"),
        });
    }
    let mut scale = 0f64;
    for ((i, j), v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what: "matrix",
                location: format!("({i}, {j})"),
            });
        }
        scale = scale.max(v.abs());
    }
    for i in 0..n {
        for j in 0..i {
            if (a[[i, j]] - a[[j, i]]).abs() > rel_tol * scale {
                return Err(Error::Shape {
                    what: format!(
                        "matrix is not symmetric: entries ({i}, {j}) = {} and ({j}, {i}) = {} differ by more than {rel_tol:e}·max|a|",
                        a[[i, j]],
                        a[[j, i]]
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Symmetry tolerance used by the backends (relative to max|a|).
pub const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// faer's self-adjoint eigensolver (pure Rust).
#[derive(Debug, Clone, Copy, Default)]
pub struct FaerEigen;

impl SymmetricEigensolver for FaerEigen {
    fn name(&self) -> &'static str {
        "faer"
    }

    fn eigenvalues(&self, a: ArrayView2<f64>) -> Result<Vec<f64>> {
        check_symmetric(a, SYMMETRY_TOLERANCE)?;
        let n = a.nrows();
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| if i >= j { a[[i, j]] } else { a[[j, i]] });
        let mut w = m
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .map_err(|e| Error::Backend {
                backend: "faer",
                detail: format!("{e:?}"),
            })?;
        w.sort_by(f64::total_cmp);
        Ok(w)
    }
}

/// LAPACK `dsyevd` (eigenvalues only) through the system OpenBLAS.
#[cfg(feature = "openblas")]
#[derive(Debug, Clone, Copy, Default)]
pub struct LapackEigen;

#[cfg(feature = "openblas")]
impl SymmetricEigensolver for LapackEigen {
    fn name(&self) -> &'static str {
        "lapack"
    }

    fn eigenvalues(&self, a: ArrayView2<f64>) -> Result<Vec<f64>> {
        check_symmetric(a, SYMMETRY_TOLERANCE)?;
        let n = a.nrows();
        if n == 0 {
            return Ok(Vec::new());
        }
        let ni = i32::try_from(n).map_err(|_| Error::Shape {
            what: format!("n = {n} exceeds LAPACK's 32-bit index range"),
        })?;
        // Row-major lower triangle = column-major upper triangle.
        let mut buf: Vec<f64> = a.as_standard_layout().iter().copied().collect();
        let mut w = vec![0.0; n];
        let (mut info, mut qwork, mut qiwork) = (0, [0.0], [0]);
        // SAFETY: buffers have the sizes LAPACK documents; the first call is a workspace query.
        unsafe {
            lapack::dsyevd(
                b'N',
                b'U',
                ni,
                &mut buf,
                ni,
                &mut w,
                &mut qwork,
                -1,
                &mut qiwork,
                -1,
                &mut info,
            );
        }
        let lwork = qwork[0] as i32;
        let liwork = qiwork[0];
        let mut work = vec![0.0; lwork.max(1) as usize];
        let mut iwork = vec![0; liwork.max(1) as usize];
        unsafe {
            lapack::dsyevd(
                b'N', b'U', ni, &mut buf, ni, &mut w, &mut work, lwork, &mut iwork, liwork,
                &mut info,
            );
        }
        if info != 0 {
            return Err(Error::Backend {
                backend: "lapack",
                detail: format!("dsyevd returned info = {info}"),
            });
        }
        Ok(w)
    }
}
