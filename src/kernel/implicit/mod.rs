//! Exact infinite-width kernels of deep equilibrium models (math §5), as fixed points of entrywise maps.
//!
//! Both models reduce to one scalar equation per entry for the pre-activation covariance y = Σ*_ij:
//!
//! ```text
//! y = a·F(y; Σ*_ii, Σ*_jj) + b_ij,      F(c; s₁₁, s₂₂) = E[φ(u)φ(v)],  (u, v) ~ N(0, [[s₁₁, c], [c, s₂₂]])
//! ```
//!
//! - The DEQ z = φ(σ_a·Az + σ_b·Bx)/√m: a = σ_a², b_ij = σ_b²·x_iᵀx_j; then G* = F(Σ*), Ġ* = E[φ′(u)φ′(v)],
//!   K* = G* ⊘ (1 − σ_a²Ġ*) (+ σ_b²(XXᵀ)∘Ġ* ⊘ (1 − σ_a²Ġ*) when B is trained too).
//! - Feng–Kolter DEQ: a = σ_W², b_ij = σ_U²·x_iᵀx_j/d + σ_b²; Σ̇* = σ_W²Ġ, Θ* = Σ* ⊘ (1 − Σ̇*).
//!
//! The n diagonal entries are solved first (scalar fixed points through [`crate::solve::fixed_point`]); then
//! every off-diagonal entry is its own equation h(y) = y − aF(y) − b_ij = 0, solved by bracketed Newton
//! ([`crate::solve::newton_in_bracket`]) with h′ = 1 − aE[φ′φ′] (Price's identity). Cauchy–Schwarz gives the
//! bracket |y| ≤ √(Σ*_iiΣ*_jj) with h ≤ 0 at its left end and h ≥ 0 at its right end. The entries are
//! independent: one triangle, rows in parallel. [`deq_kernels_reference`] keeps the outer iteration over whole
//! matrices as the reference path.

mod start;

use std::time::Instant;

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use self::start::ReluFamilyStart;
use super::block::BlockIndices;
use super::layer_dual::{LayerDual, BLOCK};
use super::{check_request, Kernel};
use crate::activation::chebyshev::VectorInterpolant;
use crate::activation::{
    dual_kernel, require_derivative, Activation, ActivationRef, Centered, Cov2, ScaleMoments,
};
use crate::error::{check_nonnegative, check_positive};
use crate::linalg::{
    gram, gram_lower, into_real, matmul_into, mirror_lower_to_upper, zeroed_matrix, zeroed_vec,
};
use crate::progress::{check_cancelled, Progress};
use crate::solve::{
    fixed_point, newton_in_bracket, newton_lanes, FixedPointParams, NewtonParams, SolveReport,
};
use crate::tolerance::{CHEBYSHEV_FIT, NEWTON_RESIDUAL, NEWTON_STEP, SCALAR_FIXED_POINT};
use crate::{Error, Real, Result};

/// How the DEQ's activation is centered (math §5).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Centering {
    /// φ = φ₀ − E[φ₀(τ*ξ)] (the paper's default).
    #[default]
    AtFixedPoint,
    /// φ = φ₀.
    None,
    /// φ = φ₀ − c.
    Shift(f64),
}

/// A checked description of the DEQ z = φ(σ_a·Az + σ_b·Bx)/√m (math §5): the activation φ₀, the weight variances,
/// how φ is centered, the input scale τ₀ (given, or taken from the data), and whether the NTK trains B.
///
/// Everything DEQ-related takes it: the kernels ([`deq_kernels`]), the equivalents
/// ([`crate::rmt::equivalent::deq_equivalent`]), the design targets ([`crate::design::deq_targets`]), the shallow
/// twin ([`crate::design::twin`]), the finite-width network ([`crate::network::DeqNetwork`]) and its empirical
/// kernels. [`input_scale`](Self::input_scale) and [`at_scale`](Self::at_scale) resolve τ₀, τ* and the centered φ
/// once, the same way for all of them.
///
/// ```
/// use deq_kernels::activation::Builtin;
/// use deq_kernels::kernel::implicit::DeqParams;
/// let deq = DeqParams::new(Builtin::Relu, 0.2)?.with_tau0(1.0)?;
/// assert!((deq.sigma_b2() - 0.8).abs() < 1e-15);
/// let phi = deq.at_scale(deq.input_scale(None)?)?;
/// assert!((phi.tau_star.unwrap() - 0.926566).abs() < 1e-6);
/// // σ_a² ≥ 1 leaves no default σ_b² = 1 − σ_a²: say both.
/// assert!(DeqParams::new(Builtin::Relu, 1.2).is_err());
/// assert!(DeqParams::with_variances(Builtin::Relu, 1.2, 0.5).is_ok());
/// # Ok::<(), deq_kernels::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DeqParams {
    activation: ActivationRef,
    sigma_a2: f64,
    sigma_b2: f64,
    centering: Centering,
    tau0: Option<f64>,
    train_input_weights: bool,
}

/// The DEQ's activation as the model uses it on data of a given scale: φ = φ₀ − shift.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeqAtScale {
    /// φ, centered as the parameters say.
    pub activation: ActivationRef,
    /// The input scale τ₀.
    pub tau0: f64,
    /// τ*, when φ is centered at it.
    pub tau_star: Option<f64>,
    /// The constant subtracted from φ₀.
    pub shift: f64,
}

impl DeqParams {
    /// The paper's defaults: σ_b² = 1 − σ_a², φ centered at τ*, τ₀² = ‖X‖_F²/n of the data, only A (and the
    /// readout) trained. Requires 0 < σ_a² < 1; for other variances use [`with_variances`](Self::with_variances).
    pub fn new(activation: impl Into<ActivationRef>, sigma_a2: f64) -> Result<Self> {
        if !(sigma_a2 > 0.0 && sigma_a2 < 1.0) {
            return Err(Error::InvalidParameter {
                name: "sigma_a2",
                value: sigma_a2,
                requirement: "the default σ_b² = 1 − σ_a² needs 0 < σ_a² < 1; give σ_b² as well (DeqParams::with_variances, --sigma-b2)",
            });
        }
        Self::with_variances(activation, sigma_a2, 1.0 - sigma_a2)
    }

