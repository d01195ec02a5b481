//! User activations (closures) and the centering wrapper φ = σ − c (math §3, §5).

use std::fmt;
use std::sync::Arc;

use super::{Activation, ClosedFamily, Cov2, Derivative, Parity, ScaleMoments};

type ScalarFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// An activation given by closures.
///
/// ```
/// use deq_kernels::activation::{Custom, ScaleMoments};
/// let softsign = Custom::new("softsign", |x| x / (1.0 + x.abs()))
///     .with_derivative(|x| 1.0 / (1.0 + x.abs()).powi(2))
///     .with_kinks(&[0.0]);
/// let m = ScaleMoments::compute(&softsign, 1.0).unwrap();
/// assert!(m.m0.abs() < 1e-14);
/// ```
#[derive(Clone)]
pub struct Custom {
    name: String,
    f: ScalarFn,
    df: Option<ScalarFn>,
    kinks: Vec<f64>,
    parity: Parity,
    discontinuous: bool,
}

impl Custom {
    /// σ given by `f`; no derivative (so no NTK) until [`with_derivative`](Self::with_derivative).
    pub fn new(name: impl Into<String>, f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Self {
        Custom {
            name: name.into(),
            f: Arc::new(f),
            df: None,
            kinks: Vec::new(),
            parity: Parity::Neither,
            discontinuous: false,
        }
    }

    /// The almost-everywhere derivative σ′.
    pub fn with_derivative(mut self, df: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Self {
        self.df = Some(Arc::new(df));
        self
    }

    /// Points where σ or σ′ is not smooth; quadrature splits there.
    pub fn with_kinks(mut self, kinks: &[f64]) -> Self {
        self.kinks = kinks.to_vec();
        self
    }

    /// Declare σ odd or even (used for exact zeros: odd ⇒ m₀ = m₂ = 0).
    pub fn with_parity(mut self, parity: Parity) -> Self {
        self.parity = parity;
        self
    }

    /// Declare that σ jumps (a step): its derivative kernel and the NTK are then undefined.
    pub fn discontinuous(mut self) -> Self {
        self.discontinuous = true;
        self
    }
}

impl fmt::Debug for Custom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom")
            .field("name", &self.name)
            .field("has_derivative", &self.df.is_some())
            .field("kinks", &self.kinks)
            .finish()
    }
}

impl Activation for Custom {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn value(&self, x: f64) -> f64 {
        (self.f)(x)
    }
    fn derivative(&self, x: f64) -> f64 {
        self.df.as_ref().map_or(f64::NAN, |d| d(x))
    }
    fn derivative_kind(&self) -> Derivative {
        if self.discontinuous {
            Derivative::Discontinuous
        } else if self.df.is_some() {
            Derivative::Available
        } else {
            Derivative::Missing
        }
    }
    fn kinks(&self) -> Vec<f64> {
        self.kinks.clone()
    }
    fn parity(&self) -> Parity {
        self.parity
    }
}

/// φ = σ − c, an activation shifted by a constant (math §3: E[φ(u)φ(v)] = E[σ(u)σ(v)] − c(Eσ(u) + Eσ(v)) + c²).
///
/// The DEQ of math §5 centers its activation at the fixed-point scale, c = E[σ(τ*ξ)].
#[derive(Debug, Clone)]
pub struct Centered<A> {
    /// σ.
    pub inner: A,
    /// c.
    pub shift: f64,
}

impl<A: Activation> Centered<A> {
    /// φ = σ − c.
    pub fn new(inner: A, shift: f64) -> Self {
        Centered { inner, shift }
    }

    /// Center σ at scale τ: φ = σ − E[σ(τξ)].
    pub fn at_scale(inner: A, tau: f64) -> crate::Result<Self> {
        let m0 = ScaleMoments::compute(&inner, tau)?.m0;
        Ok(Centered { inner, shift: m0 })
    }
}

impl<A: Activation> Activation for Centered<A> {
    fn name(&self) -> String {
        format!("{}-{}", self.inner.name(), self.shift)
    }
    fn value(&self, x: f64) -> f64 {
        self.inner.value(x) - self.shift
    }
    fn value_slice(&self, x: &[f64], out: &mut [f64]) {
        self.inner.value_slice(x, out);
        out.iter_mut().for_each(|o| *o -= self.shift);
    }
    fn derivative(&self, x: f64) -> f64 {
        self.inner.derivative(x)
    }
    fn derivative_kind(&self) -> Derivative {
        self.inner.derivative_kind()
    }
    fn kinks(&self) -> Vec<f64> {
        self.inner.kinks()
    }
    fn parity(&self) -> Parity {
        match self.inner.parity() {
            Parity::Even => Parity::Even,
            Parity::Odd if self.shift == 0.0 => Parity::Odd,
            _ => Parity::Neither,
        }
    }
    fn closed_moments(&self, tau: f64) -> Option<ScaleMoments> {
        self.inner.closed_moments(tau).map(|m| ScaleMoments {
            m0: m.m0 - self.shift,
            ..m
        })
    }
    fn closed_dual(&self, c: &Cov2) -> Option<f64> {
        let k = self.inner.closed_dual(c)?;
        let mean = |s: f64| -> Option<f64> {
            if s == 0.0 {
                Some(self.inner.value(0.0))
            } else {
                self.inner.closed_moments(s.sqrt()).map(|m| m.m0)
            }
        };
        let (e1, e2) = (mean(c.s11)?, mean(c.s22)?);
        Some(k - self.shift * (e1 + e2) + self.shift * self.shift)
    }
    fn closed_dual_derivative(&self, c: &Cov2) -> Option<f64> {
        self.inner.closed_dual_derivative(c)
    }
    fn closed_dual_pair(&self, c: &Cov2) -> Option<(f64, f64)> {
        Some((self.closed_dual(c)?, self.inner.closed_dual_derivative(c)?))
    }
    fn closed_family(&self) -> Option<ClosedFamily> {
        Some(match self.inner.closed_family()? {
            ClosedFamily::PiecewiseLinear { pos, neg, shift } => ClosedFamily::PiecewiseLinear {
                pos,
                neg,
                shift: shift + self.shift,
            },
            ClosedFamily::Erf { shift } => ClosedFamily::Erf {
                shift: shift + self.shift,
            },
            ClosedFamily::Gelu { shift } => ClosedFamily::Gelu {
                shift: shift + self.shift,
            },
        })
    }
}
