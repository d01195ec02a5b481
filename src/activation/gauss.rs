//! Gaussian integrals: expectations E[f(ξ)] for ξ ~ N(0,1) by kink-aware adaptive Gauss–Legendre
//! quadrature (math §2–3), bivariate expectations E[f(u)g(v)] by nested 1-D integrals, and fixed composite
//! rules for vector-valued integrands (Hermite coefficients).
//!
//! Why not Gauss–Hermite: its error at kinks (ReLU: 0.160251 instead of 1/(2π) with 120 nodes, math §2)
//! and for tanh-like activations (poles near the real axis, math §3) is far above the 1e-10 target.
//! Integrating f·φ piecewise between the kinks with Gauss–Legendre panels that bisect until two levels agree
//! converges geometrically on each smooth piece.

use std::f64::consts::PI;
use std::sync::OnceLock;

/// The standard normal density φ(x).
#[inline]
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// The standard normal distribution function Φ(x), accurate in both tails.
#[inline]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Expectations are integrated over |ξ| ≤ this bound. The neglected mass is 2Φ(−10) ≈ 1.5e-23, so an
/// integrand growing at most like |ξ|⁴ loses less than 1e-18.
pub const EXPECTATION_TRUNCATION: f64 = 10.0;

/// Hermite coefficients of order k need the integrand f·h_k·φ, which only decays like e^{−ξ²/4}
/// (h_k·√φ is bounded): e^{−14²/4} ≈ 5e-22.
pub const HERMITE_TRUNCATION: f64 = 14.0;

const GL_ORDER: usize = 20;
const MAX_DEPTH: u32 = 30;
const RELATIVE_TOLERANCE: f64 = 2e-15;

/// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton's method on the Legendre
/// three-term recurrence; nodes accurate to machine precision for n ≤ a few hundred).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (p, d) = legendre_and_derivative(n, x);
            dp = d;
            let dx = p / d;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let (_, d) = legendre_and_derivative(n, x);
        dp = if d != 0.0 { d } else { dp };
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        nodes[i] = -x;
        nodes[n - 1 - i] = x;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
    (nodes, weights)
}

fn legendre_and_derivative(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

fn rule() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| gauss_legendre(GL_ORDER))
}

#[inline]
fn panel<F: Fn(f64) -> f64>(g: &F, a: f64, b: f64) -> f64 {
    let (x, w) = rule();
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut s = 0.0;
    for (xi, wi) in x.iter().zip(w) {
        s += wi * g(c + h * xi);
    }
    h * s
}

fn adapt<F: Fn(f64) -> f64>(g: &F, a: f64, b: f64, whole: f64, tol: f64, depth: u32) -> f64 {
    let m = 0.5 * (a + b);
    let left = panel(g, a, m);
    let right = panel(g, m, b);
    let both = left + right;
    if depth == 0 || (both - whole).abs() <= tol || !both.is_finite() {
        return both;
    }
    adapt(g, a, m, left, tol, depth - 1) + adapt(g, m, b, right, tol, depth - 1)
}

/// At most this many grid panels in [`cut_points`]: an interval that would need more (a range near the largest
/// finite values, where adding `step` no longer moves t) gets this many of equal width instead of a loop that
/// never ends.
const MAX_GRID_PANELS: f64 = 1e5;

/// Sorted, de-duplicated cut points inside (lo, hi): the caller's kinks plus a regular grid of `step` (wider
/// when more than [`MAX_GRID_PANELS`] panels would be needed).
fn cut_points(lo: f64, hi: f64, kinks: &[f64], step: f64) -> Vec<f64> {
    let mut cuts: Vec<f64> = kinks
        .iter()
        .copied()
        .filter(|c| c.is_finite() && *c > lo && *c < hi)
        .collect();
    let span = hi - lo;
    let panels = (span / step).ceil();
    if span.is_finite() && panels.is_finite() && panels >= 1.0 {
        let (panels, width) = if panels > MAX_GRID_PANELS {
            (MAX_GRID_PANELS, span / MAX_GRID_PANELS)
        } else {
            (panels, step)
        };
        for k in 1..panels as usize {
            let t = lo + k as f64 * width;
            if t < hi - 1e-12 {
                cuts.push(t);
            }
        }
    }
    cuts.push(lo);
    cuts.push(hi);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() <= 1e-14 * (1.0 + b.abs()));
    cuts
}

