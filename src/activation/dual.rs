//! Dual kernels E[σ(u)σ(v)] and E[σ′(u)σ′(v)] for (u, v) ~ N(0, Σ), Σ a 2×2 covariance (math §3).

use super::gauss::{expect, expect_pair};
use super::{require_derivative, Activation};
use crate::{Error, Result};

/// A 2×2 covariance [[s11, s12], [s12, s22]], checked positive semi-definite on construction.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Cov2 {
    /// Var u.
    pub s11: f64,
    /// Var v.
    pub s22: f64,
    /// Cov(u, v).
    pub s12: f64,
}

impl Cov2 {
    /// Relative slack allowed in s12² ≤ s11·s22 (rounding in a computed kernel matrix).
    pub const PSD_SLACK: f64 = 1e-10;

    /// Check s11, s22 ≥ 0 and s12² ≤ s11·s22 (up to [`Self::PSD_SLACK`]); all finite.
    pub fn new(s11: f64, s22: f64, s12: f64) -> Result<Self> {
        if !(s11.is_finite() && s22.is_finite() && s12.is_finite()) {
            return Err(Error::NonFinite {
                what: "covariance",
                location: format!("[[{s11}, {s12}], [{s12}, {s22}]]"),
            });
        }
        if s11 < 0.0 || s22 < 0.0 || s12 * s12 > s11 * s22 * (1.0 + Self::PSD_SLACK) {
            return Err(Error::NotPsd { s11, s22, s12 });
        }
        Ok(Cov2 { s11, s22, s12 })
    }

    /// Correlation ρ = s12/√(s11·s22), clamped to [−1, 1] (see [`snap_correlation`]); 0 when a variance is 0.
    pub fn rho(&self) -> f64 {
        let d = (self.s11 * self.s22).sqrt();
        if d == 0.0 {
            0.0
        } else {
            snap_correlation(self.s12 / d)
        }
    }
}

/// Clamp a computed correlation to [−1, 1] and snap it to ±1 within 4ε. The covariance entries carry rounding
/// of that size, so such a pair is numerically a duplicate; snapping makes duplicates and diagonal entries
/// (ρ = s/√(s·s), which rounds to 1 − ε or 1) agree exactly. It matters for kernels with a kink in ρ at ±1,
/// such as the step kernel (π − arccos ρ)/(2π), which moves by √(2ε)/π ≈ 7e-9 between ρ = 1 − ε and 1.
#[inline]
pub fn snap_correlation(rho: f64) -> f64 {
    if rho >= 1.0 - 4.0 * f64::EPSILON {
        1.0
    } else if rho <= -1.0 + 4.0 * f64::EPSILON {
        -1.0
    } else {
        rho
    }
}

/// E[σ(u)σ(v)] and, when σ′ exists, E[σ′(u)σ′(v)].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DualValue {
    /// E[σ(u)σ(v)].
    pub k: f64,
    /// E[σ′(u)σ′(v)] (`None` when σ′ does not exist or was not given).
    pub kdot: Option<f64>,
}

/// E[f(u)f(v)] for f = σ or σ′ by 2-D quadrature; when one variance is 0 that variable is the constant 0.
fn by_quadrature<F: Fn(f64) -> f64>(f: F, kinks: &[f64], c: &Cov2) -> f64 {
    let (s1, s2) = (c.s11.sqrt(), c.s22.sqrt());
    match (s1 == 0.0, s2 == 0.0) {
        (true, true) => f(0.0) * f(0.0),
        (true, false) => f(0.0) * expect(|x| f(s2 * x), &scaled(kinks, s2)),
        (false, true) => f(0.0) * expect(|x| f(s1 * x), &scaled(kinks, s1)),
        (false, false) => expect_pair(&f, kinks, &f, kinks, s1, s2, c.rho()),
    }
}

fn scaled(kinks: &[f64], s: f64) -> Vec<f64> {
    kinks.iter().map(|k| k / s).collect()
}

/// E[σ(u)σ(v)] for (u, v) ~ N(0, c): the closed form where the activation has one, otherwise nested
/// adaptive Gauss–Legendre quadrature split at the kinks (absolute accuracy ≈ 1e-13 for activations of unit
/// scale at unit variances; it holds up to |ρ| = 1, where the integral becomes one-dimensional).
pub fn dual_kernel<A: Activation + ?Sized>(act: &A, c: &Cov2) -> f64 {
    act.closed_dual(c)
        .unwrap_or_else(|| by_quadrature(|x| act.value(x), &act.kinks(), c))
}

/// E[σ′(u)σ′(v)] for (u, v) ~ N(0, c); an error when σ′ does not exist or is unknown.
pub fn dual_kernel_derivative<A: Activation + ?Sized>(act: &A, c: &Cov2) -> Result<f64> {
    require_derivative(act, "the derivative kernel E[σ′(u)σ′(v)]")?;
    Ok(act
        .closed_dual_derivative(c)
        .unwrap_or_else(|| by_quadrature(|x| act.derivative(x), &act.kinks(), c)))
}

/// Both dual kernels; `kdot` is `None` when σ′ does not exist or is unknown.
pub fn dual_pair<A: Activation + ?Sized>(act: &A, c: &Cov2) -> DualValue {
    DualValue {
        k: dual_kernel(act, c),
        kdot: dual_kernel_derivative(act, c).ok(),
    }
}
