//! An activation the crate does not ship, with its closed forms: the residual square σ(x) = x + a·x².

use deq_kernels::activation::{Activation, Cov2, Derivative, ScaleMoments};

/// σ(x) = x + a·x². With ξ ~ N(0, 1) and (u, v) ~ N(0, Σ):
/// m₀ = aτ², m₁ = 1, m₂ = 2a, v = τ² + 2a²τ⁴, q = 2(1 + 4a²τ²), d = 1 + 4a²τ²,
/// E[σ(u)σ(v)] = Σ₁₂ + a²(Σ₁₁Σ₂₂ + 2Σ₁₂²) (Isserlis) and E[σ′(u)σ′(v)] = 1 + 4a²Σ₁₂.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResidualSquare {
    /// The weight of the square.
    pub a: f64,
}

impl Activation for ResidualSquare {
    fn name(&self) -> String {
        format!("residual_square:{}", self.a)
    }
    fn value(&self, x: f64) -> f64 {
        x + self.a * x * x
    }
    fn derivative(&self, x: f64) -> f64 {
        1.0 + 2.0 * self.a * x
    }
    fn derivative_kind(&self) -> Derivative {
        Derivative::Available
    }
    fn closed_moments(&self, tau: f64) -> Option<ScaleMoments> {
        let (a, t2) = (self.a, tau * tau);
        Some(ScaleMoments {
            tau,
            m0: a * t2,
            m1: 1.0,
            m2: 2.0 * a,
            v: t2 + 2.0 * a * a * t2 * t2,
            q: 2.0 * (1.0 + 4.0 * a * a * t2),
            d: Some(1.0 + 4.0 * a * a * t2),
        })
    }
    fn closed_dual(&self, c: &Cov2) -> Option<f64> {
        let a2 = self.a * self.a;
        Some(c.s12 + a2 * (c.s11 * c.s22 + 2.0 * c.s12 * c.s12))
    }
    fn closed_dual_derivative(&self, c: &Cov2) -> Option<f64> {
        Some(1.0 + 4.0 * self.a * self.a * c.s12)
    }
}
