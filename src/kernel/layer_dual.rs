//! One layer's entrywise dual kernels k(Σ) = E[σ(u)σ(v)] and k̇(Σ) = E[σ′(u)σ′(v)], evaluated for many
//! entries of a kernel matrix whose diagonal is known in advance.
//!
//! Closed forms (ReLU family, erf, sin, cos, quadratics) are evaluated directly. Otherwise each sample i gets a
//! row of Hermite coefficients a_k(σ; s_i), s_i = √Σ_ii, and an entry is Mehler's sum
//! Σ_{k<K} a_k(σ; s_i)a_k(σ; s_j)ρ^k (math §2). Its truncation error is bounded by Cauchy–Schwarz:
//! |Σ_{k≥K} a_{ik}a_{jk}ρ^k| ≤ |ρ|^K √(T_i T_j), with the Parseval tails T_i = E[σ(s_iξ)²] − Σ_{k<K} a_{ik}².
//! Entries where that bound exceeds [`MEHLER`]·√(E[σ(s_iξ)²]E[σ(s_jξ)²]) — correlations close to ±1 for
//! activations whose coefficients decay slowly — fall back to 2-D quadrature, so every entry meets the
//! tolerance; [`LayerDual::fallbacks`] counts them.

use std::f64::consts::PI;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::fastmath::{acos_block, asin_block};
use crate::activation::chebyshev::eval_many;
use crate::activation::gelu;
use crate::activation::hermite::coefficients_and_second_moment;
use crate::activation::{
    dual_kernel, dual_kernel_derivative, snap_correlation, Activation, ActivationRef, ClosedFamily,
    Cov2,
};
use crate::tolerance::{CHEBYSHEV_FIT, MEHLER, MEHLER_MAX_TERMS};
use crate::Result;

const FRAC_1_2PI: f64 = 0.5 / PI;

/// Entries evaluated together by [`LayerDual::eval_block`]: samples j in blocks of this many.
pub(crate) const BLOCK: usize = 8;

/// Per-sample Hermite rows of one function (σ or σ′).
struct SeriesTable {
    terms: usize,
    /// Row-major n × terms.
    coef: Vec<f64>,
    /// The same coefficients interleaved by blocks of [`BLOCK`] samples: (block, k, lane), zero-padded, so one
    /// block's terms are one contiguous stream for the vectorized Horner loop.
    blocks: Vec<f64>,
    /// E[f(s_iξ)²], the diagonal of the dual kernel.
    second: Vec<f64>,
    /// √(T_i/E_i): relative Parseval tail after `terms` terms.
    rel_tail: Vec<f64>,
}