    /// Any variances σ_a² > 0, σ_b² ≥ 0; the other settings as in [`new`](Self::new).
    pub fn with_variances(
        activation: impl Into<ActivationRef>,
        sigma_a2: f64,
        sigma_b2: f64,
    ) -> Result<Self> {
        Ok(DeqParams {
            activation: activation.into(),
            sigma_a2: check_positive("sigma_a2", sigma_a2)?,
            sigma_b2: check_nonnegative("sigma_b2", sigma_b2)?,
            centering: Centering::AtFixedPoint,
            tau0: None,
            train_input_weights: false,
        })
    }

    /// The input-weight variance σ_b² (default 1 − σ_a²).
    pub fn with_sigma_b2(mut self, sigma_b2: f64) -> Result<Self> {
        self.sigma_b2 = check_nonnegative("sigma_b2", sigma_b2)?;
        Ok(self)
    }

    /// How φ is centered (default [`Centering::AtFixedPoint`]).
    pub fn with_centering(mut self, centering: Centering) -> Self {
        self.centering = centering;
        self
    }

    /// The input scale τ₀ used for τ* and the centering constant (default: √(‖X‖_F²/n) of the data).
    pub fn with_tau0(mut self, tau0: f64) -> Result<Self> {
        self.tau0 = Some(check_positive("tau0", tau0)?);
        Ok(self)
    }

    /// τ₀ fixed for good: the one given, else √(‖X‖_F²/n) of `x` — so that computations on other data (a test
    /// split, the equivalents, the design) use the same φ.
    pub fn with_tau0_from(self, x: ArrayView2<f64>) -> Result<Self> {
        let tau0 = self.input_scale(Some(x))?;
        self.with_tau0(tau0)
    }

    /// Train B as well: adds σ_b²(XXᵀ)∘Ġ* ⊘ (1 − σ_a²Ġ*) to the NTK.
    pub fn with_trained_input_weights(mut self, yes: bool) -> Self {
        self.train_input_weights = yes;
        self
    }

    /// φ₀, as given.
    pub fn activation(&self) -> &ActivationRef {
        &self.activation
    }

    /// σ_a².
    pub fn sigma_a2(&self) -> f64 {
        self.sigma_a2
    }

    /// σ_b².
    pub fn sigma_b2(&self) -> f64 {
        self.sigma_b2
    }

    /// How φ is centered.
    pub fn centering(&self) -> Centering {
        self.centering
    }

    /// The τ₀ given with [`with_tau0`](Self::with_tau0), if any.
    pub fn tau0(&self) -> Option<f64> {
        self.tau0
    }

    /// Whether the NTK trains B.
    pub fn trains_input_weights(&self) -> bool {
        self.train_input_weights
    }

    /// The input scale τ₀ for data `x`: the one given, else √(‖X‖_F²/n) of `x`; an error when neither is there.
    pub fn input_scale(&self, x: Option<ArrayView2<f64>>) -> Result<f64> {
        crate::data::resolve_input_scale(self.tau0, x)
    }

    /// φ as the model uses it on data of scale τ₀: centered at τ* (solving math §5's τ*² = σ_a²v(τ*) + σ_b²τ₀²),
    /// by a given constant, or not at all.
    pub fn at_scale(&self, tau0: f64) -> Result<DeqAtScale> {
        check_positive("tau0", tau0)?;
        let act = self.activation.clone();
        let (activation, tau_star, shift): (ActivationRef, _, _) = match self.centering {
            Centering::None => (act, None, 0.0),
            Centering::Shift(c) => (std::sync::Arc::new(Centered::new(act, c)), None, c),
            Centering::AtFixedPoint => {
                let (tau, _) = tau_star(&act, self.sigma_a2, self.sigma_b2, tau0)?;
                let c = ScaleMoments::compute(&act, tau)?.m0;
                (std::sync::Arc::new(Centered::new(act, c)), Some(tau), c)
            }
        };
        Ok(DeqAtScale {
            activation,
            tau0,
            tau_star,
            shift,
        })
    }
}

/// τ* of math §5: τ*² = σ_a²·v(τ*) + σ_b²τ₀², v the variance of the uncentered φ₀ at scale τ*.
pub fn tau_star<A: Activation + ?Sized>(
    act: &A,
    sigma_a2: f64,
    sigma_b2: f64,
    tau0: f64,
) -> Result<(f64, SolveReport)> {
    check_positive("tau0", tau0)?;
    let base = sigma_b2 * tau0 * tau0;
    check_positive("sigma_b2·tau0²", base)?;
    let mut t = [base];
    let mut failure = None;
    let report = fixed_point(
        &mut t,
        |x, out| {
            out[0] = match ScaleMoments::compute(act, x[0].max(f64::MIN_POSITIVE).sqrt()) {
                Ok(m) => sigma_a2 * m.v + base,
                Err(e) => {
                    failure = Some(e);
                    f64::NAN
                }
            }
        },
        &FixedPointParams::new(SCALAR_FIXED_POINT * (1.0 + base), 10_000)?,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let report = report.map_err(|e| contraction_error(e, "DEQ", "sigma_a2", sigma_a2))?;
    Ok((t[0].sqrt(), report))
}

/// Turn a solver failure into the contraction error, naming the largest safe value of the parameter.
fn contraction_error(e: Error, model: &'static str, parameter: &'static str, value: f64) -> Error {
    match e {
        Error::NotConverged {
            contraction: Some(c),
            ..
        }
        | Error::Diverged {
            contraction: Some(c),
            ..
        } if c >= 1.0 => Error::OutsideContraction {
            model,
            factor: c,
            parameter,
            max_safe: value / c,
        },
        other => other,
    }
}

/// Diagnostics of an implicit-kernel computation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ImplicitReport {
    /// The input scale τ₀ the DEQ's centering used (the one given, or the data's).
    pub tau0: Option<f64>,
    /// τ* (DEQ) — the scale the activation was centered at.
    pub tau_star: Option<f64>,
    /// The centering constant subtracted from φ₀.
    pub centering: f64,
    /// Largest |y − aF(y) − b| over all entries (the fixed-point residual).
    pub max_residual: f64,
    /// Largest a·E[φ′(u)φ′(v)] over the entries: the measured contraction factor of the entry maps.
    pub contraction: f64,
    /// Largest number of Newton steps for one entry.
    pub max_iterations: usize,
    /// Mean number of Newton steps over the off-diagonal entries.
    pub mean_iterations: f64,
    /// Entries evaluated by the 2-D quadrature fallback of the Hermite series.
    pub quadrature_fallbacks: usize,
    /// Wall time.
    pub seconds: f64,
}

