//! Looking at spectra: histograms and smoothed densities normalized to integrate to one, the Wasserstein-1
//! distance between spectral measures, operator-norm and Frobenius distances between matrices, and the
//! eigenvalues that stand apart from the bulk.

use ndarray::ArrayView2;

use super::lanczos::{lanczos, Extreme, FnOperator, LanczosParams, SymmetricOperator};
use super::{matmul_into, EigenScalar};
use crate::{Error, Result};

/// A histogram normalized to a density: Σ density·width = 1.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Histogram {
    /// bins + 1 increasing edges.
    pub edges: Vec<f64>,
    /// The density in each bin.
    pub density: Vec<f64>,
}

/// The smallest and largest of `values` (NaN-free input).
fn range_of(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        })
}

/// A density histogram of `values` with `bins` equal bins over `range` (default: their own range; values
/// outside the range are left out, so the density then integrates to the fraction inside).
pub fn histogram(values: &[f64], bins: usize, range: Option<(f64, f64)>) -> Result<Histogram> {
    histogram_weighted(values, None, bins, range)
}

/// [`histogram`] of weighted values (weights ≥ 0, normalized here; None: equal weights).
pub fn histogram_weighted(
    values: &[f64],
    weights: Option<&[f64]>,
    bins: usize,
    range: Option<(f64, f64)>,
) -> Result<Histogram> {
    if let Some(w) = weights {
        if w.len() != values.len() || w.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(Error::Shape {
                what: format!(
                    "{} weights for {} values; weights must be finite and ≥ 0",
                    w.len(),
                    values.len()
                ),
            });
        }
    }
    if bins == 0 {
        return Err(Error::InvalidParameter {
            name: "bins",
            value: 0.0,
            requirement: "at least one bin",
        });
    }
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "eigenvalues",
            location: "input (empty or not finite)".into(),
        });
    }
    let (mut lo, mut hi) = range.unwrap_or_else(|| range_of(values));
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(Error::InvalidParameter {
            name: "histogram range",
            value: hi - lo,
            requirement: "need finite lo ≤ hi",
        });
    }
    if hi == lo {
        let pad = 0.5 * lo.abs().max(1.0) * 1e-6;
        (lo, hi) = (lo - pad, hi + pad);
    }
    let width = (hi - lo) / bins as f64;
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let mut counts = vec![0f64; bins];
    for (i, &v) in values.iter().enumerate() {
        if v < lo || v > hi {
            continue;
        }
        let k = (((v - lo) / width) as usize).min(bins - 1);
        counts[k] += weight(i);
    }
    let total: f64 = (0..values.len()).map(weight).sum();
    Ok(Histogram {
        edges: (0..=bins).map(|k| lo + k as f64 * width).collect(),
        density: counts.iter().map(|&c| c / (total * width)).collect(),
    })
}

/// The Gaussian-smoothed density (1/n)Σ_i N(x; λ_i, h²) of equally weighted `values` at the points `grid`;
/// `bandwidth` None uses Silverman's rule h = 0.9·min(sd, IQR/1.34)·n^{−1/5}.
pub fn smoothed_density(values: &[f64], grid: &[f64], bandwidth: Option<f64>) -> Vec<f64> {
    let weighted: Vec<(f64, f64)> = values.iter().map(|&v| (v, 1.0)).collect();
    weighted_density(&weighted, grid, bandwidth)
}

/// Silverman's bandwidth for equally weighted values.
pub fn silverman_bandwidth(values: &[f64]) -> f64 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| s[((p * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)];
    let iqr = if s.is_empty() { 0.0 } else { q(0.75) - q(0.25) };
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let h = 0.9 * spread * n.powf(-0.2);
    if h > 0.0 {
        h
    } else {
        1e-3 * mean.abs().max(1.0)
    }
}

/// The Gaussian-smoothed density of a weighted measure (weights normalized here) at the points `grid`.
pub fn weighted_density(measure: &[(f64, f64)], grid: &[f64], bandwidth: Option<f64>) -> Vec<f64> {
    let total: f64 = measure.iter().map(|p| p.1).sum();
    if measure.is_empty() || total <= 0.0 {
        return vec![0.0; grid.len()];
    }
    let h = bandwidth.unwrap_or_else(|| {
        let v: Vec<f64> = measure.iter().map(|p| p.0).collect();
        silverman_bandwidth(&v)
    });
    let c = 1.0 / (total * h * (2.0 * std::f64::consts::PI).sqrt());
    grid.iter()
        .map(|&x| {
            c * measure
                .iter()
                .map(|&(v, w)| w * (-0.5 * ((x - v) / h).powi(2)).exp())
                .sum::<f64>()
        })
        .collect()
}

