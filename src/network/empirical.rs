//! Empirical CK and NTK of finite-width networks, averaged over independent draws, streaming: one n×n
//! accumulator plus the per-draw Gram matrices, whatever the number of draws (math §8).

use crate::linalg::zeroed_matrix;
use std::time::Instant;

use ndarray::{Array2, ArrayView2, Zip};

use super::{activate, DeqNetwork, MlpNetwork, Weights};
use crate::activation::require_derivative;
use crate::kernel::explicit::{FirstLayer, MlpParams};
use crate::kernel::implicit::DeqParams;
use crate::kernel::Kernel;
use crate::linalg::{gram, matmul_into};
use crate::progress::{check_cancelled, Progress};
use crate::solve::AndersonParams;
use crate::{Error, Real, Result};

/// The empirical kernels are the CK and the NTK; the pre-activation NNGP has no empirical counterpart here.
fn check_kind(kind: Kernel) -> Result<()> {
    if kind == Kernel::Nngp {
        return Err(Error::Undefined {
            quantity: "an empirical pre-activation NNGP",
            activation: "a finite-width network".into(),
            why: "the empirical kernels are the CK ZZᵀ and the NTK; ask for Kernel::Ck or Kernel::Ntk",
        });
    }
    Ok(())
}

/// Checked settings: width m ≥ 1, draws ≥ 1, weight distribution, seed (draw d uses seed + d), and for the DEQ
/// either the fixed point (Anderson settings) or a number of unrolled iterations.
#[derive(Debug, Clone, Copy)]
pub struct EmpiricalParams {
    width: usize,
    draws: usize,
    weights: Weights,
    seed: u64,
    anderson: AndersonParams,
    unrolled: Option<usize>,
}

impl EmpiricalParams {
    /// Width m and the number of draws; Gaussian weights, seed 0, the DEQ's fixed point by Anderson to 1e-10.
    pub fn new(width: usize, draws: usize) -> Result<Self> {
        if width == 0 || draws == 0 {
            return Err(Error::InvalidParameter {
                name: if width == 0 { "width" } else { "draws" },
                value: 0.0,
                requirement: "at least one",
            });
        }
        Ok(EmpiricalParams {
            width,
            draws,
            weights: Weights::Gaussian,
            seed: 0,
            anderson: AndersonParams::new(5, 1.0, 1e-10, 500)?,
            unrolled: None,
        })
    }
    /// The weights' distribution.
    pub fn with_weights(mut self, w: Weights) -> Result<Self> {
        self.weights = w.checked()?;
        Ok(self)
    }
    /// The seed of draw 0 (draw d uses seed + d).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The DEQ's forward solver.
    pub fn with_anderson(mut self, a: AndersonParams) -> Self {
        self.anderson = a;
        self
    }
    /// Unroll `iterations` steps from Z = 0 instead of solving for the fixed point.
    pub fn unrolled(mut self, iterations: usize) -> Self {
        self.unrolled = Some(iterations);
        self
    }
    /// The width m.
    pub fn width(&self) -> usize {
        self.width
    }
}

/// How an empirical kernel was made.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct EmpiricalReport {
    /// The width m.
    pub width: usize,
    /// The draws averaged.
    pub draws: usize,
    /// The weights' distribution.
    pub weights: Weights,
    /// Forward-pass iterations per draw (DEQ).
    pub forward_iterations: Vec<usize>,
    /// The largest final residual of the forward passes (DEQ).
    pub max_forward_residual: f64,
    /// Wall time.
    pub seconds: f64,
}

fn finish<T: Real>(
    mut acc: Array2<f64>,
    draws: usize,
    report: EmpiricalReport,
) -> (Array2<T>, EmpiricalReport) {
    let inv = 1.0 / draws as f64;
    acc.mapv_inplace(|v| v * inv);
    (acc.mapv(T::from_f64), report)
}

