//! The built-in activations of math §2, their closed forms, and the CLI syntax `name[:p1,p2,…]`.

use std::f64::consts::{FRAC_2_SQRT_PI, PI};

use super::gauss::normal_cdf;
use super::{Activation, ClosedFamily, Cov2, Derivative, Parity, ScaleMoments};
use crate::{Error, Result};

/// The activation syntax accepted by [`parse_activation`] and the CLI.
pub const BUILTIN_SYNTAX: &str =
    "relu, leaky_relu:s, lrelu:a,b, tanh, erf, sigmoid, gelu, silu (swish), \
softplus, elu[:alpha], sin, cos, hardtanh[:a,c], quadratic:c0,c1,c2";

/// Built-in activations (math §2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Builtin {
    /// max(x, 0).
    Relu,
    /// max(x, s·x).
    LeakyRelu {
        /// The slope s for x < 0.
        s: f64,
    },
    /// max(a·x, b·x).
    LRelu {
        /// One slope.
        a: f64,
        /// The other.
        b: f64,
    },
    /// tanh x.
    Tanh,
    /// erf(x) (not erf(x/√2)).
    Erf,
    /// 1/(1 + e^{−x}).
    Sigmoid,
    /// xΦ(x), the exact GELU.
    Gelu,
    /// x/(1 + e^{−x}).
    Silu,
    /// log(1 + eˣ).
    Softplus,
    /// x for x > 0, α(eˣ − 1) otherwise.
    Elu {
        /// α.
        alpha: f64,
    },
    /// sin x.
    Sin,
    /// cos x.
    Cos,
    /// a·clip(x, −c, c).
    HardTanh {
        /// The output scale a.
        a: f64,
        /// The clipping point c > 0.
        c: f64,
    },
    /// c₀ + c₁x + c₂x².
    Quadratic {
        /// c₀.
        c0: f64,
        /// c₁.
        c1: f64,
        /// c₂.
        c2: f64,
    },
}

/// Parse the command-line syntax `name[:p1,p2,…]` ([`BUILTIN_SYNTAX`]), e.g. `relu`, `lrelu:1.3,-0.4`,
/// `hardtanh:0.7,1.1`.
pub fn parse_activation(spec: &str) -> Result<Builtin> {
    let spec = spec.trim();
    let (name, args) = match spec.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a)),
        None => (spec, None),
    };
    let unknown = |hint: String| Error::UnknownActivation {
        name: spec.to_string(),
        hint,
    };
    let params: Vec<f64> = match args {
        None => Vec::new(),
        Some(a) => a
            .split(',')
            .map(|t| {
                t.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        unknown(format!("parameter `{}` is not a finite number", t.trim()))
                    })
            })
            .collect::<Result<_>>()?,
    };
    let arity = |allowed: &[usize], usage: &str| -> Result<()> {
        if allowed.contains(&params.len()) {
            Ok(())
        } else {
            Err(unknown(format!(
                "expected `{usage}`, got {} parameter(s)",
                params.len()
            )))
        }
    };
    let b = match name.to_ascii_lowercase().as_str() {
        "relu" => {
            arity(&[0], "relu")?;
            Builtin::Relu
        }
        "leaky_relu" => {
            arity(&[1], "leaky_relu:s")?;
            Builtin::LeakyRelu { s: params[0] }
        }
        "lrelu" => {
            arity(&[2], "lrelu:a,b")?;
            Builtin::LRelu {
                a: params[0],
                b: params[1],
            }
        }
        "tanh" => {
            arity(&[0], "tanh")?;
            Builtin::Tanh
        }
        "erf" => {
            arity(&[0], "erf")?;
            Builtin::Erf
        }
        "sigmoid" => {
            arity(&[0], "sigmoid")?;
            Builtin::Sigmoid
        }
        "gelu" => {
            arity(&[0], "gelu")?;
            Builtin::Gelu
        }
        "silu" | "swish" => {
            arity(&[0], "silu")?;
            Builtin::Silu
        }
        "softplus" => {
            arity(&[0], "softplus")?;
            Builtin::Softplus
        }
        "elu" => {
            arity(&[0, 1], "elu[:alpha]")?;
            Builtin::Elu {
                alpha: params.first().copied().unwrap_or(1.0),
            }
        }
        "sin" => {
            arity(&[0], "sin")?;
            Builtin::Sin
        }
        "cos" => {
            arity(&[0], "cos")?;
            Builtin::Cos
        }
        "hardtanh" => {
            arity(&[0, 2], "hardtanh[:a,c]")?;
            let (a, c) = if params.is_empty() {
                (1.0, 1.0)
            } else {
                (params[0], params[1])
            };
            if c <= 0.0 {
                return Err(unknown(
                    "the clipping level c of hardtanh:a,c must be > 0".into(),
                ));
            }
            Builtin::HardTanh { a, c }
        }
        "quadratic" => {
            arity(&[3], "quadratic:c0,c1,c2")?;
            Builtin::Quadratic {
                c0: params[0],
                c1: params[1],
                c2: params[2],
            }
        }
        _ => return Err(unknown(format!("known activations: {BUILTIN_SYNTAX}"))),
    };
    Ok(b)
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn fmt_param(v: f64) -> String {
    format!("{v}")
}

