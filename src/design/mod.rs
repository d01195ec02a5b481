//! Designing a shallow explicit network whose CK (or NTK) equals a DEQ's (math §7).
//!
//! An [`ExplicitFamily`] declares its parameters, the layers they build and which of the four equivalent
//! coefficients (c₁, c₂, c₃, c₀) of math §4 it matches; [`match_family`] solves "coefficients = targets" by
//! Levenberg–Marquardt ([`crate::solve::levenberg_marquardt`]) from many starts, folds each solution into the
//! family's canonical form (its symmetries leave the coefficients — and the kernel — unchanged), and returns
//! every distinct solution with its residual, or a reasoned "infeasible": a necessary condition the targets
//! violate, or no root after the search, with the best residual found.
//!
//! Families ([`families`]): `lrelu2` (A: two centered L-ReLU layers), `hardtanh` (B: one hard-tanh layer, for
//! odd activations), `quadratic` (C: two centered quadratic layers), `lrelu3` (three L-ReLU layers; for the NTK
//! with the input layer frozen). Adding a family is implementing the trait.
//!
//! [`twin`] does the whole job for a DEQ: it picks the family by the activation's parity and the kernel, matches
//! it, and returns every solution with the best one as a ready [`MlpParams`]:
//!
//! ```
//! use deq_kernels::activation::Builtin;
//! use deq_kernels::design::{twin, MatchParams};
//! use deq_kernels::kernel::implicit::DeqParams;
//! use deq_kernels::kernel::Kernel;
//!
//! let deq = DeqParams::new(Builtin::Relu, 0.2)?.with_tau0(1.0)?;
//! let t = twin(&deq, Kernel::Ck, &MatchParams::default())?;
//! assert_eq!(t.result.family, "lrelu2");
//! assert!(t.result.solutions[0].residual < 1e-10 && t.network.unwrap().depth() == 2);
//! # Ok::<(), deq_kernels::Error>(())
//! ```

pub mod families;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::activation::{ActivationRef, Parity};
use crate::kernel::explicit::{FirstLayer, MlpParams};
use crate::kernel::implicit::DeqParams;
use crate::kernel::Kernel;
use crate::rmt::equivalent::{deq_equivalent, explicit_equivalent, Coefficients};
use crate::solve::{levenberg_marquardt, LevenbergMarquardtParams};
use crate::{Error, Result};

pub use families::{family_by_name, HardTanh1, LRelu, Quadratic2, FAMILY_NAMES};

/// A family of explicit networks with a fixed number of real parameters: unit weight variances, no biases,
/// each activation centered at its input scale.
pub trait ExplicitFamily: Sync {
    /// The CLI name.
    fn name(&self) -> &'static str;
    /// Parameter names, in order (e.g. `a1 b1 a2 b2`).
    fn parameter_names(&self) -> Vec<&'static str>;
    /// The layers' activations (uncentered; [`family_network`] centers each at its input scale).
    fn layers(&self, params: &[f64]) -> Result<Vec<ActivationRef>>;
    /// Which of (c₁, c₂, c₃, c₀) are matched (indices 0..4). Default: all four.
    fn matched(&self, _kind: Kernel) -> Vec<usize> {
        vec![0, 1, 2, 3]
    }
    /// Where the NTK recursion starts.
    fn first_layer(&self) -> FirstLayer {
        FirstLayer::Trained
    }
    /// A reason the targets cannot be reached (a necessary condition they violate), if the family has one.
    fn infeasibility(&self, _targets: &Coefficients, _tau0: f64, _kind: Kernel) -> Option<String> {
        None
    }
    /// The canonical representative of the parameters' symmetry class, for data of scale τ₀.
    fn canonical(&self, params: &[f64], _tau0: f64) -> Vec<f64> {
        params.to_vec()
    }
    /// A random starting point.
    fn start(&self, rng: &mut ChaCha8Rng) -> Vec<f64>;
}

/// The family's network with `params` on data of scale τ₀, as it is built: its layers with unit variances, each
/// centered at its input scale, the family's first layer (trained or frozen for the NTK), τ₀ fixed — ready for
/// the exact kernels ([`crate::kernel::explicit::mlp_kernels`]), the equivalents or finite-width networks.
pub fn family_network(family: &dyn ExplicitFamily, params: &[f64], tau0: f64) -> Result<MlpParams> {
    MlpParams::unit_variance(family.layers(params)?)?
        .centered_at_input_scale()
        .with_first_layer(family.first_layer())
        .with_tau0(tau0)
}

