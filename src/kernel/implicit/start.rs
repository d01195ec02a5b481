//! Starting points for the per-entry Newton solves.
//!
//! For the ReLU family σ(x) = pos·x₊ + neg·x₋ − shift the entry equation is one equation in one variable.
//! With s_i = √Σ_ii, ρ = y/(s_is_j) and E[σ(u)σ(v)] = s_is_j·f(ρ) + κ_ij, where
//! f(ρ) = pos·neg·ρ + (pos − neg)²·(sin θ + (π − θ)ρ)/(2π), θ = arccos ρ (math §3), and
//! κ_ij = shift² − shift·(m_i + m_j), m_i = (pos − neg)s_i/√(2π), the equation y = a·E[σ(u)σ(v)] + b reads
//!
//! ```text
//! h(ρ) := ρ − a·f(ρ) = β_ij := (b_ij + a·κ_ij)/(s_is_j),      h′(ρ) = 1 − a·ḟ(ρ),
//! ```
//!
//! ḟ(ρ) = pos·neg + (pos − neg)²(π − θ)/(2π) = E[σ′(u)σ′(v)]. Inside the contraction region h′ > 0, so ρ(β) is
//! one increasing function of β for every entry. It is tabulated once on a uniform grid in β (values and
//! slopes 1/h′) and read by cubic Hermite interpolation: a start within ~1e-12 of the root away from |ρ| → 1,
//! which usually meets the tolerance at its first evaluation (at most one Newton step more elsewhere).

use std::f64::consts::PI;

use crate::activation::ClosedFamily;
use crate::solve::{newton_bracketed, NewtonParams};

/// Intervals of the β grid.
const INTERVALS: usize = 2048;

/// ρ(β) for the ReLU family at a given a (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct ReluFamilyStart {
    a: f64,
    shift: f64,
    /// √(1/(2π))·(pos − neg): m_i = mean_factor·s_i.
    mean_factor: f64,
    beta0: f64,
    /// 1/step of the β grid.
    inv_step: f64,
    /// ρ at β0 + k·step, and step·dρ/dβ there.
    rho: Vec<f64>,
    slope: Vec<f64>,
}

impl ReluFamilyStart {
    /// The table for σ of the ReLU family and the equation's a; `None` for other activations, or when h is
    /// not increasing on [−1, 1] (outside the contraction region, where the solver reports the failure).
    pub(super) fn new(family: Option<ClosedFamily>, a: f64) -> Option<Self> {
        let Some(ClosedFamily::PiecewiseLinear { pos, neg, shift }) = family else {
            return None;
        };
        let (pn, jump2) = (pos * neg, (pos - neg) * (pos - neg));
        let f = |rho: f64| {
            let rho = rho.clamp(-1.0, 1.0);
            let theta = rho.acos();
            let sin = (1.0 - rho * rho).max(0.0).sqrt();
            (
                pn * rho + jump2 * (sin + (PI - theta) * rho) / (2.0 * PI),
                pn + jump2 * (PI - theta) / (2.0 * PI),
            )
        };
        let h = |rho: f64| {
            let (v, d) = f(rho);
            (rho - a * v, 1.0 - a * d)
        };
        // ḟ increases with ρ, so h′ is smallest at ρ = 1.
        let least_slope = h(1.0).1;
        if least_slope.is_nan() || least_slope <= 0.0 {
            return None;
        }
        let (lo, hi) = (h(-1.0).0, h(1.0).0);
        let step = (hi - lo) / INTERVALS as f64;
        let params = NewtonParams::new(1e-16, 1e-16, 200).ok()?;
        let mut rho = Vec::with_capacity(INTERVALS + 1);
        let mut slope = Vec::with_capacity(INTERVALS + 1);
        for k in 0..=INTERVALS {
            let beta = lo + k as f64 * step;
            let r = match k {
                0 => -1.0,
                _ if k == INTERVALS => 1.0,
                _ => {
                    let start = rho.last().copied().unwrap_or(-1.0);
                    newton_bracketed(
                        |r| {
                            let (v, d) = h(r);
                            (v - beta, d)
                        },
                        -1.0,
                        1.0,
                        start,
                        &params,
                    )
                    .ok()?
                    .0
                }
            };
            rho.push(r);
            slope.push(step / h(r).1);
        }
        Some(ReluFamilyStart {
            a,
            shift,
            mean_factor: (pos - neg) / (2.0 * PI).sqrt(),
            beta0: lo,
            inv_step: 1.0 / step,
            rho,
            slope,
        })
    }

