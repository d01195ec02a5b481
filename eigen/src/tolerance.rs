//! The accuracy policies of the eigensolvers, each named once. Every test that decides "accepted" or "converged"
//! reads its threshold from here.

/// Symmetry check of every dense backend: a matrix is accepted when |a_ij − a_ji| ≤ `SYMMETRY`·max|a| for all
/// pairs (a kernel matrix assembled from one triangle is exactly symmetric; one written by other code may differ
/// in the last digits). Refused matrices get [`crate::Error::NotSymmetric`] naming the worst pair.
pub const SYMMETRY: f64 = 1e-10;

/// Deflation in the root-free QL iteration for tridiagonal eigenvalues: an off-diagonal entry is set to zero
/// when |e_i| ≤ `QL_DEFLATION`·√|d_i|·√|d_{i+1}|, the unit roundoff ε/2 (the test of LAPACK's `?sterf`; it
/// keeps relative accuracy for graded matrices).
pub const QL_DEFLATION: f64 = f64::EPSILON / 2.0;

/// Deflation in the divide and conquer on T = diag(d) + ρzzᵀ (scaled to max|T| = 1): a component of z, or the
/// gap between two entries of d after a rotation, below `DC_DEFLATION`·max(max|d|, max|z|) is dropped (LAPACK's
/// `?laed2` uses 8ε as well). The error this commits is below the backward error of the reduction.
pub const DC_DEFLATION: f64 = 8.0 * f64::EPSILON;

/// Default convergence test of block Lanczos: a Ritz pair (θ, y) is accepted when ‖Ay − θy‖ ≤
/// `LANCZOS_RELATIVE`(ε)·max|θ|, with `LANCZOS_RELATIVE`(ε) = √ε/100 for the element type's ε (1.5e-10 in f64,
/// 3.5e-6 in f32). Override it with [`crate::LanczosParams::with_tol`].
pub fn lanczos_relative(epsilon: f64) -> f64 {
    epsilon.sqrt() / 100.0
}