/// ∫_lo^hi g(x) dx for g smooth between the given kinks, to a relative accuracy of about 1e-14 of ∫|g|.
pub fn integrate<F: Fn(f64) -> f64>(g: F, lo: f64, hi: f64, kinks: &[f64]) -> f64 {
    let cuts = cut_points(lo, hi, kinks, 2.0);
    let coarse: Vec<f64> = cuts.windows(2).map(|w| panel(&g, w[0], w[1])).collect();
    let scale: f64 = coarse
        .iter()
        .map(|v| v.abs())
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let tol = RELATIVE_TOLERANCE * scale;
    cuts.windows(2)
        .zip(&coarse)
        .map(|(w, &whole)| adapt(&g, w[0], w[1], whole, tol, MAX_DEPTH))
        .sum()
}

/// E[f(ξ)] for ξ ~ N(0,1), f smooth between `kinks` (in ξ units).
pub fn expect<F: Fn(f64) -> f64>(f: F, kinks: &[f64]) -> f64 {
    let l = EXPECTATION_TRUNCATION;
    integrate(|x| f(x) * normal_pdf(x), -l, l, kinks)
}

/// E[f(u)g(v)] for (u, v) centered Gaussian with standard deviations s1, s2 ≥ 0 and correlation ρ ∈ [−1, 1]:
/// u = s1ξ₁, v = s2(ρξ₁ + √(1−ρ²)ξ₂) (math §3). `kinks_f`, `kinks_g` are the non-smooth points of f and g
/// in their own argument.
pub fn expect_pair<F, G>(
    f: F,
    kinks_f: &[f64],
    g: G,
    kinks_g: &[f64],
    s1: f64,
    s2: f64,
    rho: f64,
) -> f64
where
    F: Fn(f64) -> f64,
    G: Fn(f64) -> f64,
{
    let rho = rho.clamp(-1.0, 1.0);
    let r = (1.0 - rho * rho).max(0.0).sqrt();
    let mut outer_kinks: Vec<f64> = if s1 > 0.0 {
        kinks_f.iter().map(|k| k / s1).collect()
    } else {
        Vec::new()
    };
    if s2 > 0.0 && rho != 0.0 {
        outer_kinks.extend(kinks_g.iter().map(|k| k / (s2 * rho)));
    }
    if r == 0.0 || s2 == 0.0 {
        return expect(|x| f(s1 * x) * g(s2 * rho * x), &outer_kinks);
    }
    // As |ρ| → 1 the inner integral smooths g's kink k over a width r/|ρ| in ξ₁ around k/(s₂ρ): a feature far
    // narrower than the outer panels, whose first bisections can agree while missing it (at 1 − ρ = 1e-7 the
    // ReLU kernel was off by 1e-11). Cuts at a few multiples of that width give the outer rule panels of its size.
    let width = r / rho.abs();
    if s2 > 0.0 && width < 0.1 {
        for k in kinks_g {
            let centre = k / (s2 * rho);
            for m in [-8.0, -2.0, -0.5, 0.5, 2.0, 8.0] {
                outer_kinks.push(centre + m * width);
            }
        }
    }
    // The inner integral uses a fixed rule so that it is a smooth function of ξ₁: an adaptive inner rule
    // changes its subdivision with ξ₁, and the outer adaptive rule then chases those ~1e-15 steps.
    let sd = s2 * r;
    let width = 0.5 / sd.max(1.0);
    let inner = |x1: f64| {
        let mean = s2 * rho * x1;
        let kinks: Vec<f64> = kinks_g.iter().map(|k| (k - mean) / sd).collect();
        let (nodes, weights) =
            composite_gaussian_rule(&kinks, EXPECTATION_TRUNCATION, width, GL_ORDER);
        nodes
            .iter()
            .zip(&weights)
            .map(|(x2, w)| w * g(mean + sd * x2))
            .sum::<f64>()
    };
    expect(|x1| f(s1 * x1) * inner(x1), &outer_kinks)
}

