//! The high-dimensional equivalents of kernel matrices on Gaussian mixtures (math §4 and §6): the coefficients
//! (c₁, c₂, c₃, c₀) of K̃ = c₁XXᵀ + c₂uuᵀ + c₃JTJᵀ/p + c₀Iₙ for explicit L-layer networks and for the DEQ.
//! The derivation in the crate's notation is in docs/equivalents.md.

use crate::activation::{ActivationRef, ScaleMoments};
use crate::error::check_positive;
use crate::kernel::explicit::{FirstLayer, LayerCentering, MlpParams};
use crate::kernel::implicit::{tau_star, Centering, DeqParams};
use crate::kernel::Kernel;
use crate::solve::SolveReport;
use crate::{Error, Result};

/// The four coefficients of K̃(c₁, c₂, c₃, c₀) = c₁XXᵀ + c₂uuᵀ + c₃JTJᵀ/p + c₀Iₙ.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Coefficients {
    /// c₁, of XXᵀ.
    pub c1: f64,
    /// c₂, of uuᵀ.
    pub c2: f64,
    /// c₃, of JTJᵀ/p.
    pub c3: f64,
    /// c₀, of the identity.
    pub c0: f64,
}

impl Coefficients {
    /// [c₁, c₂, c₃, c₀].
    pub fn as_array(&self) -> [f64; 4] {
        [self.c1, self.c2, self.c3, self.c0]
    }
    /// The same without the u and T terms (c₂ = c₃ = 0): the "equivalent" that ignores the fluctuations.
    pub fn without_fluctuations(&self) -> Self {
        Coefficients {
            c2: 0.0,
            c3: 0.0,
            ..*self
        }
    }
}

/// The moments one layer's coefficients depend on, for σ at scale τ (math §4/§6): g1 = m₁², g2 = m₂², g4 = q,
/// d = E[σ′²], v = Var σ(τξ).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LayerMoments {
    /// The scale τ.
    pub tau: f64,
    /// g1 = m₁².
    pub g1: f64,
    /// g2 = m₂².
    pub g2: f64,
    /// g4 = q.
    pub g4: f64,
    /// d = E[σ′²] (`None` without a derivative).
    pub d: Option<f64>,
    /// v = Var σ(τξ).
    pub v: f64,
}

impl LayerMoments {
    /// The moments of `act` at scale τ.
    pub fn at(act: &ActivationRef, tau: f64) -> Result<Self> {
        let m = ScaleMoments::compute(act, tau)?;
        Ok(LayerMoments {
            tau,
            g1: m.m1 * m.m1,
            g2: m.m2 * m.m2,
            g4: m.q,
            d: m.d,
            v: m.v,
        })
    }
}

/// The explicit network's coefficients, layer by layer.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ExplicitEquivalent {
    /// The input scale τ₀.
    pub tau0: f64,
    /// Per layer ℓ = 1..L: the moments of σ_ℓ at τ_{ℓ−1}.
    pub layers: Vec<LayerMoments>,
    /// τ_L.
    pub tau: f64,
    /// α_L = (α₁, α₂, α₃, α₄).
    pub alpha: [f64; 4],
    /// K̃_CK's coefficients.
    pub ck: Coefficients,
    /// β_L = (β₁, β₂, β₃) (None when some σ_ℓ has no derivative).
    pub beta: Option<[f64; 3]>,
    /// κ_L² (None when some σ_ℓ has no derivative).
    pub kappa2: Option<f64>,
    /// K̃_NTK's coefficients (None when some σ_ℓ has no derivative).
    pub ntk: Option<Coefficients>,
}

impl ExplicitEquivalent {
    /// The coefficients of the equivalent of `kind` (the CK or the NTK).
    pub fn coefficients(&self, kind: Kernel) -> Result<Coefficients> {
        pick(kind, self.ck, None, self.ntk, "the explicit network")
    }
}

