//! Anderson acceleration (type II) of a vector fixed-point iteration x ← g(x).
//!
//! With f_k = g(x_k) − x_k and the last m differences ΔF = [f_{i+1} − f_i], ΔG = [g_{i+1} − g_i],
//! γ = argmin ‖f_k − ΔFγ‖₂ and x_{k+1} = g(x_k) − ΔGγ − (1 − β)(f_k − ΔFγ) (β = 1: no damping). The small
//! least-squares problem goes through its normal equations with a relative ridge of 1e-12, solved by faer.
//! When a step makes the residual grow tenfold the history is dropped and the plain step is taken.

use std::collections::VecDeque;
use std::time::Instant;

use super::{check_max_iter, max_abs_diff, start_scale, ResidualTrack, SolveReport};
use crate::{Error, Result};

/// Checked settings of [`anderson`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AndersonParams {
    memory: usize,
    damping: f64,
    tol: f64,
    max_iter: usize,
}

impl AndersonParams {
    /// `memory` ≥ 1 past differences, damping β ∈ (0, 1], `tol` > 0 on ‖g(x) − x‖_∞, `max_iter` ≥ 1.
    pub fn new(memory: usize, damping: f64, tol: f64, max_iter: usize) -> Result<Self> {
        if memory == 0 {
            return Err(Error::InvalidParameter {
                name: "memory",
                value: 0.0,
                requirement: "Anderson acceleration needs at least one past difference",
            });
        }
        if !(damping > 0.0 && damping <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "damping",
                value: damping,
                requirement: "must lie in (0, 1]",
            });
        }
        crate::error::check_positive("tol", tol)?;
        Ok(AndersonParams {
            memory,
            damping,
            tol,
            max_iter: check_max_iter(max_iter)?,
        })
    }
}

impl Default for AndersonParams {
    /// memory 5, no damping, tol = 1e-12, 1000 iterations.
    fn default() -> Self {
        AndersonParams {
            memory: 5,
            damping: 1.0,
            tol: 1e-12,
            max_iter: 1000,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// γ minimizing ‖f − ΔFγ‖₂ by the normal equations (ΔFᵀΔF + λI)γ = ΔFᵀf, λ = 1e-12·tr(ΔFᵀΔF)/m.
fn least_squares(df: &VecDeque<Vec<f64>>, f: &[f64]) -> Option<Vec<f64>> {
    let m = df.len();
    let mut gram = faer::Mat::<f64>::zeros(m, m);
    let mut rhs = faer::Mat::<f64>::zeros(m, 1);
    for i in 0..m {
        for j in 0..=i {
            let v = dot(&df[i], &df[j]);
            gram[(i, j)] = v;
            gram[(j, i)] = v;
        }
        rhs[(i, 0)] = dot(&df[i], f);
    }
    let ridge = 1e-12 * (0..m).map(|i| gram[(i, i)]).sum::<f64>() / m as f64;
    if ridge <= 0.0 || !ridge.is_finite() {
        return None;
    }
    for i in 0..m {
        gram[(i, i)] += ridge;
    }
    use faer::linalg::solvers::Solve;
    let gamma = gram.partial_piv_lu().solve(&rhs);
    let g: Vec<f64> = (0..m).map(|i| gamma[(i, 0)]).collect();
    g.iter().all(|v| v.is_finite()).then_some(g)
}

/// Solve x = g(x) by Anderson acceleration from `x` (overwritten with the fixed point).
/// `map(x, out)` writes g(x) into `out`.
pub fn anderson<G>(x: &mut [f64], mut map: G, params: &AndersonParams) -> Result<SolveReport>
where
    G: FnMut(&[f64], &mut [f64]),
{
    let start = Instant::now();
    let method = "Anderson acceleration";
    let d = x.len();
    let mut g = vec![0.0; d];
    let mut f = vec![0.0; d];
    let (mut prev_g, mut prev_f): (Option<Vec<f64>>, Option<Vec<f64>>) = (None, None);
    let mut dg: VecDeque<Vec<f64>> = VecDeque::new();
    let mut df: VecDeque<Vec<f64>> = VecDeque::new();
    let mut track = ResidualTrack::default();
    let mut last = f64::INFINITY;
    let scale = start_scale(x);
    for it in 1..=params.max_iter {
        map(x, &mut g);
        for i in 0..d {
            f[i] = g[i] - x[i];
        }
        let r = max_abs_diff(&g, x);
        track.push(r);
        if track.diverged(r) || ResidualTrack::escaped(scale, &g) {
            return Err(Error::Diverged {
                method,
                iterations: it,
                residual: r,
                contraction: track.contraction(),
            });
        }
        if r <= params.tol {
            x.copy_from_slice(&g);
            return Ok(SolveReport {
                iterations: it,
                residual: r,
                contraction: track.contraction(),
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        if r > 10.0 * last {
            dg.clear();
            df.clear();
        } else if let (Some(pg), Some(pf)) = (&prev_g, &prev_f) {
            if dg.len() == params.memory {
                dg.pop_front();
                df.pop_front();
            }
            dg.push_back(g.iter().zip(pg).map(|(a, b)| a - b).collect());
            df.push_back(f.iter().zip(pf).map(|(a, b)| a - b).collect());
        }
        last = r;
        prev_g = Some(g.clone());
        prev_f = Some(f.clone());
        let gamma = if df.is_empty() {
            None
        } else {
            least_squares(&df, &f)
        };
        let beta = params.damping;
        match gamma {
            Some(gamma) => {
                for i in 0..d {
                    let mut xg = g[i];
                    let mut ff = f[i];
                    for (c, (dgc, dfc)) in gamma.iter().zip(dg.iter().zip(&df)) {
                        xg -= c * dgc[i];
                        ff -= c * dfc[i];
                    }
                    x[i] = xg - (1.0 - beta) * ff;
                }
            }
            None => {
                for i in 0..d {
                    x[i] += beta * f[i];
                }
            }
        }
    }
    Err(Error::NotConverged {
        method,
        iterations: params.max_iter,
        residual: last,
        contraction: track.contraction(),
    })
}
