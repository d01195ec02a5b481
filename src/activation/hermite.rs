//! Hermite coefficients a_k(σ; s) = E[σ(sξ)h_k(ξ)] with the normalized probabilists' Hermite polynomials
//! h_k = He_k/√(k!) (SPEC §2). Mehler's formula turns them into dual kernels:
//! E[f(u)g(v)] = Σ_k a_k(f; s₁)a_k(g; s₂)ρ^k.

use super::gauss::{composite_gaussian_rule, HERMITE_TRUNCATION};
use super::{require_derivative, Activation};
use crate::error::check_nonnegative;
use crate::Result;

/// Fill `out[k] = h_k(x)` for k < out.len() by h_{k+1} = (x·h_k − √k·h_{k−1})/√(k+1).
pub fn hermite_functions(x: f64, out: &mut [f64]) {
    let n = out.len();
    if n == 0 {
        return;
    }
    out[0] = 1.0;
    if n == 1 {
        return;
    }
    out[1] = x;
    for k in 1..n - 1 {
        out[k + 1] = (x * out[k] - (k as f64).sqrt() * out[k - 1]) / ((k + 1) as f64).sqrt();
    }
}

/// Panel width of the composite rule: fine enough for the oscillation of h_k at k ≲ 400 and for features of
/// σ at unit scale in its own argument (which sit at 1/s in ξ).
fn panel_width(s: f64) -> f64 {
    0.5 / s.max(1.0)
}

const RULE_ORDER: usize = 16;

/// Σ over a composite rule of w·f(s·x)·h_k(x) for k < count.
pub(crate) fn coefficients_of<F: Fn(f64) -> f64>(f: F, kinks: &[f64], s: f64, count: usize) -> Vec<f64> {
    let mut a = vec![0.0; count];
    if count == 0 {
        return a;
    }
    if s == 0.0 {
        a[0] = f(0.0);
        return a;
    }
    let scaled: Vec<f64> = kinks.iter().map(|k| k / s).collect();
    let (nodes, weights) = composite_gaussian_rule(&scaled, HERMITE_TRUNCATION, panel_width(s), RULE_ORDER);
    for (&x, &w) in nodes.iter().zip(&weights) {
        let fx = w * f(s * x);
        if fx == 0.0 {
            continue;
        }
        // Run the recurrence on fx·h_k directly; it is linear, so the weight rides along.
        let (mut prev, mut cur) = (fx, fx * x);
        a[0] += prev;
        if count > 1 {
            a[1] += cur;
        }
        for (k, ak) in a.iter_mut().enumerate().skip(2) {
            let km1 = (k - 1) as f64;
            let next = (x * cur - km1.sqrt() * prev) / (k as f64).sqrt();
            *ak += next;
            prev = cur;
            cur = next;
        }
    }
    a
}

/// The first `count` Hermite coefficients a_k(σ; s), k = 0, …, count−1, at scale s ≥ 0.
///
/// Computed by composite Gauss–Legendre quadrature over |ξ| ≤ 14 split at the kinks; absolute accuracy about
/// 1e-14·(scale of σ) for k up to a few hundred. Identities: a₀ = m₀, a₁ = s·m₁, a₂ = s²m₂/√2 (SPEC §2).
pub fn hermite_coefficients<A: Activation + ?Sized>(act: &A, s: f64, count: usize) -> Result<Vec<f64>> {
    check_nonnegative("s", s)?;
    Ok(coefficients_of(|x| act.value(x), &act.kinks(), s, count))
}

/// The first `count` Hermite coefficients of σ′ at scale s: a_k(σ′; s) = E[σ′(sξ)h_k(ξ)].
pub fn hermite_coefficients_derivative<A: Activation + ?Sized>(act: &A, s: f64, count: usize) -> Result<Vec<f64>> {
    check_nonnegative("s", s)?;
    require_derivative(act, "the Hermite coefficients of σ′")?;
    Ok(coefficients_of(|x| act.derivative(x), &act.kinks(), s, count))
}
