//! A kit for testing symmetric eigensolvers (feature `testing`): the matrix families a serious eigensolver test
//! suite uses, as plain generators and as proptest strategies, and checkers that measure an identity against
//! its tolerance and return a [`Check`] instead of panicking.
//!
//! A new backend is held to the same standard as the crate's own in a few lines:
//!
//! ```
//! use deq_eigen::testing::{check_backend, symmetric_matrices, Scale};
//! use deq_eigen::FaerEigen;
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(8), |(m in symmetric_matrices::<f64>(0..30usize, &[Scale::Unit]))| {
//!     for check in check_backend(&FaerEigen::default(), &m, 50.0).unwrap() {
//!         prop_assert!(check.holds(), "{check}");
//!     }
//! });
//! ```
//!
//! Matrices are generated in f64 from a [`MatrixSpec`] (family, order, scale, seed), so a failing case prints as
//! its spec and shrinks by its order and seed, and converted once to the precision under test.

use std::fmt;

use ndarray::{Array1, Array2};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::lanczos::{lanczos, Extreme, LanczosParams};
use crate::slq::{slq, SlqParams};
use crate::spectrum::wasserstein1_weighted;
use crate::{
    EigenDecomposition, EigenRequest, EigenScalar, FaerEigen, Result, SymmetricEigensolver,
};

/// The order from which [`FaerEigen`] takes its blocked path (tridiagonalization on a thread team, divide and
/// conquer): test sizes should reach past it.
pub const BLOCKED_FROM: usize = 400;

/// The order from which [`FaerEigen`]'s eigenvalues (without vectors) go through the two-stage reduction.
pub const TWO_STAGE_FROM: usize = crate::dense::TWO_STAGE_FROM;

/// How the eigenvalues of a [`MatrixFamily::KnownSpectrum`] matrix are laid out (λ₁ ≥ … in no order; the
/// generator sorts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Spectrum {
    /// Independent, uniform on [−1, 1].
    Uniform,
    /// Four tight clusters: 1, 2, 3, 4 plus offsets of 1e-10·j.
    Clustered,
    /// Graded over 24 decades: ±10^(−24k/n), signs alternating.
    Graded,
    /// Three distinct values, each repeated.
    Repeated,
    /// All in [−1, −1e-3].
    Negative,
    /// Half of them exactly 0, the rest uniform on [−1, 1].
    RankDeficient,
}

/// A family of symmetric test matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatrixFamily {
    /// Q·diag(λ)·Qᵀ with Q a random orthogonal matrix (the Q of a Gaussian matrix's QR factorization) and λ laid
    /// out as the [`Spectrum`] says; the eigenvalues are known exactly (up to the rounding of the product).
    KnownSpectrum(Spectrum),
    /// Wilkinson's W⁺: tridiagonal with diagonal |m − i| (order 2m + 1, or the nearest) and off-diagonal 1; its
    /// largest eigenvalues come in pairs that agree to many digits.
    Wilkinson,
    /// Copies of W⁺₂₁ on the diagonal, glued by off-diagonal entries 1e-10: clusters of nearly equal eigenvalues
    /// whose eigenvectors are hard to keep orthogonal.
    GluedWilkinson,
    /// The Clement (Kac) matrix: zero diagonal, off-diagonal √(i(n − i)); eigenvalues exactly −(n − 1),
    /// −(n − 3), …, n − 1.
    Clement,
    /// A random diagonal with off-diagonal entries of order 1e-13 relative: nearly diagonal, the deflation tests
    /// of every tridiagonal solver decide.
    TinyOffDiagonal,
    /// The zero matrix.
    Zero,
    /// A random diagonal matrix.
    Diagonal,
    /// A matrix made elsewhere ([`TestMatrix::from_matrix`]).
    External,
}

/// A power of two the whole matrix is multiplied by (exact in floating point, so the spectrum scales exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scale {
    /// Entries of order one.
    Unit,
    /// The largest entry near 2⁻²⁰ of the type's largest value (about 1e302 in f64, 3e32 in f32).
    NearOverflow,
    /// The largest entry near 2²⁰ times the type's smallest normal value (about 2e-302 in f64, 1e-32 in f32).
    NearUnderflow,
}