impl Builtin {
    /// Slopes (positive side, negative side) of the piecewise-linear family relu / leaky_relu / lrelu:
    /// σ(x) = p·x₊ − n·(−x)₊, i.e. σ = n·x + (p − n)·relu(x).
    fn slopes(&self) -> Option<(f64, f64)> {
        match *self {
            Builtin::Relu => Some((1.0, 0.0)),
            Builtin::LeakyRelu { s } => Some((1f64.max(s), 1f64.min(s))),
            Builtin::LRelu { a, b } => Some((a.max(b), a.min(b))),
            _ => None,
        }
    }
}

/// E[relu(u)relu(v)] = s₁s₂(sin θ + (π − θ)cos θ)/(2π) and E[1{u>0}1{v>0}] = (π − θ)/(2π) (math §3).
fn relu_dual(c: &Cov2) -> (f64, f64) {
    let (s1, s2) = (c.s11.sqrt(), c.s22.sqrt());
    if s1 == 0.0 || s2 == 0.0 {
        return (0.0, 0.0);
    }
    let rho = super::snap_correlation(c.s12 / (s1 * s2));
    let theta = rho.acos();
    let sin_theta = (1.0 - rho * rho).max(0.0).sqrt();
    (
        s1 * s2 * (sin_theta + (PI - theta) * rho) / (2.0 * PI),
        (PI - theta) / (2.0 * PI),
    )
}

impl std::str::FromStr for Builtin {
    type Err = Error;

    /// [`parse_activation`].
    fn from_str(spec: &str) -> Result<Self> {
        parse_activation(spec)
    }
}

impl Activation for Builtin {
    fn name(&self) -> String {
        match *self {
            Builtin::Relu => "relu".into(),
            Builtin::LeakyRelu { s } => format!("leaky_relu:{}", fmt_param(s)),
            Builtin::LRelu { a, b } => format!("lrelu:{},{}", fmt_param(a), fmt_param(b)),
            Builtin::Tanh => "tanh".into(),
            Builtin::Erf => "erf".into(),
            Builtin::Sigmoid => "sigmoid".into(),
            Builtin::Gelu => "gelu".into(),
            Builtin::Silu => "silu".into(),
            Builtin::Softplus => "softplus".into(),
            Builtin::Elu { alpha } => format!("elu:{}", fmt_param(alpha)),
            Builtin::Sin => "sin".into(),
            Builtin::Cos => "cos".into(),
            Builtin::HardTanh { a, c } => format!("hardtanh:{},{}", fmt_param(a), fmt_param(c)),
            Builtin::Quadratic { c0, c1, c2 } => {
                format!(
                    "quadratic:{},{},{}",
                    fmt_param(c0),
                    fmt_param(c1),
                    fmt_param(c2)
                )
            }
        }
    }

    fn value(&self, x: f64) -> f64 {
        match *self {
            Builtin::Relu | Builtin::LeakyRelu { .. } | Builtin::LRelu { .. } => {
                let (p, n) = self.slopes().expect("piecewise linear");
                if x > 0.0 {
                    p * x
                } else {
                    n * x
                }
            }
            Builtin::Tanh => x.tanh(),
            Builtin::Erf => libm::erf(x),
            Builtin::Sigmoid => sigmoid(x),
            Builtin::Gelu => x * normal_cdf(x),
            Builtin::Silu => x * sigmoid(x),
            Builtin::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            Builtin::Elu { alpha } => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            Builtin::Sin => x.sin(),
            Builtin::Cos => x.cos(),
            Builtin::HardTanh { a, c } => a * x.clamp(-c, c),
            Builtin::Quadratic { c0, c1, c2 } => c0 + x * (c1 + c2 * x),
        }
    }

