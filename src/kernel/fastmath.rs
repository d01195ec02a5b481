//! arcsin and arccos on blocks of lanes, branch-free so that the compiler vectorizes them.
//!
//! asin(y) = y·P(y² − ⅛) for 0 ≤ y ≤ ½, P of degree 13: the Chebyshev interpolant of asin(√z)/√z on z ∈ [0, ¼]
//! (computed once in 60-digit arithmetic at 25 Chebyshev points, truncated after degree 13, where the next
//! Chebyshev coefficient is 1.5e-17, and written in powers of w = z − ⅛, |w| ≤ ⅛). The function's singularity at
//! z = 1 makes its Chebyshev coefficients fall like 13.9⁻ᵏ, against 4⁻ᵏ for the Taylor series at 0, which needs
//! 28 terms for the same accuracy. Larger arguments use asin(x) = π/2 − 2·asin(√((1−x)/2)), whose argument is
//! ≤ ½ and where 1 − x is exact for x ≥ ½. Accuracy: a few ulp, checked against libm over [−1, 1] in the tests.

use std::f64::consts::{FRAC_PI_2, PI};

/// P(w) = Σ_k c_k w^k (see the module documentation).
const ASIN_POLY: [f64; 14] = [
    1.0221005752492498,
    0.18777756960179107,
    0.0951002597031878,
    0.0641500842533241,
    0.04962927852398188,
    0.04161308931535969,
    0.036789252507732316,
    0.033767247008008594,
    0.031872118865577344,
    0.030740797490089046,
    0.030125491303339177,
    0.029971209337671993,
    0.032011340323281685,
    0.032716104830982834,
];

/// asin(y) for 0 ≤ y ≤ ½.
#[inline(always)]
fn asin_reduced(y: f64) -> f64 {
    let w = y * y - 0.125;
    let mut acc = 0.0;
    let mut k = ASIN_POLY.len();
    while k > 0 {
        k -= 1;
        acc = acc * w + ASIN_POLY[k];
    }
    y * acc
}

/// (asin|x|, acos|x|) for |x| ≤ 1, both from one reduced evaluation.
#[inline(always)]
fn asin_acos_abs(x: f64) -> (f64, f64) {
    let a = x.abs();
    let big = a > 0.5;
    let y = if big { (0.5 * (1.0 - a)).sqrt() } else { a };
    let r = asin_reduced(y);
    if big {
        (FRAC_PI_2 - 2.0 * r, 2.0 * r)
    } else {
        (r, FRAC_PI_2 - r)
    }
}

/// arccos of every lane (inputs clamped to [−1, 1]).
#[inline(always)]
pub fn acos_block<const L: usize>(x: &[f64; L]) -> [f64; L] {
    let mut out = [0.0; L];
    for l in 0..L {
        let v = x[l].clamp(-1.0, 1.0);
        let (_, c) = asin_acos_abs(v);
        out[l] = if v < 0.0 { PI - c } else { c };
    }
    out
}

/// arcsin of every lane (inputs clamped to [−1, 1]).
#[inline(always)]
pub fn asin_block<const L: usize>(x: &[f64; L]) -> [f64; L] {
    let mut out = [0.0; L];
    for l in 0..L {
        let v = x[l].clamp(-1.0, 1.0);
        let (s, _) = asin_acos_abs(v);
        out[l] = if v < 0.0 { -s } else { s };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_over_the_whole_range() {
        let n = 200_001;
        let mut worst = (0f64, 0f64);
        for i in 0..n {
            let x = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
            let xs = [
                x,
                1.0 - 1e-12 * i as f64,
                -1.0 + 1e-15 * i as f64,
                0.5 + 1e-17 * i as f64,
            ];
            let (c, s) = (acos_block(&xs), asin_block(&xs));
            for l in 0..4 {
                worst.0 = worst.0.max((c[l] - xs[l].acos()).abs());
                worst.1 = worst.1.max((s[l] - xs[l].asin()).abs());
            }
        }
        // Relative accuracy where asin is small: the reduced polynomial alone.
        for i in 1..100_000 {
            let x = 0.5 * i as f64 / 100_000.0;
            for x in [x, x * 1e-6, -x] {
                let s = asin_block(&[x])[0];
                let rel = ((s - x.asin()) / x.asin()).abs();
                assert!(
                    rel < 4.0 * f64::EPSILON,
                    "asin({x}): relative error {rel:e}"
                );
            }
        }
        assert!(
            worst.0 < 1.5e-15 && worst.1 < 1.5e-15,
            "max errors acos {:e}, asin {:e}",
            worst.0,
            worst.1
        );
    }
}
