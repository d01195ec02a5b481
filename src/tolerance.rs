//! The accuracy policies of the crate, each named once with its value. Every test that decides "accepted",
//! "converged" or "accurate enough" reads its threshold from here; docs/numerics.md and docs/implicit.md say how
//! they were chosen and what accuracy they give.
//!
//! The eigensolvers' policies (symmetry check, QL and divide-and-conquer deflation, Lanczos convergence) come
//! from [`crate::eigen::tolerance`] and are re-exported here.

pub use crate::eigen::tolerance::*;

/// Newton on one kernel entry, y − a·F(y) − b = 0 (docs/implicit.md): a step is accepted when
/// |y − a·F(y) − b| ≤ `NEWTON_RESIDUAL`·(1 + √(Σ_ii·Σ_jj)) — a few units in the last place of the entry — or when
/// the bracket has shrunk below [`NEWTON_STEP`]·|y|.
pub const NEWTON_RESIDUAL: f64 = 1e-15;

/// Newton's relative step test on one kernel entry (4 ulps).
pub const NEWTON_STEP: f64 = 4.0 * f64::EPSILON;

/// Scalar fixed points of the implicit models (τ*, the diagonal entries Σ_ii): iteration stops when
/// |g(x) − x| ≤ `SCALAR_FIXED_POINT`·(1 + |b|), b the input term of the map.
pub const SCALAR_FIXED_POINT: f64 = 1e-15;

/// Mehler's series for a dual kernel entry, Σ_{k<K} a_k(σ; s_i)a_k(σ; s_j)ρ^k (docs/numerics.md): the number of
/// terms K is the smallest whose Parseval tail bound |ρ|^K·√(T_iT_j) is ≤ `MEHLER`·√(E[σ(s_iξ)²]E[σ(s_jξ)²]);
/// entries where it is not, within [`MEHLER_MAX_TERMS`] terms, fall back to 2-D quadrature.
pub const MEHLER: f64 = 1e-13;

/// The largest number of Hermite terms per sample in Mehler's series.
pub const MEHLER_MAX_TERMS: usize = 256;

/// Relative accuracy asked of a Chebyshev interpolant that replaces a smooth function of one sample's scale
/// (Hermite coefficient rows, the diagonal map D(v) = E[φ(√v ξ)²]); where the fit does not reach it, the
/// function is evaluated directly.
pub const CHEBYSHEV_FIT: f64 = 1e-15;
