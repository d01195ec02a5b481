//! Safeguarded scalar Newton inside a bracket.

use std::time::Instant;

use super::{check_max_iter, SolveReport};
use crate::{Error, Result};

/// Stopping rule of [`newton_bracketed`]: |f(x)| ≤ `tol` or a bracket narrower than `xtol`·(1 + |x|), at most
/// `max_iter` steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonParams {
    tol: f64,
    xtol: f64,
    max_iter: usize,
}

impl NewtonParams {
    /// Checked: tolerances > 0, `max_iter` ≥ 1.
    pub fn new(tol: f64, xtol: f64, max_iter: usize) -> Result<Self> {
        crate::error::check_positive("tol", tol)?;
        crate::error::check_positive("xtol", xtol)?;
        Ok(NewtonParams {
            tol,
            xtol,
            max_iter: check_max_iter(max_iter)?,
        })
    }
}

impl Default for NewtonParams {
    /// tol = 1e-14, xtol = 4ε, 200 steps.
    fn default() -> Self {
        NewtonParams {
            tol: 1e-14,
            xtol: 4.0 * f64::EPSILON,
            max_iter: 200,
        }
    }
}

/// A root of f in the bracket [lo, hi] (f(lo)·f(hi) ≤ 0), starting from `x0` (clamped into the bracket).
/// The report's contraction factor is `None`: Newton converges quadratically, not linearly.
/// `f_df(x)` returns (f(x), f′(x)). A Newton step is taken when it stays strictly inside the current bracket
/// and the previous step shrank |f| by at least half; otherwise the step bisects. Converges for any
/// continuous f with a sign change; quadratically near a simple root.
pub fn newton_bracketed<F>(
    mut f_df: F,
    lo: f64,
    hi: f64,
    x0: f64,
    params: &NewtonParams,
) -> Result<(f64, SolveReport)>
where
    F: FnMut(f64) -> (f64, f64),
{
    let start = Instant::now();
    let (a, b) = (lo.min(hi), lo.max(hi));
    let (fa, _) = f_df(a);
    let (fb, _) = f_df(b);
    if !(fa.is_finite() && fb.is_finite()) || fa * fb > 0.0 {
        return Err(Error::InvalidParameter {
            name: "bracket",
            value: fa * fb,
            requirement: "f must be finite at both ends and change sign over [lo, hi]",
        });
    }
    for (x, fx) in [(a, fa), (b, fb)] {
        if fx.abs() <= params.tol {
            return Ok((
                x,
                SolveReport {
                    iterations: 0,
                    residual: fx.abs(),
                    contraction: None,
                    seconds: start.elapsed().as_secs_f64(),
                },
            ));
        }
    }
    newton_in_bracket(f_df, a, b, fa < 0.0, x0, params)
}

/// [`newton_bracketed`] for a bracket whose orientation the caller knows (f ≤ 0 at `lo` when `negative_at_lo`,
/// f ≥ 0 at `hi`, or the reverse) without evaluating f at the ends — for example when the ends are correlations
/// ±1, where f is expensive and the sign follows from Cauchy–Schwarz.
pub fn newton_in_bracket<F>(
    mut f_df: F,
    lo: f64,
    hi: f64,
    negative_at_lo: bool,
    x0: f64,
    params: &NewtonParams,
) -> Result<(f64, SolveReport)>
where
    F: FnMut(f64) -> (f64, f64),
{
    let start = Instant::now();
    let mut residual = f64::NAN;
    let (x, steps) = newton_lanes(
        |x: &[f64; 1]| {
            let (f, df) = f_df(x[0]);
            residual = f.abs();
            ([f], [df])
        },
        &[lo],
        &[hi],
        negative_at_lo,
        &[x0],
        params,
    )?;
    Ok((
        x[0],
        SolveReport {
            iterations: steps,
            residual,
            contraction: None,
            seconds: start.elapsed().as_secs_f64(),
        },
    ))
}

/// [`newton_in_bracket`] on `L` independent equations in lockstep: `f_df` evaluates all lanes at once (so a
/// vectorized evaluator serves every lane), each lane keeps its own bracket and stops on its own test; lanes
/// that have stopped are evaluated again at their final point. Returns the roots and the largest number of
/// steps any lane took. The lane update is branch-free so that it vectorizes with the evaluator it is inlined
/// into.
#[inline(always)]
pub fn newton_lanes<const L: usize, F>(
    mut f_df: F,
    lo: &[f64; L],
    hi: &[f64; L],
    negative_at_lo: bool,
    x0: &[f64; L],
    params: &NewtonParams,
) -> Result<([f64; L], usize)>
where
    F: FnMut(&[f64; L]) -> ([f64; L], [f64; L]),
{
    let method = "bracketed Newton (lanes)";
    let (mut a, mut b) = (*lo, *hi);
    let mut x = [0.0; L];
    for l in 0..L {
        x[l] = if x0[l].is_finite() {
            // max/min rather than clamp: no bounds assertion per lane, so the loop vectorizes.
            x0[l].max(a[l]).min(b[l])
        } else {
            0.5 * (a[l] + b[l])
        };
    }
    // |f| at the previous step; ∞ lets the first Newton step through.
    let mut last_abs = [f64::INFINITY; L];
    let mut done = [false; L];
    for it in 1..=params.max_iter {
        let (fx, dfx) = f_df(&x);
        let mut bad = None;
        let mut all_done = true;
        for l in 0..L {
            let (f, af) = (fx[l], fx[l].abs());
            if !done[l] && !f.is_finite() {
                bad = Some(af);
            }
            let stop = af <= params.tol || b[l] - a[l] <= params.xtol * (1.0 + x[l].abs());
            let active = !done[l] & !stop;
            let move_lo = (f < 0.0) == negative_at_lo;
            a[l] = if active & move_lo { x[l] } else { a[l] };
            b[l] = if active & !move_lo { x[l] } else { b[l] };
            let newton = x[l] - f / dfx[l];
            // Comparisons are false for NaN, so a zero derivative or an overflow bisects.
            let take = (af <= 0.5 * last_abs[l]) & (newton > a[l]) & (newton < b[l]);
            let next = if take { newton } else { 0.5 * (a[l] + b[l]) };
            x[l] = if active { next } else { x[l] };
            last_abs[l] = if active { af } else { last_abs[l] };
            done[l] |= stop;
            all_done &= done[l];
        }
        if let Some(residual) = bad {
            return Err(Error::Diverged {
                method,
                iterations: it,
                residual,
                contraction: None,
            });
        }
        if all_done {
            return Ok((x, it));
        }
    }
    Err(Error::NotConverged {
        method,
        iterations: params.max_iter,
        residual: last_abs.iter().copied().fold(0.0, f64::max),
        contraction: None,
    })
}