/// What a test matrix was made from: enough to make it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixSpec {
    /// The family.
    pub family: MatrixFamily,
    /// The order n.
    pub n: usize,
    /// The power of two applied.
    pub scale: Scale,
    /// The seed of the random parts.
    pub seed: u64,
}

/// A symmetric test matrix in the precision under test, with its spectrum when the family fixes it.
#[derive(Clone)]
pub struct TestMatrix<T> {
    /// How it was made.
    pub spec: MatrixSpec,
    /// The matrix (n×n, symmetric, standard layout).
    pub matrix: Array2<T>,
    /// The exact eigenvalues of the f64 matrix before rounding to T, ascending, when known.
    pub eigenvalues: Option<Vec<f64>>,
    /// ‖A‖_F of the matrix as stored, an upper bound for ‖A‖₂.
    pub norm: f64,
}

impl<T> fmt::Debug for TestMatrix<T> {
    /// The spec alone: a failing case reads as what to generate again, not as n² numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.spec)
    }
}

/// Standard normal draws from ChaCha8 seeded with `seed` (the same on every platform).
pub fn normal_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    move || StandardNormal.sample(&mut rng)
}

/// A random n×n orthogonal matrix: the Q factor of a matrix of independent standard normal entries.
pub fn random_orthogonal(n: usize, seed: u64) -> Array2<f64> {
    let mut draw = normal_stream(seed);
    let g = faer::Mat::<f64>::from_fn(n, n, |_, _| draw());
    let q = g.qr().compute_Q();
    Array2::from_shape_fn((n, n), |(i, j)| q[(i, j)])
}

/// Q·diag(λ)·Qᵀ for a random orthogonal Q, symmetrized exactly.
pub fn with_spectrum(lambda: &[f64], seed: u64) -> Array2<f64> {
    let n = lambda.len();
    let q = random_orthogonal(n, seed);
    let mut qd = q.clone();
    for (mut column, &l) in qd.columns_mut().into_iter().zip(lambda) {
        column *= l;
    }
    let a = qd.dot(&q.t());
    (&a + &a.t()) * 0.5
}

/// The eigenvalues a [`Spectrum`] lays out for order n (unsorted).
pub fn spectrum(shape: Spectrum, n: usize, seed: u64) -> Vec<f64> {
    let mut half = uniform_stream(seed ^ 0x5eed);
    let mut uniform = move || 2.0 * half();
    (0..n)
        .map(|k| match shape {
            Spectrum::Uniform => uniform(),
            Spectrum::Clustered => (1 + k % 4) as f64 + 1e-10 * (k / 4) as f64,
            Spectrum::Graded => {
                let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                sign * 10f64.powf(-24.0 * k as f64 / n.max(1) as f64)
            }
            Spectrum::Repeated => [-1.0, 0.5, 2.0][k % 3],
            Spectrum::Negative => -(1e-3 + (1.0 - 1e-3) * 0.5 * (uniform() + 1.0)),
            Spectrum::RankDeficient => {
                if k % 2 == 0 {
                    0.0
                } else {
                    uniform()
                }
            }
        })
        .collect()
}

/// A symmetric tridiagonal matrix as a dense one.
fn tridiagonal(d: &[f64], e: &[f64]) -> Array2<f64> {
    let n = d.len();
    let mut a = Array2::zeros((n, n));
    for i in 0..n {
        a[[i, i]] = d[i];
        if i + 1 < n {
            a[[i, i + 1]] = e[i];
            a[[i + 1, i]] = e[i];
        }
    }
    a
}

/// W⁺ of order n: diagonal |m − i| with m = (n − 1)/2, off-diagonal 1.
fn wilkinson_plus(n: usize) -> Array2<f64> {
    let m = (n as f64 - 1.0) / 2.0;
    let d: Vec<f64> = (0..n).map(|i| (m - i as f64).abs()).collect();
    tridiagonal(&d, &vec![1.0; n.saturating_sub(1)])
}

