//! The exact GELU σ(x) = xΦ(x) in closed form: its dual kernels and its scale moments (math §3, "GELU").
//!
//! For (u, v) centered Gaussian with E u² = a, E v² = b, E uv = c, write Φ(u) = P(ξ ≤ u) with ξ, η standard
//! normals independent of (u, v), so that σ(u)σ(v) = uv·1{s ≥ 0}·1{t ≥ 0} with s = u − ξ, t = v − η. The pair
//! w = (s, t) has covariance S + I, S = [[a, c], [c, b]], and Cov((u, v), w) = S, so given w the pair (u, v)
//! has mean Bw and covariance B with B = S(S + I)⁻¹. Hence
//!
//! E[σ(u)σ(v)] = (B·E₊·B)₁₂ + B₁₂·P₊,
//!
//! with the orthant probability P₊ = P(w ≥ 0) = 1/4 + arcsin(ρ)/(2π), ρ = c/√((1+a)(1+b)), and the orthant
//! second moments E₊ = E[wwᵀ1{w ≥ 0}]:
//! (E₊)₁₁ = (1+a)P₊ + c√D/(2π(1+b)), (E₊)₂₂ = (1+b)P₊ + c√D/(2π(1+a)), (E₊)₁₂ = cP₊ + √D/(2π),
//! where D = (1+a)(1+b) − c² = det(S + I) ≥ 1 + a + b, and B = [[a(1+b) − c², c], [c, b(1+a) − c²]]/D.
//!
//! With σ′(x) = Φ(x) + xφ(x), the derivative kernel is a sum of four Gaussian integrals; the φ factors
//! reweight the Gaussian (E[h(u,v)φ(v)] = E′[h]/√(2π(1+b)) under the covariance (S⁻¹ + e₂e₂ᵀ)⁻¹), and
//! Stein's lemma finishes each:
//!
//! E[σ′(u)σ′(v)] = P₊ + c/(2π√D)·(1/(1+a) + 1/(1+b)) + c/(2πD^{3/2}).
//!
//! Both are also ∂/∂c of each other's family (Price's theorem), which the tests check, along with 2-D
//! quadrature to 1e-12. D ≥ 1 keeps every division well conditioned.

use std::f64::consts::PI;

use super::ScaleMoments;

const FRAC_1_2PI: f64 = 0.5 / PI;

/// The parts of the dual kernels that depend on the entry through c only, given the per-sample values
/// 1 + a, 1 + b and 1/√((1+a)(1+b)); `asin_rho` is arcsin(ρ) (vectorized callers compute it in blocks).
#[inline(always)]
pub(crate) fn dual_pair_from_parts(a1: f64, b1: f64, c: f64, asin_rho: f64) -> (f64, f64) {
    let d = a1 * b1 - c * c;
    let sqrt_d = d.sqrt();
    let inv_d = 1.0 / d;
    let p = 0.25 + asin_rho * FRAC_1_2PI;
    let e11 = a1 * p + c * sqrt_d * FRAC_1_2PI / b1;
    let e22 = b1 * p + c * sqrt_d * FRAC_1_2PI / a1;
    let e12 = c * p + sqrt_d * FRAC_1_2PI;
    let (a, b) = (a1 - 1.0, b1 - 1.0);
    let b11 = (a * b1 - c * c) * inv_d;
    let b22 = (b * a1 - c * c) * inv_d;
    let b12 = c * inv_d;
    let k = b12 * (b11 * e11 + b22 * e22) + e12 * (b11 * b22 + b12 * b12) + b12 * p;
    let kd = p + c * FRAC_1_2PI / sqrt_d * (1.0 / a1 + 1.0 / b1) + c * FRAC_1_2PI * inv_d / sqrt_d;
    (k, kd)
}

/// The correlation ρ = c/√((1+a)(1+b)) of the pair w (module docs), clamped to [−1, 1] against rounding.
#[inline(always)]
pub(crate) fn correlation(c: f64, inv_sqrt_a1: f64, inv_sqrt_b1: f64) -> f64 {
    (c * inv_sqrt_a1 * inv_sqrt_b1).clamp(-1.0, 1.0)
}

/// (E[σ(u)σ(v)], E[σ′(u)σ′(v)]) for the covariance [[a, c], [c, b]].
pub(crate) fn dual_pair(a: f64, b: f64, c: f64) -> (f64, f64) {
    let (a1, b1) = (1.0 + a, 1.0 + b);
    let rho = correlation(c, 1.0 / a1.sqrt(), 1.0 / b1.sqrt());
    dual_pair_from_parts(a1, b1, c, rho.asin())
}

/// E[σ(τξ)] = τ²/√(2π(1+τ²)) (Stein: E[xσ(x)]-type identities give τ²E[φ(x)]).
pub(crate) fn mean(tau2: f64) -> f64 {
    tau2 / (2.0 * PI * (1.0 + tau2)).sqrt()
}

/// The scale moments at τ: m₀ above, m₁ = 1/2, m₂ = (2 + τ²)/((1+τ²)^{3/2}√(2π)), v = E[σ²] − m₀² and
/// d = E[σ′²] from the dual kernels on the diagonal, and q = 2(d + E[σσ″]) − 2m₀m₂ (Stein applied to σ̄²)
/// with σ″(x) = (2 − x²)φ(x), E[σσ″] = E′[xΦ(x)(2 − x²)]/√(2π(1+τ²)) under the variance τ′² = τ²/(1+τ²).
pub(crate) fn moments(tau: f64) -> ScaleMoments {
    let t = tau * tau;
    let sqrt_2pi = (2.0 * PI).sqrt();
    let m0 = mean(t);
    let m2 = (2.0 + t) / ((1.0 + t).powf(1.5) * sqrt_2pi);
    let (second, d) = dual_pair(t, t, t);
    let tp = t / (1.0 + t);
    let r = (2.0 * PI * (1.0 + tp)).sqrt();
    let x_cdf = tp / r;
    let x2_pdf = tp / ((1.0 + tp) * r);
    let x3_cdf = tp * (2.0 * x_cdf + x2_pdf);
    let s_s2 = (2.0 * x_cdf - x3_cdf) / (2.0 * PI * (1.0 + t)).sqrt();
    ScaleMoments {
        tau,
        m0,
        m1: 0.5,
        m2,
        v: second - m0 * m0,
        q: 2.0 * (d + s_s2) - 2.0 * m0 * m2,
        d: Some(d),
    }
}