/// W₁ between two probability measures on ℝ given as (point, weight) lists (weights normalized here):
/// ∫|F_a(x) − F_b(x)|dx over the merged support.
pub fn wasserstein1_weighted(a: &[(f64, f64)], b: &[(f64, f64)]) -> Result<f64> {
    let norm = |m: &[(f64, f64)]| -> Result<Vec<(f64, f64)>> {
        let total: f64 = m.iter().map(|p| p.1).sum();
        let bad_point = |p: &(f64, f64)| !p.0.is_finite() || p.1.is_nan() || p.1 < 0.0;
        if m.is_empty() || total.is_nan() || total <= 0.0 || m.iter().any(bad_point) {
            return Err(Error::InvalidParameter {
                name: "measure",
                value: total,
                requirement: "non-empty, finite points, non-negative weights with a positive sum",
            });
        }
        let mut v: Vec<(f64, f64)> = m.iter().map(|&(x, w)| (x, w / total)).collect();
        v.sort_by(|p, q| p.0.total_cmp(&q.0));
        Ok(v)
    };
    let (a, b) = (norm(a)?, norm(b)?);
    let (mut i, mut j) = (0, 0);
    let (mut fa, mut fb) = (0f64, 0f64);
    let mut x = a[0].0.min(b[0].0);
    let mut dist = 0.0;
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) => p.0.min(q.0),
            (Some(p), None) => p.0,
            (None, Some(q)) => q.0,
            (None, None) => break,
        };
        dist += (fa - fb).abs() * (next - x);
        x = next;
        while i < a.len() && a[i].0 == x {
            fa += a[i].1;
            i += 1;
        }
        while j < b.len() && b[j].0 == x {
            fb += b[j].1;
            j += 1;
        }
    }
    Ok(dist)
}

/// W₁ between the empirical measures of two lists of eigenvalues (each point weight 1/len).
pub fn wasserstein1(a: &[f64], b: &[f64]) -> Result<f64> {
    let wa = 1.0 / a.len().max(1) as f64;
    let wb = 1.0 / b.len().max(1) as f64;
    let ma: Vec<(f64, f64)> = a.iter().map(|&x| (x, wa)).collect();
    let mb: Vec<(f64, f64)> = b.iter().map(|&x| (x, wb)).collect();
    wasserstein1_weighted(&ma, &mb)
}

/// ‖A − B‖_F/‖B‖_F.
pub fn relative_frobenius<T: EigenScalar>(a: ArrayView2<T>, b: ArrayView2<T>) -> Result<f64> {
    same_shape(a, b)?;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b.iter()) {
        let (x, y) = (x.to_f64(), y.to_f64());
        num += (x - y) * (x - y);
        den += y * y;
    }
    Ok((num / den).sqrt())
}

fn same_shape<T>(a: ArrayView2<T>, b: ArrayView2<T>) -> Result<()> {
    if a.dim() != b.dim() || a.nrows() != a.ncols() {
        return Err(Error::Shape {
            what: format!(
                "need two square matrices of one size, got {:?} and {:?}",
                a.dim(),
                b.dim()
            ),
        });
    }
    Ok(())
}

/// ‖A − B‖₂ for symmetric A, B: the largest |eigenvalue| of A − B, by Lanczos on x ↦ Ax − Bx (A − B is never
/// formed), both ends.
pub fn operator_norm_distance<T: EigenScalar>(a: ArrayView2<T>, b: ArrayView2<T>) -> Result<f64> {
    same_shape(a, b)?;
    let n = a.nrows();
    if n == 0 {
        return Ok(0.0);
    }
    largest_magnitude(&FnOperator::new(
        n,
        |x: ArrayView2<T>, mut y: ndarray::ArrayViewMut2<T>| {
            matmul_into(y.view_mut(), a, x, false);
            let mut by = ndarray::Array2::<T>::zeros(y.raw_dim());
            matmul_into(by.view_mut(), b, x, false);
            y.zip_mut_with(&by, |u, &v| *u -= v);
        },
    ))
}

/// ‖A‖₂ for symmetric A: its largest |eigenvalue|, by Lanczos at both ends.
pub fn operator_norm<T: EigenScalar>(a: ArrayView2<T>) -> Result<f64> {
    same_shape(a, a)?;
    if a.nrows() == 0 {
        return Ok(0.0);
    }
    largest_magnitude(&FnOperator::new(
        a.nrows(),
        |x: ArrayView2<T>, mut y: ndarray::ArrayViewMut2<T>| {
            matmul_into(y.view_mut(), a, x, false);
        },
    ))
}

/// The relative distance ‖A − B‖₂/‖B‖₂ for symmetric A, B of one size.
pub fn relative_operator_norm_distance<T: EigenScalar>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
) -> Result<f64> {
    Ok(operator_norm_distance(a, b)? / operator_norm(b)?)
}

/// The largest |eigenvalue| of a symmetric operator: the top and bottom Ritz values by block Lanczos.
fn largest_magnitude<T: EigenScalar>(op: &impl SymmetricOperator<T>) -> Result<f64> {
    let mut worst = 0f64;
    for extreme in [Extreme::Largest, Extreme::Smallest] {
        let params = LanczosParams::new(1, extreme)?.with_block(4)?;
        let (d, _) = lanczos(op, &params)?;
        worst = worst.max(d.values[0].to_f64().abs());
    }
    Ok(worst)
}

/// Eigenvalues that stand apart from the bulk: beyond the quartiles by more than `fence`·IQR (3 for the
/// plots), at most `max` of them (the farthest), in ascending order.
pub fn outliers(values: &[f64], fence: f64, max: usize) -> Vec<f64> {
    if values.len() < 4 {
        return Vec::new();
    }
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| s[((p * (s.len() - 1) as f64).round() as usize).min(s.len() - 1)];
    let (q1, q3) = (q(0.25), q(0.75));
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - fence * iqr, q3 + fence * iqr);
    let mut out: Vec<f64> = s.iter().copied().filter(|&v| v < lo || v > hi).collect();
    let mid = 0.5 * (q1 + q3);
    out.sort_by(|a, b| (b - mid).abs().total_cmp(&(a - mid).abs()));
    out.truncate(max);
    out.sort_by(f64::total_cmp);
    out
}
