//! Training the deep equilibrium linear model by gradient descent, against the global minimum L* of the convex
//! shallow problem min_W L(WΦ).

use crate::linalg::zeroed_matrix;
use std::time::Instant;

use faer::linalg::solvers::Solve;
use ndarray::{Array2, ArrayView1, ArrayView2};

use super::{loss_and_residual, Delm, Loss};
use crate::eigen::{EigenRequest, FaerEigen, SymmetricEigensolver};
use crate::linalg::matmul_into;
use crate::{Error, Result};

/// How long each step is.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum StepRule {
    /// A fixed step η (small η approximates gradient flow).
    Fixed(f64),
    /// Backtracking from `initial`: halve until the loss falls by at least ½η‖∇‖² (Armijo), and try twice the
    /// last accepted step next time.
    Armijo {
        /// The first step tried.
        initial: f64,
    },
}

/// Checked training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainParams {
    /// The loss minimized.
    pub loss: Loss,
    iterations: usize,
    step: StepRule,
}

impl TrainParams {
    /// `iterations` ≥ 1 steps of `step` on `loss`.
    pub fn new(loss: Loss, iterations: usize, step: StepRule) -> Result<Self> {
        crate::solve::check_max_iter(iterations)?;
        match step {
            StepRule::Fixed(e) | StepRule::Armijo { initial: e } => {
                crate::error::check_positive("step", e)?;
            }
        }
        Ok(TrainParams {
            loss,
            iterations,
            step,
        })
    }
}

/// How training went.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct TrainReport {
    /// The loss minimized.
    pub loss_kind: Loss,
    /// L at every iteration (the first before any step).
    pub loss: Vec<f64>,
    /// L − L* at every iteration.
    pub loss_gap: Vec<f64>,
    /// The shallow optimum L* = min_W L(WΦ).
    pub l_star: f64,
    /// Steps taken.
    pub steps: Vec<f64>,
    /// The per-step contraction of the gap, exp(mean log(gap_{k+1}/gap_k)) over the iterations before the gap
    /// reached rounding (1e-12 relative to L*, or 1e-14).
    pub observed_rate: f64,
    /// Square loss: the gradient-flow bound's per-step factors q_k = exp(−2η_kλ_min(P_k)λ⁺), with
    /// λ_min(P_k) ≥ 1/‖U_k‖₂² and λ⁺ the smallest non-zero eigenvalue of ΦΦᵀ, averaged geometrically over the
    /// same iterations as `observed_rate` (gap_K ≤ gap_0·Π q_k for the flow); None for cross-entropy.
    pub bound_rate: Option<f64>,
    /// λ⁺, the smallest non-zero eigenvalue of ΦΦᵀ.
    pub lambda_plus: f64,
    /// Wall time.
    pub seconds: f64,
}

/// The smallest non-zero eigenvalue of ΦΦᵀ (non-zero: above 1e-10·λ_max).
fn smallest_nonzero(phi: ArrayView2<f64>) -> Result<f64> {
    let m = phi.nrows();
    let mut g = zeroed_matrix::<f64>(m, m)?;
    matmul_into(g.view_mut(), phi, phi.t(), false);
    let g = (&g + &g.t()) * 0.5;
    let w = FaerEigen::default().eigenvalues(g.view())?;
    let max = w.last().copied().unwrap_or(0.0);
    Ok(w.into_iter().find(|&v| v > 1e-10 * max).unwrap_or(max))
}

/// ‖U‖₂² = λ_max(UᵀU).
fn norm_u_sq(model: &Delm) -> Result<f64> {
    let m = model.width();
    let s = super::column_softmax(&model.a);
    let u = Array2::from_shape_fn((m, m), |(i, j)| {
        (if i == j { 1.0 } else { 0.0 }) - model.gamma() * s[[i, j]]
    });
    let mut utu = zeroed_matrix::<f64>(m, m)?;
    matmul_into(utu.view_mut(), u.t(), u.view(), false);
    let utu = (&utu + &utu.t()) * 0.5;
    let w = FaerEigen::default().solve(
        utu.view(),
        &EigenRequest::subset(crate::eigen::Subset::Largest(1)),
    )?;
    Ok(w.values[0])
}