impl SeriesTable {
    fn build<F: Fn(f64) -> f64 + Sync>(f: F, kinks: &[f64], variances: &[f64]) -> Self {
        let probe = |s: f64| -> usize {
            let mut a = coefficients_and_second_moment(&f, kinks, s, MEHLER_MAX_TERMS);
            let e = a.pop().unwrap_or(0.0);
            if e == 0.0 {
                return 1;
            }
            // Smallest K whose tail Σ_{k≥K} a_k² (plus what lies beyond the computed terms) is ≤ tol·E/10.
            let beyond = (e - a.iter().map(|v| v * v).sum::<f64>()).abs();
            let mut tail = beyond;
            let mut k = MEHLER_MAX_TERMS;
            while k > 1 && tail + a[k - 1] * a[k - 1] <= 0.1 * MEHLER * e {
                tail += a[k - 1] * a[k - 1];
                k -= 1;
            }
            k
        };
        let (lo, hi) = variances
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let terms = probe(lo.max(0.0).sqrt()).max(probe(hi.sqrt())).max(3);
        let scales: Vec<f64> = variances.iter().map(|v| v.max(0.0).sqrt()).collect();
        let rows = eval_many(
            |s| coefficients_and_second_moment(&f, kinks, s, terms),
            &scales,
            CHEBYSHEV_FIT,
        );
        let n = rows.len();
        let mut coef = Vec::with_capacity(n * terms);
        let mut second = Vec::with_capacity(n);
        let mut rel_tail = Vec::with_capacity(n);
        for mut a in rows {
            let e = a.pop().unwrap_or(0.0);
            let partial: f64 = a.iter().map(|v| v * v).sum();
            let tail = (e - partial).abs() + 4.0 * f64::EPSILON * e;
            rel_tail.push(if e > 0.0 { (tail / e).sqrt() } else { 0.0 });
            coef.extend_from_slice(&a);
            second.push(e);
        }
        let nblocks = n.div_ceil(BLOCK);
        let mut blocks = vec![0.0; nblocks * terms * BLOCK];
        for j in 0..n {
            let (b, l) = (j / BLOCK, j % BLOCK);
            for k in 0..terms {
                blocks[(b * terms + k) * BLOCK + l] = coef[j * terms + k];
            }
        }
        SeriesTable {
            terms,
            coef,
            blocks,
            second,
            rel_tail,
        }
    }

    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        &self.coef[i * self.terms..(i + 1) * self.terms]
    }

    /// Whether the truncation bound |ρ|^K·√(T_iT_j/(E_iE_j)) ≤ tolerance holds for (i, j).
    #[inline]
    fn bound_holds(&self, i: usize, j: usize, rho: f64) -> bool {
        let bound = self.rel_tail[i] * self.rel_tail[j];
        bound <= MEHLER || bound * rho.abs().powi(self.terms as i32) <= MEHLER
    }

    /// How many leading terms meet the tolerance at every correlation |ρ| ≤ r: the omitted part is at most
    /// r^K·√(Σ_{k≥K}a_{ik}² Σ_{k≥K}a_{jk}²) ≤ r^K·√(E_iE_j) (Cauchy–Schwarz and Parseval), so
    /// K = ⌈ln(tol)/ln r⌉ terms suffice; all terms (and the check of [`bound_holds`](Self::bound_holds)) when
    /// that is not fewer. (One logarithm per block of entries costs less here than a binary search over the
    /// thresholds tol^{1/K}, whose dependent loads showed at twice its share of the profile.)
    #[inline(always)]
    fn terms_for(&self, r: f64) -> usize {
        if r < 1.0 {
            let k = (MEHLER.ln() / r.ln()).ceil();
            if k < self.terms as f64 {
                return (k as usize).max(1);
            }
        }
        self.terms
    }

    /// Mehler's sum for (i, j) at correlation ρ, or `None` when its truncation bound is not met.
    #[inline]
    fn eval(&self, i: usize, j: usize, rho: f64) -> Option<f64> {
        let terms = self.terms_for(rho.abs());
        if terms == self.terms && !self.bound_holds(i, j, rho) {
            return None;
        }
        let (a, b) = (&self.row(i)[..terms], &self.row(j)[..terms]);
        let mut acc = 0.0f64;
        for k in (0..terms).rev() {
            acc = acc * rho + a[k] * b[k];
        }
        Some(acc)
    }

    /// The first `terms` terms of row i and of block b's interleaved stream.
    #[inline(always)]
    fn leading(&self, i: usize, b: usize, terms: usize) -> Leading<'_> {
        Leading {
            row: &self.row(i)[..terms],
            block: &self.blocks[b * self.terms * BLOCK..(b * self.terms + terms) * BLOCK],
        }
    }
}

/// The leading terms of one Mehler sum over a block: a_{ik} and the interleaved a_{jk}, k < K.
#[derive(Clone, Copy)]
struct Leading<'a> {
    row: &'a [f64],
    block: &'a [f64],
}

impl Leading<'_> {
    const EMPTY: Leading<'static> = Leading {
        row: &[],
        block: &[],
    };
}

/// One Horner step acc ← acc·ρ + a_{ik}·a_{jk} on every lane.
#[inline(always)]
fn horner_step<const FMA: bool>(acc: &mut [f64; BLOCK], rho: &[f64; BLOCK], c: f64, col: &[f64]) {
    for l in 0..BLOCK {
        acc[l] = if FMA {
            acc[l].mul_add(rho[l], c * col[l])
        } else {
            acc[l] * rho[l] + c * col[l]
        };
    }
}

