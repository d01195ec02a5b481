//! The explicit families of math §7.
//!
//! Symmetries the canonical forms fold (each leaves the network's kernels unchanged):
//! - L-ReLU layer max(ax, bx): swapping a and b (the same function), and (a, b) → (−b, −a): the activation
//!   changes by −(a + b)x, and since E[σ(u)v] = Σ₁₂E[σ′] = Σ₁₂(a + b)/2 (Stein), E\[σσ\] and E\[σ′σ′\] are unchanged
//!   for every covariance. The representative has a ≥ b and a + b ≥ 0.
//! - Positive homogeneity between consecutive layers: scaling layer ℓ's slopes by c > 0 and layer ℓ+1's by 1/c
//!   (for quadratics, c₁ by 1/c and c₂ by 1/c²) composes to the same network. The representative keeps every
//!   layer but the last at the data scale, τ_ℓ = τ₀. So a two-layer family has three effective parameters, and
//!   its four equations can only be met on a three-dimensional set of targets.
//! - Signs: a hard-tanh a·clip(x, −c, c) and a quadratic's coefficients enter the coefficients squared.

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;

use super::{uniform, ExplicitFamily};
use crate::activation::{ActivationRef, Builtin, ScaleMoments};
use crate::kernel::explicit::FirstLayer;
use crate::kernel::Kernel;
use crate::rmt::equivalent::Coefficients;
use crate::{Error, Result};

/// The names `deqk design --family` accepts.
pub const FAMILY_NAMES: [&str; 4] = ["lrelu2", "lrelu3", "hardtanh", "quadratic"];

/// The family with a CLI name; L-ReLU families keep the input layer frozen for the NTK unless
/// `train_first_layer`.
pub fn family_by_name(name: &str, train_first_layer: bool) -> Result<Box<dyn ExplicitFamily>> {
    let first = if train_first_layer {
        FirstLayer::Trained
    } else {
        FirstLayer::Frozen
    };
    Ok(match name {
        "lrelu2" => Box::new(LRelu { depth: 2, first }),
        "lrelu3" => Box::new(LRelu { depth: 3, first }),
        "hardtanh" => Box::new(HardTanh1),
        "quadratic" => Box::new(Quadratic2),
        other => {
            return Err(Error::UnknownName {
                what: "explicit family",
                name: other.into(),
                known: FAMILY_NAMES.join(", "),
            })
        }
    })
}

fn arc(b: Builtin) -> ActivationRef {
    Arc::new(b)
}

/// The output scale of a layer σ at input scale τ: √Var σ(τξ).
fn output_scale(layer: &ActivationRef, tau: f64) -> Result<f64> {
    Ok(ScaleMoments::compute(layer, tau)?.v.sqrt())
}

/// Families A (`lrelu2`) and `lrelu3`: `depth` layers max(a_ℓx, b_ℓx), each centered at its input scale;
/// parameters (a₁, b₁, …, a_L, b_L).
#[derive(Debug, Clone, Copy)]
pub struct LRelu {
    /// The number of layers L.
    pub depth: usize,
    /// The NTK's input layer: frozen (math §7's convention for matching the Implicit-NTK) or trained.
    pub first: FirstLayer,
}

impl ExplicitFamily for LRelu {
    fn name(&self) -> &'static str {
        match self.depth {
            2 => "lrelu2",
            3 => "lrelu3",
            _ => "lrelu",
        }
    }
    fn parameter_names(&self) -> Vec<&'static str> {
        ["a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"][..2 * self.depth].to_vec()
    }
    fn layers(&self, p: &[f64]) -> Result<Vec<ActivationRef>> {
        check_len(p, 2 * self.depth)?;
        Ok(p.chunks(2)
            .map(|s| arc(Builtin::LRelu { a: s[0], b: s[1] }))
            .collect())
    }
    fn first_layer(&self) -> FirstLayer {
        self.first
    }
    fn canonical(&self, p: &[f64], tau0: f64) -> Vec<f64> {
        let mut q = p.to_vec();
        // Scale: layers 1..L−1 keep τ_ℓ = τ₀.
        let tau = tau0;
        for l in 0..self.depth - 1 {
            let layer = arc(Builtin::LRelu {
                a: q[2 * l],
                b: q[2 * l + 1],
            });
            if let Ok(out) = output_scale(&layer, tau) {
                if out > 0.0 {
                    let c = tau / out;
                    q[2 * l] *= c;
                    q[2 * l + 1] *= c;
                    q[2 * l + 2] /= c;
                    q[2 * l + 3] /= c;
                }
            }
        }
        for s in q.chunks_mut(2) {
            let (hi, lo) = (s[0].max(s[1]), s[0].min(s[1]));
            if hi + lo >= 0.0 {
                (s[0], s[1]) = (hi, lo);
            } else {
                (s[0], s[1]) = (-lo, -hi);
            }
        }
        q
    }
    fn start(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        (0..2 * self.depth)
            .map(|_| uniform(rng, -2.0, 2.0))
            .collect()
    }
}

