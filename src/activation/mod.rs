//! Activations and their Gaussian calculus (math §2–3).
//!
//! An [`Activation`] gives σ(x), its almost-everywhere derivative σ′(x), the points where either is not
//! smooth (so quadrature can split there), and optional closed forms. Everything else — scale moments
//! ([`ScaleMoments`]), Hermite coefficients ([`hermite_coefficients`]) and dual kernels ([`dual_kernel`],
//! [`dual_kernel_derivative`]) — is computed from that through closed forms where they exist and kink-aware
//! quadrature otherwise.
//!
//! Built-ins are parsed from the command-line syntax of math §2 with [`parse_activation`]
//! (`relu`, `lrelu:1.3,-0.4`, `hardtanh:0.7,1.1`, …); user functions come in through [`Custom`].

mod builtin;
pub(crate) mod chebyshev;
mod custom;
mod dual;
pub mod gauss;
pub(crate) mod gelu;
pub(crate) mod hermite;
mod moments;

use std::fmt;
use std::sync::Arc;

pub use builtin::{parse_activation, Builtin, BUILTIN_SYNTAX};
pub use custom::{Centered, Custom};
pub use dual::{dual_kernel, dual_kernel_derivative, dual_pair, snap_correlation, Cov2, DualValue};
pub use hermite::{hermite_coefficients, hermite_coefficients_derivative, hermite_functions};
pub use moments::ScaleMoments;

/// Symmetry of σ, used to know which moments vanish exactly (odd ⇒ m₀ = m₂ = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// σ(−x) = −σ(x).
    Odd,
    /// σ(−x) = σ(x).
    Even,
    /// Neither.
    Neither,
}

/// Regularity of σ: whether E[σ′(u)σ′(v)] (and so the NTK and d) exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derivative {
    /// σ is continuous and σ′ is known (possibly with jumps, as for ReLU).
    Available,
    /// σ jumps: σ′ has Dirac masses, d = E[σ′²] is infinite and the NTK is undefined.
    Discontinuous,
    /// σ′ was not supplied (a user closure without a derivative).
    Missing,
}

/// Activations whose dual kernels the kernel-matrix code evaluates in vectorized blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClosedFamily {
    /// σ(x) = pos·x for x > 0, neg·x otherwise, minus `shift` (the ReLU family, centered or not).
    PiecewiseLinear {
        /// Slope for x > 0.
        pos: f64,
        /// Slope for x < 0.
        neg: f64,
        /// The constant subtracted.
        shift: f64,
    },
    /// σ(x) = erf(x) − `shift`.
    Erf {
        /// The constant subtracted.
        shift: f64,
    },
    /// σ(x) = xΦ(x) − `shift`, the exact GELU.
    Gelu {
        /// The constant subtracted.
        shift: f64,
    },
}

/// An activation function σ with what the Gaussian calculus needs to know about it.
///
/// Only [`value`](Activation::value) and [`name`](Activation::name) are required; the closed-form hooks
/// return `None` by default and the crate then integrates numerically.
pub trait Activation: Send + Sync + fmt::Debug {
    /// Display name, in the CLI syntax where there is one.
    fn name(&self) -> String;
    /// σ(x).
    fn value(&self, x: f64) -> f64;
    /// out_i = σ(x_i) over a slice: the elementwise pass of a finite-width network. Built-ins override it
    /// with one dispatch per slice instead of one per entry.
    fn value_slice(&self, x: &[f64], out: &mut [f64]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.value(v);
        }
    }
    /// σ′(x) almost everywhere. Meaningful only when [`derivative_kind`](Activation::derivative_kind) is
    /// [`Derivative::Available`].
    fn derivative(&self, _x: f64) -> f64 {
        f64::NAN
    }
    /// Whether σ′ exists and is known.
    fn derivative_kind(&self) -> Derivative {
        Derivative::Missing
    }
    /// The points where σ or σ′ is not smooth (kinks and jumps). Quadrature splits there.
    fn kinks(&self) -> Vec<f64> {
        Vec::new()
    }
    /// Odd, even, or neither.
    fn parity(&self) -> Parity {
        Parity::Neither
    }
    /// Closed-form moments at scale τ > 0 (math §2).
    fn closed_moments(&self, _tau: f64) -> Option<ScaleMoments> {
        None
    }
    /// Closed-form E[σ(u)σ(v)] (math §3).
    fn closed_dual(&self, _c: &Cov2) -> Option<f64> {
        None
    }
    /// Closed-form E[σ′(u)σ′(v)] (math §3).
    fn closed_dual_derivative(&self, _c: &Cov2) -> Option<f64> {
        None
    }
    /// The closed-form family σ belongs to, if any (used for vectorized kernel matrices).
    fn closed_family(&self) -> Option<ClosedFamily> {
        None
    }
    /// Both closed forms at once (override where they share work, as arccos ρ for the ReLU family).
    fn closed_dual_pair(&self, c: &Cov2) -> Option<(f64, f64)> {
        Some((self.closed_dual(c)?, self.closed_dual_derivative(c)?))
    }
}

/// A shareable activation handle. Every function that takes an activation takes `impl Into<ActivationRef>`:
/// a [`Builtin`], a [`Custom`], a [`Centered`] or an `ActivationRef` itself.
pub type ActivationRef = Arc<dyn Activation>;

impl From<Builtin> for ActivationRef {
    fn from(b: Builtin) -> Self {
        Arc::new(b)
    }
}

impl From<Custom> for ActivationRef {
    fn from(c: Custom) -> Self {
        Arc::new(c)
    }
}

impl<A: Activation + 'static> From<Centered<A>> for ActivationRef {
    fn from(c: Centered<A>) -> Self {
        Arc::new(c)
    }
}

impl<A: Activation + ?Sized> Activation for Arc<A> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn value(&self, x: f64) -> f64 {
        (**self).value(x)
    }
    fn value_slice(&self, x: &[f64], out: &mut [f64]) {
        (**self).value_slice(x, out)
    }
    fn derivative(&self, x: f64) -> f64 {
        (**self).derivative(x)
    }
    fn derivative_kind(&self) -> Derivative {
        (**self).derivative_kind()
    }
    fn kinks(&self) -> Vec<f64> {
        (**self).kinks()
    }
    fn parity(&self) -> Parity {
        (**self).parity()
    }
    fn closed_moments(&self, tau: f64) -> Option<ScaleMoments> {
        (**self).closed_moments(tau)
    }
    fn closed_dual(&self, c: &Cov2) -> Option<f64> {
        (**self).closed_dual(c)
    }
    fn closed_dual_derivative(&self, c: &Cov2) -> Option<f64> {
        (**self).closed_dual_derivative(c)
    }
    fn closed_dual_pair(&self, c: &Cov2) -> Option<(f64, f64)> {
        (**self).closed_dual_pair(c)
    }
    fn closed_family(&self) -> Option<ClosedFamily> {
        (**self).closed_family()
    }
}

pub(crate) fn require_derivative<A: Activation + ?Sized>(
    act: &A,
    quantity: &'static str,
) -> crate::Result<()> {
    match act.derivative_kind() {
        Derivative::Available => Ok(()),
        Derivative::Discontinuous => Err(crate::Error::Undefined {
            quantity,
            activation: act.name(),
            why: "σ jumps, so σ′ has Dirac masses and E[σ′²] is infinite",
        }),
        Derivative::Missing => Err(crate::Error::Undefined {
            quantity,
            activation: act.name(),
            why: "no derivative was supplied (use Custom::with_derivative)",
        }),
    }
}