/// Two Mehler sums Σ_k a_{ik}a_{jk}ρ_l^k over one block (σ and σ′), by Horner's rule with the two sums and
/// the lanes as independent chains.
#[inline(always)]
fn horner_pair<const FMA: bool>(
    u: Leading,
    v: Leading,
    rho: &[f64; BLOCK],
) -> ([f64; BLOCK], [f64; BLOCK]) {
    let (mut acc_u, mut acc_v) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
    let common = u.row.len().min(v.row.len());
    for (c, col) in u.row[common..]
        .iter()
        .zip(u.block[common * BLOCK..].chunks_exact(BLOCK))
        .rev()
    {
        horner_step::<FMA>(&mut acc_u, rho, *c, col);
    }
    for (c, col) in v.row[common..]
        .iter()
        .zip(v.block[common * BLOCK..].chunks_exact(BLOCK))
        .rev()
    {
        horner_step::<FMA>(&mut acc_v, rho, *c, col);
    }
    let us = u.row[..common]
        .iter()
        .zip(u.block[..common * BLOCK].chunks_exact(BLOCK));
    let vs = v.row[..common]
        .iter()
        .zip(v.block[..common * BLOCK].chunks_exact(BLOCK));
    for ((cu, colu), (cv, colv)) in us.zip(vs).rev() {
        horner_step::<FMA>(&mut acc_u, rho, *cu, colu);
        horner_step::<FMA>(&mut acc_v, rho, *cv, colv);
    }
    (acc_u, acc_v)
}

crate::eigen::widest_vectors! {
    /// [`horner_pair`] compiled for AVX2 and FMA, with fused multiply–adds, when the CPU has them.
    fn mehler_pair(
        u: Leading,
        v: Leading,
        rho: &[f64; BLOCK]
    ) -> ([f64; BLOCK], [f64; BLOCK]) = horner_pair::<false>, fused = horner_pair::<true>
}

enum Mode {
    Closed,
    /// σ = pos·x₊ + neg·x₋ − shift, with s_i = √Σ_ii, 1/s_i and E[σ(s_iξ) + shift] per sample.
    PiecewiseLinear {
        pos: f64,
        neg: f64,
        shift: f64,
        s: Vec<f64>,
        inv_s: Vec<f64>,
        mean: Vec<f64>,
    },
    /// σ = erf − shift, with a_i = 1/√(1 + 2Σ_ii) per sample.
    Erf {
        shift: f64,
        a: Vec<f64>,
    },
    /// σ = xΦ(x) − shift, with 1 + Σ_ii, 1/√(1 + Σ_ii) and E[σ(s_iξ) + shift] per sample.
    Gelu {
        shift: f64,
        a1: Vec<f64>,
        inv_sqrt_a1: Vec<f64>,
        mean: Vec<f64>,
    },
    Series {
        value: Box<SeriesTable>,
        derivative: Option<Box<SeriesTable>>,
    },
}

