//! One layer's entrywise dual kernels k(Σ) = E[σ(u)σ(v)] and k̇(Σ) = E[σ′(u)σ′(v)], evaluated for many
//! entries of a kernel matrix whose diagonal is known in advance.
//!
//! Closed forms (ReLU family, erf, sin, cos, quadratics) are evaluated directly. Otherwise each sample i gets a
//! row of Hermite coefficients a_k(σ; s_i), s_i = √Σ_ii, and an entry is Mehler's sum
//! Σ_{k<K} a_k(σ; s_i)a_k(σ; s_j)ρ^k (SPEC §2). Its truncation error is bounded by Cauchy–Schwarz:
//! |Σ_{k≥K} a_{ik}a_{jk}ρ^k| ≤ |ρ|^K √(T_i T_j), with the Parseval tails T_i = E[σ(s_iξ)²] − Σ_{k<K} a_{ik}².
//! Entries where that bound exceeds [`MEHLER_TOLERANCE`]·√(E[σ(s_iξ)²]E[σ(s_jξ)²]) — correlations close to
//! ±1 for activations whose coefficients decay slowly — fall back to 2-D quadrature, so every entry meets the
//! tolerance; [`LayerDual::fallbacks`] counts them.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::activation::gauss::expect;
use crate::activation::{dual_kernel, dual_kernel_derivative, Activation, ActivationRef, Cov2};
use crate::Result;

/// Relative accuracy of every series-evaluated entry (see the module documentation).
pub const MEHLER_TOLERANCE: f64 = 1e-13;
/// The largest number of Hermite terms per sample.
pub const MEHLER_MAX_TERMS: usize = 256;

/// Per-sample Hermite rows of one function (σ or σ′).
struct SeriesTable {
    terms: usize,
    coef: Vec<f64>,
    /// E[f(s_iξ)²], the diagonal of the dual kernel.
    second: Vec<f64>,
    /// √(T_i/E_i): relative Parseval tail after `terms` terms.
    rel_tail: Vec<f64>,
}

impl SeriesTable {
    fn build<F: Fn(f64) -> f64 + Sync>(f: F, kinks: &[f64], variances: &[f64]) -> Self {
        let probe = |s: f64| -> usize {
            let a = crate::activation::hermite::coefficients_of(&f, kinks, s, MEHLER_MAX_TERMS);
            let e = second_moment(&f, kinks, s);
            if e == 0.0 {
                return 1;
            }
            // Smallest K whose tail Σ_{k≥K} a_k² (plus what lies beyond the computed terms) is ≤ tol·E/10.
            let beyond = (e - a.iter().map(|v| v * v).sum::<f64>()).abs();
            let mut tail = beyond;
            let mut k = MEHLER_MAX_TERMS;
            while k > 1 && tail + a[k - 1] * a[k - 1] <= 0.1 * MEHLER_TOLERANCE * e {
                tail += a[k - 1] * a[k - 1];
                k -= 1;
            }
            k
        };
        let (lo, hi) = variances
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let terms = probe(lo.max(0.0).sqrt()).max(probe(hi.sqrt())).max(3);
        let rows: Vec<(Vec<f64>, f64)> = variances
            .par_iter()
            .map(|&v| {
                let s = v.max(0.0).sqrt();
                (
                    crate::activation::hermite::coefficients_of(&f, kinks, s, terms),
                    second_moment(&f, kinks, s),
                )
            })
            .collect();
        let mut coef = Vec::with_capacity(rows.len() * terms);
        let mut second = Vec::with_capacity(rows.len());
        let mut rel_tail = Vec::with_capacity(rows.len());
        for (a, e) in rows {
            let partial: f64 = a.iter().map(|v| v * v).sum();
            let tail = (e - partial).abs() + 4.0 * f64::EPSILON * e;
            rel_tail.push(if e > 0.0 { (tail / e).sqrt() } else { 0.0 });
            coef.extend_from_slice(&a);
            second.push(e);
        }
        SeriesTable {
            terms,
            coef,
            second,
            rel_tail,
        }
    }

    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        &self.coef[i * self.terms..(i + 1) * self.terms]
    }

    /// Mehler's sum for (i, j) at correlation ρ, or `None` when its truncation bound is not met.
    #[inline]
    fn eval(&self, i: usize, j: usize, rho: f64) -> Option<f64> {
        let bound = self.rel_tail[i] * self.rel_tail[j];
        if bound > MEHLER_TOLERANCE && bound * rho.abs().powi(self.terms as i32) > MEHLER_TOLERANCE {
            return None;
        }
        let (a, b) = (self.row(i), self.row(j));
        let mut acc = 0.0f64;
        for k in (0..self.terms).rev() {
            acc = acc.mul_add(rho, a[k] * b[k]);
        }
        Some(acc)
    }
}