/// Which model's outputs to assemble from a solved entry.
#[derive(Clone, Copy)]
enum Model {
    Deq { sigma_b2: f64, train_b: bool },
    FengKolter,
}

crate::eigen::widest_vectors! {
    /// [`EntryMap::row_portable`] compiled for the widest vectors the CPU has.
    fn entry_map_row[B: Fn(f64) -> f64 + Sync](
        this: &EntryMap<'_, B>,
        i: usize,
        outs: &[Kernel],
        rows: &mut [&mut [f64]]
    ) -> Result<EntryStats> = EntryMap::row_portable
}

/// The entry equation y = a·F(y) + b(g) shared by both models, g = x_iᵀx_j.
struct EntryMap<'a, B> {
    dual: &'a LayerDual,
    a: f64,
    diag: &'a [f64],
    b_of_gram: B,
    model: Model,
    /// Tabulated starts for the ReLU family, with √Σ_ii per sample.
    start: Option<(ReluFamilyStart, Vec<f64>)>,
}

/// One solved entry: y = Σ*_ij, F(y), Ḟ(y), Newton steps, residual.
struct Solved {
    y: f64,
    f: f64,
    fdot: f64,
    iterations: usize,
    residual: f64,
}

/// [`Solved`] for the BLOCK entries of one lockstep solve, lane by lane, so that recording and assembling them
/// are loops over lanes.
struct SolvedLanes {
    y: [f64; BLOCK],
    f: [f64; BLOCK],
    fdot: [f64; BLOCK],
    residual: [f64; BLOCK],
    iterations: usize,
}

impl SolvedLanes {
    fn lane(&self, l: usize) -> Solved {
        Solved {
            y: self.y[l],
            f: self.f[l],
            fdot: self.fdot[l],
            iterations: self.iterations,
            residual: self.residual[l],
        }
    }
}

/// Largest residual, contraction factor and Newton steps over a set of entries, and the sum of steps.
#[derive(Clone, Copy, Default)]
struct EntryStats {
    max_residual: f64,
    contraction: f64,
    max_iterations: usize,
    sum_iterations: usize,
}

impl EntryStats {
    fn record(&mut self, a: f64, s: &Solved) {
        self.max_residual = self.max_residual.max(s.residual);
        self.contraction = self.contraction.max(a * s.fdot);
        self.max_iterations = self.max_iterations.max(s.iterations);
        self.sum_iterations += s.iterations;
    }
    /// [`record`](Self::record) for every lane of a block.
    #[inline(always)]
    fn record_lanes(&mut self, a: f64, s: &SolvedLanes) {
        let (mut res, mut con) = (self.max_residual, self.contraction);
        for l in 0..BLOCK {
            res = res.max(s.residual[l]);
            con = con.max(a * s.fdot[l]);
        }
        (self.max_residual, self.contraction) = (res, con);
        self.max_iterations = self.max_iterations.max(s.iterations);
        self.sum_iterations += BLOCK * s.iterations;
    }
    /// The report of a driver that solved `entries` entries (the model's fields are filled in by its caller).
    fn report(&self, entries: usize, dual: &LayerDual, start: Instant) -> ImplicitReport {
        ImplicitReport {
            tau0: None,
            tau_star: None,
            centering: 0.0,
            max_residual: self.max_residual,
            contraction: self.contraction,
            max_iterations: self.max_iterations,
            mean_iterations: self.sum_iterations as f64 / entries.max(1) as f64,
            quadrature_fallbacks: dual.fallbacks(),
            seconds: start.elapsed().as_secs_f64(),
        }
    }
    fn merge(mut self, o: EntryStats) -> EntryStats {
        self.max_residual = self.max_residual.max(o.max_residual);
        self.contraction = self.contraction.max(o.contraction);
        self.max_iterations = self.max_iterations.max(o.max_iterations);
        self.sum_iterations += o.sum_iterations;
        self
    }
}