/// The coefficients of one kernel out of an equivalent's, or why they do not exist.
fn pick(
    kind: Kernel,
    ck: Coefficients,
    nngp: Option<Coefficients>,
    ntk: Option<Coefficients>,
    model: &str,
) -> Result<Coefficients> {
    match kind {
        Kernel::Ck => Ok(ck),
        Kernel::Nngp => nngp.ok_or_else(|| Error::Undefined {
            quantity: "an equivalent of the pre-activation NNGP",
            activation: model.into(),
            why: "the equivalents of explicit networks are derived for the CK and the NTK",
        }),
        Kernel::Ntk => ntk.ok_or_else(|| Error::Undefined {
            quantity: "the NTK equivalent",
            activation: model.into(),
            why: "it needs d = E[φ′²] (an activation with a derivative) and, for the DEQ, B frozen",
        }),
    }
}

/// The equivalents of the L-layer explicit network `params` (math §4): unit variances, no biases, each
/// activation centered at its input scale ([`LayerCentering::AtInputScale`]: σ_ℓ − E[σ_ℓ(τ_{ℓ−1}ξ)],
/// τ_ℓ² = v_ℓ(τ_{ℓ−1})), on data of the scale τ₀ the params carry ([`MlpParams::with_tau0`]):
///
/// ```text
/// α₀ = (1, 0, 0, 1);   α_ℓ,1 = g1·α_{ℓ−1,1};   α_ℓ,2 = g1·α_{ℓ−1,2} + ¼g2·α_{ℓ−1,4}²;
/// α_ℓ,3 = g1·α_{ℓ−1,3} + ½g2·α_{ℓ−1,1}²;   α_ℓ,4 = ½g4·α_{ℓ−1,4};
/// K̃_CK = K̃(α_L,1, α_L,2, α_L,3, τ_L² − τ₀²α_L,1)
/// β_ℓ,1 = α_ℓ,1 + g1·β_{ℓ−1,1};   β_ℓ,2 = α_ℓ,2 + g1·β_{ℓ−1,2};
/// β_ℓ,3 = α_ℓ,3 + g1·β_{ℓ−1,3} + g2·α_{ℓ−1,1}β_{ℓ−1,1};   κ_ℓ² = τ_ℓ² + d_ℓκ_{ℓ−1}²
/// K̃_NTK = K̃(β_L,1, β_L,2, β_L,3, κ_L² − τ₀²β_L,1)
/// ```
///
/// with the moments of layer ℓ at τ_{ℓ−1} and (β₀, κ₀²) from the params' [`FirstLayer`].
pub fn explicit_equivalent(params: &MlpParams) -> Result<ExplicitEquivalent> {
    if !params.is_unit_variance() {
        return Err(Error::Undefined {
            quantity: "the high-dimensional equivalent",
            activation: "an explicit network with σ_w² ≠ 1 or σ_b² ≠ 0".into(),
            why: "the equivalents are derived for unit weight variances and no biases (MlpParams::unit_variance)",
        });
    }
    if params.centering() != LayerCentering::AtInputScale {
        return Err(Error::Undefined {
            quantity: "the high-dimensional equivalent",
            activation: "an explicit network with uncentered activations".into(),
            why: "an uncentered layer adds m₀²11ᵀ, which the equivalent does not model; use MlpParams::centered_at_input_scale",
        });
    }
    let tau0 = params.input_scale(None)?;
    let first = params.first_layer();
    let layers: Vec<&ActivationRef> = params.layers().iter().map(|l| &l.activation).collect();
    let mut alpha = [1.0, 0.0, 0.0, 1.0];
    let (mut beta, mut kappa2) = match first {
        FirstLayer::Trained => ([1.0, 0.0, 0.0], tau0 * tau0),
        FirstLayer::Frozen => ([0.0, 0.0, 0.0], 0.0),
    };
    let mut ntk_defined = true;
    let mut tau = tau0;
    let mut moments = Vec::with_capacity(layers.len());
    for act in layers {
        let m = LayerMoments::at(act, tau)?;
        let prev = alpha;
        alpha = [
            m.g1 * prev[0],
            m.g1 * prev[1] + 0.25 * m.g2 * prev[3] * prev[3],
            m.g1 * prev[2] + 0.5 * m.g2 * prev[0] * prev[0],
            0.5 * m.g4 * prev[3],
        ];
        let tau2 = m.v;
        match m.d {
            Some(d) => {
                beta = [
                    alpha[0] + m.g1 * beta[0],
                    alpha[1] + m.g1 * beta[1],
                    alpha[2] + m.g1 * beta[2] + m.g2 * prev[0] * beta[0],
                ];
                kappa2 = tau2 + d * kappa2;
            }
            None => ntk_defined = false,
        }
        tau = check_positive("layer output scale τ_ℓ (is σ constant?)", tau2.sqrt())?;
        moments.push(m);
    }
    let t02 = tau0 * tau0;
    let ck = Coefficients {
        c1: alpha[0],
        c2: alpha[1],
        c3: alpha[2],
        c0: tau * tau - t02 * alpha[0],
    };
    let ntk = ntk_defined.then_some(Coefficients {
        c1: beta[0],
        c2: beta[1],
        c3: beta[2],
        c0: kappa2 - t02 * beta[0],
    });
    Ok(ExplicitEquivalent {
        tau0,
        layers: moments,
        tau,
        alpha,
        ck,
        beta: ntk_defined.then_some(beta),
        kappa2: ntk_defined.then_some(kappa2),
        ntk,
    })
}