/// The DEQ's empirical CK ZZᵀ or NTK (ZZᵀ) ⊘ (11ᵀ − σ_a²·dZdZᵀ), averaged over draws; progress in draws.
pub fn deq_empirical<T: Real>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    kind: Kernel,
    emp: &EmpiricalParams,
    progress: &dyn Progress,
) -> Result<(Array2<T>, EmpiricalReport)> {
    let start = Instant::now();
    check_kind(kind)?;
    let n = x.nrows();
    let mut acc = zeroed_matrix::<f64>(n, n)?;
    let mut report = EmpiricalReport {
        width: emp.width,
        draws: emp.draws,
        weights: emp.weights,
        forward_iterations: Vec::new(),
        max_forward_residual: 0.0,
        seconds: 0.0,
    };
    progress.start(emp.draws as u64);
    for d in 0..emp.draws {
        let net = DeqNetwork::sample(params, x, emp.width, emp.weights, emp.seed + d as u64)?;
        let state = match emp.unrolled {
            None => net.forward(x, &emp.anderson)?,
            Some(it) => net.unrolled(x, it)?,
        };
        report.forward_iterations.push(state.report.iterations);
        report.max_forward_residual = report.max_forward_residual.max(state.report.residual);
        let g = gram(state.z.view())?;
        match kind {
            Kernel::Ntk => {
                let dz = net.derivative(&state)?;
                let gd = gram(dz.view())?;
                let a = net.sigma_a2;
                Zip::from(&mut acc)
                    .and(&g)
                    .and(&gd)
                    .par_for_each(|s, &gv, &dv| *s += gv / (1.0 - a * dv));
            }
            _ => acc += &g,
        }
        progress.advance(1);
        check_cancelled(progress)?;
    }
    progress.finish();
    report.seconds = start.elapsed().as_secs_f64();
    Ok(finish(acc, emp.draws, report))
}

/// An MLP's empirical CK Y_LY_Lᵀ or NTK Y_LY_Lᵀ + Σ_ℓ (D_ℓD_ℓᵀ)∘(Y_{ℓ−1}Y_{ℓ−1}ᵀ) (ℓ ≥ 2 with the input layer
/// frozen), where D_L = (φ_L′(H_L) ⊙ 1vᵀ)/√m and D_{ℓ−1} = (D_ℓW_ℓ) ⊙ φ′_{ℓ−1}(H_{ℓ−1})/√m are the
/// gradients of the output with respect to the pre-activations; averaged over draws of the network `params`
/// ([`MlpNetwork::sample`]: unit variances, activations centered for `x` as the params say); progress in draws.
pub fn mlp_empirical<T: Real>(
    params: &MlpParams,
    x: ArrayView2<f64>,
    kind: Kernel,
    emp: &EmpiricalParams,
    progress: &dyn Progress,
) -> Result<(Array2<T>, EmpiricalReport)> {
    let start = Instant::now();
    check_kind(kind)?;
    if kind == Kernel::Ntk {
        for l in params.layers() {
            require_derivative(&l.activation, "the empirical NTK")?;
        }
    }
    let frozen_first_layer = params.first_layer() == FirstLayer::Frozen;
    let n = x.nrows();
    let mut acc = zeroed_matrix::<f64>(n, n)?;
    progress.start(emp.draws as u64);
    for d in 0..emp.draws {
        let net = MlpNetwork::sample(params, x, emp.width, emp.weights, emp.seed + d as u64)?;
        let state = net.forward(x)?;
        let depth = net.layers.len();
        acc += &gram(state.y[depth].view())?;
        if kind == Kernel::Ntk {
            let m = emp.width;
            // D_L.
            let (act, _) = &net.layers[depth - 1];
            let mut dl = Array2::<f64>::zeros(state.h[depth - 1].raw_dim());
            activate(act, state.h[depth - 1].view(), m, None, Some(dl.view_mut()));
            dl *= &net.readout;
            let mut delta = dl;
            for l in (0..depth).rev() {
                if l > 0 || !frozen_first_layer {
                    let term = gram(delta.view())?;
                    let inputs = gram(state.y[l].view())?;
                    Zip::from(&mut acc)
                        .and(&term)
                        .and(&inputs)
                        .par_for_each(|s, &t, &i| *s += t * i);
                }
                if l == 0 {
                    break;
                }
                // D_{l−1} = (D_l W_l) ⊙ φ′(H_{l−1})/√m.
                let (_, w) = &net.layers[l];
                let mut back = zeroed_matrix::<f64>(n, w.ncols())?;
                matmul_into(back.view_mut(), delta.view(), w.view(), false);
                let (prev_act, _) = &net.layers[l - 1];
                let mut dprev = Array2::<f64>::zeros(state.h[l - 1].raw_dim());
                activate(
                    prev_act,
                    state.h[l - 1].view(),
                    m,
                    None,
                    Some(dprev.view_mut()),
                );
                back *= &dprev;
                delta = back;
            }
        }
        progress.advance(1);
        check_cancelled(progress)?;
    }
    progress.finish();
    let report = EmpiricalReport {
        width: emp.width,
        draws: emp.draws,
        weights: emp.weights,
        forward_iterations: Vec::new(),
        max_forward_residual: 0.0,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(finish(acc, emp.draws, report))
}