impl<B: Fn(f64) -> f64 + Sync> EntryMap<'_, B> {
    fn newton_params(&self, scale: f64) -> Result<NewtonParams> {
        NewtonParams::new(NEWTON_RESIDUAL * (1.0 + scale), NEWTON_STEP, 100)
    }

    #[inline]
    fn solve(&self, i: usize, j: usize, b: f64) -> Result<Solved> {
        let (vi, vj) = (self.diag[i], self.diag[j]);
        let eval = |y: f64| self.dual.eval(i, j, vi, vj, y, true);
        let bound = (vi * vj).sqrt();
        let x0 = match &self.start {
            Some((table, sd)) => table.start(sd[i], sd[j], b),
            None => {
                // One Newton step from y = b.
                let (f0, fd0) = eval(b.clamp(-bound, bound));
                b + self.a * f0 / (1.0 - self.a * fd0)
            }
        }
        .clamp(-bound, bound);
        let (y, rep) = newton_in_bracket(
            |y| {
                let (f, fd) = eval(y);
                (y - self.a * f - b, 1.0 - self.a * fd)
            },
            -bound,
            bound,
            true,
            x0,
            &self.newton_params(bound)?,
        )?;
        let (f, fdot) = eval(y);
        Ok(Solved {
            y,
            f,
            fdot,
            iterations: rep.iterations,
            residual: (y - self.a * f - b).abs(),
        })
    }

    /// [`solve`](Self::solve) for the entries (i, j), j = BLOCK·blk + l, in lockstep over the vectorized
    /// evaluator.
    #[inline(always)]
    fn solve_block(&self, i: usize, blk: usize, b: &[f64; BLOCK]) -> Result<SolvedLanes> {
        let vi = self.diag[i];
        let vj: &[f64; BLOCK] = self.diag[blk * BLOCK..(blk + 1) * BLOCK]
            .try_into()
            .expect("block");
        let bound: [f64; BLOCK] = std::array::from_fn(|l| (vi * vj[l]).sqrt());
        let neg = bound.map(|v| -v);
        let x0: [f64; BLOCK] = match &self.start {
            Some((table, sd)) => {
                let sj: &[f64; BLOCK] = sd[blk * BLOCK..(blk + 1) * BLOCK]
                    .try_into()
                    .expect("block");
                let mut x0 = table.start_lanes(sd[i], sj, b);
                for l in 0..BLOCK {
                    x0[l] = within(x0[l], bound[l]);
                }
                x0
            }
            None => {
                // One Newton step from y = b.
                let from: [f64; BLOCK] = std::array::from_fn(|l| within(b[l], bound[l]));
                let (f0, fd0) = self.dual.eval_block(i, blk, vi, vj, &from, true);
                std::array::from_fn(|l| {
                    within(b[l] + self.a * f0[l] / (1.0 - self.a * fd0[l]), bound[l])
                })
            }
        };
        let scale = bound.iter().copied().fold(0.0, f64::max);
        let (mut last_f, mut last_fd) = ([0.0; BLOCK], [0.0; BLOCK]);
        let (y, steps) = newton_lanes(
            #[inline(always)]
            |y: &[f64; BLOCK]| {
                let (f, fd) = self.dual.eval_block(i, blk, vi, vj, y, true);
                let mut h = [0.0; BLOCK];
                let mut dh = [0.0; BLOCK];
                for l in 0..BLOCK {
                    h[l] = y[l] - self.a * f[l] - b[l];
                    dh[l] = 1.0 - self.a * fd[l];
                }
                (last_f, last_fd) = (f, fd);
                (h, dh)
            },
            &neg,
            &bound,
            true,
            &x0,
            &self.newton_params(scale)?,
        )?;
        Ok(SolvedLanes {
            y,
            f: last_f,
            fdot: last_fd,
            residual: std::array::from_fn(|l| (y[l] - self.a * last_f[l] - b[l]).abs()),
            iterations: steps,
        })
    }

    /// The diagonal entry of sample i (Gram value g = ‖x_i‖²): y = Σ*_ii, solved beforehand.
    fn diagonal(&self, i: usize, g: f64) -> Solved {
        let v = self.diag[i];
        let (f, fdot) = self.dual.eval(i, i, v, v, v, true);
        Solved {
            y: v,
            f,
            fdot,
            iterations: 0,
            residual: (v - self.a * f - (self.b_of_gram)(g)).abs(),
        }
    }

    /// The value of `out` for a solved entry with Gram value g.
    #[inline(always)]
    fn assemble(&self, out: Kernel, s: &Solved, g: f64) -> f64 {
        match (out, self.model) {
            (Kernel::Nngp, _) => s.y,
            (Kernel::Ck, _) => s.f,
            (Kernel::Ntk, Model::Deq { sigma_b2, train_b }) => {
                let denom = 1.0 - self.a * s.fdot;
                if train_b {
                    (s.f + sigma_b2 * g * s.fdot) / denom
                } else {
                    s.f / denom
                }
            }
            (Kernel::Ntk, Model::FengKolter) => s.y / (1.0 - self.a * s.fdot),
        }
    }

    /// [`assemble`](Self::assemble) for every lane of a block (the choice of output is the same for every lane,
    /// so the loop is compiled once per output).
    #[inline(always)]
    fn assemble_lanes(
        &self,
        out: Kernel,
        s: &SolvedLanes,
        g: &[f64; BLOCK],
        dest: &mut [f64; BLOCK],
    ) {
        for (l, d) in dest.iter_mut().enumerate() {
            *d = self.assemble(out, &s.lane(l), g[l]);
        }
    }

    /// Row i (j ≤ i) of every output; `rows[0]` holds the Gram row x_iᵀx_j on entry and is overwritten entry
    /// by entry after it is read. Compiled for AVX2 as well, chosen at run time.
    fn row(&self, i: usize, outs: &[Kernel], rows: &mut [&mut [f64]]) -> Result<EntryStats> {
        entry_map_row(self, i, outs, rows)
    }

    // The column index addresses every output row and the Gram row at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn row_portable(
        &self,
        i: usize,
        outs: &[Kernel],
        rows: &mut [&mut [f64]],
    ) -> Result<EntryStats> {
        let mut stats = EntryStats::default();
        let full = i / BLOCK;
        for blk in 0..full {
            let j0 = blk * BLOCK;
            let g: [f64; BLOCK] = rows[0][j0..j0 + BLOCK].try_into().expect("block");
            let bvals = g.map(&self.b_of_gram);
            let solved = self.solve_block(i, blk, &bvals)?;
            stats.record_lanes(self.a, &solved);
            for (k, &o) in outs.iter().enumerate() {
                let dest: &mut [f64; BLOCK] =
                    (&mut rows[k][j0..j0 + BLOCK]).try_into().expect("block");
                self.assemble_lanes(o, &solved, &g, dest);
            }
        }
        for j in full * BLOCK..=i {
            let g = rows[0][j];
            let s = if i == j {
                self.diagonal(i, g)
            } else {
                self.solve(i, j, (self.b_of_gram)(g))?
            };
            stats.record(self.a, &s);
            for (k, &o) in outs.iter().enumerate() {
                rows[k][j] = self.assemble(o, &s, g);
            }
        }
        Ok(stats)
    }
}

/// x limited to [−bound, bound] by max and min: unlike `f64::clamp`, no assertion on the bounds per lane, so that
/// loops over lanes vectorize.
#[inline(always)]
fn within(x: f64, bound: f64) -> f64 {
    x.max(-bound).min(bound)
}

