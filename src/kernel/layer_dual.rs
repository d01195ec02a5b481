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
use crate::eigen::simd::madd;
use crate::tolerance::{CHEBYSHEV_FIT, MEHLER, MEHLER_MAX_TERMS};
use crate::Result;

const FRAC_1_2PI: f64 = 0.5 / PI;

/// Entries evaluated together by [`LayerDual::eval_block`]: samples j in blocks of this many.
pub(crate) const BLOCK: usize = 8;

/// Terms per chunk of [`SeriesTable`]'s layout.
const CHUNK: usize = 16;

/// Per-sample Hermite rows of one function (σ or σ′).
struct SeriesTable {
    terms: usize,
    /// The coefficients a_{jk} interleaved by blocks of [`BLOCK`] samples and chunks of [`CHUNK`] terms:
    /// (chunk, block, k mod CHUNK, lane), zero-padded. One block's leading terms are one contiguous stream for
    /// the vectorized Horner loop, and since most entries need fewer than CHUNK terms, a row of entries reads the
    /// first chunk of every block in order: a sequential pass, not one far jump per block.
    blocks: Vec<f64>,
    /// Distance between chunks: blocks·CHUNK·BLOCK.
    chunk_stride: usize,
    /// E[f(s_iξ)²], the diagonal of the dual kernel.
    second: Vec<f64>,
    /// √(T_i/E_i): relative Parseval tail after `terms` terms.
    rel_tail: Vec<f64>,
    /// 1/s_i (0 where s_i = 0), so that an entry's correlation is c_ij·(1/s_i)·(1/s_j).
    inv_s: Vec<f64>,
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
        let nblocks = n.div_ceil(BLOCK);
        let chunk_stride = nblocks * CHUNK * BLOCK;
        let mut blocks = vec![0.0; terms.div_ceil(CHUNK) * chunk_stride];
        let mut second = Vec::with_capacity(n);
        let mut rel_tail = Vec::with_capacity(n);
        for (j, mut a) in rows.into_iter().enumerate() {
            let e = a.pop().unwrap_or(0.0);
            let partial: f64 = a.iter().map(|v| v * v).sum();
            let tail = (e - partial).abs() + 4.0 * f64::EPSILON * e;
            rel_tail.push(if e > 0.0 { (tail / e).sqrt() } else { 0.0 });
            for (k, &c) in a.iter().enumerate() {
                blocks[index(chunk_stride, k, j)] = c;
            }
            second.push(e);
        }
        SeriesTable {
            terms,
            blocks,
            chunk_stride,
            second,
            rel_tail,
            inv_s: scales
                .iter()
                .map(|&v| if v > 0.0 { 1.0 / v } else { 0.0 })
                .collect(),
        }
    }

    /// a_{ik}.
    #[inline]
    fn coef(&self, i: usize, k: usize) -> f64 {
        self.blocks[index(self.chunk_stride, k, i)]
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
        let mut acc = 0.0f64;
        for k in (0..terms).rev() {
            acc = acc * rho + self.coef(i, k) * self.coef(j, k);
        }
        Some(acc)
    }

    /// The first `terms` terms of sample i and of block b.
    #[inline(always)]
    fn leading(&self, i: usize, b: usize, terms: usize) -> Leading<'_> {
        Leading {
            blocks: &self.blocks,
            chunk_stride: self.chunk_stride,
            sample: index(self.chunk_stride, 0, i),
            block: index(self.chunk_stride, 0, b * BLOCK),
            terms,
        }
    }
}

/// Position of a_{jk} in [`SeriesTable::blocks`].
#[inline(always)]
fn index(chunk_stride: usize, k: usize, j: usize) -> usize {
    (k / CHUNK) * chunk_stride + ((j / BLOCK) * CHUNK + k % CHUNK) * BLOCK + j % BLOCK
}