/// Family B: one hard-tanh layer a·clip(x, −c, c) for odd activations; parameters (a, c); matches c₁ and c₀ (odd
/// layers have no quadratic terms).
#[derive(Debug, Clone, Copy)]
pub struct HardTanh1;

impl ExplicitFamily for HardTanh1 {
    fn name(&self) -> &'static str {
        "hardtanh"
    }
    fn parameter_names(&self) -> Vec<&'static str> {
        vec!["a", "c"]
    }
    fn layers(&self, p: &[f64]) -> Result<Vec<ActivationRef>> {
        check_len(p, 2)?;
        let c = p[1].abs();
        if c == 0.0 || !c.is_finite() {
            return Err(Error::InvalidParameter {
                name: "c",
                value: p[1],
                requirement: "the clipping level must be non-zero",
            });
        }
        Ok(vec![arc(Builtin::HardTanh { a: p[0], c })])
    }
    fn matched(&self, _kind: Kernel) -> Vec<usize> {
        vec![0, 3]
    }
    fn infeasibility(&self, t: &Coefficients, _tau0: f64, _kind: Kernel) -> Option<String> {
        let scale = t.c1.abs().max(t.c0.abs());
        (t.c2.abs() > 1e-12 * scale || t.c3.abs() > 1e-12 * scale).then(|| {
            format!(
                "a hard-tanh layer is odd, so its c₂ and c₃ vanish, but the targets have c₂ = {:.6}, c₃ = {:.6} (the DEQ's activation is not odd); use lrelu2",
                t.c2, t.c3
            )
        })
    }
    fn canonical(&self, p: &[f64], _tau0: f64) -> Vec<f64> {
        p.iter().map(|v| v.abs()).collect()
    }
    fn start(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        vec![uniform(rng, 0.1, 2.0), uniform(rng, 0.1, 3.0)]
    }
}

/// Family C: two centered quadratic layers c₂x² + c₁x − c₂τ², parameters (c₁, c₂, d₁, d₂).
///
/// Feasibility: with y = 4c₂²τ₀² + c₁² the first layer's τ₁² = 2c₂²τ₀⁴ + c₁²τ₀² ≤ τ₀²y, and the two layers give
/// c₀ = 2d₂²τ₁⁴ + 2d₁²c₂²τ₀⁴ ≤ 2τ₀⁴(d₁²c₂² + d₂²y²) = 2τ₀⁴c₂ (one layer: equality). So targets with
/// ĝ₂ < ĝ₀/(2τ₀⁴) are out of reach (math §7).
#[derive(Debug, Clone, Copy)]
pub struct Quadratic2;

impl ExplicitFamily for Quadratic2 {
    fn name(&self) -> &'static str {
        "quadratic"
    }
    fn parameter_names(&self) -> Vec<&'static str> {
        vec!["c1", "c2", "d1", "d2"]
    }
    fn layers(&self, p: &[f64]) -> Result<Vec<ActivationRef>> {
        check_len(p, 4)?;
        Ok(p.chunks(2)
            .map(|s| {
                arc(Builtin::Quadratic {
                    c0: 0.0,
                    c1: s[0],
                    c2: s[1],
                })
            })
            .collect())
    }
    fn infeasibility(&self, t: &Coefficients, tau0: f64, kind: Kernel) -> Option<String> {
        let bound = t.c0 / (2.0 * tau0.powi(4));
        (kind == Kernel::Ck && t.c2 < bound).then(|| {
            format!(
                "quadratic layers give c₂ ≥ c₀/(2τ₀⁴), but the targets have ĝ₂ = {:.6} < ĝ₀/(2τ₀⁴) = {:.6}",
                t.c2, bound
            )
        })
    }
    fn canonical(&self, p: &[f64], tau0: f64) -> Vec<f64> {
        let mut q = p.to_vec();
        // Keep τ₁ = τ₀: scale layer 1 by c, layer 2's c₁ by 1/c and c₂ by 1/c².
        let layer = arc(Builtin::Quadratic {
            c0: 0.0,
            c1: q[0],
            c2: q[1],
        });
        if let Ok(out) = output_scale(&layer, tau0) {
            if out > 0.0 {
                let c = tau0 / out;
                q[0] *= c;
                q[1] *= c;
                q[2] /= c;
                q[3] /= c * c;
            }
        }
        q.iter().map(|v| v.abs()).collect()
    }
    fn start(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        (0..4).map(|_| uniform(rng, -1.5, 1.5)).collect()
    }
}

fn check_len(p: &[f64], n: usize) -> Result<()> {
    if p.len() != n {
        return Err(Error::Shape {
            what: format!("{} parameters given, the family has {n}", p.len()),
        });
    }
    Ok(())
}