/// Solve the n diagonal equations Σ_ii = a·D(Σ_ii) + b_ii, D(v) = E[φ(√v ξ)²].
///
/// The solution grows with b_ii (dΣ/db = 1/(1 − aD′) > 0 inside the contraction region), so all of them lie
/// between the solutions for the smallest and the largest b_ii. Those two are solved with D itself; for many
/// samples D is then replaced on that interval by its Chebyshev interpolant when the fit meets 1e-15
/// relative ([`crate::activation::chebyshev`]), and a solution that leaves the interval is solved again
/// with D itself.
fn solve_diagonal(
    act: &ActivationRef,
    a: f64,
    b: &[f64],
    model: &'static str,
    parameter: &'static str,
) -> Result<Vec<f64>> {
    let second = |v: f64| {
        dual_kernel(
            act,
            &Cov2 {
                s11: v,
                s22: v,
                s12: v,
            },
        )
    };
    let solve_one = |bi: f64, d: &dyn Fn(f64) -> f64| -> Result<f64> {
        let mut s = [bi.max(0.0)];
        fixed_point(
            &mut s,
            |x, out| out[0] = a * d(x[0].max(0.0)) + bi,
            &FixedPointParams::new(SCALAR_FIXED_POINT * (1.0 + bi.abs()), 100_000)?,
        )
        .map_err(|e| contraction_error(e, model, parameter, a))?;
        Ok(s[0])
    };
    const DIRECT_BELOW: usize = 256;
    let (bmin, bmax) = b
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if b.len() > DIRECT_BELOW && bmin < bmax {
        let (lo, hi) = (solve_one(bmin, &second)?, solve_one(bmax, &second)?);
        if let Some(fit) = VectorInterpolant::fit(|v| vec![second(v)], lo, hi, CHEBYSHEV_FIT, 128) {
            let interpolated = |v: f64| fit.eval(v)[0];
            return b
                .par_iter()
                .map(|&bi| {
                    let v = solve_one(bi, &interpolated)?;
                    if v > lo && v < hi || bi == bmin || bi == bmax {
                        Ok(v)
                    } else {
                        solve_one(bi, &second)
                    }
                })
                .collect();
        }
    }
    b.par_iter().map(|&bi| solve_one(bi, &second)).collect()
}

/// The per-sample part of either model: Σ*_ss for the samples with squared norms `sq_norms` and the dual
/// evaluator over those variances (which needs φ′: Newton on each entry uses E[φ′φ′]).
fn prepare(
    act: &ActivationRef,
    a: f64,
    b_of_gram: &impl Fn(f64) -> f64,
    sq_norms: &[f64],
    names: (&'static str, &'static str),
) -> Result<(Vec<f64>, LayerDual)> {
    require_derivative(
        act,
        "the implicit kernels (Newton on each entry needs E[φ′φ′])",
    )?;
    let bdiag: Vec<f64> = sq_norms.iter().map(|&g| b_of_gram(g)).collect();
    let diag = solve_diagonal(act, a, &bdiag, names.0, names.1)?;
    let dual = LayerDual::new(act.clone(), &diag, true)?;
    Ok((diag, dual))
}

impl<'a, B: Fn(f64) -> f64 + Sync> EntryMap<'a, B> {
    fn new(dual: &'a LayerDual, a: f64, diag: &'a [f64], b_of_gram: B, model: Model) -> Self {
        let start = ReluFamilyStart::new(dual.activation().closed_family(), a)
            .map(|t| (t, diag.iter().map(|v| v.max(0.0).sqrt()).collect()));
        EntryMap {
            dual,
            a,
            diag,
            b_of_gram,
            model,
            start,
        }
    }
}

/// The contraction check shared by both drivers: the measured factor a·max Ġ must stay below one.
fn check_contraction(
    stats: &EntryStats,
    a: f64,
    names: (&'static str, &'static str),
) -> Result<()> {
    if stats.contraction >= 1.0 {
        return Err(Error::OutsideContraction {
            model: names.0,
            factor: stats.contraction,
            parameter: names.1,
            max_safe: a / stats.contraction,
        });
    }
    Ok(())
}

/// The block driver: the requested outputs on the entries `K[rows[r], cols[c]]` (docs/distributed.md), each by
/// the same per-entry solver as [`solve_all`]; nothing n×n is built.
#[allow(clippy::too_many_arguments)]
fn solve_block<T: Real, const N: usize>(
    act: ActivationRef,
    a: f64,
    b_of_gram: impl Fn(f64) -> f64 + Sync,
    x: ArrayView2<f64>,
    block: &BlockIndices,
    kinds: [Kernel; N],
    model: Model,
    names: (&'static str, &'static str),
) -> Result<([Array2<T>; N], ImplicitReport)> {
    let start = Instant::now();
    check_request(&kinds)?;
    let (g, sq_norms) = block.gram(x)?;
    let (diag, dual) = prepare(&act, a, &b_of_gram, &sq_norms, names)?;
    let map = EntryMap::new(&dual, a, &diag, b_of_gram, model);
    let (nr, nc) = block.shape();
    let off = block.col_offset();
    let mut outs = block.outputs::<T>(N)?;
    let per_row = block.output_rows(&mut outs);
    let stats = per_row
        .into_par_iter()
        .enumerate()
        .map(|(r, mut rows)| {
            let mut stats = EntryStats::default();
            let grow = g.row(r);
            let mut put = |c: usize, s: &Solved, stats: &mut EntryStats| {
                stats.record(a, s);
                for (out, &k) in rows.iter_mut().zip(&kinds) {
                    out[c] = T::from_f64(map.assemble(k, s, grow[c]));
                }
            };
            for (c0, lanes) in block.runs(r) {
                if lanes {
                    let b: [f64; BLOCK] = std::array::from_fn(|l| (map.b_of_gram)(grow[c0 + l]));
                    let solved = map.solve_block(r, (off + c0) / BLOCK, &b)?;
                    for l in 0..BLOCK {
                        put(c0 + l, &solved.lane(l), &mut stats);
                    }
                } else {
                    for c in c0..(c0 + BLOCK).min(nc) {
                        let s = if block.on_diagonal(r, c) {
                            map.diagonal(r, grow[c])
                        } else {
                            map.solve(r, off + c, (map.b_of_gram)(grow[c]))?
                        };
                        put(c, &s, &mut stats);
                    }
                }
            }
            Ok::<_, Error>(stats)
        })
        .try_reduce(EntryStats::default, |x, y| Ok(x.merge(y)))?;
    check_contraction(&stats, a, names)?;
    let outs: [Array2<T>; N] = outs
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked"));
    Ok((outs, stats.report(nr * nc, &dual, start)))
}

