//! Exact infinite-width kernels of deep equilibrium models (SPEC §5), as fixed points of entrywise maps.
//!
//! Both models reduce to one scalar equation per entry for the pre-activation covariance y = Σ*_ij:
//!
//! ```text
//! y = a·F(y; Σ*_ii, Σ*_jj) + b_ij,      F(c; s₁₁, s₂₂) = E[φ(u)φ(v)],  (u, v) ~ N(0, [[s₁₁, c], [c, s₂₂]])
//! ```
//!
//! - DEQ of SPEC §5: a = σ_a², b_ij = σ_b²·x_iᵀx_j; then G* = F(Σ*), Ġ* = E[φ′(u)φ′(v)],
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

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Serialize;

use self::start::ReluFamilyStart;
use super::{
    check_data, gram_lower, mirror_lower_to_upper, LayerDual, NoProgress, Progress, Real, BLOCK,
};
use crate::activation::chebyshev::VectorInterpolant;
use crate::activation::{
    dual_kernel, require_derivative, Activation, ActivationRef, Centered, Cov2, ScaleMoments,
};
use crate::error::{check_nonnegative, check_positive};
use crate::solve::{
    fixed_point, newton_in_bracket, newton_lanes, FixedPointParams, NewtonParams, SolveReport,
};
use crate::{Error, Result};

/// How the DEQ's activation is centered (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Centering {
    /// φ = φ₀ − E[φ₀(τ*ξ)] (the paper's default).
    AtFixedPoint,
    /// φ = φ₀.
    None,
    /// φ = φ₀ − c.
    Shift(f64),
}

/// A checked DEQ description: z = φ(σ_a·Az + σ_b·Bx)/√m (SPEC §5).
#[derive(Debug, Clone)]
pub struct DeqParams {
    activation: ActivationRef,
    sigma_a2: f64,
    sigma_b2: f64,
    centering: Centering,
    tau0: Option<f64>,
    train_input_weights: bool,
}

impl DeqParams {
    /// The paper's defaults: σ_b² = 1 − σ_a², φ centered at τ*, τ₀² = ‖X‖_F²/n, only A (and the readout)
    /// trained. Requires 0 < σ_a² < 1 for the default σ_b²; override with [`with_sigma_b2`](Self::with_sigma_b2).
    pub fn new(activation: ActivationRef, sigma_a2: f64) -> Result<Self> {
        check_positive("sigma_a2", sigma_a2)?;
        Ok(DeqParams {
            activation,
            sigma_a2,
            sigma_b2: (1.0 - sigma_a2).max(0.0),
            centering: Centering::AtFixedPoint,
            tau0: None,
            train_input_weights: false,
        })
    }
    pub fn with_sigma_b2(mut self, sigma_b2: f64) -> Result<Self> {
        self.sigma_b2 = check_nonnegative("sigma_b2", sigma_b2)?;
        Ok(self)
    }
    pub fn with_centering(mut self, centering: Centering) -> Self {
        self.centering = centering;
        self
    }
    /// The input scale τ₀ used for τ* and the centering constant (default: √(‖X‖_F²/n) of the data).
    pub fn with_tau0(mut self, tau0: f64) -> Result<Self> {
        self.tau0 = Some(check_positive("tau0", tau0)?);
        Ok(self)
    }
    /// Train B as well: adds σ_b²(XXᵀ)∘Ġ* ⊘ (1 − σ_a²Ġ*) to the NTK.
    pub fn with_trained_input_weights(mut self, yes: bool) -> Self {
        self.train_input_weights = yes;
        self
    }
    pub fn sigma_a2(&self) -> f64 {
        self.sigma_a2
    }
    pub fn sigma_b2(&self) -> f64 {
        self.sigma_b2
    }
}

/// τ* of SPEC §5: τ*² = σ_a²·v(τ*) + σ_b²τ₀², v the variance of the uncentered φ₀ at scale τ*.
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
        &FixedPointParams::new(1e-15 * (1.0 + base), 10_000)?,
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

/// Which implicit kernels to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImplicitWhich {
    /// Pre-activation NNGP Σ*.
    pub nngp: bool,
    /// Implicit-CK G* (DEQ only).
    pub ck: bool,
    /// Implicit-NTK K* (DEQ) or Θ* (Feng–Kolter).
    pub ntk: bool,
}

/// The requested matrices and how the fixed points went.
#[derive(Debug)]
pub struct ImplicitKernels<T> {
    pub nngp: Option<Array2<T>>,
    pub ck: Option<Array2<T>>,
    pub ntk: Option<Array2<T>>,
    pub report: ImplicitReport,
}