/// The test matrix of `spec` in f64, with its exact spectrum when the family fixes it.
pub fn test_matrix(spec: MatrixSpec) -> (Array2<f64>, Option<Vec<f64>>) {
    let n = spec.n;
    let (a, mut lambda) = match spec.family {
        MatrixFamily::KnownSpectrum(shape) => {
            let lambda = spectrum(shape, n, spec.seed);
            (with_spectrum(&lambda, spec.seed), Some(lambda))
        }
        MatrixFamily::Wilkinson => (wilkinson_plus(n), None),
        MatrixFamily::GluedWilkinson => {
            let mut a = Array2::zeros((n, n));
            for start in (0..n).step_by(21) {
                let len = 21.min(n - start);
                a.slice_mut(ndarray::s![start..start + len, start..start + len])
                    .assign(&wilkinson_plus(len));
                if start > 0 {
                    a[[start, start - 1]] = 1e-10;
                    a[[start - 1, start]] = 1e-10;
                }
            }
            (a, None)
        }
        MatrixFamily::Clement => {
            let e: Vec<f64> = (1..n).map(|i| ((i * (n - i)) as f64).sqrt()).collect();
            let lambda = (0..n).map(|k| 2.0 * k as f64 - (n as f64 - 1.0)).collect();
            (tridiagonal(&vec![0.0; n], &e), Some(lambda))
        }
        MatrixFamily::TinyOffDiagonal => {
            let mut draw = normal_stream(spec.seed);
            let d: Vec<f64> = (0..n).map(|_| draw()).collect();
            let e: Vec<f64> = (1..n).map(|_| 1e-13 * draw()).collect();
            (tridiagonal(&d, &e), None)
        }
        MatrixFamily::Zero => (Array2::zeros((n, n)), Some(vec![0.0; n])),
        MatrixFamily::Diagonal => {
            let mut draw = normal_stream(spec.seed);
            let d: Vec<f64> = (0..n).map(|_| draw()).collect();
            (Array2::from_diag(&Array1::from(d.clone())), Some(d))
        }
        MatrixFamily::External => (Array2::zeros((n, n)), None),
    };
    if let Some(l) = lambda.as_mut() {
        l.sort_by(f64::total_cmp);
    }
    (a, lambda)
}

/// The power of two that brings a matrix whose largest entry is `largest` to `scale` in precision T.
fn scale_factor<T: EigenScalar>(scale: Scale, largest: f64) -> f64 {
    if largest == 0.0 {
        return 1.0;
    }
    let (max, min) = if T::EPSILON < 1e-10 {
        (f64::MAX, f64::MIN_POSITIVE)
    } else {
        (f32::MAX as f64, f32::MIN_POSITIVE as f64)
    };
    let target = match scale {
        Scale::Unit => return 1.0,
        Scale::NearOverflow => max / 2f64.powi(20),
        Scale::NearUnderflow => min * 2f64.powi(20),
    };
    2f64.powi((target / largest).log2().floor() as i32)
}

impl<T: EigenScalar> TestMatrix<T> {
    /// The matrix of `spec`, scaled and rounded to T.
    pub fn new(spec: MatrixSpec) -> Self {
        let (a, lambda) = test_matrix(spec);
        let largest = a.iter().fold(0f64, |m, v| m.max(v.abs()));
        let factor = scale_factor::<T>(spec.scale, largest);
        let matrix = a.mapv(|v| T::from_f64(v * factor));
        let norm = euclidean_norm(matrix.iter().map(|v| v.to_f64()));
        TestMatrix {
            spec,
            matrix,
            eigenvalues: lambda.map(|l| l.into_iter().map(|v| v * factor).collect()),
            norm,
        }
    }

    /// A matrix made elsewhere (a kernel, a user's data), with no known spectrum; its spec names the order only.
    pub fn from_matrix(matrix: Array2<T>) -> Self {
        let n = matrix.nrows();
        let norm = euclidean_norm(matrix.iter().map(|v| v.to_f64()));
        TestMatrix {
            spec: MatrixSpec {
                family: MatrixFamily::External,
                n,
                scale: Scale::Unit,
                seed: 0,
            },
            matrix,
            eigenvalues: None,
            norm,
        }
    }