/// The common driver: diagonal, then every off-diagonal entry; writes the requested outputs in the order asked.
///
/// Memory: the Gram matrix is computed into the first output's buffer and each entry overwrites its own Gram
/// value, so the peak is one n×n f64 buffer per requested output.
#[allow(clippy::too_many_arguments)]
fn solve_all<T: Real, const N: usize>(
    act: ActivationRef,
    a: f64,
    b_of_gram: impl Fn(f64) -> f64 + Sync,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    model: Model,
    names: (&'static str, &'static str),
    progress: &dyn Progress,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    let start = Instant::now();
    check_request(&kinds)?;
    if std::any::TypeId::of::<T>() != std::any::TypeId::of::<f64>() {
        return solve_all_by_panels(act, a, b_of_gram, x, kinds, model, names, progress, start);
    }
    let n = x.nrows();
    let mut bufs = vec![gram_lower(x)?];
    let sq_norms: Vec<f64> = (0..n).map(|i| bufs[0][[i, i]]).collect();
    let (diag, dual) = prepare(&act, a, &b_of_gram, &sq_norms, names)?;
    let map = EntryMap::new(&dual, a, &diag, b_of_gram, model);
    for _ in 1..N {
        bufs.push(zeroed_matrix::<f64>(n, n)?);
    }

    progress.start((n * (n + 1) / 2) as u64);
    let stats = {
        let mut per_row: Vec<Vec<&mut [f64]>> =
            (0..n).map(|_| Vec::with_capacity(bufs.len())).collect();
        for buf in bufs.iter_mut() {
            let slice = buf.as_slice_mut().expect("standard layout");
            for (i, row) in slice.chunks_mut(n).enumerate() {
                per_row[i].push(&mut row[..=i]);
            }
        }
        per_row
            .into_par_iter()
            .enumerate()
            .with_min_len(4)
            .map(|(i, mut rows)| {
                let s = map.row(i, &kinds, &mut rows)?;
                progress.advance(i as u64 + 1);
                check_cancelled(progress)?;
                Ok::<_, Error>(s)
            })
            .try_reduce(EntryStats::default, |x, y| Ok(x.merge(y)))?
    };
    progress.finish();
    check_contraction(&stats, a, names)?;
    let matrices: Vec<Array2<T>> = bufs
        .into_iter()
        .map(|mut m| {
            mirror_lower_to_upper(&mut m);
            into_real(m)
        })
        .collect();
    let matrices: [Array2<T>; N] = matrices
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked"));
    let off = n * (n - 1) / 2;
    Ok((matrices, stats.report(off, &dual, start)))
}

/// Gram-panel rows of [`solve_all_by_panels`]: about 128 MB of f64 at n = 50000, tall enough for the product to
/// run at its full rate.
fn panel_rows(n: usize) -> usize {
    if cfg!(test) {
        // Unit tests run on a few dozen samples: several panels and a partial last one.
        return 7;
    }
    (16_000_000 / n.max(1)).clamp(64, 1024)
}

/// [`solve_all`] for outputs narrower than f64 (f32): the Gram matrix is computed a panel of rows at a time,
/// x_{r0..r1}·x_{0..r1}ᵀ in f64, each panel row is mapped in f64 and rounded into the outputs, so that the
/// only n×n buffers are the outputs themselves (n²·4 bytes each for f32, against n²·(8 + 4) for the Gram matrix
/// computed whole and converted). Entries are the same as [`solve_all`]'s, before their rounding to T.
#[allow(clippy::too_many_arguments)]
fn solve_all_by_panels<T: Real, const N: usize>(
    act: ActivationRef,
    a: f64,
    b_of_gram: impl Fn(f64) -> f64 + Sync,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    model: Model,
    names: (&'static str, &'static str),
    progress: &dyn Progress,
    start: Instant,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    let n = x.nrows();
    let xs = x.as_standard_layout();
    let sq_norms: Vec<f64> = xs.rows().into_iter().map(|r| r.dot(&r)).collect();
    let (diag, dual) = prepare(&act, a, &b_of_gram, &sq_norms, names)?;
    let map = EntryMap::new(&dual, a, &diag, b_of_gram, model);
    let mut outs = Vec::with_capacity(N);
    for _ in 0..N {
        outs.push(zeroed_matrix::<T>(n, n)?);
    }
    let height = panel_rows(n);
    let mut panel = zeroed_vec::<f64>(height.min(n) * n)?;
    progress.start((n * (n + 1) / 2) as u64);
    let mut stats = EntryStats::default();
    for r0 in (0..n).step_by(height) {
        let r1 = (r0 + height).min(n);
        let mut g = ArrayViewMut2::from_shape((r1 - r0, r1), &mut panel[..(r1 - r0) * r1])
            .expect("the panel buffer holds height·n numbers");
        matmul_into(
            g.view_mut(),
            xs.slice(s![r0..r1, ..]),
            xs.slice(s![..r1, ..]).t(),
            false,
        );
        let mut out_rows: Vec<Vec<&mut [T]>> = (r0..r1).map(|_| Vec::with_capacity(N)).collect();
        for out in outs.iter_mut() {
            let slice = out.as_slice_mut().expect("standard layout");
            for (i, row) in slice[r0 * n..r1 * n].chunks_mut(n).enumerate() {
                out_rows[i].push(&mut row[..=r0 + i]);
            }
        }
        let panel_stats = g
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(out_rows)
            .enumerate()
            .map_init(
                || vec![Vec::<f64>::new(); N.saturating_sub(1)],
                |scratch, (k, (mut grow, mut dest))| {
                    let i = r0 + k;
                    let grow = &mut grow.as_slice_mut().expect("contiguous panel row")[..=i];
                    let mut rows: Vec<&mut [f64]> = vec![grow];
                    for buf in scratch.iter_mut() {
                        buf.resize(i + 1, 0.0);
                        rows.push(&mut buf[..=i]);
                    }
                    let s = map.row(i, &kinds, &mut rows)?;
                    for (from, to) in rows.iter().zip(dest.iter_mut()) {
                        for (t, &f) in to.iter_mut().zip(from.iter()) {
                            *t = T::from_f64(f);
                        }
                    }
                    progress.advance(i as u64 + 1);
                    check_cancelled(progress)?;
                    Ok::<_, Error>(s)
                },
            )
            .try_reduce(EntryStats::default, |x, y| Ok(x.merge(y)))?;
        stats = stats.merge(panel_stats);
    }
    progress.finish();
    check_contraction(&stats, a, names)?;
    for out in outs.iter_mut() {
        mirror_lower_to_upper(out);
    }
    let matrices: [Array2<T>; N] = outs
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked"));
    let off = n * (n - 1) / 2;
    Ok((matrices, stats.report(off, &dual, start)))
}