/// Diagnostics of an implicit-kernel computation.
#[derive(Debug, Clone, Serialize)]
pub struct ImplicitReport {
    /// τ* (DEQ) — the scale the activation was centered at.
    pub tau_star: Option<f64>,
    /// The centering constant subtracted from φ₀.
    pub centering: f64,
    /// Largest |y − aF(y) − b| over all entries (the fixed-point residual).
    pub max_residual: f64,
    /// Largest a·E[φ′(u)φ′(v)] over the entries: the measured contraction factor of the entry maps.
    pub contraction: f64,
    /// Largest number of Newton steps for one entry, and the mean.
    pub max_iterations: usize,
    pub mean_iterations: f64,
    /// Entries evaluated by the 2-D quadrature fallback of the Hermite series.
    pub quadrature_fallbacks: usize,
    pub seconds: f64,
}

/// Which model's outputs to assemble from a solved entry.
#[derive(Clone, Copy)]
enum Model {
    Deq { sigma_b2: f64, train_b: bool },
    FengKolter,
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
    fn merge(mut self, o: EntryStats) -> EntryStats {
        self.max_residual = self.max_residual.max(o.max_residual);
        self.contraction = self.contraction.max(o.contraction);
        self.max_iterations = self.max_iterations.max(o.max_iterations);
        self.sum_iterations += o.sum_iterations;
        self
    }
}

/// The requested outputs, in the order their buffers are held.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    Nngp,
    Ck,
    Ntk,
}