/// The DEQ's solution of the four equations and its equivalents (math §6).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DeqEquivalent {
    /// σ_a².
    pub sigma_a2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// The input scale τ₀.
    pub tau0: f64,
    /// τ*.
    pub tau_star: f64,
    /// E1 by fixed-point iteration (`solve::fixed_point`).
    pub tau_solve: SolveReport,
    /// Moments of the centered φ at τ*.
    pub moments: LayerMoments,
    /// (α₁, α₂, α₃, α₄).
    pub alpha: [f64; 4],
    /// |residual| of E2, E3 (both parts) and E4 at the returned α.
    pub residuals: [f64; 4],
    /// Ḡ = K̃(ĝ₁, ĝ₂, ĝ₃, ĝ₀).
    pub ck: Coefficients,
    /// Σ̄* = K̃(α₁, α₂, α₃, τ*² − τ₀²α₁).
    pub nngp: Coefficients,
    /// β₁, β₂, β₃ (None without E[φ′²] or with B trained).
    pub beta: Option<[f64; 3]>,
    /// κ² (None without E[φ′²] or with B trained).
    pub kappa2: Option<f64>,
    /// K̄ = K̃(β₁, β₂, β₃, κ² − τ₀²β₁).
    pub ntk: Option<Coefficients>,
}

impl DeqEquivalent {
    /// The coefficients of the equivalent of `kind`: Σ̄* ([`Kernel::Nngp`]), Ḡ ([`Kernel::Ck`]) or K̄
    /// ([`Kernel::Ntk`]).
    pub fn coefficients(&self, kind: Kernel) -> Result<Coefficients> {
        pick(kind, self.ck, Some(self.nngp), self.ntk, "the DEQ")
    }
}