/// The DEQ's kernels `kinds` — pre-activation NNGP Σ*, Implicit-CK G*, Implicit-NTK K* (math §5) — on data `x`
/// (n×p, rows are samples), in the order asked, by the per-entry Newton path, with how the fixed points went.
/// τ₀ is the one `params` give or the data's ([`DeqParams::input_scale`]); the report says which. Progress is
/// reported in entries of the lower triangle.
///
/// Errors: empty or non-finite data; a kernel asked twice; an activation without a derivative (Newton on each
/// entry needs E[φ′φ′]); a DEQ outside its contraction region ([`Error::OutsideContraction`], with the largest
/// safe σ_a²).
pub fn deq_kernels<T: Real, const N: usize>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    progress: &dyn Progress,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    deq_driver(params, x, kinds, Entries::All(progress))
}

/// [`deq_kernels`] on the block `block` of the n×n matrices: output entry (r, c) is `K[rows[r], cols[c]]` of the
/// full computation on the same X (n×p), to rounding; τ₀, when `params` do not fix it, is the whole X's. Memory:
/// the |rows|×|cols| outputs and tables for the block's samples (docs/distributed.md).
///
/// Errors: those of [`deq_kernels`], and data whose row count is not the block's n.
pub fn deq_kernels_block<T: Real, const N: usize>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    block: &BlockIndices,
    kinds: [Kernel; N],
) -> Result<([Array2<T>; N], ImplicitReport)> {
    deq_driver(params, x, kinds, Entries::Block(block))
}

/// Which entries a driver computes: the whole matrix (one triangle, mirrored) or a block.
#[derive(Clone, Copy)]
enum Entries<'a> {
    All(&'a dyn Progress),
    Block(&'a BlockIndices),
}

impl Entries<'_> {
    #[allow(clippy::too_many_arguments)]
    fn solve<T: Real, const N: usize>(
        self,
        act: ActivationRef,
        a: f64,
        b_of_gram: impl Fn(f64) -> f64 + Sync,
        x: ArrayView2<f64>,
        kinds: [Kernel; N],
        model: Model,
        names: (&'static str, &'static str),
    ) -> Result<([Array2<T>; N], ImplicitReport)> {
        match self {
            Entries::All(progress) => {
                solve_all(act, a, b_of_gram, x, kinds, model, names, progress)
            }
            Entries::Block(block) => solve_block(act, a, b_of_gram, x, block, kinds, model, names),
        }
    }
}

fn deq_driver<T: Real, const N: usize>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    entries: Entries,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    crate::data::check_samples(x)?;
    let phi = params.at_scale(params.input_scale(Some(x))?)?;
    let sb2 = params.sigma_b2;
    let (matrices, mut report) = entries.solve::<T, N>(
        phi.activation,
        params.sigma_a2,
        move |g| sb2 * g,
        x,
        kinds,
        Model::Deq {
            sigma_b2: sb2,
            train_b: params.train_input_weights,
        },
        ("DEQ", "sigma_a2"),
    )?;
    report.tau0 = Some(phi.tau0);
    report.tau_star = phi.tau_star;
    report.centering = phi.shift;
    Ok((matrices, report))
}

/// A checked Feng–Kolter DEQ: f = √(σ_W²/n)·W·σ(f) + √(σ_U²/d)·U·x + σ_b·b (NTK parameterization, math §5), with
/// the input dimension d that divides xᵀy (default: the number of columns p of the data).
#[derive(Debug, Clone)]
pub struct FengKolterParams {
    activation: ActivationRef,
    sigma_w2: f64,
    sigma_u2: f64,
    sigma_b2: f64,
    input_dim: Option<f64>,
}

impl FengKolterParams {
    /// σ_W² > 0, σ_U² ≥ 0, σ_b² ≥ 0.
    pub fn new(
        activation: impl Into<ActivationRef>,
        sigma_w2: f64,
        sigma_u2: f64,
        sigma_b2: f64,
    ) -> Result<Self> {
        Ok(FengKolterParams {
            activation: activation.into(),
            sigma_w2: check_positive("sigma_w2", sigma_w2)?,
            sigma_u2: check_nonnegative("sigma_u2", sigma_u2)?,
            sigma_b2: check_nonnegative("sigma_b2", sigma_b2)?,
            input_dim: None,
        })
    }

    /// Divide xᵀy by this d instead of the data's p (d = 1 uses the plain inner product).
    pub fn with_input_dim(mut self, d: f64) -> Result<Self> {
        self.input_dim = Some(check_positive("input_dim", d)?);
        Ok(self)
    }

    /// The d that divides xᵀy for data with p columns.
    pub fn input_dim(&self, p: usize) -> f64 {
        self.input_dim.unwrap_or(p as f64)
    }
}

/// The Feng–Kolter kernels `kinds` on data `x`, in the order asked: Σ* ([`Kernel::Nngp`]), Θ* ([`Kernel::Ntk`]),
/// and E[σ(u)σ(v)] under Σ* ([`Kernel::Ck`]).
pub fn fk_kernels<T: Real, const N: usize>(
    params: &FengKolterParams,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    progress: &dyn Progress,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    fk_driver(params, x, kinds, Entries::All(progress))
}

