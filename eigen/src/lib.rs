//! # deq-eigen
//!
//! Dense symmetric eigensolvers and spectrum tools for the large matrices of kernel methods, in f32 and f64.
//!
//! - [`SymmetricEigensolver`]: one interface for all eigenvalues, eigenpairs, an index or value range, or the k
//!   largest or smallest, answered by [`FaerEigen`] (pure Rust, in every build: a blocked Householder
//!   tridiagonalization on faer's kernels and a parallel divide and conquer), `LapackEigen` (feature
//!   `openblas`: `?syevd`, `?syevd_2stage` and `?syevr` called directly) and [`LanczosEigen`] (the k extreme
//!   pairs by block Krylov–Schur with full reorthogonalization, through block products only). [`Backend`]
//!   chooses one by value.
//! - [`lanczos`]: the matrix-free solver itself, for any [`SymmetricOperator`].
//! - [`slq`]: stochastic Lanczos quadrature — the spectral density and trace functions (log-det, …) of an
//!   operator from block products with random probes.
//! - [`tridiagonal`]: the blocked reduction to tridiagonal form; [`divide_and_conquer`]: the eigenvalues or
//!   eigenpairs of the tridiagonal matrix.
//! - [`spectrum`]: histograms and smoothed densities, the Wasserstein-1 distance between spectra, operator-norm
//!   and Frobenius distances between matrices.
//! - [`buffer`]: zeroed matrices on huge pages, for the n×n inputs of the solvers; [`views`]: ndarray views as
//!   faer matrices and the product the solvers use, for callers that mix both.
//! - [`tolerance`]: every accuracy threshold, named once.
//!
//! Every decomposition can report its accuracy: [`EigenDecomposition::residual`] is max_i ‖Av_i − λ_iv_i‖₂ and
//! [`EigenDecomposition::orthogonality`] is max|VᵀV − I|.
//!
//! ```
//! use deq_eigen::{EigenRequest, FaerEigen, Subset, SymmetricEigensolver};
//! let n = 500;
//! // The second-difference matrix: eigenvalues 2 − 2cos(kπ/(n + 1)), k = 1..n.
//! let a = ndarray::Array2::from_shape_fn((n, n), |(i, j)| match i.abs_diff(j) {
//!     0 => 2.0,
//!     1 => -1.0,
//!     _ => 0.0,
//! });
//! let top = FaerEigen::default().solve(a.view(), &EigenRequest::subset(Subset::Largest(3)).with_vectors())?;
//! let exact = |k: usize| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
//! assert!((top.values[2] - exact(n)).abs() < 1e-12);
//! assert!(top.residual(a.view()).unwrap() < 1e-12);
//! # Ok::<(), deq_eigen::Error>(())
//! ```
//!
//! Threads: the solvers run on the caller's rayon pool ([`Par::Pool`], the default) or as many threads as
//! [`Par`] says; the busy-waiting helpers of the reduction never take more cores than the process may use,
//! and concurrent solves share them (docs/spectra.md, "Threads").

#![warn(missing_docs)]

mod backend;
pub mod buffer;
mod dense;
pub mod divide_and_conquer;
mod error;
pub mod lanczos;
#[cfg(feature = "openblas")]
mod lapack_driver;
pub mod operator;
mod real;
mod root_free_ql;
#[doc(hidden)]
pub mod simd;
pub mod slq;
pub mod spectrum;
mod spin_team;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tolerance;
pub mod tridiagonal;
pub mod two_stage;
pub mod views;

use ndarray::{Array2, ArrayView2, ShapeBuilder};

pub use backend::{Backend, LapackDriver, Par};
pub use dense::{FaerEigen, Reduction};
pub use error::{Error, Result};
pub use lanczos::{LanczosEigen, LanczosParams, LanczosReport};
#[cfg(feature = "openblas")]
pub use lapack_driver::LapackEigen;
pub use operator::{FnOperator, SymmetricOperator};
pub use real::Real;
use views::{faer_mut, faer_ref, matmul_into};

#[cfg(feature = "openblas")]
extern crate openblas_src;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

/// The element types the eigensolvers accept: f32 and f64 (sealed through [`Real`]).
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
    /// The smallest positive normal value of the type.
    const MIN_POSITIVE: f64;
    /// self·a + b with one rounding.
    fn fma(self, a: Self, b: Self) -> Self;
}
impl EigenScalar for f32 {
    const EPSILON: f64 = f32::EPSILON as f64;
    const MIN_POSITIVE: f64 = f32::MIN_POSITIVE as f64;
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
}
impl EigenScalar for f64 {
    const EPSILON: f64 = f64::EPSILON;
    const MIN_POSITIVE: f64 = f64::MIN_POSITIVE;
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
}