/// The four equations of the DEQ `params` (math §6: activation φ₀ centered at τ*, weight variances σ_a², σ_b²,
/// B frozen for the NTK) on data of the scale τ₀ the params carry ([`DeqParams::with_tau0`],
/// [`DeqParams::with_tau0_from`]):
///
/// ```text
/// (E1) τ*² = σ_a²v(τ*) + σ_b²τ₀²                      (v of φ₀ at τ*; solved by fixed-point iteration)
/// (E2) α₁ = σ_a²g1α₁ + σ_b²
/// (E3) α₂ = σ_a²(g1α₂ + ¼g2α₄²),  α₄ = ½σ_a²g4α₄ + σ_b²
/// (E4) α₃ = σ_a²(g1α₃ + ½g2α₁²)
/// ```
///
/// E2–E4 are linear once τ* is known and are solved exactly (their residuals are reported). Then
/// ĝ₁ = (α₁ − σ_b²)/σ_a², ĝ₂ = α₂/σ_a², ĝ₃ = α₃/σ_a², ĝ₀ = (τ*² − τ₀²α₁)/σ_a²;
/// β₁ = ĝ₁/(1 − σ_a²g1), β₂ = ĝ₂/(1 − σ_a²g1), β₃ = (ĝ₃ + β₁σ_a²g2α₁)/(1 − σ_a²g1), κ² = v(τ*)/(1 − σ_a²d).
pub fn deq_equivalent(params: &DeqParams) -> Result<DeqEquivalent> {
    if params.centering() != Centering::AtFixedPoint {
        return Err(Error::Undefined {
            quantity: "the four equations",
            activation: params.activation().name(),
            why: "they describe the DEQ with φ centered at τ* (Centering::AtFixedPoint)",
        });
    }
    let tau0 = params.input_scale(None)?;
    let (activation, sigma_a2, sigma_b2) =
        (params.activation(), params.sigma_a2(), params.sigma_b2());
    let (tau, tau_solve) = tau_star(activation.as_ref(), sigma_a2, sigma_b2, tau0)?;
    let m = LayerMoments::at(activation, tau)?;
    let (a, b) = (sigma_a2, sigma_b2);
    let linear = 1.0 - a * m.g1;
    let quad = 1.0 - 0.5 * a * m.g4;
    if linear <= 0.0 || quad <= 0.0 {
        return Err(Error::OutsideContraction {
            model: "DEQ equivalent",
            factor: (a * m.g1).max(0.5 * a * m.g4),
            parameter: "sigma_a2",
            max_safe: (1.0 / m.g1).min(2.0 / m.g4),
        });
    }
    let a1 = b / linear;
    let a4 = b / quad;
    let a2 = a * 0.25 * m.g2 * a4 * a4 / linear;
    let a3 = a * 0.5 * m.g2 * a1 * a1 / linear;
    let alpha = [a1, a2, a3, a4];
    let residuals = [
        (a1 - (a * m.g1 * a1 + b)).abs(),
        (a2 - a * (m.g1 * a2 + 0.25 * m.g2 * a4 * a4)).abs(),
        (a4 - (0.5 * a * m.g4 * a4 + b)).abs(),
        (a3 - a * (m.g1 * a3 + 0.5 * m.g2 * a1 * a1)).abs(),
    ];
    let (tau2, t02) = (tau * tau, tau0 * tau0);
    let ck = Coefficients {
        c1: (a1 - b) / a,
        c2: a2 / a,
        c3: a3 / a,
        c0: (tau2 - t02 * a1) / a,
    };
    let nngp = Coefficients {
        c1: a1,
        c2: a2,
        c3: a3,
        c0: tau2 - t02 * a1,
    };
    let (beta, kappa2, ntk) = match m.d.filter(|_| !params.trains_input_weights()) {
        Some(d) => {
            if 1.0 - a * d <= 0.0 {
                return Err(Error::OutsideContraction {
                    model: "DEQ NTK equivalent",
                    factor: a * d,
                    parameter: "sigma_a2",
                    max_safe: 1.0 / d,
                });
            }
            let b1 = ck.c1 / linear;
            let b2 = ck.c2 / linear;
            let b3 = (ck.c3 + b1 * a * m.g2 * a1) / linear;
            let k2 = m.v / (1.0 - a * d);
            (
                Some([b1, b2, b3]),
                Some(k2),
                Some(Coefficients {
                    c1: b1,
                    c2: b2,
                    c3: b3,
                    c0: k2 - t02 * b1,
                }),
            )
        }
        None => (None, None, None),
    };
    Ok(DeqEquivalent {
        sigma_a2,
        sigma_b2,
        tau0,
        tau_star: tau,
        tau_solve,
        moments: m,
        alpha,
        residuals,
        ck,
        nngp,
        beta,
        kappa2,
        ntk,
    })
}
