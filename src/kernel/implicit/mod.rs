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

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Serialize;

use super::{
    check_data, gram_lower, mirror_lower_to_upper, LayerDual, NoProgress, Progress, Real, BLOCK,
};
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

/// The entry equation y = a·F(y) + b shared by both models.
struct EntryMap<'a> {
    dual: &'a LayerDual,
    a: f64,
    diag: &'a [f64],
}

/// One solved entry: y = Σ*_ij, F(y), Ḟ(y), Newton steps, residual.
struct Solved {
    y: f64,
    f: f64,
    fdot: f64,
    iterations: usize,
    residual: f64,
}

impl EntryMap<'_> {
    fn solve(&self, i: usize, j: usize, b: f64) -> Result<Solved> {
        let (vi, vj) = (self.diag[i], self.diag[j]);
        let eval = |y: f64| self.dual.eval(i, j, vi, vj, y, true);
        let bound = (vi * vj).sqrt();
        let (f0, _) = eval(b.clamp(-bound, bound));
        let x0 = (self.a * f0 + b).clamp(-bound, bound);
        let params = NewtonParams::new(1e-15 * (1.0 + bound), 4.0 * f64::EPSILON, 100)?;
        let (y, rep) = newton_in_bracket(
            |y| {
                let (f, fd) = eval(y);
                (y - self.a * f - b, 1.0 - self.a * fd)
            },
            -bound,
            bound,
            true,
            x0,
            &params,
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
    fn solve_block(&self, i: usize, blk: usize, b: &[f64; BLOCK]) -> Result<[Solved; BLOCK]> {
        let vi = self.diag[i];
        let vj: &[f64; BLOCK] = self.diag[blk * BLOCK..(blk + 1) * BLOCK]
            .try_into()
            .expect("block");
        let mut bound = [0.0; BLOCK];
        let mut start = [0.0; BLOCK];
        for l in 0..BLOCK {
            bound[l] = (vi * vj[l]).sqrt();
            start[l] = b[l].clamp(-bound[l], bound[l]);
        }
        let (f0, _) = self.dual.eval_block(i, blk, vi, vj, &start, true);
        let neg = bound.map(|v| -v);
        let mut x0 = [0.0; BLOCK];
        for l in 0..BLOCK {
            x0[l] = (self.a * f0[l] + b[l]).clamp(-bound[l], bound[l]);
        }
        let scale = bound.iter().copied().fold(0.0, f64::max);
        let params = NewtonParams::new(1e-15 * (1.0 + scale), 4.0 * f64::EPSILON, 100)?;
        let (mut last_f, mut last_fd) = ([0.0; BLOCK], [0.0; BLOCK]);
        let (y, steps) = newton_lanes(
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
            &params,
        )?;
        Ok(std::array::from_fn(|l| Solved {
            y: y[l],
            f: last_f[l],
            fdot: last_fd[l],
            iterations: steps,
            residual: (y[l] - self.a * last_f[l] - b[l]).abs(),
        }))
    }
}

/// Solve the n diagonal equations Σ_ii = a·E[φ(√Σ_ii ξ)²] + b_ii.
fn solve_diagonal(
    act: &ActivationRef,
    a: f64,
    b: &[f64],
    model: &'static str,
    parameter: &'static str,
) -> Result<Vec<f64>> {
    b.par_iter()
        .map(|&bi| {
            let mut s = [bi.max(0.0)];
            fixed_point(
                &mut s,
                |x, out| {
                    let v = x[0].max(0.0);
                    out[0] = a * dual_kernel(
                        act,
                        &Cov2 {
                            s11: v,
                            s22: v,
                            s12: v,
                        },
                    ) + bi;
                },
                &FixedPointParams::new(1e-15 * (1.0 + bi.abs()), 100_000)?,
            )
            .map_err(|e| contraction_error(e, model, parameter, a))?;
            Ok(s[0])
        })
        .collect()
}

/// Which model's outputs to assemble from a solved entry.
#[derive(Clone, Copy)]
enum Model {
    Deq { sigma_b2: f64, train_b: bool },
    FengKolter,
}

/// The common driver: diagonal, then every off-diagonal entry; writes the requested outputs.
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
    let g = gram_lower(x);
    let gdiag: Vec<f64> = (0..n).map(|i| g[[i, i]]).collect();
    let bdiag: Vec<f64> = gdiag.iter().map(|&v| b_of_gram(v)).collect();
    let diag = solve_diagonal(&act, a, &bdiag, names.0, names.1)?;
    let dual = LayerDual::new(act.clone(), &diag, true)?;
    let map = EntryMap {
        dual: &dual,
        a,
        diag: &diag,
    };

    // Outputs are allocated beside the Gram matrix, which is freed after the pass.
    let want = [which.nngp, which.ck, which.ntk];
    let mut extra: Vec<Option<Array2<f64>>> = want
        .iter()
        .map(|&w| w.then(|| Array2::<f64>::zeros((n, n))))
        .collect();
    let assemble = |s: &Solved, g: f64| -> [f64; 3] {
        match model {
            Model::Deq { sigma_b2, train_b } => {
                let denom = 1.0 - a * s.fdot;
                let mut ntk = s.f / denom;
                if train_b {
                    ntk += sigma_b2 * g * s.fdot / denom;
                }
                [s.y, s.f, ntk]
            }
            Model::FengKolter => [s.y, s.f, s.y / (1.0 - a * s.fdot)],
        }
    };
    progress.start((n * (n + 1) / 2) as u64);
    let stats: Vec<Result<(f64, f64, usize, usize)>> = {
        let rows: Vec<_> = extra
            .iter_mut()
            .map(|m| {
                m.as_mut()
                    .map(|m| m.axis_iter_mut(Axis(0)).collect::<Vec<_>>())
            })
            .collect();
        let mut per_row: Vec<[Option<ndarray::ArrayViewMut1<f64>>; 3]> =
            (0..n).map(|_| [None, None, None]).collect();
        for (k, r) in rows.into_iter().enumerate() {
            if let Some(r) = r {
                for (i, row) in r.into_iter().enumerate() {
                    per_row[i][k] = Some(row);
                }
            }
        }
        g.axis_iter(Axis(0))
            .into_par_iter()
            .zip(per_row.into_par_iter())
            .enumerate()
            .with_min_len(4)
            .map(|(i, (grow, mut outs))| {
                let (mut max_res, mut max_c, mut max_it, mut sum_it) = (0f64, 0f64, 0usize, 0usize);
                let mut record =
                    |j: usize, s: &Solved, outs: &mut [Option<ndarray::ArrayViewMut1<f64>>; 3]| {
                        max_res = max_res.max(s.residual);
                        max_c = max_c.max(a * s.fdot);
                        max_it = max_it.max(s.iterations);
                        sum_it += s.iterations;
                        let vals = assemble(s, grow[j]);
                        for (o, v) in outs.iter_mut().zip(vals) {
                            if let Some(o) = o {
                                o[j] = v;
                            }
                        }
                    };
                let full = i / BLOCK;
                for blk in 0..full {
                    let bvals: [f64; BLOCK] =
                        std::array::from_fn(|l| b_of_gram(grow[blk * BLOCK + l]));
                    for (l, s) in map.solve_block(i, blk, &bvals)?.iter().enumerate() {
                        record(blk * BLOCK + l, s, &mut outs);
                    }
                }
                for j in full * BLOCK..=i {
                    let s = if i == j {
                        let (f, fdot) = dual.eval(i, i, diag[i], diag[i], diag[i], true);
                        Solved {
                            y: diag[i],
                            f,
                            fdot,
                            iterations: 0,
                            residual: (diag[i] - a * f - bdiag[i]).abs(),
                        }
                    } else {
                        map.solve(i, j, b_of_gram(grow[j]))?
                    };
                    record(j, &s, &mut outs);
                }
                progress.advance(i as u64 + 1);
                Ok((max_res, max_c, max_it, sum_it))
            })
            .collect()
    };
    progress.finish();
    drop(g);
    let (mut max_res, mut max_c, mut max_it, mut sum_it) = (0f64, 0f64, 0usize, 0usize);
    for s in stats {
        let (r, c, it, sit) = s?;
        max_res = max_res.max(r);
        max_c = max_c.max(c);
        max_it = max_it.max(it);
        sum_it += sit;
    }
    if max_c >= 1.0 {
        return Err(Error::OutsideContraction {
            model: names.0,
            factor: max_c,
            parameter: names.1,
            max_safe: a / max_c,
        });
    }
    let mut outs: Vec<Option<Array2<T>>> = extra
        .into_iter()
        .map(|m| {
            m.map(|mut m| {
                mirror_lower_to_upper(&mut m);
                super::into_real(m)
            })
        })
        .collect();
    let ntk = outs.pop().flatten();
    let ck = outs.pop().flatten();
    let nngp = outs.pop().flatten();
    let off = (n * (n - 1) / 2).max(1);
    Ok(ImplicitKernels {
        nngp,
        ck,
        ntk,
        report: ImplicitReport {
            tau_star: None,
            centering: 0.0,
            max_residual: max_res,
            contraction: max_c,
            max_iterations: max_it,
            mean_iterations: sum_it as f64 / off as f64,
            quadrature_fallbacks: dual.fallbacks(),
            seconds: start.elapsed().as_secs_f64(),
        },
    })
}

/// The centered activation and (τ*, constant) for a DEQ on data with mean squared norm τ₀².
fn centered_activation(
    params: &DeqParams,
    x: ArrayView2<f64>,
) -> Result<(ActivationRef, Option<f64>, f64)> {
    let tau0 = match params.tau0 {
        Some(t) => t,
        None => (x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64).sqrt(),
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
    let (act, tau, c) = centered_activation(params, x)?;
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
    let (act, _, _) = centered_activation(params, x)?;
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