    fn value_slice(&self, x: &[f64], out: &mut [f64]) {
        match self.slopes() {
            Some((p, n)) => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = if v > 0.0 { p * v } else { n * v };
                }
            }
            None => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = self.value(v);
                }
            }
        }
    }

    fn derivative(&self, x: f64) -> f64 {
        match *self {
            Builtin::Relu | Builtin::LeakyRelu { .. } | Builtin::LRelu { .. } => {
                let (p, n) = self.slopes().expect("piecewise linear");
                if x > 0.0 {
                    p
                } else {
                    n
                }
            }
            Builtin::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Builtin::Erf => FRAC_2_SQRT_PI * (-x * x).exp(),
            Builtin::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s)
            }
            Builtin::Gelu => normal_cdf(x) + x * super::gauss::normal_pdf(x),
            Builtin::Silu => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
            Builtin::Softplus => sigmoid(x),
            Builtin::Elu { alpha } => {
                if x > 0.0 {
                    1.0
                } else {
                    alpha * x.exp()
                }
            }
            Builtin::Sin => x.cos(),
            Builtin::Cos => -x.sin(),
            Builtin::HardTanh { a, c } => {
                if x.abs() < c {
                    a
                } else {
                    0.0
                }
            }
            Builtin::Quadratic { c1, c2, .. } => c1 + 2.0 * c2 * x,
        }
    }

    fn derivative_kind(&self) -> Derivative {
        Derivative::Available
    }

    fn kinks(&self) -> Vec<f64> {
        match *self {
            Builtin::Relu
            | Builtin::LeakyRelu { .. }
            | Builtin::LRelu { .. }
            | Builtin::Elu { .. } => vec![0.0],
            Builtin::HardTanh { c, .. } => vec![-c, c],
            _ => Vec::new(),
        }
    }

    fn parity(&self) -> Parity {
        match *self {
            Builtin::Tanh | Builtin::Erf | Builtin::Sin | Builtin::HardTanh { .. } => Parity::Odd,
            Builtin::Cos => Parity::Even,
            Builtin::LeakyRelu { s: -1.0 } => Parity::Even,
            Builtin::LRelu { a, b } if a == b => Parity::Odd,
            Builtin::LRelu { a, b } if a == -b => Parity::Even,
            Builtin::LeakyRelu { s: 1.0 } => Parity::Odd,
            Builtin::Quadratic { c0, c1, c2 } if c1 == 0.0 && (c0 != 0.0 || c2 != 0.0) => {
                Parity::Even
            }
            Builtin::Quadratic { c0, c2, .. } if c0 == 0.0 && c2 == 0.0 => Parity::Odd,
            _ => Parity::Neither,
        }
    }

    fn closed_moments(&self, tau: f64) -> Option<ScaleMoments> {
        let t2 = tau * tau;
        let sqrt_2pi = (2.0 * PI).sqrt();
        match *self {
            Builtin::Relu | Builtin::LeakyRelu { .. } | Builtin::LRelu { .. } => {
                let (p, n) = self.slopes()?;
                let jump = p - n;
                Some(ScaleMoments {
                    tau,
                    m0: jump * tau / sqrt_2pi,
                    m1: 0.5 * (p + n),
                    m2: jump / (tau * sqrt_2pi),
                    v: t2 * (0.5 * (p * p + n * n) - jump * jump / (2.0 * PI)),
                    q: p * p + n * n - jump * jump / PI,
                    d: Some(0.5 * (p * p + n * n)),
                })
            }
            Builtin::HardTanh { a, c } => {
                let z = c / tau;
                let e = libm::erf(z / std::f64::consts::SQRT_2);
                let g = (2.0 / PI).sqrt() * (-0.5 * z * z).exp();
                let second = t2 * e + c * (c * libm::erfc(z / std::f64::consts::SQRT_2) - g * tau);
                Some(ScaleMoments {
                    tau,
                    m0: 0.0,
                    m1: a * e,
                    m2: 0.0,
                    v: a * a * second,
                    q: 2.0 * a * a * (e - g * z),
                    d: Some(a * a * e),
                })
            }
            Builtin::Quadratic { c0, c1, c2 } => Some(ScaleMoments {
                tau,
                m0: c0 + c2 * t2,
                m1: c1,
                m2: 2.0 * c2,
                v: c1 * c1 * t2 + 2.0 * c2 * c2 * t2 * t2,
                q: 2.0 * (c1 * c1 + 4.0 * c2 * c2 * t2),
                d: Some(c1 * c1 + 4.0 * c2 * c2 * t2),
            }),
            // E[erf²(u)] = (2/π)arcsin(2Σ/(1+2Σ)); q = 2 d/dΣ of it at Σ = τ² (Price/Stein).
            Builtin::Erf => {
                let a = 1.0 + 2.0 * t2;
                let b = (1.0 + 4.0 * t2).sqrt();
                Some(ScaleMoments {
                    tau,
                    m0: 0.0,
                    m1: FRAC_2_SQRT_PI / a.sqrt(),
                    m2: 0.0,
                    v: (2.0 / PI) * (2.0 * t2 / a).asin(),
                    q: (8.0 / PI) / (a * b),
                    d: Some((4.0 / PI) / b),
                })
            }
            Builtin::Gelu => Some(super::gelu::moments(tau)),
            Builtin::Sin => {
                let e1 = (-0.5 * t2).exp();
                let e2 = (-2.0 * t2).exp();
                Some(ScaleMoments {
                    tau,
                    m0: 0.0,
                    m1: e1,
                    m2: 0.0,
                    v: 0.5 * (1.0 - e2),
                    q: 2.0 * e2,
                    d: Some(0.5 * (1.0 + e2)),
                })
            }
            Builtin::Cos => {
                let e1 = (-0.5 * t2).exp();
                let e2 = (-2.0 * t2).exp();
                Some(ScaleMoments {
                    tau,
                    m0: e1,
                    m1: 0.0,
                    m2: -e1,
                    v: 0.5 * (1.0 + e2) - e1 * e1,
                    q: 2.0 * e1 * e1 - 2.0 * e2,
                    d: Some(0.5 * (1.0 - e2)),
                })
            }
            _ => None,
        }
    }

    fn closed_dual(&self, c: &Cov2) -> Option<f64> {
        match *self {
            // σ = n·x + (p−n)·relu(x) and E[u·relu(v)] = Σ₁₂/2 (Stein), so
            // E[σ(u)σ(v)] = p·n·Σ₁₂ + (p−n)²E[relu(u)relu(v)].
            Builtin::Relu | Builtin::LeakyRelu { .. } | Builtin::LRelu { .. } => {
                self.closed_dual_pair(c).map(|p| p.0)
            }
            Builtin::Erf => {
                let den = ((1.0 + 2.0 * c.s11) * (1.0 + 2.0 * c.s22)).sqrt();
                Some((2.0 / PI) * (2.0 * c.s12 / den).clamp(-1.0, 1.0).asin())
            }
            Builtin::Gelu => Some(super::gelu::dual_pair(c.s11, c.s22, c.s12).0),
            Builtin::Sin => Some((-0.5 * (c.s11 + c.s22)).exp() * c.s12.sinh()),
            Builtin::Cos => Some((-0.5 * (c.s11 + c.s22)).exp() * c.s12.cosh()),
            Builtin::Quadratic { c0, c1, c2 } => Some(
                c0 * c0
                    + c0 * c2 * (c.s11 + c.s22)
                    + c1 * c1 * c.s12
                    + c2 * c2 * (c.s11 * c.s22 + 2.0 * c.s12 * c.s12),
            ),
            _ => None,
        }
    }

    fn closed_dual_derivative(&self, c: &Cov2) -> Option<f64> {
        match *self {
            Builtin::Relu | Builtin::LeakyRelu { .. } | Builtin::LRelu { .. } => {
                self.closed_dual_pair(c).map(|p| p.1)
            }
            Builtin::Erf => {
                let det = (1.0 + 2.0 * c.s11) * (1.0 + 2.0 * c.s22) - 4.0 * c.s12 * c.s12;
                Some((4.0 / PI) / det.sqrt())
            }
            Builtin::Gelu => Some(super::gelu::dual_pair(c.s11, c.s22, c.s12).1),
            Builtin::Sin => Some((-0.5 * (c.s11 + c.s22)).exp() * c.s12.cosh()),
            Builtin::Cos => Some((-0.5 * (c.s11 + c.s22)).exp() * c.s12.sinh()),
            Builtin::Quadratic { c1, c2, .. } => Some(c1 * c1 + 4.0 * c2 * c2 * c.s12),
            _ => None,
        }
    }

    fn closed_family(&self) -> Option<ClosedFamily> {
        match (self, self.slopes()) {
            (_, Some((pos, neg))) => Some(ClosedFamily::PiecewiseLinear {
                pos,
                neg,
                shift: 0.0,
            }),
            (Builtin::Erf, _) => Some(ClosedFamily::Erf { shift: 0.0 }),
            (Builtin::Gelu, _) => Some(ClosedFamily::Gelu { shift: 0.0 }),
            _ => None,
        }
    }

    fn closed_dual_pair(&self, c: &Cov2) -> Option<(f64, f64)> {
        match self.slopes() {
            Some((p, n)) => {
                let (relu, step) = relu_dual(c);
                let k = p * n * c.s12 + (p - n) * (p - n) * relu;
                // σ′ = n + (p−n)·1{x>0}: E[σ′(u)σ′(v)] = p·n + (p−n)²E[1{u>0}1{v>0}]; a zero-variance
                // variable sits at the kink, where σ′(0) = n.
                let kd = if c.s11 == 0.0 || c.s22 == 0.0 {
                    let side = |s: f64| if s == 0.0 { n } else { 0.5 * (p + n) };
                    side(c.s11) * side(c.s22)
                } else {
                    p * n + (p - n) * (p - n) * step
                };
                Some((k, kd))
            }
            None if *self == Builtin::Gelu => Some(super::gelu::dual_pair(c.s11, c.s22, c.s12)),
            None => Some((self.closed_dual(c)?, self.closed_dual_derivative(c)?)),
        }
    }
}