/// The dual kernels of one layer's activation for the entries of a matrix with a fixed diagonal.
pub(crate) struct LayerDual {
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
        let closed = act.closed_dual(&probe).is_some()
            && (!derivative || act.closed_dual_derivative(&probe).is_some());
        let mode = if closed {
            match act.closed_family() {
                Some(ClosedFamily::PiecewiseLinear { pos, neg, shift }) => {
                    let s: Vec<f64> = variances.iter().map(|v| v.max(0.0).sqrt()).collect();
                    Mode::PiecewiseLinear {
                        pos,
                        neg,
                        shift,
                        inv_s: s
                            .iter()
                            .map(|&v| if v > 0.0 { 1.0 / v } else { 0.0 })
                            .collect(),
                        mean: s
                            .iter()
                            .map(|&v| (pos - neg) * v / (2.0 * PI).sqrt())
                            .collect(),
                        s,
                    }
                }
                Some(ClosedFamily::Erf { shift }) => Mode::Erf {
                    shift,
                    a: variances
                        .iter()
                        .map(|v| 1.0 / (1.0 + 2.0 * v).sqrt())
                        .collect(),
                },
                Some(ClosedFamily::Gelu { shift }) => {
                    let a1: Vec<f64> = variances.iter().map(|v| 1.0 + v.max(0.0)).collect();
                    Mode::Gelu {
                        shift,
                        inv_sqrt_a1: a1.iter().map(|v| 1.0 / v.sqrt()).collect(),
                        mean: variances.iter().map(|&v| gelu::mean(v.max(0.0))).collect(),
                        a1,
                    }
                }
                None => Mode::Closed,
            }
        } else {
            let kinks = act.kinks();
            let value = Box::new(SeriesTable::build(|x| act.value(x), &kinks, variances));
            let derivative = derivative
                .then(|| Box::new(SeriesTable::build(|x| act.derivative(x), &kinks, variances)));
            Mode::Series { value, derivative }
        };
        Ok(LayerDual {
            act,
            mode,
            fallbacks: AtomicUsize::new(0),
        })
    }

    /// The activation this evaluator was prepared for.
    pub fn activation(&self) -> &ActivationRef {
        &self.act
    }

    /// Number of entries that needed the quadrature fallback so far.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Number of Hermite terms per sample for (σ, σ′), or `None` for closed forms.
    pub fn series_terms(&self) -> Option<(usize, Option<usize>)> {
        match &self.mode {
            Mode::Closed | Mode::PiecewiseLinear { .. } | Mode::Erf { .. } | Mode::Gelu { .. } => {
                None
            }
            Mode::Series { value, derivative } => {
                Some((value.terms, derivative.as_ref().map(|d| d.terms)))
            }
        }
    }

    /// [`eval`](Self::eval) for the entries (i, j), j = BLOCK·b + l, l < BLOCK, all off the diagonal.
    #[inline(always)]
    pub fn eval_block(
        &self,
        i: usize,
        b: usize,
        vi: f64,
        vj: &[f64; BLOCK],
        cij: &[f64; BLOCK],
        derivative: bool,
    ) -> ([f64; BLOCK], [f64; BLOCK]) {
        let (value, dtable) = match &self.mode {
            Mode::Series { value, derivative } => (value, derivative),
            Mode::PiecewiseLinear {
                pos,
                neg,
                shift,
                s,
                inv_s,
                mean,
            } => {
                let j0 = b * BLOCK;
                let mut rho = [0.0; BLOCK];
                for l in 0..BLOCK {
                    rho[l] = snap_correlation(cij[l] * inv_s[i] * inv_s[j0 + l]);
                }
                let theta = acos_block(&rho);
                let (pn, jump2) = (pos * neg, (pos - neg) * (pos - neg));
                let mut k = [0.0; BLOCK];
                let mut kd = [0.0; BLOCK];
                for l in 0..BLOCK {
                    let j = j0 + l;
                    let sin = (1.0 - rho[l] * rho[l]).max(0.0).sqrt();
                    let relu = s[i] * s[j] * (sin + (PI - theta[l]) * rho[l]) * FRAC_1_2PI;
                    k[l] = pn * cij[l] + jump2 * relu - shift * (mean[i] + mean[j]) + shift * shift;
                    kd[l] = pn + jump2 * (PI - theta[l]) * FRAC_1_2PI;
                }
                // A zero-variance variable sits at the kink (σ′(0) = neg): the scalar closed form knows.
                if s[i] == 0.0 || s[j0..j0 + BLOCK].contains(&0.0) {
                    for l in 0..BLOCK {
                        (k[l], kd[l]) = self.eval(i, j0 + l, vi, vj[l], cij[l], derivative);
                    }
                }
                return (k, kd);
            }
            Mode::Erf { shift, a } => {
                let j0 = b * BLOCK;
                let mut r = [0.0; BLOCK];
                for l in 0..BLOCK {
                    r[l] = (2.0 * cij[l] * a[i] * a[j0 + l]).clamp(-1.0, 1.0);
                }
                let asin = asin_block(&r);
                let mut k = [0.0; BLOCK];
                let mut kd = [0.0; BLOCK];
                for l in 0..BLOCK {
                    k[l] = 2.0 / PI * asin[l] + shift * shift;
                    kd[l] = 4.0 / PI * a[i] * a[j0 + l] / (1.0 - r[l] * r[l]).sqrt();
                }
                return (k, kd);
            }
            Mode::Gelu {
                shift,
                a1,
                inv_sqrt_a1,
                mean,
            } => {
                let j0 = b * BLOCK;
                let mut rho = [0.0; BLOCK];
                for l in 0..BLOCK {
                    rho[l] = gelu::correlation(cij[l], inv_sqrt_a1[i], inv_sqrt_a1[j0 + l]);
                }
                let asin = asin_block(&rho);
                let mut k = [0.0; BLOCK];
                let mut kd = [0.0; BLOCK];
                for l in 0..BLOCK {
                    let j = j0 + l;
                    let (v, d) = gelu::dual_pair_from_parts(a1[i], a1[j], cij[l], asin[l]);
                    k[l] = v - shift * (mean[i] + mean[j]) + shift * shift;
                    kd[l] = d;
                }
                return (k, kd);
            }
            Mode::Closed => {
                let mut k = [0.0; BLOCK];
                let mut kd = [0.0; BLOCK];
                for l in 0..BLOCK {
                    (k[l], kd[l]) = self.eval(i, b * BLOCK + l, vi, vj[l], cij[l], derivative);
                }
                return (k, kd);
            }
        };
        let mut rho = [0.0; BLOCK];
        for l in 0..BLOCK {
            let d = (vi * vj[l]).sqrt();
            rho[l] = if d == 0.0 {
                0.0
            } else {
                (cij[l] / d).clamp(-1.0, 1.0)
            };
        }
        let rmax = rho.iter().fold(0f64, |m, r| m.max(r.abs()));
        let table_d = dtable.as_deref().filter(|_| derivative);
        let terms_k = value.terms_for(rmax);
        let terms_d = table_d.map_or(0, |t| t.terms_for(rmax));
        let (mut k, mut kd) = mehler_pair(
            value.leading(i, b, terms_k),
            table_d.map_or(Leading::EMPTY, |t| t.leading(i, b, terms_d)),
            &rho,
        );
        let truncated = terms_k < value.terms && table_d.is_none_or(|t| terms_d < t.terms);
        if !truncated {
            for l in 0..BLOCK {
                let j = b * BLOCK + l;
                let ok_k = value.bound_holds(i, j, rho[l]);
                let ok_kd = table_d.is_none_or(|t| t.bound_holds(i, j, rho[l]));
                if !(ok_k && ok_kd) {
                    (k[l], kd[l]) = self.eval(i, j, vi, vj[l], cij[l], derivative);
                }
            }
        }
        (k, kd)
    }

    /// (E[σ(u)σ(v)], E[σ′(u)σ′(v)]) for the entry (i, j) with pre-activation covariance
    /// [[vi, cij], [cij, vj]]; the second value is 0 unless `derivative`.
    #[inline]
    pub fn eval(
        &self,
        i: usize,
        j: usize,
        vi: f64,
        vj: f64,
        cij: f64,
        derivative: bool,
    ) -> (f64, f64) {
        let c = Cov2 {
            s11: vi,
            s22: vj,
            s12: cij,
        };
        match &self.mode {
            Mode::Closed | Mode::PiecewiseLinear { .. } | Mode::Erf { .. } | Mode::Gelu { .. } => {
                if derivative {
                    self.act
                        .closed_dual_pair(&c)
                        .unwrap_or((f64::NAN, f64::NAN))
                } else {
                    (self.act.closed_dual(&c).unwrap_or(f64::NAN), 0.0)
                }
            }
            Mode::Series {
                value,
                derivative: dtable,
            } => {
                if i == j {
                    return (
                        value.second[i],
                        dtable.as_ref().map_or(0.0, |t| t.second[i]),
                    );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The count is the smallest K with r^K ≤ tol (to rounding) over the whole range of r.
    #[test]
    fn terms_for_is_the_smallest_sufficient_count() {
        let table = SeriesTable::build(f64::tanh, &[], &[0.3, 1.0, 2.5]);
        assert!(table.terms > 10, "tanh needs many terms: {}", table.terms);
        for i in 0..=20_000 {
            let r = i as f64 / 20_000.0;
            let k = table.terms_for(r);
            assert!((1..=table.terms).contains(&k), "r = {r}: {k} terms");
            if k < table.terms {
                assert!(
                    r.powi(k as i32) <= MEHLER * (1.0 + 1e-12),
                    "r = {r}, K = {k}"
                );
            }
            if k > 1 {
                assert!(
                    r.powi(k as i32 - 1) > MEHLER * (1.0 - 1e-12),
                    "r = {r}, K = {k}"
                );
            }
        }
        assert_eq!(table.terms_for(1.0), table.terms);
        assert_eq!(table.terms_for(f64::NAN), table.terms);
    }
}