/// Which eigenpairs to compute. Results are always in ascending order of eigenvalue.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Subset {
    /// All n.
    All,
    /// The eigenvalues with ascending indices `first..=last` (0-based).
    Index {
        /// First index.
        first: usize,
        /// Last index (inclusive).
        last: usize,
    },
    /// The eigenvalues in the half-open interval (lower, upper].
    Values {
        /// Lower end (excluded).
        lower: f64,
        /// Upper end (included).
        upper: f64,
    },
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
#[non_exhaustive]
pub struct EigenRequest {
    /// Which eigenvalues.
    pub subset: Subset,
    /// Whether to compute the eigenvectors too.
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
#[non_exhaustive]
pub struct EigenDecomposition<T> {
    /// The eigenvalues, ascending.
    pub values: Vec<T>,
    /// The unit eigenvectors, one per column (column-major), when requested.
    pub vectors: Option<Array2<T>>,
    /// The routine that computed them (`faer`, `dsyevd`, `ssyevr`, `lanczos`, …).
    pub driver: &'static str,
}

/// Accuracy of a decomposition, measured on request.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct EigenAccuracy {
    /// max_i ‖Av_i − λ_iv_i‖₂.
    pub residual: f64,
    /// max |VᵀV − I|.
    pub orthogonality: f64,
}

impl<T: EigenScalar> EigenDecomposition<T> {
    /// The part `subset` asks for of all n eigenvalues (ascending) and, when given, their eigenvectors (the
    /// columns of an n×n matrix, in the same order): how a backend that computes the whole spectrum answers any
    /// request. `driver` names the routine.
    pub fn from_all_pairs(
        values: Vec<T>,
        vectors: Option<Array2<T>>,
        subset: &Subset,
        driver: &'static str,
    ) -> Result<Self> {
        select(values, vectors, subset, driver)
    }

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
    /// [`tolerance::SYMMETRY`]·max|a|).
    fn solve(&self, a: ArrayView2<T>, request: &EigenRequest) -> Result<EigenDecomposition<T>>;
    /// Whether [`solve`](Self::solve) answers `request` (all backends of this crate answer every request but
    /// eigenvectors from `?syevd_2stage` and anything but the extremes from Lanczos, which return
    /// [`Error::Unsupported`]). Test suites use it to skip what a backend does not claim.
    fn supports(&self, request: &EigenRequest) -> bool {
        let _ = request;
        true
    }
    /// All eigenvalues, ascending.
    fn eigenvalues(&self, a: ArrayView2<T>) -> Result<Vec<T>> {
        Ok(self.solve(a, &EigenRequest::values())?.values)
    }
}

/// Refuse non-square, non-finite or non-symmetric input: |a_ij − a_ji| ≤ `rel_tol`·max|a|. One branch-free pass
/// over the lower triangle and its mirror in tiles (on all threads from order 1024);
/// only a refused matrix is scanned again, to name the offending entry.
pub fn check_symmetric<T: Real>(a: ArrayView2<T>, rel_tol: f64) -> Result<()> {
    checked_max_abs(a, rel_tol).map(|_| ())
}

/// The order of a square matrix of dimensions `dim`; `Error::Shape` otherwise.
pub(crate) fn check_square((n, m): (usize, usize)) -> Result<usize> {
    if n != m {
        return Err(Error::Shape {
            what: format!("a symmetric matrix must be square, got {n}×{m}"),
        });
    }
    Ok(n)
}

/// [`check_symmetric`], returning max|a_ij| of the accepted matrix.
pub(crate) fn checked_max_abs<T: Real>(a: ArrayView2<T>, rel_tol: f64) -> Result<f64> {
    use rayon::prelude::*;
    let n = check_square(a.dim())?;
    let tile_rows = n.div_ceil(SYMMETRY_TILE);
    let extremes =
        |ti: usize| symmetry_extremes(a, ti * SYMMETRY_TILE, ((ti + 1) * SYMMETRY_TILE).min(n));
    let combine = |x: Extremes, y: Extremes| Extremes {
        scale: x.scale.max(y.scale),
        asymmetry: x.asymmetry.max(y.asymmetry),
        finite: x.finite && y.finite,
    };
    let all = if n >= PARALLEL_CHECK_FROM {
        (0..tile_rows)
            .into_par_iter()
            .map(extremes)
            .reduce(Extremes::default, combine)
    } else {
        (0..tile_rows)
            .map(extremes)
            .fold(Extremes::default(), combine)
    };
    if all.finite && all.asymmetry <= rel_tol * all.scale {
        return Ok(all.scale);
    }
    locate_asymmetry(a, rel_tol * all.scale).map(|()| all.scale)
}

/// Order from which [`check_symmetric`] splits its pass over rayon's threads: one thread takes about 1 ms at
/// n = 1000, where two took 0.8 to 2 ms (waking a sleeping worker on a virtual machine), and 6.5 ms at n = 2000,
/// where two take 3.5 ms.
const PARALLEL_CHECK_FROM: usize = 1024;
/// Tiles of 32×32: the mirrored reads touch 32 rows (pages, for n ≥ 512) at a time; 64×64 tiles were 1.4×
/// slower at n = 2000, 16×16 2.3×.
const SYMMETRY_TILE: usize = 32;

