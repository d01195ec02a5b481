//! Hermite coefficients a_k(σ; s) = E[σ(sξ)h_k(ξ)] with the normalized probabilists' Hermite polynomials
//! h_k = He_k/√(k!) (math §2). Mehler's formula turns them into dual kernels:
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

/// Nodes processed in lockstep by the recurrence (independent chains the compiler can vectorize).
const LANES: usize = 8;

/// Σ over a composite rule of w·f(s·x)·h_k(x) for k < count, and Σ w·f(s·x)² (the second moment on the same
/// nodes) as the last element.
pub(crate) fn coefficients_and_second_moment<F: Fn(f64) -> f64>(
    f: F,
    kinks: &[f64],
    s: f64,
    count: usize,
) -> Vec<f64> {
    let mut a = vec![0.0; count + 1];
    if s == 0.0 {
        let f0 = f(0.0);
        if count > 0 {
            a[0] = f0;
        }
        a[count] = f0 * f0;
        return a;
    }
    let scaled: Vec<f64> = kinks.iter().map(|k| k / s).collect();
    let (nodes, weights) =
        composite_gaussian_rule(&scaled, HERMITE_TRUNCATION, panel_width(s), RULE_ORDER);
    // h_{k+1} = x·h_k/√(k+1) − √(k/(k+1))·h_{k−1}
    let alpha: Vec<f64> = (0..count).map(|k| 1.0 / ((k + 1) as f64).sqrt()).collect();
    let beta: Vec<f64> = (0..count)
        .map(|k| (k as f64 / (k + 1) as f64).sqrt())
        .collect();
    let mut second = 0.0;
    for (xs, ws) in nodes.chunks(LANES).zip(weights.chunks(LANES)) {
        let mut x = [0.0; LANES];
        let mut prev = [0.0; LANES];
        let mut cur = [0.0; LANES];
        for (l, (&xi, &wi)) in xs.iter().zip(ws).enumerate() {
            let fx = f(s * xi);
            second += wi * fx * fx;
            // The recurrence is linear, so it runs on w·f·h_k directly.
            x[l] = xi;
            cur[l] = wi * fx;
        }
        if count == 0 {
            continue;
        }
        a[0] += cur.iter().sum::<f64>();
        for k in 0..count - 1 {
            let mut next = [0.0; LANES];
            for l in 0..LANES {
                next[l] = x[l] * alpha[k] * cur[l] - beta[k] * prev[l];
            }
            a[k + 1] += next.iter().sum::<f64>();
            prev = cur;
            cur = next;
        }
    }
    a[count] = second;
    a
}

/// Σ over a composite rule of w·f(s·x)·h_k(x) for k < count.
pub(crate) fn coefficients_of<F: Fn(f64) -> f64>(
    f: F,
    kinks: &[f64],
    s: f64,
    count: usize,
) -> Vec<f64> {
    let mut a = coefficients_and_second_moment(f, kinks, s, count);
    a.pop();
    a
}

/// The first `count` Hermite coefficients a_k(σ; s), k = 0, …, count−1, at scale s ≥ 0.
///
/// Computed by composite Gauss–Legendre quadrature over |ξ| ≤ 14 split at the kinks; absolute accuracy about
/// 1e-14·(scale of σ) for k up to a few hundred. Identities: a₀ = m₀, a₁ = s·m₁, a₂ = s²m₂/√2 (math §2).
pub fn hermite_coefficients<A: Activation + ?Sized>(
    act: &A,
    s: f64,
    count: usize,
) -> Result<Vec<f64>> {
    check_nonnegative("s", s)?;
    Ok(coefficients_of(|x| act.value(x), &act.kinks(), s, count))
}

/// The first `count` Hermite coefficients of σ′ at scale s: a_k(σ′; s) = E[σ′(sξ)h_k(ξ)].
pub fn hermite_coefficients_derivative<A: Activation + ?Sized>(
    act: &A,
    s: f64,
    count: usize,
) -> Result<Vec<f64>> {
    check_nonnegative("s", s)?;
    require_derivative(act, "the Hermite coefficients of σ′")?;
    Ok(coefficients_of(
        |x| act.derivative(x),
        &act.kinks(),
        s,
        count,
    ))
}
