//! Gaussian scale moments of an activation (math §2).

use super::gauss::expect;
use super::{Activation, Derivative, Parity};
use crate::error::check_positive;
use crate::{Error, Result};

/// The moments of σ at scale τ, with ξ ~ N(0,1) (math §2):
///
/// | field | definition | computed as (Stein form) |
/// |---|---|---|
/// | `m0` | E[σ(τξ)] | |
/// | `m1` | E[σ′(τξ)] | E[ξσ(τξ)]/τ |
/// | `m2` | E[σ″(τξ)] | E[(ξ²−1)σ(τξ)]/τ² |
/// | `v` | Var σ(τξ) | E[(σ(τξ) − m₀)²] |
/// | `q` | E[(σ̄²)″(τξ)], σ̄ = σ − m₀ | E[(ξ²−1)σ̄(τξ)²]/τ² |
/// | `d` | E[σ′(τξ)²] | `None` when σ jumps or σ′ is unknown |
///
/// The Stein forms need no derivative, so kinks and jumps are exact; the quadrature splits at the kinks.
/// Closed forms replace quadrature where the activation provides them.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScaleMoments {
    /// The scale τ.
    pub tau: f64,
    /// m₀ = E[σ(τξ)].
    pub m0: f64,
    /// m₁ = E[σ′(τξ)] = E[ξσ(τξ)]/τ.
    pub m1: f64,
    /// m₂ = E[σ″(τξ)] = E[(ξ² − 1)σ(τξ)]/τ².
    pub m2: f64,
    /// v = Var σ(τξ).
    pub v: f64,
    /// q = E[(σ̄²)″(τξ)] with σ̄ = σ − m₀.
    pub q: f64,
    /// d = E[σ′(τξ)²] (`None` when σ′ does not exist or was not given).
    pub d: Option<f64>,
}

impl ScaleMoments {
    /// Moments at scale τ > 0: the closed form if the activation has one, quadrature otherwise.
    /// Moments that overflow f64 (an activation's values near the largest finite numbers at this scale) are
    /// an error, never ∞ or NaN handed on.
    pub fn compute<A: Activation + ?Sized>(act: &A, tau: f64) -> Result<Self> {
        check_positive("tau", tau)?;
        let m = match act.closed_moments(tau) {
            Some(m) => m,
            None => Self::by_quadrature(act, tau)?,
        };
        let all = [m.m0, m.m1, m.m2, m.v, m.q, m.d.unwrap_or(0.0)];
        if all.iter().all(|x| x.is_finite()) {
            Ok(m)
        } else {
            Err(Error::InvalidParameter {
                name: "tau",
                value: tau,
                requirement: "the activation's moments at this scale overflow f64; use a smaller scale or smaller activation parameters",
            })
        }
    }

    /// Moments at scale τ > 0 from the Stein forms by kink-aware quadrature, ignoring closed forms.
    /// Absolute accuracy ≈ 1e-14·(scale of σ) for m₀, v, d, divided by τ for m₁ and τ² for m₂, q.
    pub fn by_quadrature<A: Activation + ?Sized>(act: &A, tau: f64) -> Result<Self> {
        check_positive("tau", tau)?;
        let kinks: Vec<f64> = act.kinks().iter().map(|k| k / tau).collect();
        let s = |x: f64| act.value(tau * x);
        let parity = act.parity();
        let m0 = if parity == Parity::Odd {
            0.0
        } else {
            expect(s, &kinks)
        };
        let m1 = if parity == Parity::Even {
            0.0
        } else {
            expect(|x| x * s(x), &kinks) / tau
        };
        let m2 = if parity == Parity::Odd {
            0.0
        } else {
            expect(|x| (x * x - 1.0) * s(x), &kinks) / (tau * tau)
        };
        let v = expect(|x| (s(x) - m0).powi(2), &kinks);
        let q = expect(|x| (x * x - 1.0) * (s(x) - m0).powi(2), &kinks) / (tau * tau);
        let d = match act.derivative_kind() {
            Derivative::Available => Some(expect(|x| act.derivative(tau * x).powi(2), &kinks)),
            _ => None,
        };
        Ok(ScaleMoments {
            tau,
            m0,
            m1,
            m2,
            v,
            q,
            d,
        })
    }

    /// E[σ(τξ)²] = v + m₀².
    pub fn second_moment(&self) -> f64 {
        self.v + self.m0 * self.m0
    }
}
