//! Chebyshev interpolation of smooth vector-valued functions of one variable (a scale s or a variance v).
//!
//! Per-sample quantities of a kernel matrix — Hermite coefficient rows a_k(σ; s_i), second moments
//! E[σ(√v ξ)²] — are smooth functions of the sample's scale, and the scales of n samples fill a short
//! interval. Sampling the function at N + 1 Chebyshev–Lobatto points x_j = cos(πj/N) (mapped to [lo, hi]) and
//! evaluating the interpolant by the barycentric formula costs N + 1 quadratures instead of n.
//!
//! Accuracy is checked, not assumed: the Chebyshev coefficients c_k = (2/N)Σ″_j f(x_j)cos(πjk/N) of every
//! component must fall below `tol`·max|f| over their last three indices (for an analytic function they decay
//! geometrically, and the interpolation error is then bounded by the sum of the omitted ones). N doubles —
//! the points of N are among those of 2N, so no value is computed twice — until that holds, and the fit is
//! refused (`None`) when it does not hold by `max_degree`; callers then evaluate directly.

use rayon::prelude::*;

/// A vector-valued polynomial interpolant on Chebyshev–Lobatto points of [lo, hi].
#[derive(Debug, Clone)]
pub(crate) struct VectorInterpolant {
    lo: f64,
    hi: f64,
    /// Nodes in [lo, hi], j = 0..=N.
    nodes: Vec<f64>,
    /// values[j] = f(nodes[j]).
    values: Vec<Vec<f64>>,
    /// Barycentric weights (−1)^j, halved at both ends.
    weights: Vec<f64>,
}

/// The Lobatto point cos(πj/N) mapped to [lo, hi].
fn lobatto(lo: f64, hi: f64, j: usize, degree: usize) -> f64 {
    let t = (std::f64::consts::PI * j as f64 / degree as f64).cos();
    0.5 * (lo + hi) + 0.5 * (hi - lo) * t
}

impl VectorInterpolant {
    /// Fit `f` on [lo, hi] (lo < hi), starting at degree 8 and doubling up to `max_degree`; `None` when the
    /// trailing coefficients do not reach `tol` relative to max|f|.
    pub(crate) fn fit<F>(f: F, lo: f64, hi: f64, tol: f64, max_degree: usize) -> Option<Self>
    where
        F: Fn(f64) -> Vec<f64> + Sync,
    {
        if !(lo < hi && lo.is_finite() && hi.is_finite()) {
            return None;
        }
        let mut degree = 8;
        let mut values: Vec<Vec<f64>> = (0..=degree)
            .into_par_iter()
            .map(|j| f(lobatto(lo, hi, j, degree)))
            .collect();
        loop {
            if converged(&values, tol) {
                let nodes = (0..=degree).map(|j| lobatto(lo, hi, j, degree)).collect();
                let weights = (0..=degree)
                    .map(|j| {
                        let w = if j % 2 == 0 { 1.0 } else { -1.0 };
                        if j == 0 || j == degree {
                            0.5 * w
                        } else {
                            w
                        }
                    })
                    .collect();
                return Some(VectorInterpolant {
                    lo,
                    hi,
                    nodes,
                    values,
                    weights,
                });
            }
            if 2 * degree > max_degree {
                return None;
            }
            // Points 2j of degree 2N are the points j of degree N; compute only the odd ones.
            let odd: Vec<Vec<f64>> = (0..degree)
                .into_par_iter()
                .map(|j| f(lobatto(lo, hi, 2 * j + 1, 2 * degree)))
                .collect();
            let mut merged = Vec::with_capacity(2 * degree + 1);
            let mut odd = odd.into_iter();
            for (j, v) in values.into_iter().enumerate() {
                if j > 0 {
                    merged.push(odd.next().expect("one odd point between two even ones"));
                }
                merged.push(v);
            }
            values = merged;
            degree *= 2;
        }
    }

    /// The interpolant at x (barycentric formula; x is clamped into [lo, hi]).
    pub(crate) fn eval(&self, x: f64) -> Vec<f64> {
        let x = x.clamp(self.lo, self.hi);
        let dim = self.values[0].len();
        let mut num = vec![0.0; dim];
        let mut den = 0.0;
        for ((xj, fj), wj) in self.nodes.iter().zip(&self.values).zip(&self.weights) {
            let d = x - xj;
            if d == 0.0 {
                return fj.clone();
            }
            let c = wj / d;
            den += c;
            for (n, f) in num.iter_mut().zip(fj) {
                *n += c * f;
            }
        }
        num.iter_mut().for_each(|v| *v /= den);
        num
    }
}

/// Whether the last three Chebyshev coefficients of every component are ≤ tol·max|f|.
fn converged(values: &[Vec<f64>], tol: f64) -> bool {
    let degree = values.len() - 1;
    let dim = values[0].len();
    let scale = values
        .iter()
        .flat_map(|v| v.iter())
        .fold(0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        return true;
    }
    if values.iter().flat_map(|v| v.iter()).any(|v| !v.is_finite()) {
        return false;
    }
    let pi = std::f64::consts::PI;
    (degree.saturating_sub(2)..=degree).all(|k| {
        (0..dim).all(|c| {
            let mut sum = 0.0;
            for (j, v) in values.iter().enumerate() {
                let half = if j == 0 || j == degree { 0.5 } else { 1.0 };
                sum += half * v[c] * (pi * (j * k) as f64 / degree as f64).cos();
            }
            let coef = 2.0 / degree as f64 * sum * if k == degree { 0.5 } else { 1.0 };
            coef.abs() <= tol * scale
        })
    })
}

/// `f` at every point of `xs`: through a Chebyshev fit on [min, max] when that is cheaper than n direct
/// evaluations and meets `tol`, directly (in parallel) otherwise.
pub(crate) fn eval_many<F>(f: F, xs: &[f64], tol: f64) -> Vec<Vec<f64>>
where
    F: Fn(f64) -> Vec<f64> + Sync,
{
    const MAX_DEGREE: usize = 128;
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    if xs.len() > 2 * MAX_DEGREE && lo < hi {
        if let Some(fit) = VectorInterpolant::fit(&f, lo, hi, tol, MAX_DEGREE) {
            return xs.par_iter().map(|&x| fit.eval(x)).collect();
        }
    }
    xs.par_iter().map(|&x| f(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_smooth_functions_to_the_tolerance() {
        let f = |x: f64| vec![x.exp(), (3.0 * x).sin(), 1.0 / (1.0 + x * x)];
        let fit = VectorInterpolant::fit(f, 0.3, 1.7, 1e-15, 256).expect("analytic functions fit");
        for i in 0..=1000 {
            let x = 0.3 + 1.4 * i as f64 / 1000.0;
            let (got, want) = (fit.eval(x), f(x));
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-14, "x = {x}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_resolve() {
        // A kink inside the interval: the coefficients decay only like k⁻², never reaching 1e-15 by 64.
        assert!(VectorInterpolant::fit(|x: f64| vec![x.abs()], -1.0, 1.0, 1e-15, 64).is_none());
    }

    #[test]
    fn eval_many_equals_direct_evaluation() {
        let xs: Vec<f64> = (0..2000).map(|i| 0.8 + 1e-4 * i as f64).collect();
        let f = |x: f64| vec![(x * 2.0).tanh(), x.sqrt()];
        let got = eval_many(f, &xs, 1e-15);
        for (x, g) in xs.iter().zip(&got) {
            assert!((g[0] - (2.0 * x).tanh()).abs() < 1e-15);
            assert!((g[1] - x.sqrt()).abs() < 1e-15);
        }
    }
}