fn second_moment<F: Fn(f64) -> f64>(f: &F, kinks: &[f64], s: f64) -> f64 {
    if s == 0.0 {
        return f(0.0).powi(2);
    }
    let scaled: Vec<f64> = kinks.iter().map(|k| k / s).collect();
    expect(|x| f(s * x).powi(2), &scaled)
}

enum Mode {
    Closed,
    Series {
        value: SeriesTable,
        derivative: Option<SeriesTable>,
    },
}

/// The dual kernels of one layer's activation for the entries of a matrix with a fixed diagonal.
pub struct LayerDual {
    act: ActivationRef,
    mode: Mode,
    fallbacks: AtomicUsize,
}

impl LayerDual {
    /// Prepare for a matrix whose diagonal (pre-activation variances Σ_ii) is `variances`. With
    /// `derivative`, E[σ′(u)σ′(v)] is prepared too (an error if σ′ does not exist).
    pub fn new(act: ActivationRef, variances: &[f64], derivative: bool) -> Result<Self> {
        let probe = Cov2 {
            s11: 1.0,
            s22: 1.0,
            s12: 0.5,
        };
        if derivative {
            dual_kernel_derivative(&act, &probe)?;
        }
        let closed = act.closed_dual(&probe).is_some() && (!derivative || act.closed_dual_derivative(&probe).is_some());
        let mode = if closed {
            Mode::Closed
        } else {
            let kinks = act.kinks();
            let value = SeriesTable::build(|x| act.value(x), &kinks, variances);
            let derivative = derivative.then(|| SeriesTable::build(|x| act.derivative(x), &kinks, variances));
            Mode::Series { value, derivative }
        };
        Ok(LayerDual {
            act,
            mode,
            fallbacks: AtomicUsize::new(0),
        })
    }

    /// Number of entries that needed the quadrature fallback so far.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Number of Hermite terms per sample for (σ, σ′), or `None` for closed forms.
    pub fn series_terms(&self) -> Option<(usize, Option<usize>)> {
        match &self.mode {
            Mode::Closed => None,
            Mode::Series { value, derivative } => Some((value.terms, derivative.as_ref().map(|d| d.terms))),
        }
    }

    /// (E[σ(u)σ(v)], E[σ′(u)σ′(v)]) for the entry (i, j) with pre-activation covariance
    /// [[vi, cij], [cij, vj]]; the second value is 0 unless `derivative`.
    #[inline]
    pub fn eval(&self, i: usize, j: usize, vi: f64, vj: f64, cij: f64, derivative: bool) -> (f64, f64) {
        let c = Cov2 {
            s11: vi,
            s22: vj,
            s12: cij,
        };
        match &self.mode {
            Mode::Closed => (
                self.act.closed_dual(&c).unwrap_or(f64::NAN),
                if derivative {
                    self.act.closed_dual_derivative(&c).unwrap_or(f64::NAN)
                } else {
                    0.0
                },
            ),
            Mode::Series { value, derivative: dtable } => {
                if i == j {
                    return (value.second[i], dtable.as_ref().map_or(0.0, |t| t.second[i]));
                }
                let rho = c.rho();
                let k = value.eval(i, j, rho).unwrap_or_else(|| {
                    self.fallbacks.fetch_add(1, Ordering::Relaxed);
                    dual_kernel(&self.act, &c)
                });
                let kd = match (derivative, dtable) {
                    (true, Some(t)) => t.eval(i, j, rho).unwrap_or_else(|| {
                        self.fallbacks.fetch_add(1, Ordering::Relaxed);
                        dual_kernel_derivative(&self.act, &c).unwrap_or(f64::NAN)
                    }),
                    _ => 0.0,
                };
                (k, kd)
            }
        }
    }
}