/// The leading terms of one Mehler sum over a block: a_{ik} and the block's a_{jk}, k < `terms`.
#[derive(Clone, Copy)]
struct Leading<'a> {
    blocks: &'a [f64],
    chunk_stride: usize,
    /// Positions of a_{i0} and of the block's a_{j0}.
    sample: usize,
    block: usize,
    terms: usize,
}

impl<'a> Leading<'a> {
    const EMPTY: Leading<'static> = Leading {
        blocks: &[],
        chunk_stride: 0,
        sample: 0,
        block: 0,
        terms: 0,
    };

    /// Term k: a_{ik} and the block's a_{jk}.
    #[inline(always)]
    fn term(self, k: usize) -> (f64, &'a [f64]) {
        let at = (k / CHUNK) * self.chunk_stride + (k % CHUNK) * BLOCK;
        (
            self.blocks[at + self.sample],
            &self.blocks[at + self.block..at + self.block + BLOCK],
        )
    }
}

/// max_l |x_l| by a tree of maxima (a fold would be one dependent chain).
#[inline(always)]
fn max_abs(x: &[f64; BLOCK]) -> f64 {
    let mut m: [f64; BLOCK] = x.map(f64::abs);
    let mut width = BLOCK / 2;
    while width > 0 {
        for l in 0..width {
            m[l] = m[l].max(m[l + width]);
        }
        width /= 2;
    }
    m[0]
}

/// One Horner step acc ← acc·r + a_{ik}·a_{jk} on every lane (r = ρ² for the even/odd split).
#[inline(always)]
fn horner_step<const FMA: bool>(acc: &mut [f64; BLOCK], r: &[f64; BLOCK], c: f64, col: &[f64]) {
    for l in 0..BLOCK {
        acc[l] = madd::<f64, FMA>(acc[l], r[l], c * col[l]);
    }
}

/// Two Mehler sums Σ_k a_{ik}a_{jk}ρ_l^k over one block (σ and σ′), each split as E(ρ²) + ρ·O(ρ²) into its
/// even and odd terms, so that Horner's rule runs four independent chains per lane (the two sums' even and odd
/// parts) where one chain per sum would wait on the latency of every multiply–add.
#[inline(always)]
fn horner_pair<const FMA: bool>(
    u: Leading,
    v: Leading,
    rho: &[f64; BLOCK],
) -> ([f64; BLOCK], [f64; BLOCK]) {
    let rho2: [f64; BLOCK] = std::array::from_fn(|l| rho[l] * rho[l]);
    // Chain q sums the terms of parity q % 2 of u (q < 2) or v.
    let mut acc = [[0.0f64; BLOCK]; 4];
    for m in (0..u.terms.max(v.terms).div_ceil(2)).rev() {
        for (q, chain) in acc.iter_mut().enumerate() {
            let (sum, k) = (if q < 2 { u } else { v }, 2 * m + q % 2);
            if k < sum.terms {
                let (c, x) = sum.term(k);
                horner_step::<FMA>(chain, &rho2, c, x);
            }
        }
    }
    let join = |e: &[f64; BLOCK], o: &[f64; BLOCK]| -> [f64; BLOCK] {
        std::array::from_fn(|l| madd::<f64, FMA>(o[l], rho[l], e[l]))
    };
    (join(&acc[0], &acc[1]), join(&acc[2], &acc[3]))
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

    /// [`eval`](Self::eval) for the entries (i, j), j = BLOCK·b + l, l < BLOCK, all off the diagonal. `vi` and
    /// `vj` must be the variances this evaluator was prepared for: the vectorized forms read per-sample constants
    /// computed from those.
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
        // The table's variances are this matrix's diagonal (vi, vj), as for the closed forms above.
        let (inv_si, inv_sj) = (value.inv_s[i], &value.inv_s[b * BLOCK..(b + 1) * BLOCK]);
        let mut rho = [0.0; BLOCK];
        for l in 0..BLOCK {
            rho[l] = (cij[l] * inv_si * inv_sj[l]).clamp(-1.0, 1.0);
        }
        let rmax = max_abs(&rho);
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