/// A fixed composite rule for ∫ h(ξ)φ(ξ)dξ over |ξ| ≤ `half_width`: panels of width at most `panel_width`
/// split at the kinks, `order` Gauss–Legendre nodes each. Weights include φ. Used where one set of nodes
/// serves many integrands at once (all Hermite coefficients of one function).
pub fn composite_gaussian_rule(
    kinks: &[f64],
    half_width: f64,
    panel_width: f64,
    order: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (gx, gw) = gauss_legendre(order);
    let cuts = cut_points(-half_width, half_width, kinks, panel_width);
    let mut nodes = Vec::with_capacity(cuts.len() * order);
    let mut weights = Vec::with_capacity(cuts.len() * order);
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let c = 0.5 * (a + b);
        let h = 0.5 * (b - a);
        for (xi, wi) in gx.iter().zip(&gw) {
            let x = c + h * xi;
            nodes.push(x);
            weights.push(h * wi * normal_pdf(x));
        }
    }
    (nodes, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges near the largest finite values, where t + step == t, end with a bounded grid (this looped forever
    /// on `deqk moments --activation lrelu:1e308,1e308 --tau 1e308`); ordinary ranges keep the grid of `step`.
    #[test]
    fn cut_points_are_bounded_on_huge_ranges() {
        let cuts = cut_points(-1e300, 1e300, &[0.0], 2.0);
        assert!(cuts.len() <= MAX_GRID_PANELS as usize + 2);
        assert!(cuts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(cuts.first(), Some(&-1e300));
        assert_eq!(cuts.last(), Some(&1e300));
        assert_eq!(
            cut_points(-4.0, 4.0, &[0.5], 2.0),
            vec![-4.0, -2.0, 0.0, 0.5, 2.0, 4.0]
        );
        assert_eq!(
            cut_points(0.0, f64::INFINITY, &[], 2.0),
            vec![0.0, f64::INFINITY]
        );
    }

    #[test]
    fn legendre_rule_is_exact_for_polynomials() {
        let (x, w) = gauss_legendre(20);
        for deg in 0..40 {
            let q: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(deg)).sum();
            let exact = if deg % 2 == 1 {
                0.0
            } else {
                2.0 / (deg as f64 + 1.0)
            };
            assert!((q - exact).abs() < 1e-14, "degree {deg}: {q} vs {exact}");
        }
    }

    #[test]
    fn gaussian_moments_are_exact() {
        // E[ξ^{2k}] = (2k−1)!!
        let mut double_factorial = 1.0;
        for k in 1..6 {
            double_factorial *= (2 * k - 1) as f64;
            let e = expect(|x| x.powi(2 * k), &[]);
            assert!((e - double_factorial).abs() < 1e-12 * double_factorial);
        }
    }

    #[test]
    fn kinked_integrand_matches_closed_form() {
        // E[relu(ξ)] = 1/√(2π), E[|ξ|³] = 2√(2/π)
        let e = expect(|x| x.max(0.0), &[0.0]);
        assert!((e - 1.0 / (2.0 * PI).sqrt()).abs() < 1e-15);
        let e = expect(|x| x.abs().powi(3), &[0.0]);
        assert!((e - 2.0 * (2.0 / PI).sqrt()).abs() < 1e-14);
    }

    #[test]
    fn pair_expectation_relu_reference() {
        // math §3: ReLU s = (1, 1), ρ = 0.5 → 0.304498891; s = (0.8, 1.3), ρ = −0.3 → 0.095027028
        let relu = |x: f64| x.max(0.0);
        let v = expect_pair(relu, &[0.0], relu, &[0.0], 1.0, 1.0, 0.5);
        assert!((v - 0.304498891).abs() < 1e-9, "{v}");
        let v = expect_pair(relu, &[0.0], relu, &[0.0], 0.8, 1.3, -0.3);
        assert!((v - 0.095027028).abs() < 1e-9, "{v}");
    }
}