/// Over pairs (a_ij, a_ji), j ≤ i: the largest |a_ij| or |a_ji|, the largest |a_ij − a_ji|, and whether all
/// are finite.
#[derive(Clone, Copy)]
struct Extremes {
    scale: f64,
    asymmetry: f64,
    finite: bool,
}

impl Default for Extremes {
    fn default() -> Self {
        Extremes {
            scale: 0.0,
            asymmetry: 0.0,
            finite: true,
        }
    }
}

/// [`Extremes`] of rows i0..i1 of the lower triangle, tile by tile so that the mirrored reads stay in cache,
/// with [`LANES`] independent running maxima (one chain of dependent maxima runs at a third of the speed).
fn symmetry_extremes<T: Real>(a: ArrayView2<T>, i0: usize, i1: usize) -> Extremes {
    let mut scale = [0f64; LANES];
    let mut asymmetry = [0f64; LANES];
    let mut finite = true;
    for j0 in (0..i1).step_by(SYMMETRY_TILE) {
        for i in i0..i1 {
            let j1 = (j0 + SYMMETRY_TILE).min(i + 1);
            for j in (j0..j1).step_by(LANES) {
                for l in 0..LANES.min(j1 - j) {
                    // SAFETY: j + l < j1 ≤ i + 1 ≤ n, the order of the square `a`.
                    let (x, y) =
                        unsafe { (a.uget((i, j + l)).to_f64(), a.uget((j + l, i)).to_f64()) };
                    finite &= x.is_finite() & y.is_finite();
                    let (m, d) = (x.abs().max(y.abs()), (x - y).abs());
                    scale[l] = if m > scale[l] { m } else { scale[l] };
                    asymmetry[l] = if d > asymmetry[l] { d } else { asymmetry[l] };
                }
            }
        }
    }
    Extremes {
        scale: scale.into_iter().fold(0.0, f64::max),
        asymmetry: asymmetry.into_iter().fold(0.0, f64::max),
        finite,
    }
}

/// Independent accumulators in [`symmetry_extremes`].
const LANES: usize = 8;

/// The error for a matrix [`check_symmetric`] refuses: its first non-finite entry, or else its largest
/// asymmetry, which exceeds `tolerance` (from the first pass's max|a|).
fn locate_asymmetry<T: Real>(a: ArrayView2<T>, tolerance: f64) -> Result<()> {
    let n = a.nrows();
    let mut worst = (0, 0, 0f64);
    for i in 0..n {
        for j in 0..=i {
            let (x, y) = (a[[i, j]].to_f64(), a[[j, i]].to_f64());
            for (value, (r, c)) in [(x, (i, j)), (y, (j, i))] {
                if !value.is_finite() {
                    return Err(Error::NonFinite {
                        what: "matrix",
                        location: format!("({r}, {c})"),
                    });
                }
            }
            if (x - y).abs() > worst.2 {
                worst = (i, j, (x - y).abs());
            }
        }
    }
    Err(Error::NotSymmetric {
        i: worst.0,
        j: worst.1,
        difference: worst.2,
        tolerance,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetry_check_names_the_worst_pair_and_the_first_non_finite_entry() {
        // One thread below PARALLEL_CHECK_FROM, rayon's above; partial last tiles; row-major and transposed
        // (column-major) views.
        for n in [1, 5, 33, 100, PARALLEL_CHECK_FROM + 37] {
            let a = crate::testing::random_symmetric(n, n as u64);
            let scale = a.iter().fold(0f64, |m, x| m.max(x.abs()));
            assert!(check_symmetric(a.view(), 1e-10).is_ok());
            assert!(check_symmetric(a.t(), 1e-10).is_ok());
            if n < 5 {
                continue;
            }
            let (i, j) = (n - 2, 1);
            // Within the tolerance, accepted; beyond it, refused at the pair with the larger difference.
            let mut b = a.clone();
            b[[j, i]] += 0.5e-10 * scale;
            assert!(check_symmetric(b.view(), 1e-10).is_ok());
            b[[j, i]] += 1e-9 * scale;
            b[[2, 0]] += 1e-10 * scale;
            for view in [b.view(), b.t()] {
                match check_symmetric(view, 1e-10) {
                    Err(Error::NotSymmetric { i: r, j: c, .. }) => assert_eq!((r, c), (i, j)),
                    other => panic!("n = {n}: {other:?}"),
                }
            }
            // Non-finite entries win over asymmetry; the first in row order of the lower triangle is named.
            b[[i, 1]] = f64::INFINITY;
            b[[0, 2]] = f64::NAN;
            match check_symmetric(b.view(), 1e-10) {
                Err(Error::NonFinite { location, .. }) => assert_eq!(location, "(0, 2)"),
                other => panic!("n = {n}: {other:?}"),
            }
        }
        assert!(matches!(
            check_symmetric(Array2::<f64>::zeros((2, 3)).view(), 1e-10),
            Err(Error::Shape { .. })
        ));
    }
}