/// [`fk_kernels`] on the block `block` of the n×n matrices (as [`deq_kernels_block`]); d defaults to the whole
/// X's p.
pub fn fk_kernels_block<T: Real, const N: usize>(
    params: &FengKolterParams,
    x: ArrayView2<f64>,
    block: &BlockIndices,
    kinds: [Kernel; N],
) -> Result<([Array2<T>; N], ImplicitReport)> {
    fk_driver(params, x, kinds, Entries::Block(block))
}

fn fk_driver<T: Real, const N: usize>(
    params: &FengKolterParams,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    entries: Entries,
) -> Result<([Array2<T>; N], ImplicitReport)> {
    crate::data::check_samples(x)?;
    let d = params.input_dim(x.ncols());
    let (u2, b2) = (params.sigma_u2, params.sigma_b2);
    entries.solve::<T, N>(
        params.activation.clone(),
        params.sigma_w2,
        move |g| u2 * g / d + b2,
        x,
        kinds,
        Model::FengKolter,
        ("Feng–Kolter DEQ", "sigma_w2"),
    )
}

/// The reference path: the outer iteration Σ ← a·F(Σ) + σ_b²XXᵀ over whole matrices (F entrywise, through the
/// same per-layer dual evaluator as the explicit kernels, rebuilt each sweep for the new diagonal) to a
/// max-norm change of `tol`; then (Σ*, G* = F(Σ*), K* = G* ⊘ (1 − σ_a²Ġ*)). Every sweep costs one explicit
/// layer; it exists to check the per-entry path and to measure against it.
pub fn deq_kernels_reference(
    params: &DeqParams,
    x: ArrayView2<f64>,
    tol: f64,
) -> Result<(Array2<f64>, Array2<f64>, Array2<f64>)> {
    crate::data::check_samples(x)?;
    let act = params.at_scale(params.input_scale(Some(x))?)?.activation;
    require_derivative(&act, "the implicit NTK")?;
    let (a, sb2) = (params.sigma_a2, params.sigma_b2);
    let b = gram(x)?.mapv(|v| sb2 * v);
    let n = x.nrows();
    // F and Ḟ of every entry under the covariance `s`, rows in parallel.
    let evaluate = |s: &Array2<f64>| -> Result<(Array2<f64>, Array2<f64>)> {
        let diag: Vec<f64> = (0..n).map(|i| s[[i, i]]).collect();
        let dual = LayerDual::new(act.clone(), &diag, true)?;
        let mut f = Array2::<f64>::zeros((n, n));
        let mut fd = Array2::<f64>::zeros((n, n));
        f.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(fd.axis_iter_mut(Axis(0)).into_par_iter())
            .enumerate()
            .for_each(|(i, (mut fr, mut fdr))| {
                for j in 0..n {
                    (fr[j], fdr[j]) = dual.eval(i, j, diag[i], diag[j], s[[i, j]], true);
                }
            });
        Ok((f, fd))
    };
    let mut values: Vec<f64> = b.iter().copied().collect();
    let mut failure = None;
    fixed_point(
        &mut values,
        |v, out| {
            let s = ArrayView2::from_shape((n, n), v)
                .expect("square")
                .to_owned();
            match evaluate(&s) {
                Ok((f, _)) => {
                    for (o, (fv, bv)) in out.iter_mut().zip(f.iter().zip(b.iter())) {
                        *o = a * fv + bv;
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    out.fill(f64::NAN);
                }
            }
        },
        &FixedPointParams::new(tol, 100_000)?,
    )
    .map_err(|e| {
        failure
            .clone()
            .unwrap_or_else(|| contraction_error(e, "DEQ", "sigma_a2", a))
    })?;
    let sigma = Array2::from_shape_vec((n, n), values).expect("square");
    let (f, fd) = evaluate(&sigma)?;
    let k = ndarray::Zip::from(&f)
        .and(&fd)
        .map_collect(|&fv, &fdv| fv / (1.0 - a * fdv));
    Ok((sigma, f, k))
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::activation::Builtin;
    use crate::progress::NoProgress;

    fn data(n: usize, p: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, p), |(i, j)| {
            ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.4 + 0.05 * (i % 3) as f64
        })
    }

    /// The f32 driver (Gram panels of 7 rows here) gives the f64 driver's entries rounded: within two f32
    /// rounding steps of the largest entry, for every kernel of the DEQ and of the Feng–Kolter model.
    #[test]
    fn f32_panels_equal_f64_rounded() {
        let x = data(45, 6);
        let kinds = [Kernel::Nngp, Kernel::Ck, Kernel::Ntk];
        let close = |wide: &[Array2<f64>], narrow: &[Array2<f32>], what: &str| {
            for (w, n) in wide.iter().zip(narrow) {
                let scale = w.iter().fold(0f64, |m, v| m.max(v.abs()));
                for ((i, j), &v) in w.indexed_iter() {
                    let err = (v - f64::from(n[[i, j]])).abs();
                    assert!(
                        err <= 2.0 * f64::from(f32::EPSILON) * scale,
                        "{what} ({i}, {j}): {v} vs {}",
                        n[[i, j]]
                    );
                }
            }
        };
        for act in [Builtin::Relu, Builtin::Tanh, Builtin::Gelu] {
            let params = DeqParams::new(act, 0.3).unwrap();
            let (wide, _) = deq_kernels::<f64, 3>(&params, x.view(), kinds, &NoProgress).unwrap();
            let (narrow, _) = deq_kernels::<f32, 3>(&params, x.view(), kinds, &NoProgress).unwrap();
            close(&wide, &narrow, &format!("DEQ {act:?}"));
            let fk = FengKolterParams::new(act, 0.4, 1.0, 0.1).unwrap();
            let (wide, _) =
                fk_kernels::<f64, 2>(&fk, x.view(), [Kernel::Nngp, Kernel::Ntk], &NoProgress)
                    .unwrap();
            let (narrow, _) =
                fk_kernels::<f32, 2>(&fk, x.view(), [Kernel::Nngp, Kernel::Ntk], &NoProgress)
                    .unwrap();
            close(&wide, &narrow, &format!("Feng–Kolter {act:?}"));
        }
    }
}