    /// The order n.
    pub fn n(&self) -> usize {
        self.spec.n
    }
}

/// Every family, each spectrum shape included.
pub fn families() -> Vec<MatrixFamily> {
    let mut v: Vec<MatrixFamily> = [
        Spectrum::Uniform,
        Spectrum::Clustered,
        Spectrum::Graded,
        Spectrum::Repeated,
        Spectrum::Negative,
        Spectrum::RankDeficient,
    ]
    .into_iter()
    .map(MatrixFamily::KnownSpectrum)
    .collect();
    v.extend([
        MatrixFamily::Wilkinson,
        MatrixFamily::GluedWilkinson,
        MatrixFamily::Clement,
        MatrixFamily::TinyOffDiagonal,
        MatrixFamily::Zero,
        MatrixFamily::Diagonal,
    ]);
    v
}

/// Orders for eigensolver tests: 0, 1 and 2, small ones, and a few past [`BLOCKED_FROM`] (the blocked path).
pub fn sizes() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(0usize),
        1 => Just(1usize),
        1 => Just(2usize),
        6 => 3usize..60,
        2 => BLOCKED_FROM..BLOCKED_FROM + 60,
    ]
}

/// Test matrices of every family at orders from `sizes` and the given scales, in precision T.
pub fn symmetric_matrices<T: EigenScalar>(
    sizes: impl Strategy<Value = usize>,
    scales: &[Scale],
) -> impl Strategy<Value = TestMatrix<T>> {
    (
        proptest::sample::select(families()),
        sizes,
        proptest::sample::select(scales.to_vec()),
        0u64..10_000,
    )
        .prop_map(|(family, n, scale, seed)| {
            TestMatrix::new(MatrixSpec {
                family,
                n,
                scale,
                seed,
            })
        })
}

/// Draws uniform on [−½, ½) from ChaCha8 seeded with `seed` (the same on every platform).
pub fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    move || rand::Rng::random::<f64>(&mut rng) - 0.5
}

/// A symmetric n×n matrix with independent entries uniform on [−½, ½) on and below the diagonal.
pub fn random_symmetric(n: usize, seed: u64) -> Array2<f64> {
    let mut next = uniform_stream(seed);
    let mut a = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let x = next();
            a[[i, j]] = x;
            a[[j, i]] = x;
        }
    }
    a
}

/// A kernel matrix with the spectrum kernel methods produce — a bulk and a few outliers: the arc-cosine kernel of
/// degree 1 (the ReLU network's NNGP, Cho & Saul 2009), K_ij = ‖x_i‖‖x_j‖(sin θ + (π − θ)cos θ)/(2π), of n
/// Gaussian samples in dimension max(n/2, 1) with squared norms near 1.
pub fn kernel_like(n: usize, seed: u64) -> Array2<f64> {
    let p = (n / 2).max(1);
    let mut draw = normal_stream(seed);
    let x = Array2::from_shape_fn((n, p), |_| draw() / (p as f64).sqrt());
    let g = x.dot(&x.t());
    let pi = std::f64::consts::PI;
    Array2::from_shape_fn((n, n), |(i, j)| {
        let (si, sj) = (g[[i, i]].sqrt(), g[[j, j]].sqrt());
        let theta = if i == j {
            0.0
        } else {
            (g[[i, j]] / (si * sj)).clamp(-1.0, 1.0).acos()
        };
        si * sj * (theta.sin() + (pi - theta) * theta.cos()) / (2.0 * pi)
    })
}