/// The equivalent coefficients of the family's network with `params` on data of scale τ₀.
pub fn family_coefficients(
    family: &dyn ExplicitFamily,
    params: &[f64],
    tau0: f64,
    kind: Kernel,
) -> Result<Coefficients> {
    explicit_equivalent(&family_network(family, params, tau0)?)?.coefficients(kind)
}

/// The DEQ's targets (math §7): (ĝ₁, ĝ₂, ĝ₃, ĝ₀) for the CK, (β₁, β₂, β₃, κ² − τ₀²β₁) for the NTK, on data of
/// the scale τ₀ the params carry.
pub fn deq_targets(deq: &DeqParams, kind: Kernel) -> Result<Coefficients> {
    if kind == Kernel::Nngp {
        return Err(Error::Undefined {
            quantity: "a design target for the pre-activation NNGP",
            activation: deq.activation().name(),
            why: "the design matches the CK or the NTK",
        });
    }
    deq_equivalent(deq)?.coefficients(kind)
}

/// The family a DEQ's shallow twin is drawn from: for the CK one hard-tanh layer when φ is odd (`hardtanh`), two
/// L-ReLU layers otherwise (`lrelu2`); for the NTK three L-ReLU layers with the input layer frozen (`lrelu3`:
/// two come close but do not reach the targets, docs/design.md).
pub fn twin_family(deq: &DeqParams, kind: Kernel) -> Result<Box<dyn ExplicitFamily>> {
    let name = match kind {
        Kernel::Ck if deq.activation().parity() == Parity::Odd => "hardtanh",
        Kernel::Ck => "lrelu2",
        Kernel::Ntk => "lrelu3",
        Kernel::Nngp => {
            return Err(Error::Undefined {
                quantity: "a shallow twin for the pre-activation NNGP",
                activation: deq.activation().name(),
                why: "the design matches the CK or the NTK",
            })
        }
    };
    family_by_name(name, false)
}

/// The shallow explicit network whose equivalent `kind` equals the DEQ's: the search's whole result (every
/// distinct solution, smallest residual first, or why there is none) and the best solution's network.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Twin {
    /// The family, targets and solutions.
    pub result: MatchResult,
    /// The network of the best solution, `None` when infeasible.
    pub network: Option<MlpParams>,
}

/// The DEQ's shallow twin for `kind` ([`twin_family`], [`deq_targets`], [`match_family`]), on data of the scale
/// τ₀ the params carry.
pub fn twin(deq: &DeqParams, kind: Kernel, search: &MatchParams) -> Result<Twin> {
    let tau0 = deq.input_scale(None)?;
    let family = twin_family(deq, kind)?;
    let targets = deq_targets(deq, kind)?;
    let result = match_family(family.as_ref(), &targets, tau0, kind, search)?;
    let network = result
        .solutions
        .first()
        .map(|s| family_network(family.as_ref(), &s.params, tau0))
        .transpose()?;
    Ok(Twin { result, network })
}

/// Checked settings of the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchParams {
    starts: usize,
    seed: u64,
    accept: f64,
}

impl MatchParams {
    /// `starts` ≥ 1 random starting points; a root is accepted when ‖coefficients − targets‖_∞ ≤ `accept`.
    pub fn new(starts: usize, seed: u64, accept: f64) -> Result<Self> {
        if starts == 0 {
            return Err(Error::InvalidParameter {
                name: "starts",
                value: 0.0,
                requirement: "at least one starting point",
            });
        }
        crate::error::check_positive("accept", accept)?;
        Ok(MatchParams {
            starts,
            seed,
            accept,
        })
    }
}

impl Default for MatchParams {
    /// 64 starts, seed 0, residuals ≤ 1e-10.
    fn default() -> Self {
        MatchParams {
            starts: 64,
            seed: 0,
            accept: 1e-10,
        }
    }
}

/// One solution: canonical parameters and ‖coefficients − targets‖_∞ on the matched components.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Solution {
    /// The parameters, in the family's canonical form.
    pub params: Vec<f64>,
    /// ‖coefficients − targets‖_∞ on the matched components.
    pub residual: f64,
}