impl<B: Fn(f64) -> f64 + Sync> EntryMap<'_, B> {
    fn newton_params(&self, scale: f64) -> Result<NewtonParams> {
        NewtonParams::new(1e-15 * (1.0 + scale), 4.0 * f64::EPSILON, 100)
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
    fn solve_block(&self, i: usize, blk: usize, b: &[f64; BLOCK]) -> Result<[Solved; BLOCK]> {
        let vi = self.diag[i];
        let vj: &[f64; BLOCK] = self.diag[blk * BLOCK..(blk + 1) * BLOCK]
            .try_into()
            .expect("block");
        let bound: [f64; BLOCK] = std::array::from_fn(|l| (vi * vj[l]).sqrt());
        let neg = bound.map(|v| -v);
        let x0: [f64; BLOCK] = match &self.start {
            Some((table, sd)) => std::array::from_fn(|l| {
                table
                    .start(sd[i], sd[blk * BLOCK + l], b[l])
                    .clamp(-bound[l], bound[l])
            }),
            None => {
                // One Newton step from y = b.
                let from: [f64; BLOCK] = std::array::from_fn(|l| b[l].clamp(-bound[l], bound[l]));
                let (f0, fd0) = self.dual.eval_block(i, blk, vi, vj, &from, true);
                std::array::from_fn(|l| {
                    (b[l] + self.a * f0[l] / (1.0 - self.a * fd0[l])).clamp(-bound[l], bound[l])
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
        Ok(std::array::from_fn(|l| Solved {
            y: y[l],
            f: last_f[l],
            fdot: last_fd[l],
            iterations: steps,
            residual: (y[l] - self.a * last_f[l] - b[l]).abs(),
        }))
    }

    /// The value of `out` for a solved entry with Gram value g.
    #[inline(always)]
    fn assemble(&self, out: Output, s: &Solved, g: f64) -> f64 {
        match (out, self.model) {
            (Output::Nngp, _) => s.y,
            (Output::Ck, _) => s.f,
            (Output::Ntk, Model::Deq { sigma_b2, train_b }) => {
                let denom = 1.0 - self.a * s.fdot;
                if train_b {
                    (s.f + sigma_b2 * g * s.fdot) / denom
                } else {
                    s.f / denom
                }
            }
            (Output::Ntk, Model::FengKolter) => s.y / (1.0 - self.a * s.fdot),
        }
    }

    /// Row i (j ≤ i) of every output; `rows[0]` holds the Gram row x_iᵀx_j on entry and is overwritten entry
    /// by entry after it is read. Compiled for AVX2 as well, chosen at run time.
    fn row(&self, i: usize, outs: &[Output], rows: &mut [&mut [f64]]) -> Result<EntryStats> {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA.
            return unsafe { self.row_avx2(i, outs, rows) };
        }
        self.row_portable(i, outs, rows)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(
        &self,
        i: usize,
        outs: &[Output],
        rows: &mut [&mut [f64]],
    ) -> Result<EntryStats> {
        self.row_portable(i, outs, rows)
    }

    // The column index addresses every output row and the Gram row at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn row_portable(
        &self,
        i: usize,
        outs: &[Output],
        rows: &mut [&mut [f64]],
    ) -> Result<EntryStats> {
        let mut stats = EntryStats::default();
        let full = i / BLOCK;
        for blk in 0..full {
            let j0 = blk * BLOCK;
            let g: [f64; BLOCK] = rows[0][j0..j0 + BLOCK].try_into().expect("block");
            let bvals = g.map(&self.b_of_gram);
            let solved = self.solve_block(i, blk, &bvals)?;
            for (l, s) in solved.iter().enumerate() {
                stats.record(self.a, s);
                for (k, &o) in outs.iter().enumerate() {
                    rows[k][j0 + l] = self.assemble(o, s, g[l]);
                }
            }
        }
        for j in full * BLOCK..=i {
            let g = rows[0][j];
            let s = if i == j {
                let v = self.diag[i];
                let (f, fdot) = self.dual.eval(i, i, v, v, v, true);
                Solved {
                    y: v,
                    f,
                    fdot,
                    iterations: 0,
                    residual: (v - self.a * f - (self.b_of_gram)(g)).abs(),
                }
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
            &FixedPointParams::new(1e-15 * (1.0 + bi.abs()), 100_000)?,
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
        if let Some(fit) = VectorInterpolant::fit(|v| vec![second(v)], lo, hi, 1e-15, 128) {
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

/// The common driver: diagonal, then every off-diagonal entry; writes the requested outputs.
///
/// Memory: the Gram matrix is computed into the first output's buffer and each entry overwrites its own Gram
/// value, so the peak is one n×n f64 buffer per requested output (one if none is requested).
#[allow(clippy::too_many_arguments)]
fn solve_all<T: Real>(
    act: ActivationRef,
    a: f64,
    b_of_gram: impl Fn(f64) -> f64 + Sync,
    x: ArrayView2<f64>,
    which: ImplicitWhich,
    model: Model,
    names: (&'static str, &'static str),
    progress: &dyn Progress,
) -> Result<ImplicitKernels<T>> {
    let start = Instant::now();
    require_derivative(
        &act,
        "the implicit kernels (Newton on each entry needs E[φ′φ′])",
    )?;
    let n = x.nrows();
    let mut bufs = vec![gram_lower(x)];
    let bdiag: Vec<f64> = (0..n).map(|i| b_of_gram(bufs[0][[i, i]])).collect();
    let diag = solve_diagonal(&act, a, &bdiag, names.0, names.1)?;
    let dual = LayerDual::new(act.clone(), &diag, true)?;
    let relu_start = ReluFamilyStart::new(act.closed_family(), a)
        .map(|t| (t, diag.iter().map(|v| v.max(0.0).sqrt()).collect()));
    let map = EntryMap {
        dual: &dual,
        a,
        diag: &diag,
        b_of_gram,
        model,
        start: relu_start,
    };
    let outs: Vec<Output> = [
        (which.nngp, Output::Nngp),
        (which.ck, Output::Ck),
        (which.ntk, Output::Ntk),
    ]
    .into_iter()
    .filter_map(|(w, o)| w.then_some(o))
    .collect();
    bufs.extend((1..outs.len()).map(|_| crate::buffer::zeroed_matrix::<f64>(n, n)));
    // Without any requested output the Gram buffer is still overwritten, with Σ*.
    let outs_or_scratch = if outs.is_empty() {
        vec![Output::Nngp]
    } else {
        outs.clone()
    };

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
                let s = map.row(i, &outs_or_scratch, &mut rows)?;
                progress.advance(i as u64 + 1);
                Ok(s)
            })
            .try_reduce(EntryStats::default, |x, y| Ok(x.merge(y)))?
    };
    progress.finish();
    if stats.contraction >= 1.0 {
        return Err(Error::OutsideContraction {
            model: names.0,
            factor: stats.contraction,
            parameter: names.1,
            max_safe: a / stats.contraction,
        });
    }
    let mut matrices: Vec<Option<Array2<T>>> = vec![None, None, None];
    for (o, mut m) in outs.iter().zip(bufs) {
        mirror_lower_to_upper(&mut m);
        matrices[*o as usize] = Some(super::into_real(m));
    }
    let [nngp, ck, ntk]: [Option<Array2<T>>; 3] = matrices.try_into().expect("three slots");
    let off = (n * (n - 1) / 2).max(1);
    Ok(ImplicitKernels {
        nngp,
        ck,
        ntk,
        report: ImplicitReport {
            tau_star: None,
            centering: 0.0,
            max_residual: stats.max_residual,
            contraction: stats.contraction,
            max_iterations: stats.max_iterations,
            mean_iterations: stats.sum_iterations as f64 / off as f64,
            quadrature_fallbacks: dual.fallbacks(),
            seconds: start.elapsed().as_secs_f64(),
        },
    })
}

/// The DEQ's activation φ as the model uses it — centered as `params` say (by default at τ*, with τ₀² the mean
/// squared norm of `x` unless given) — with τ* (when centered at it) and the constant subtracted.
pub fn deq_activation(
    params: &DeqParams,
    x: ArrayView2<f64>,
) -> Result<(ActivationRef, Option<f64>, f64)> {
    let tau0 = match params.tau0 {
        Some(t) => t,
        None => crate::kernel::data_scale(x),
    };
    let act = params.activation.clone();
    Ok(match params.centering {
        Centering::None => (act, None, 0.0),
        Centering::Shift(c) => (std::sync::Arc::new(Centered::new(act, c)), None, c),
        Centering::AtFixedPoint => {
            let (tau, _) = tau_star(&act, params.sigma_a2, params.sigma_b2, tau0)?;
            let c = ScaleMoments::compute(&act, tau)?.m0;
            (std::sync::Arc::new(Centered::new(act, c)), Some(tau), c)
        }
    })
}

/// The DEQ's pre-activation NNGP Σ*, Implicit-CK G* and Implicit-NTK K* (SPEC §5) on data `x` (n×p, rows
/// are samples), by the per-entry Newton path.
pub fn deq_kernels<T: Real>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    which: ImplicitWhich,
) -> Result<ImplicitKernels<T>> {
    deq_kernels_observed(params, x, which, &NoProgress)
}

/// [`deq_kernels`] reporting progress in entries of the lower triangle.
pub fn deq_kernels_observed<T: Real>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    which: ImplicitWhich,
    progress: &dyn Progress,
) -> Result<ImplicitKernels<T>> {
    check_data(x)?;
    let (act, tau, c) = deq_activation(params, x)?;
    let sb2 = params.sigma_b2;
    let mut k = solve_all::<T>(
        act,
        params.sigma_a2,
        move |g| sb2 * g,
        x,
        which,
        Model::Deq {
            sigma_b2: sb2,
            train_b: params.train_input_weights,
        },
        ("DEQ", "sigma_a2"),
        progress,
    )?;
    k.report.tau_star = tau;
    k.report.centering = c;
    Ok(k)
}

/// A checked Feng–Kolter DEQ: f = √(σ_W²/n)·W·σ(f) + √(σ_U²/d)·U·x + σ_b·b (NTK parameterization).
#[derive(Debug, Clone)]
pub struct FengKolterParams {
    activation: ActivationRef,
    sigma_w2: f64,
    sigma_u2: f64,
    sigma_b2: f64,
}

impl FengKolterParams {
    pub fn new(
        activation: ActivationRef,
        sigma_w2: f64,
        sigma_u2: f64,
        sigma_b2: f64,
    ) -> Result<Self> {
        Ok(FengKolterParams {
            activation,
            sigma_w2: check_positive("sigma_w2", sigma_w2)?,
            sigma_u2: check_nonnegative("sigma_u2", sigma_u2)?,
            sigma_b2: check_nonnegative("sigma_b2", sigma_b2)?,
        })
    }
}

/// The Feng–Kolter Σ* (as `nngp`) and Θ* (as `ntk`); `ck` holds E[σ(u)σ(v)] under Σ*. The input inner product
/// is divided by d = `input_dim` (SPEC §11: d = p on the command line).
pub fn fk_kernels<T: Real>(
    params: &FengKolterParams,
    x: ArrayView2<f64>,
    input_dim: f64,
    which: ImplicitWhich,
) -> Result<ImplicitKernels<T>> {
    check_data(x)?;
    check_positive("input_dim", input_dim)?;
    let (u2, b2) = (params.sigma_u2, params.sigma_b2);
    solve_all::<T>(
        params.activation.clone(),
        params.sigma_w2,
        move |g| u2 * g / input_dim + b2,
        x,
        which,
        Model::FengKolter,
        ("Feng–Kolter DEQ", "sigma_w2"),
        &NoProgress,
    )
}

/// The reference path: the outer iteration Σ ← a·F(Σ) + σ_b²XXᵀ over whole matrices (F entrywise, through the
/// same per-layer dual evaluator as the explicit kernels, rebuilt each sweep for the new diagonal) to a
/// max-norm change of `tol`; then G* = F(Σ*) and K* = G* ⊘ (1 − σ_a²Ġ*). Every sweep costs one explicit layer;
/// it exists to check the per-entry path and to measure against it.
pub fn deq_kernels_reference(
    params: &DeqParams,
    x: ArrayView2<f64>,
    tol: f64,
) -> Result<(Array2<f64>, Array2<f64>, Array2<f64>)> {
    check_data(x)?;
    let (act, _, _) = deq_activation(params, x)?;
    require_derivative(&act, "the implicit NTK")?;
    let (a, sb2) = (params.sigma_a2, params.sigma_b2);
    let mut g = gram_lower(x);
    mirror_lower_to_upper(&mut g);
    let b = g.mapv(|v| sb2 * v);
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