/// L* = min_W L(WΦ) and a minimizer: the least-squares solution through the pseudo-inverse of ΦΦᵀ for the square
/// loss; damped Newton on the convex cross-entropy (d·m ≤ 4096 unknowns).
pub fn shallow_optimum(
    phi: ArrayView2<f64>,
    labels: ArrayView1<i64>,
    d: usize,
    loss: Loss,
) -> Result<(f64, Array2<f64>)> {
    let (m, n) = phi.dim();
    crate::data::check_labels(labels, n, d)?;
    let y = super::one_hot_targets(labels, d)?;
    let mut g = zeroed_matrix::<f64>(m, m)?;
    matmul_into(g.view_mut(), phi, phi.t(), false);
    let g = (&g + &g.t()) * 0.5;
    let w_ls = {
        let e = FaerEigen::default().solve(g.view(), &EigenRequest::pairs())?;
        let (vals, v) = (e.values, e.vectors.expect("pairs"));
        let max = vals.last().copied().unwrap_or(0.0);
        // (ΦΦᵀ)⁺ = V diag(1/λ, λ > 1e-12 λ_max) Vᵀ.
        let mut pinv = zeroed_matrix::<f64>(m, m)?;
        for (k, &l) in vals.iter().enumerate() {
            if l > 1e-12 * max {
                let col = v.column(k);
                for i in 0..m {
                    for j in 0..m {
                        pinv[[i, j]] += col[i] * col[j] / l;
                    }
                }
            }
        }
        let mut yphi = zeroed_matrix::<f64>(d, m)?;
        matmul_into(yphi.view_mut(), y.view(), phi.t(), false);
        yphi.dot(&pinv)
    };
    let value = |w: &Array2<f64>| {
        let mut f = zeroed_matrix::<f64>(d, n)?;
        matmul_into(f.view_mut(), w.view(), phi, false);
        loss_and_residual(&f, labels, loss)
    };
    if loss == Loss::Square {
        return Ok((value(&w_ls)?.0, w_ls));
    }
    let k = d * m;
    if k > 4096 {
        return Err(Error::InvalidParameter {
            name: "classes × width",
            value: k as f64,
            requirement: "the exact cross-entropy optimum solves a (d·m)² Newton system: at most 4096 unknowns",
        });
    }
    let mut w = zeroed_matrix::<f64>(d, m)?;
    let (mut cur, _) = value(&w)?;
    let mut damping = 1e-8;
    for _ in 0..200 {
        let mut f = zeroed_matrix::<f64>(d, n)?;
        matmul_into(f.view_mut(), w.view(), phi, false);
        let (_, r) = loss_and_residual(&f, labels, loss)?;
        let mut grad = zeroed_matrix::<f64>(d, m)?;
        matmul_into(grad.view_mut(), r.view(), phi.t(), false);
        let gnorm = grad.iter().fold(0f64, |a, v| a.max(v.abs()));
        if gnorm <= 1e-11 * (1.0 + cur.abs()) {
            break;
        }
        // Hessian Σ_i (diag(p_i) − p_ip_iᵀ) ⊗ φ_iφ_iᵀ with p_i = softmax(f_i) = r_i + e_{y_i}.
        let mut h = faer::Mat::<f64>::zeros(k, k);
        for i in 0..n {
            let mut p = r.column(i).to_owned();
            p[labels[i] as usize] += 1.0;
            let x = phi.column(i);
            for a in 0..d {
                for b in 0..d {
                    let c = if a == b {
                        p[a] - p[a] * p[b]
                    } else {
                        -p[a] * p[b]
                    };
                    if c == 0.0 {
                        continue;
                    }
                    for s in 0..m {
                        let cs = c * x[s];
                        for t in 0..m {
                            h[(a * m + s, b * m + t)] += cs * x[t];
                        }
                    }
                }
            }
        }
        let rhs = faer::Mat::<f64>::from_fn(k, 1, |q, _| grad[[q / m, q % m]]);
        loop {
            let mut hd = h.clone();
            for q in 0..k {
                hd[(q, q)] += damping;
            }
            let step = hd.partial_piv_lu().solve(&rhs);
            let trial = Array2::from_shape_fn((d, m), |(a, s)| w[[a, s]] - step[(a * m + s, 0)]);
            let (v, _) = value(&trial)?;
            if v.is_finite() && v <= cur {
                w = trial;
                cur = v;
                damping = (damping / 10.0).max(1e-12);
                break;
            }
            damping *= 10.0;
            if damping > 1e12 {
                return Ok((cur, w));
            }
        }
    }
    Ok((cur, w))
}