/// The result of a search.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct MatchResult {
    /// The family's name.
    pub family: &'static str,
    /// Its parameters' names.
    pub parameter_names: Vec<&'static str>,
    /// The kernel matched.
    pub kind: Kernel,
    /// The targets.
    pub targets: Coefficients,
    /// Which of (c₁, c₂, c₃, c₀) are matched.
    pub matched: Vec<usize>,
    /// Whether a solution was found.
    pub feasible: bool,
    /// Distinct solutions, smallest residual first.
    pub solutions: Vec<Solution>,
    /// Why no solution is returned (when infeasible).
    pub reason: Option<String>,
    /// The best point found when infeasible by search.
    pub best: Option<Solution>,
    /// Random starts tried.
    pub starts: usize,
}

fn residual_vector(
    family: &dyn ExplicitFamily,
    params: &[f64],
    tau0: f64,
    kind: Kernel,
    targets: &[f64; 4],
    matched: &[usize],
    out: &mut [f64],
) -> Result<()> {
    let c = family_coefficients(family, params, tau0, kind)?.as_array();
    for (o, &k) in out.iter_mut().zip(matched) {
        *o = c[k] - targets[k];
    }
    if out.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite {
            what: "family coefficients",
            location: format!("{params:?}"),
        })
    }
}

/// Match `family`'s coefficients to `targets` (math §7).
pub fn match_family(
    family: &dyn ExplicitFamily,
    targets: &Coefficients,
    tau0: f64,
    kind: Kernel,
    params: &MatchParams,
) -> Result<MatchResult> {
    crate::error::check_positive("tau0", tau0)?;
    let matched = family.matched(kind);
    let mut result = MatchResult {
        family: family.name(),
        parameter_names: family.parameter_names(),
        kind,
        targets: *targets,
        matched: matched.clone(),
        feasible: false,
        solutions: Vec::new(),
        reason: None,
        best: None,
        starts: params.starts,
    };
    if let Some(why) = family.infeasibility(targets, tau0, kind) {
        result.reason = Some(why);
        return Ok(result);
    }
    let t = targets.as_array();
    let lm = LevenbergMarquardtParams::new(1e-14, 300, 1e-6)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut best: Option<Solution> = None;
    for _ in 0..params.starts {
        let mut x = family.start(&mut rng);
        let run = levenberg_marquardt(
            |p, out| residual_vector(family, p, tau0, kind, &t, &matched, out),
            &mut x,
            matched.len(),
            &lm,
        );
        let residual = match run {
            Ok(rep) => rep.residual,
            Err(Error::NotConverged { residual, .. }) => residual,
            Err(_) => continue,
        };
        let canonical = family.canonical(&x, tau0);
        // The residual of the canonical point (the symmetry leaves it unchanged up to rounding).
        let mut r = vec![0.0; matched.len()];
        let residual = match residual_vector(family, &canonical, tau0, kind, &t, &matched, &mut r) {
            Ok(()) => r.iter().fold(0f64, |m, v| m.max(v.abs())),
            Err(_) => residual,
        };
        let candidate = Solution {
            params: canonical,
            residual,
        };
        if residual <= params.accept {
            let scale = candidate.params.iter().fold(1f64, |m, v| m.max(v.abs()));
            let seen = result.solutions.iter().any(|s| {
                s.params
                    .iter()
                    .zip(&candidate.params)
                    .all(|(a, b)| (a - b).abs() <= 1e-6 * scale)
            });
            if !seen {
                result.solutions.push(candidate);
            }
        } else if best.as_ref().is_none_or(|b| residual < b.residual) {
            best = Some(candidate);
        }
    }
    result
        .solutions
        .sort_by(|a, b| a.residual.total_cmp(&b.residual));
    result.feasible = !result.solutions.is_empty();
    if !result.feasible {
        let b = best.clone();
        result.reason = Some(match &b {
            Some(s) => format!(
                "no root in {} starts: the smallest ‖coefficients − targets‖_∞ found is {:.3e} (at {:?}), above the acceptance {:.0e}",
                params.starts, s.residual, s.params, params.accept
            ),
            None => format!("no start of {} produced a valid network", params.starts),
        });
        result.best = b;
    }
    Ok(result)
}

/// Draw a parameter uniformly from [lo, hi].
pub(crate) fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}
