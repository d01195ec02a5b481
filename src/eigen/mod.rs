//! Symmetric eigenproblems of kernel matrices and the tools to look at their spectra.
//!
//! - [`SymmetricEigensolver`]: one interface over f32 and f64 for all eigenvalues, eigenpairs, an index or value
//!   range, or the k largest or smallest, answered by [`FaerEigen`] (pure Rust, always there), [`LapackEigen`]
//!   (feature `openblas`: `dsyevd`, `dsyevd_2stage`, `dsyevr` and their single-precision twins called directly
//!   through the `lapack` crate) and [`LanczosEigen`] (the k extreme pairs by block Krylov–Schur with full
//!   reorthogonalization, through a block matrix–vector product only).
//! - [`lanczos`]: the matrix-free solver itself, for any [`SymmetricOperator`].
//! - [`slq`]: stochastic Lanczos quadrature — the spectral density and trace functions (log-det, …) of an
//!   operator from block products with random probes.
//! - [`tridiagonal`]: blocked Householder reduction to tridiagonal form, behind [`FaerEigen`]'s eigenvalues and
//!   eigenpairs; [`divide_and_conquer`]: the eigenvalues or eigenpairs of the tridiagonal matrix, behind both.
//! - [`spectrum`]: histograms and smoothed densities, the Wasserstein-1 distance between spectra, operator-norm
//!   and Frobenius distances between matrices; [`crate::plot::spectra`] draws overlaid spectra as PNG or SVG.
//!
//! Every decomposition can report its accuracy on request: [`EigenDecomposition::residual`] is
//! max_i ‖Av_i − λ_iv_i‖₂ and [`EigenDecomposition::orthogonality`] is max|VᵀV − I|.

mod dense;
pub mod divide_and_conquer;
pub mod lanczos;
#[cfg(feature = "openblas")]
mod lapack_driver;
pub mod operator;
mod root_free_ql;
pub mod slq;
pub mod spectrum;
pub mod tridiagonal;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};
use serde::Serialize;

pub use dense::FaerEigen;
pub use lanczos::{LanczosEigen, LanczosParams, LanczosReport};
#[cfg(feature = "openblas")]
pub use lapack_driver::{LapackDriver, LapackEigen, LapackScalar};
pub use operator::{FnOperator, SymmetricOperator};

use crate::{Error, Real, Result};

/// The element types the eigensolvers accept: f32 and f64.
pub trait EigenScalar:
    Real
    + faer::traits::RealField
    + num_traits::Zero
    + num_traits::One
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::SubAssign
{
    /// Machine epsilon of the type.
    const EPSILON: f64;
    /// self·a + b with one rounding.
    fn fma(self, a: Self, b: Self) -> Self;
}
impl EigenScalar for f32 {
    const EPSILON: f64 = f32::EPSILON as f64;
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
}
impl EigenScalar for f64 {
    const EPSILON: f64 = f64::EPSILON;
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
}

/// Which eigenpairs to compute. Results are always in ascending order of eigenvalue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subset {
    /// All n.
    All,
    /// The eigenvalues with ascending indices `first..=last` (0-based).
    Index { first: usize, last: usize },
    /// The eigenvalues in the half-open interval (lower, upper].
    Values { lower: f64, upper: f64 },
    /// The k largest.
    Largest(usize),
    /// The k smallest.
    Smallest(usize),
}

impl Subset {
    /// The index range `first..=last` this subset selects among n ascending eigenvalues (`None` for
    /// [`Subset::Values`], which depends on the values, and for empty selections).
    pub fn index_range(&self, n: usize) -> Result<Option<(usize, usize)>> {
        let bad = |what: String| Err(Error::Shape { what });
        match *self {
            Subset::All => Ok((n > 0).then(|| (0, n - 1))),
            Subset::Index { first, last } => {
                if first > last || last >= n {
                    return bad(format!(
                        "eigenvalue index range {first}..={last} is not inside 0..={} of a {n}×{n} matrix",
                        n.saturating_sub(1)
                    ));
                }
                Ok(Some((first, last)))
            }
            Subset::Largest(k) | Subset::Smallest(k) => {
                if k > n {
                    return bad(format!("asked for {k} eigenvalues of a {n}×{n} matrix"));
                }
                if k == 0 {
                    return Ok(None);
                }
                Ok(Some(if matches!(self, Subset::Largest(_)) {
                    (n - k, n - 1)
                } else {
                    (0, k - 1)
                }))
            }
            Subset::Values { lower, upper } => {
                if !(lower.is_finite() && upper.is_finite() && lower < upper) {
                    return Err(Error::InvalidParameter {
                        name: "eigenvalue interval",
                        value: upper - lower,
                        requirement: "need finite lower < upper",
                    });
                }
                Ok(None)
            }
        }
    }
}

/// What to compute: a subset of the spectrum, with or without eigenvectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EigenRequest {
    pub subset: Subset,
    pub vectors: bool,
}