/// Gradient descent on (A, B) from `model`, recording the loss gap to L*.
pub fn train(
    model: &mut Delm,
    phi: ArrayView2<f64>,
    labels: ArrayView1<i64>,
    params: &TrainParams,
) -> Result<TrainReport> {
    let start = Instant::now();
    let d = model.b.nrows();
    let (l_star, _) = shallow_optimum(phi, labels, d, params.loss)?;
    let lambda_plus = smallest_nonzero(phi)?;
    let mut losses = Vec::with_capacity(params.iterations + 1);
    let mut steps = Vec::with_capacity(params.iterations);
    let mut factors: Vec<f64> = Vec::new();
    let mut eta = match params.step {
        StepRule::Fixed(e) | StepRule::Armijo { initial: e } => e,
    };
    for _ in 0..params.iterations {
        let g = model.gradients(phi, labels, params.loss)?;
        losses.push(g.loss);
        let gsq: f64 = g.a.iter().chain(g.b.iter()).map(|v| v * v).sum();
        let take = |model: &Delm, e: f64| -> Result<Delm> {
            Delm::new(
                &model.a - &(&g.a * e),
                &model.b - &(&g.b * e),
                model.gamma(),
            )
        };
        let (next, used) = match params.step {
            StepRule::Fixed(e) => (take(model, e)?, e),
            StepRule::Armijo { .. } => {
                let mut e = eta * 2.0;
                loop {
                    let cand = take(model, e)?;
                    let l = cand.loss(phi, labels, params.loss)?;
                    if l <= g.loss - 0.5 * e * gsq || e < 1e-14 {
                        break (cand, e);
                    }
                    e *= 0.5;
                }
            }
        };
        if params.loss == Loss::Square {
            let lower = 1.0 / norm_u_sq(model)?;
            factors.push(-2.0 * used * lower * lambda_plus);
        }
        steps.push(used);
        eta = used;
        *model = next;
    }
    losses.push(model.loss(phi, labels, params.loss)?);
    let gaps: Vec<f64> = losses.iter().map(|l| (l - l_star).max(0.0)).collect();
    let floor = 1e-12 * l_star.abs().max(1e-2);
    let useful: Vec<f64> = gaps.iter().copied().take_while(|&g| g > floor).collect();
    let observed_rate = if useful.len() >= 2 {
        (useful.last().expect("two").ln() - useful[0].ln())
            .exp()
            .powf(1.0 / (useful.len() - 1) as f64)
    } else {
        0.0
    };
    let k = useful.len().saturating_sub(1).max(1).min(factors.len());
    let bound_rate =
        (!factors.is_empty()).then(|| (factors[..k].iter().sum::<f64>() / k as f64).exp());
    Ok(TrainReport {
        loss_kind: params.loss,
        loss: losses,
        loss_gap: gaps,
        l_star,
        steps,
        observed_rate,
        bound_rate,
        lambda_plus,
        seconds: start.elapsed().as_secs_f64(),
    })
}