    /// [`start`](Self::start) for `N` entries of one row (s_i, s_j[l], b[l]) at once: the same arithmetic in
    /// separate passes over the lanes (position in the table, the four table values, the Hermite cubic), so that
    /// each pass compiles into vector instructions; only the table reads are per lane.
    #[inline(always)]
    pub(super) fn start_lanes<const N: usize>(
        &self,
        si: f64,
        sj: &[f64; N],
        b: &[f64; N],
    ) -> [f64; N] {
        let mut scale = [0.0; N];
        let mut t = [0.0; N];
        let mut k = [0usize; N];
        for l in 0..N {
            scale[l] = si * sj[l];
            let kappa = self.shift * self.shift - self.shift * self.mean_factor * (si + sj[l]);
            let tl = ((b[l] + self.a * kappa) / scale[l] - self.beta0) * self.inv_step;
            t[l] = tl.clamp(0.0, INTERVALS as f64);
            k[l] = (t[l] as i32).min(INTERVALS as i32 - 1) as usize;
        }
        let mut knots = [[0.0; 4]; N];
        for l in 0..N {
            knots[l] = self.knots(k[l]);
        }
        let mut out = [0.0; N];
        for l in 0..N {
            let rho = hermite_cubic(t[l] - k[l] as f64, knots[l]);
            // A zero scale (the division above gave ±∞ or NaN) leaves y = 0, the only value within ±s_is_j.
            out[l] = if scale[l] == 0.0 {
                0.0
            } else {
                rho.clamp(-1.0, 1.0) * scale[l]
            };
        }
        out
    }

    /// The start for the entry with standard deviations s_i, s_j and offset b_ij (y within ±s_is_j).
    #[inline(always)]
    pub(super) fn start(&self, si: f64, sj: f64, b: f64) -> f64 {
        self.start_lanes(si, &[sj], &[b])[0]
    }

    /// ρ_k, ρ_{k+1} and the scaled slopes at both ends of interval k (k < INTERVALS).
    #[inline(always)]
    fn knots(&self, k: usize) -> [f64; 4] {
        [
            self.rho[k],
            self.rho[k + 1],
            self.slope[k],
            self.slope[k + 1],
        ]
    }
}

/// The cubic Hermite interpolant at u ∈ [0, 1] from the values r0, r1 and scaled slopes d0, d1 at the ends.
#[inline(always)]
fn hermite_cubic(u: f64, [r0, r1, d0, d1]: [f64; 4]) -> f64 {
    let (u2, u3) = (u * u, u * u * u);
    let h00 = 2.0 * u3 - 3.0 * u2 + 1.0;
    let h10 = u3 - 2.0 * u2 + u;
    let h01 = -2.0 * u3 + 3.0 * u2;
    let h11 = u3 - u2;
    h00 * r0 + h10 * d0 + h01 * r1 + h11 * d1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_is_close_to_the_root() {
        for (pos, neg, shift, a) in [
            (1.0, 0.0, 0.37, 0.2),
            (1.3, -0.4, 0.0, 0.3),
            (1.0, 0.1, -0.2, 0.5),
        ] {
            let t =
                ReluFamilyStart::new(Some(ClosedFamily::PiecewiseLinear { pos, neg, shift }), a)
                    .unwrap();
            let (pn, jump2) = (pos * neg, (pos - neg) * (pos - neg));
            for (si, sj) in [(1.0, 1.0), (0.7, 1.4), (2.0, 0.3)] {
                for k in 0..=200 {
                    let rho_true = -0.999 + 1.998 * k as f64 / 200.0;
                    // b such that y = ρ·s_is_j solves the entry equation exactly.
                    let theta = rho_true.acos();
                    let sin = (1.0 - rho_true * rho_true).sqrt();
                    let f = pn * rho_true + jump2 * (sin + (PI - theta) * rho_true) / (2.0 * PI);
                    let m = (pos - neg) / (2.0 * PI).sqrt();
                    let kappa = shift * shift - shift * m * (si + sj);
                    let y = rho_true * si * sj;
                    let b = y - a * (si * sj * f + kappa);
                    let err = (t.start(si, sj, b) - y).abs() / (si * sj);
                    // f″ ~ 1/√(1 − ρ²) makes the ends of the table less accurate; Newton takes it from there.
                    let tol = if rho_true.abs() <= 0.95 { 1e-12 } else { 1e-6 };
                    assert!(
                        err < tol,
                        "({pos},{neg},{shift},{a}) ρ = {rho_true}: error {err:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn refused_outside_the_relu_family_or_the_contraction_region() {
        assert!(ReluFamilyStart::new(Some(ClosedFamily::Erf { shift: 0.0 }), 0.2).is_none());
        assert!(ReluFamilyStart::new(None, 0.2).is_none());
        let relu = ClosedFamily::PiecewiseLinear {
            pos: 1.0,
            neg: 0.0,
            shift: 0.0,
        };
        // E[σ′²] = ½ for ReLU: a = 2 is the edge.
        assert!(ReluFamilyStart::new(Some(relu), 2.5).is_none());
    }
}
