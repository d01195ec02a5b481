//! Levenberg–Marquardt for small nonlinear systems r(x) = 0 (m equations, n unknowns, either shape).

use std::time::Instant;

use faer::linalg::solvers::Solve;

use super::{check_max_iter, SolveReport};
use crate::{Error, Result};

/// Stopping rule and Jacobian step of [`levenberg_marquardt`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevenbergMarquardtParams {
    tol: f64,
    max_iter: usize,
    fd_step: f64,
}

impl LevenbergMarquardtParams {
    /// Stop when ‖r‖_∞ ≤ `tol`; at most `max_iter` Jacobians; central differences with step
    /// `fd_step`·max(1, |x_k|). Checked: positive tolerances, at least one iteration.
    pub fn new(tol: f64, max_iter: usize, fd_step: f64) -> Result<Self> {
        crate::error::check_positive("tol", tol)?;
        crate::error::check_positive("fd_step", fd_step)?;
        Ok(LevenbergMarquardtParams {
            tol,
            max_iter: check_max_iter(max_iter)?,
            fd_step,
        })
    }
}

impl Default for LevenbergMarquardtParams {
    /// tol = 1e-13, 200 iterations, step 1e-6.
    fn default() -> Self {
        LevenbergMarquardtParams {
            tol: 1e-13,
            max_iter: 200,
            fd_step: 1e-6,
        }
    }
}

fn max_norm(r: &[f64]) -> f64 {
    r.iter().fold(0f64, |m, v| m.max(v.abs()))
}

fn half_sq(r: &[f64]) -> f64 {
    0.5 * r.iter().map(|v| v * v).sum::<f64>()
}

/// Solve r(x) = 0 from `x` (overwritten with the last accepted point) by Levenberg–Marquardt with a
/// central-difference Jacobian J. The step solves (JᵀJ + λD)δ = −Jᵀr with Marquardt's scaling D = diag(JᵀJ) when
/// m ≥ n, and is the damped minimum-norm step δ = −Jᵀ(JJᵀ + λI)⁻¹r when there are fewer equations than
/// unknowns; λ shrinks after a step that lowers ‖r‖² and grows after one that does not. `residuals(x, r)` writes
/// r(x) (m values) and may refuse a point with an error, which counts as a rejected step.
///
/// Errors: `NotConverged` (budget spent or λ overflowing: a local minimum of ‖r‖ that is not a root) with the
/// best residual; the error of `residuals` at the starting point.
pub fn levenberg_marquardt<F>(
    mut residuals: F,
    x: &mut [f64],
    m: usize,
    params: &LevenbergMarquardtParams,
) -> Result<SolveReport>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<()>,
{
    let start = Instant::now();
    let n = x.len();
    let mut r = vec![0.0; m];
    residuals(x, &mut r)?;
    let mut cost = half_sq(&r);
    let mut lambda = 1e-3;
    let mut trial = vec![0.0; n];
    let mut rt = vec![0.0; m];
    let mut jac = faer::Mat::<f64>::zeros(m, n);
    let (mut rp, mut rm) = (vec![0.0; m], vec![0.0; m]);
    let report = |iterations, r: &[f64]| SolveReport {
        iterations,
        residual: max_norm(r),
        contraction: None,
        seconds: start.elapsed().as_secs_f64(),
    };
    for it in 0..params.max_iter {
        if max_norm(&r) <= params.tol {
            return Ok(report(it, &r));
        }
        for k in 0..n {
            let h = params.fd_step * x[k].abs().max(1.0);
            trial.copy_from_slice(x);
            trial[k] = x[k] + h;
            residuals(&trial, &mut rp)?;
            trial[k] = x[k] - h;
            residuals(&trial, &mut rm)?;
            for i in 0..m {
                jac[(i, k)] = (rp[i] - rm[i]) / (2.0 * h);
            }
        }
        let rv = faer::Mat::<f64>::from_fn(m, 1, |i, _| r[i]);
        let mut accepted = false;
        while lambda < 1e16 {
            let step: faer::Mat<f64> = if m >= n {
                let mut a = jac.transpose() * &jac;
                for k in 0..n {
                    let d = a[(k, k)].max(1e-12);
                    a[(k, k)] += lambda * d;
                }
                let g = jac.transpose() * &rv;
                -(a.partial_piv_lu().solve(&g))
            } else {
                let mut a = &jac * jac.transpose();
                for i in 0..m {
                    a[(i, i)] += lambda;
                }
                let y = a.partial_piv_lu().solve(&rv);
                -(jac.transpose() * y)
            };
            for k in 0..n {
                trial[k] = x[k] + step[(k, 0)];
            }
            let ok = trial.iter().all(|v| v.is_finite()) && residuals(&trial, &mut rt).is_ok();
            if ok && half_sq(&rt) < cost {
                x.copy_from_slice(&trial);
                r.copy_from_slice(&rt);
                cost = half_sq(&r);
                lambda = (lambda / 3.0).max(1e-15);
                accepted = true;
                break;
            }
            lambda *= 4.0;
        }
        if !accepted {
            return Err(Error::NotConverged {
                method: "Levenberg–Marquardt (no step lowers the residual: a local minimum)",
                iterations: it + 1,
                residual: max_norm(&r),
                contraction: None,
            });
        }
    }
    if max_norm(&r) <= params.tol {
        return Ok(report(params.max_iter, &r));
    }
    Err(Error::NotConverged {
        method: "Levenberg–Marquardt",
        iterations: params.max_iter,
        residual: max_norm(&r),
        contraction: None,
    })
}
