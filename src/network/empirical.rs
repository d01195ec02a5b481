//! Empirical CK and NTK of finite-width networks, averaged over independent draws, streaming: one n×n
//! accumulator plus the per-draw Gram matrices, whatever the number of draws (SPEC §8).

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Zip};
use serde::Serialize;

use super::{activate, DeqNetwork, MlpNetwork, Weights};
use crate::activation::{require_derivative, ActivationRef};
use crate::eigen::matmul_into;
use crate::kernel::implicit::DeqParams;
use crate::kernel::{gram_lower, mirror_lower_to_upper, NoProgress, Progress, Real};
use crate::solve::AndersonParams;
use crate::{Error, Result};

/// Which empirical kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EmpiricalKind {
    Ck,
    Ntk,
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
    pub fn with_weights(mut self, w: Weights) -> Result<Self> {
        self.weights = w.checked()?;
        Ok(self)
    }
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn with_anderson(mut self, a: AndersonParams) -> Self {
        self.anderson = a;
        self
    }
    /// Unroll `iterations` steps from Z = 0 instead of solving for the fixed point.
    pub fn unrolled(mut self, iterations: usize) -> Self {
        self.unrolled = Some(iterations);
        self
    }
    pub fn width(&self) -> usize {
        self.width
    }
}

/// An empirical kernel matrix and how it was made.
#[derive(Debug)]
pub struct EmpiricalKernel<T> {
    pub matrix: Array2<T>,
    pub report: EmpiricalReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmpiricalReport {
    pub width: usize,
    pub draws: usize,
    pub weights: Weights,
    /// Forward-pass iterations per draw (DEQ) and the largest final residual.
    pub forward_iterations: Vec<usize>,
    pub max_forward_residual: f64,
    pub seconds: f64,
}

/// YYᵀ (n×n, full).
fn gram(y: ArrayView2<f64>) -> Array2<f64> {
    let mut g = gram_lower(y);
    mirror_lower_to_upper(&mut g);
    g
}

fn finish<T: Real>(
    mut acc: Array2<f64>,
    draws: usize,
    report: EmpiricalReport,
) -> EmpiricalKernel<T> {
    let inv = 1.0 / draws as f64;
    acc.mapv_inplace(|v| v * inv);
    EmpiricalKernel {
        matrix: acc.mapv(T::from_f64),
        report,
    }
}

/// The DEQ's empirical CK ZZᵀ or NTK (ZZᵀ) ⊘ (11ᵀ − σ_a²·dZdZᵀ), averaged over draws.
pub fn deq_empirical<T: Real>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    kind: EmpiricalKind,
    emp: &EmpiricalParams,
    progress: &dyn Progress,
) -> Result<EmpiricalKernel<T>> {
    let start = Instant::now();
    let n = x.nrows();
    let mut acc = Array2::<f64>::zeros((n, n));
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
        let g = gram(state.z.view());
        match kind {
            EmpiricalKind::Ck => acc += &g,
            EmpiricalKind::Ntk => {
                let dz = net.derivative(&state)?;
                let gd = gram(dz.view());
                let a = net.sigma_a2;
                Zip::from(&mut acc)
                    .and(&g)
                    .and(&gd)
                    .par_for_each(|s, &gv, &dv| *s += gv / (1.0 - a * dv));
            }
        }
        progress.advance(1);
    }
    progress.finish();
    report.seconds = start.elapsed().as_secs_f64();
    Ok(finish(acc, emp.draws, report))
}

/// An MLP's empirical CK Y_LY_Lᵀ or NTK Y_LY_Lᵀ + Σ_ℓ (D_ℓD_ℓᵀ)∘(Y_{ℓ−1}Y_{ℓ−1}ᵀ) (ℓ ≥ 2 with the input layer
/// frozen), where D_L = (φ_L′(H_L) ⊙ 1vᵀ)/√m and D_{ℓ−1} = (D_ℓW_ℓ) ⊙ φ′_{ℓ−1}(H_{ℓ−1})/√m are the
/// gradients of the output with respect to the pre-activations; averaged over draws.
pub fn mlp_empirical<T: Real>(
    layers: &[ActivationRef],
    x: ArrayView2<f64>,
    kind: EmpiricalKind,
    frozen_first_layer: bool,
    emp: &EmpiricalParams,
    progress: &dyn Progress,
) -> Result<EmpiricalKernel<T>> {
    let start = Instant::now();
    if kind == EmpiricalKind::Ntk {
        for a in layers {
            require_derivative(a, "the empirical NTK")?;
        }
    }
    let n = x.nrows();
    let mut acc = Array2::<f64>::zeros((n, n));
    progress.start(emp.draws as u64);
    for d in 0..emp.draws {
        let net = MlpNetwork::sample(
            layers,
            x.ncols(),
            emp.width,
            emp.weights,
            emp.seed + d as u64,
        )?;
        let state = net.forward(x)?;
        let depth = net.layers.len();
        acc += &gram(state.y[depth].view());
        if kind == EmpiricalKind::Ntk {
            let m = emp.width;
            // D_L.
            let (act, _) = &net.layers[depth - 1];
            let mut dl = Array2::<f64>::zeros(state.h[depth - 1].raw_dim());
            activate(act, state.h[depth - 1].view(), m, None, Some(dl.view_mut()));
            dl *= &net.readout;
            let mut delta = dl;
            for l in (0..depth).rev() {
                if l > 0 || !frozen_first_layer {
                    let term = gram(delta.view());
                    let inputs = gram(state.y[l].view());
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
                let mut back = Array2::<f64>::zeros((n, w.ncols()));
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

/// [`deq_empirical`] without progress.
pub fn deq_empirical_quiet<T: Real>(
    params: &DeqParams,
    x: ArrayView2<f64>,
    kind: EmpiricalKind,
    emp: &EmpiricalParams,
) -> Result<EmpiricalKernel<T>> {
    deq_empirical(params, x, kind, emp, &NoProgress)
}