impl EigenRequest {
    /// All eigenvalues, no vectors.
    pub fn values() -> Self {
        EigenRequest {
            subset: Subset::All,
            vectors: false,
        }
    }
    /// All eigenpairs.
    pub fn pairs() -> Self {
        EigenRequest {
            subset: Subset::All,
            vectors: true,
        }
    }
    /// A subset, values only.
    pub fn subset(subset: Subset) -> Self {
        EigenRequest {
            subset,
            vectors: false,
        }
    }
    /// The same request with eigenvectors.
    pub fn with_vectors(mut self) -> Self {
        self.vectors = true;
        self
    }
}

/// Eigenvalues (ascending) and, when asked for, the matching unit eigenvectors as the columns of an n×m matrix.
#[derive(Debug, Clone)]
pub struct EigenDecomposition<T> {
    pub values: Vec<T>,
    pub vectors: Option<Array2<T>>,
    /// The routine that computed them (`faer`, `dsyevd`, `ssyevr`, `lanczos`, …).
    pub driver: &'static str,
}

/// Accuracy of a decomposition, measured on request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EigenAccuracy {
    /// max_i ‖Av_i − λ_iv_i‖₂.
    pub residual: f64,
    /// max |VᵀV − I|.
    pub orthogonality: f64,
}

impl<T: EigenScalar> EigenDecomposition<T> {
    /// max_i ‖Av_i − λ_iv_i‖₂ (`None` without vectors), with AV by one matrix product.
    pub fn residual(&self, a: ArrayView2<T>) -> Option<f64> {
        let v = self.vectors.as_ref()?;
        let (n, m) = v.dim();
        if m == 0 {
            return Some(0.0);
        }
        let mut av = Array2::<T>::zeros((n, m).f());
        matmul_into(av.view_mut(), a, v.view(), false);
        let worst = (0..m)
            .map(|j| {
                let lambda = self.values[j].to_f64();
                av.column(j)
                    .iter()
                    .zip(v.column(j))
                    .map(|(x, y)| {
                        let r = x.to_f64() - lambda * y.to_f64();
                        r * r
                    })
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(0.0, f64::max);
        Some(worst)
    }

    /// max |VᵀV − I| (`None` without vectors).
    pub fn orthogonality(&self) -> Option<f64> {
        let v = self.vectors.as_ref()?;
        let m = v.ncols();
        let mut g = Array2::<T>::zeros((m, m).f());
        matmul_into(g.view_mut(), v.t(), v.view(), false);
        Some(
            g.indexed_iter()
                .map(|((i, j), x)| (x.to_f64() - if i == j { 1.0 } else { 0.0 }).abs())
                .fold(0.0, f64::max),
        )
    }

    /// Both measures (`None` without vectors).
    pub fn accuracy(&self, a: ArrayView2<T>) -> Option<EigenAccuracy> {
        Some(EigenAccuracy {
            residual: self.residual(a)?,
            orthogonality: self.orthogonality()?,
        })
    }
}

/// A dense symmetric eigensolver.
pub trait SymmetricEigensolver<T: EigenScalar> {
    /// Backend name, as the CLI spells it.
    fn name(&self) -> &'static str;
    /// The requested eigenpairs of the symmetric matrix `a` (checked: square, finite, symmetric to
    /// [`SYMMETRY_TOLERANCE`]·max|a|).
    fn solve(&self, a: ArrayView2<T>, request: &EigenRequest) -> Result<EigenDecomposition<T>>;
    /// All eigenvalues, ascending.
    fn eigenvalues(&self, a: ArrayView2<T>) -> Result<Vec<T>> {
        Ok(self.solve(a, &EigenRequest::values())?.values)
    }
}

/// Symmetry tolerance used by the backends (relative to max|a|).
pub const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// Refuse non-square, non-finite or non-symmetric input: |a_ij − a_ji| ≤ `rel_tol`·max|a|. One pass in
/// 64×64 tiles on all threads.
pub fn check_symmetric<T: Real>(a: ArrayView2<T>, rel_tol: f64) -> Result<()> {
    use rayon::prelude::*;
    let (n, m) = a.dim();
    if n != m {
        return Err(Error::Shape {
            what: format!("a symmetric matrix must be square, got {n}×{m}"),
        });
    }
    const TILE: usize = 64;
    let tiles = n.div_ceil(TILE);
    // Per tile row: the largest |a_ij| and the worst asymmetry (i, j, |a_ij − a_ji|), or the first non-finite entry.
    type Scan = std::result::Result<(f64, (usize, usize, f64)), (usize, usize)>;
    let scans: Vec<Scan> = (0..tiles)
        .into_par_iter()
        .map(|ti| {
            let (i0, i1) = (ti * TILE, ((ti + 1) * TILE).min(n));
            let mut scale = 0f64;
            let mut worst = (0, 0, 0f64);
            for tj in 0..=ti {
                let (j0, j1) = (tj * TILE, ((tj + 1) * TILE).min(n));
                for i in i0..i1 {
                    for j in j0..j1.min(i + 1) {
                        let (x, y) = (a[[i, j]].to_f64(), a[[j, i]].to_f64());
                        if !x.is_finite() {
                            return Err((i, j));
                        }
                        if !y.is_finite() {
                            return Err((j, i));
                        }
                        scale = scale.max(x.abs()).max(y.abs());
                        let d = (x - y).abs();
                        if d > worst.2 {
                            worst = (i, j, d);
                        }
                    }
                }
            }
            Ok((scale, worst))
        })
        .collect();
    let mut scale = 0f64;
    let mut worst = (0, 0, 0f64);
    for s in scans {
        match s {
            Err((i, j)) => {
                return Err(Error::NonFinite {
                    what: "matrix",
                    location: format!("({i}, {j})"),
                })
            }
            Ok((sc, w)) => {
                scale = scale.max(sc);
                if w.2 > worst.2 {
                    worst = w;
                }
            }
        }
    }
    if worst.2 > rel_tol * scale {
        return Err(Error::NotSymmetric {
            i: worst.0,
            j: worst.1,
            difference: worst.2,
            tolerance: rel_tol * scale,
        });
    }
    Ok(())
}

/// A faer view of an ndarray view, any strides, no copy.
pub(crate) fn faer_ref<T>(a: ArrayView2<'_, T>) -> faer::MatRef<'_, T> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, shape and strides come from a live ndarray view of the same lifetime.
    unsafe { faer::MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

/// A mutable faer view of an ndarray view, any strides, no copy.
pub(crate) fn faer_mut<T>(mut a: ArrayViewMut2<'_, T>) -> faer::MatMut<'_, T> {
    let (r, c) = a.dim();
    let s = a.strides().to_vec();
    // SAFETY: as for `faer_ref`; the view is borrowed mutably for the same lifetime.
    unsafe { faer::MatMut::from_raw_parts_mut(a.as_mut_ptr(), r, c, s[0], s[1]) }
}

/// dst ← lhs·rhs (or dst += lhs·rhs with `accumulate`), faer's product on all threads.
pub(crate) fn matmul_into<T: EigenScalar>(
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

/// Pick the requested part of all n ascending eigenpairs.
pub(crate) fn select<T: EigenScalar>(
    values: Vec<T>,
    vectors: Option<Array2<T>>,
    subset: &Subset,
    driver: &'static str,
) -> Result<EigenDecomposition<T>> {
    let n = values.len();
    let range: Vec<usize> = match subset {
        Subset::Values { lower, upper } => {
            subset.index_range(n)?;
            (0..n)
                .filter(|&i| {
                    let v = values[i].to_f64();
                    v > *lower && v <= *upper
                })
                .collect()
        }
        _ => match subset.index_range(n)? {
            Some((a, b)) => (a..=b).collect(),
            None => Vec::new(),
        },
    };
    if range.len() == n {
        return Ok(EigenDecomposition {
            values,
            vectors,
            driver,
        });
    }
    let vectors = vectors.map(|v| {
        let mut out = Array2::<T>::zeros((v.nrows(), range.len()).f());
        for (k, &j) in range.iter().enumerate() {
            out.column_mut(k).assign(&v.column(j));
        }
        out
    });
    Ok(EigenDecomposition {
        values: range.iter().map(|&i| values[i]).collect(),
        vectors,
        driver,
    })
}

/// Deterministic numbers uniform on [−½, ½) (xorshift64) for the unit tests of the eigen modules.
#[cfg(test)]
pub(crate) fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// The diagonal of a [`random_tridiagonal`].
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum TestDiagonal {
    Random,
    /// Every entry equal to the scale.
    Constant,
    /// Random entries rounded to a few distinct values (repeated eigenvalues).
    FewValues,
}

/// A random symmetric tridiagonal (d, e) of order n for the eigen modules' property tests: uniform entries, graded
/// over `grade` decades along the diagonal, times 10^scale_exp, with `zeros` off-diagonal entries set to zero.
#[cfg(test)]
pub(crate) fn random_tridiagonal(
    n: usize,
    seed: u64,
    grade: i32,
    scale_exp: i32,
    zeros: usize,
    diagonal: TestDiagonal,
) -> (Vec<f64>, Vec<f64>) {
    let mut next = uniform_stream(seed);
    let scale = 10f64.powi(scale_exp);
    let graded = |i: usize| 10f64.powf(-(grade as f64) * i as f64 / n as f64);
    let mut d: Vec<f64> = (0..n).map(|i| scale * graded(i) * next()).collect();
    let mut e: Vec<f64> = (0..n.saturating_sub(1))
        .map(|i| scale * graded(i) * next())
        .collect();
    match diagonal {
        TestDiagonal::Random => {}
        TestDiagonal::Constant => d.iter_mut().for_each(|x| *x = scale),
        TestDiagonal::FewValues => d
            .iter_mut()
            .for_each(|x| *x = scale * (*x / scale * 4.0).round()),
    }
    for k in 0..zeros.min(e.len()) {
        let i = (k * 7 + seed as usize) % e.len();
        e[i] = 0.0;
    }
    (d, e)
}