/// A random symmetric tridiagonal (diagonal, off-diagonal) of order n: entries uniform in [−½, ½), graded over
/// `grade` decades along the diagonal, times 10^`scale_exp`, with `zeros` off-diagonal entries set to zero (so
/// that the matrix splits), and a diagonal of random, constant or few distinct values.
pub fn random_tridiagonal(
    n: usize,
    seed: u64,
    grade: i32,
    scale_exp: i32,
    zeros: usize,
    diagonal: TridiagonalDiagonal,
) -> (Vec<f64>, Vec<f64>) {
    let mut next = uniform_stream(seed);
    let scale = 10f64.powi(scale_exp);
    let graded = |i: usize| 10f64.powf(-(grade as f64) * i as f64 / n.max(1) as f64);
    let mut d: Vec<f64> = (0..n).map(|i| scale * graded(i) * next()).collect();
    let mut e: Vec<f64> = (0..n.saturating_sub(1))
        .map(|i| scale * graded(i) * next())
        .collect();
    match diagonal {
        TridiagonalDiagonal::Random => {}
        TridiagonalDiagonal::Constant => d.iter_mut().for_each(|x| *x = scale),
        TridiagonalDiagonal::FewValues => d
            .iter_mut()
            .for_each(|x| *x = scale * (*x / scale * 4.0).round()),
    }
    for k in 0..zeros.min(e.len()) {
        let i = (k * 7 + seed as usize) % e.len();
        e[i] = 0.0;
    }
    (d, e)
}

/// The diagonal of a [`random_tridiagonal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TridiagonalDiagonal {
    /// Random entries.
    Random,
    /// Every entry equal to the scale.
    Constant,
    /// Random entries rounded to a few distinct values (repeated eigenvalues).
    FewValues,
}

/// One identity measured against its tolerance: it holds when `measured ≤ tolerance`. Checkers return it
/// instead of panicking, so a test can assert on it (`prop_assert!(c.holds(), "{c}")`) and a report can list it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Check {
    /// The identity, as a formula.
    pub identity: &'static str,
    /// The measured deviation.
    pub measured: f64,
    /// What it may be.
    pub tolerance: f64,
    /// Where the deviation is largest (an index, a pair, a parameter).
    pub location: String,
}

impl Check {
    /// A measurement of `identity`.
    pub fn new(
        identity: &'static str,
        measured: f64,
        tolerance: f64,
        location: impl Into<String>,
    ) -> Self {
        Check {
            identity,
            measured,
            tolerance,
            location: location.into(),
        }
    }

    /// Whether the identity holds to its tolerance (a NaN measurement never does).
    pub fn holds(&self) -> bool {
        self.measured <= self.tolerance
    }

    /// `Ok(self)` when it holds, `Err(self)` otherwise.
    pub fn into_result(self) -> std::result::Result<Check, Check> {
        if self.holds() {
            Ok(self)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {:.3e} against the tolerance {:.3e}; {}",
            self.identity,
            if self.holds() { "holds" } else { "FAILS" },
            self.measured,
            self.tolerance,
            self.location
        )
    }
}

/// √(Σx²) scaled by max|x| first, so that entries near underflow (whose squares vanish) or overflow (whose
/// squares are infinite) still give their norm: the measure of every tolerance and residual here.
pub fn euclidean_norm(x: impl Iterator<Item = f64> + Clone) -> f64 {
    let largest = x.clone().fold(0f64, |m, v| {
        if v.abs() > m || v.is_nan() {
            v.abs()
        } else {
            m
        }
    });
    if largest == 0.0 || !largest.is_finite() {
        return largest;
    }
    largest * x.map(|v| (v / largest).powi(2)).sum::<f64>().sqrt()
}

/// c·n·ε·‖A‖ with the type's ε, n at least 1.
fn backward_tolerance<T: EigenScalar>(c: f64, n: usize, norm: f64) -> f64 {
    c * n.max(1) as f64 * T::EPSILON * norm
}

/// max_i ‖Av_i − λ_iv_i‖₂ ≤ c·n·ε·‖A‖_F (each pair is exact for a matrix within c·n·ε·‖A‖ of A).
pub fn check_residual<T: EigenScalar>(
    a: &TestMatrix<T>,
    d: &EigenDecomposition<T>,
    c: f64,
) -> Check {
    let (measured, location) = worst_residual(a, d);
    Check::new(
        "max_i ‖Av_i − λ_iv_i‖₂ ≤ c·n·ε·‖A‖",
        measured,
        backward_tolerance::<T>(c, a.n(), a.norm),
        location,
    )
}

