//! Reusable solvers for the crate's fixed points and roots, with one report type and typed failures.
//!
//! - [`fixed_point`]: plain iteration x ← g(x);
//! - [`anderson`]: Anderson acceleration of x ← g(x) for vectors;
//! - [`newton_bracketed`]: safeguarded scalar Newton on f(x) = 0 inside a sign-changing bracket, falling back
//!   to bisection whenever a Newton step leaves the bracket or does not shrink |f| enough;
//! - [`levenberg_marquardt`]: damped Gauss–Newton for small systems r(x) = 0 of any shape.
//!
//! Residuals are max-norms: ‖g(x) − x‖_∞ for fixed points, |f(x)| for roots. Every solver returns a
//! [`SolveReport`] on success and [`Error::NotConverged`] or [`Error::Diverged`] (with the iteration count,
//! the last residual and the observed contraction factor) otherwise — never a silently wrong answer.

mod anderson;
mod lm;
mod newton;

use std::time::Instant;

pub use anderson::{anderson, AndersonParams};
pub use lm::{levenberg_marquardt, LevenbergMarquardtParams};
pub use newton::{newton_bracketed, newton_in_bracket, newton_lanes, NewtonParams};

use crate::{Error, Result};

/// What a solver did.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SolveReport {
    /// Evaluations of the map (fixed points) or Newton/bisection steps (roots).
    pub iterations: usize,
    /// Final residual (max-norm).
    pub residual: f64,
    /// Geometric mean of the last few ratios of successive residuals: the observed linear contraction
    /// factor (`None` with fewer than two residuals).
    pub contraction: Option<f64>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Stopping rule of [`fixed_point`]: ‖g(x) − x‖_∞ ≤ `tol`, at most `max_iter` evaluations of g.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedPointParams {
    tol: f64,
    max_iter: usize,
}

impl FixedPointParams {
    /// Checked: `tol` > 0 and finite, `max_iter` ≥ 1.
    pub fn new(tol: f64, max_iter: usize) -> Result<Self> {
        crate::error::check_positive("tol", tol)?;
        Ok(FixedPointParams {
            tol,
            max_iter: check_max_iter(max_iter)?,
        })
    }
    /// The tolerance.
    pub fn tol(&self) -> f64 {
        self.tol
    }
    /// The iteration budget.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }
}

impl Default for FixedPointParams {
    /// tol = 1e-13, 10 000 iterations.
    fn default() -> Self {
        FixedPointParams {
            tol: 1e-13,
            max_iter: 10_000,
        }
    }
}

pub(crate) fn check_max_iter(max_iter: usize) -> Result<usize> {
    if max_iter == 0 {
        return Err(Error::InvalidParameter {
            name: "max_iter",
            value: 0.0,
            requirement: "at least one iteration",
        });
    }
    Ok(max_iter)
}

/// Residual history that estimates the contraction factor and detects divergence.
#[derive(Debug, Default)]
pub(crate) struct ResidualTrack {
    first: Option<f64>,
    recent: Vec<f64>,
}

impl ResidualTrack {
    /// How many trailing residual ratios the contraction estimate averages.
    const WINDOW: usize = 5;
    /// A residual this many times the first one counts as divergence.
    pub(crate) const BLOW_UP: f64 = 1e12;

    pub(crate) fn push(&mut self, r: f64) {
        self.first.get_or_insert(r);
        self.recent.push(r);
        if self.recent.len() > Self::WINDOW + 1 {
            self.recent.remove(0);
        }
    }

    pub(crate) fn contraction(&self) -> Option<f64> {
        let pairs: Vec<f64> = self
            .recent
            .windows(2)
            .filter(|w| w[0] > 0.0 && w[1] > 0.0)
            .map(|w| (w[1] / w[0]).ln())
            .collect();
        (!pairs.is_empty()).then(|| (pairs.iter().sum::<f64>() / pairs.len() as f64).exp())
    }

    pub(crate) fn diverged(&self, r: f64) -> bool {
        !r.is_finite() || self.first.is_some_and(|f| f > 0.0 && r > Self::BLOW_UP * f)
    }

    /// Iterates that grew by [`Self::BLOW_UP`] over the starting scale: in floating point x + c == x once
    /// |x| ≫ c, so a "fixed point" out there is an artefact, not a solution.
    pub(crate) fn escaped(start_scale: f64, g: &[f64]) -> bool {
        g.iter().any(|v| v.abs() > Self::BLOW_UP * start_scale)
    }
}

pub(crate) fn start_scale(x: &[f64]) -> f64 {
    x.iter().fold(1f64, |m, v| m.max(v.abs()))
}

pub(crate) fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Iterate x ← g(x) from `x` (overwritten with the fixed point) until ‖g(x) − x‖_∞ ≤ tol.
/// `map(x, out)` writes g(x) into `out`.
pub fn fixed_point<G>(x: &mut [f64], mut map: G, params: &FixedPointParams) -> Result<SolveReport>
where
    G: FnMut(&[f64], &mut [f64]),
{
    let start = Instant::now();
    let mut next = vec![0.0; x.len()];
    let mut track = ResidualTrack::default();
    let scale = start_scale(x);
    for it in 1..=params.max_iter {
        map(x, &mut next);
        let r = max_abs_diff(&next, x);
        track.push(r);
        x.copy_from_slice(&next);
        if track.diverged(r) || ResidualTrack::escaped(scale, x) {
            return Err(Error::Diverged {
                method: "fixed-point iteration",
                iterations: it,
                residual: r,
                contraction: track.contraction(),
            });
        }
        if r <= params.tol {
            return Ok(SolveReport {
                iterations: it,
                residual: r,
                contraction: track.contraction(),
                seconds: start.elapsed().as_secs_f64(),
            });
        }
    }
    Err(Error::NotConverged {
        method: "fixed-point iteration",
        iterations: params.max_iter,
        residual: track.recent.last().copied().unwrap_or(f64::NAN),
        contraction: track.contraction(),
    })
}