fn worst_residual<T: EigenScalar>(a: &TestMatrix<T>, d: &EigenDecomposition<T>) -> (f64, String) {
    let Some(v) = d.vectors.as_ref() else {
        return (f64::NAN, "no eigenvectors".into());
    };
    let av = a.matrix.dot(v);
    (0..v.ncols())
        .map(|j| {
            let l = d.values[j].to_f64();
            let r = euclidean_norm(
                av.column(j)
                    .iter()
                    .zip(v.column(j))
                    .map(|(x, y)| x.to_f64() - l * y.to_f64()),
            );
            (r, format!("pair {j}, λ = {l:e}"))
        })
        .fold((0.0, "none".into()), |best, c| {
            if c.0 > best.0 || c.0.is_nan() {
                c
            } else {
                best
            }
        })
}

/// max|VᵀV − I| ≤ c·n·ε.
pub fn check_orthogonality<T: EigenScalar>(d: &EigenDecomposition<T>, c: f64) -> Check {
    let Some(v) = d.vectors.as_ref() else {
        return Check::new("max|VᵀV − I| ≤ c·n·ε", f64::NAN, 0.0, "no eigenvectors");
    };
    let g = v.t().dot(v);
    let (mut worst, mut at) = (0f64, (0, 0));
    for ((i, j), x) in g.indexed_iter() {
        let dev = (x.to_f64() - if i == j { 1.0 } else { 0.0 }).abs();
        if dev > worst || dev.is_nan() {
            (worst, at) = (dev, (i, j));
        }
    }
    Check::new(
        "max|VᵀV − I| ≤ c·n·ε",
        worst,
        backward_tolerance::<T>(c, v.nrows(), 1.0),
        format!("entry {at:?}"),
    )
}

/// max_k |λ̂_k − λ_k| ≤ c·n·ε·‖A‖ against the known spectrum (Weyl: a backward-stable solver's eigenvalues are
/// those of A + E with ‖E‖ = O(n·ε·‖A‖)); `None` when the family does not fix the spectrum.
pub fn check_eigenvalues<T: EigenScalar>(a: &TestMatrix<T>, values: &[T], c: f64) -> Option<Check> {
    let want = a.eigenvalues.as_ref()?;
    // The rounding of the entries to T moves eigenvalues by up to ‖E‖₂ ≤ n·ε_T·max|a_ij|, inside the bound.
    Some(compare_spectra(
        "max_k |λ̂_k − λ_k| ≤ c·n·ε·‖A‖",
        &values.iter().map(|v| v.to_f64()).collect::<Vec<_>>(),
        want,
        backward_tolerance::<T>(c, a.n(), a.norm),
    ))
}

fn compare_spectra(identity: &'static str, got: &[f64], want: &[f64], tolerance: f64) -> Check {
    if got.len() != want.len() {
        return Check::new(
            identity,
            f64::INFINITY,
            tolerance,
            format!("{} eigenvalues against {}", got.len(), want.len()),
        );
    }
    let (worst, k) = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(k, (g, w))| ((g - w).abs(), k))
        .fold(
            (0.0, 0),
            |b, c| if c.0 > b.0 || c.0.is_nan() { c } else { b },
        );
    Check::new(identity, worst, tolerance, format!("eigenvalue {k}"))
}

/// A dense backend on one test matrix: all eigenvalues against the known spectrum (when known), and, when the
/// backend [supports](SymmetricEigensolver::supports) eigenpairs, their residual, their orthogonality and their
/// eigenvalues against the values-only ones, each to c·n·ε·‖A‖ (LAPACK's `?syevd` and the crate's faer path stay
/// below c = 50). An error of the backend is returned as the error.
pub fn check_backend<T: EigenScalar>(
    solver: &dyn SymmetricEigensolver<T>,
    a: &TestMatrix<T>,
    c: f64,
) -> Result<Vec<Check>> {
    let values = solver.solve(a.matrix.view(), &EigenRequest::values())?;
    let mut checks: Vec<Check> = check_eigenvalues(a, &values.values, c)
        .into_iter()
        .collect();
    if solver.supports(&EigenRequest::pairs()) {
        let pairs = solver.solve(a.matrix.view(), &EigenRequest::pairs())?;
        checks.extend([
            check_residual(a, &pairs, c),
            check_orthogonality(&pairs, c),
            compare_spectra(
                "eigenvalues with and without vectors agree to c·n·ε·‖A‖",
                &values.values.iter().map(|v| v.to_f64()).collect::<Vec<_>>(),
                &pairs.values.iter().map(|v| v.to_f64()).collect::<Vec<_>>(),
                backward_tolerance::<T>(c, a.n(), a.norm),
            ),
        ]);
    }
    Ok(checks)
}

/// Two backends give the same eigenvalues to c·n·ε·‖A‖.
pub fn check_backends_agree<T: EigenScalar>(
    first: &dyn SymmetricEigensolver<T>,
    second: &dyn SymmetricEigensolver<T>,
    a: &TestMatrix<T>,
    c: f64,
) -> Result<Check> {
    let x = first.eigenvalues(a.matrix.view())?;
    let y = second.eigenvalues(a.matrix.view())?;
    Ok(compare_spectra(
        "two backends' eigenvalues agree to c·n·ε·‖A‖",
        &x.iter().map(|v| v.to_f64()).collect::<Vec<_>>(),
        &y.iter().map(|v| v.to_f64()).collect::<Vec<_>>(),
        backward_tolerance::<T>(c, a.n(), a.norm),
    ))
}

/// Block Lanczos' k largest and k smallest eigenvalues against the dense solver's, to
/// `tolerance`·max|λ| (a Ritz value converged to residual r is within r of an eigenvalue).
pub fn check_lanczos_extremes<T: EigenScalar>(
    a: &TestMatrix<T>,
    k: usize,
    tolerance: f64,
) -> Result<Vec<Check>> {
    let all = FaerEigen::default().eigenvalues(a.matrix.view())?;
    let all: Vec<f64> = all.iter().map(|v| v.to_f64()).collect();
    let scale = all.iter().fold(0f64, |m, v| m.max(v.abs()));
    let n = all.len();
    let mut checks = Vec::new();
    for extreme in [Extreme::Largest, Extreme::Smallest] {
        let params = LanczosParams::new(k, extreme)?;
        let (d, _) = lanczos(&a.matrix.view(), &params)?;
        let got: Vec<f64> = d.values.iter().map(|v| v.to_f64()).collect();
        let want = match extreme {
            Extreme::Largest => &all[n - k..],
            Extreme::Smallest => &all[..k],
        };
        checks.push(compare_spectra(
            "Lanczos' extreme eigenvalues equal the dense solver's",
            &got,
            want,
            tolerance * scale,
        ));
    }
    Ok(checks)
}

/// Stochastic Lanczos quadrature's spectral measure against the exact one in Wasserstein-1:
/// W₁ ≤ πw/(4m) + 3w/√(nP), w = λ_max − λ_min, m Lanczos steps, P probes — the Gauss rule's error for Lipschitz
/// test functions (Jackson) plus three standard deviations of the probes' sampling (docs/spectra.md).
pub fn check_slq_density<T: EigenScalar>(
    a: &TestMatrix<T>,
    probes: usize,
    steps: usize,
    seed: u64,
) -> Result<Check> {
    let exact = FaerEigen::default().eigenvalues(a.matrix.view())?;
    let exact: Vec<(f64, f64)> = exact.iter().map(|&v| (v.to_f64(), 1.0)).collect();
    let n = exact.len();
    let w = exact.last().map_or(0.0, |l| l.0) - exact.first().map_or(0.0, |f| f.0);
    let q = slq(
        &a.matrix.view(),
        &SlqParams::new(probes, steps)?.with_seed(seed),
    )?;
    let d = wasserstein1_weighted(&q.sorted(), &exact)?;
    let bound =
        std::f64::consts::PI * w / (4.0 * steps as f64) + 3.0 * w / ((n * probes) as f64).sqrt();
    Ok(Check::new(
        "W₁(SLQ, spectrum) ≤ πw/(4m) + 3w/√(nP)",
        d,
        bound,
        format!("{probes} probes × {steps} steps"),
    ))
}
