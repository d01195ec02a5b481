//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ndarray::Array2;

/// A small deterministic generator (SplitMix64) so tests need no RNG crate and are reproducible.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// n×p Gaussian data scaled so that rows have squared norm ≈ `norm2`.
pub fn gaussian_data(n: usize, p: usize, norm2: f64, seed: u64) -> Array2<f64> {
    let mut r = SplitMix(seed);
    let scale = (norm2 / p as f64).sqrt();
    Array2::from_shape_fn((n, p), |_| scale * r.normal())
}

/// Eigenvalues of a symmetric matrix (faer), ascending.
pub fn eigenvalues(a: &Array2<f64>) -> Vec<f64> {
    let n = a.nrows();
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| a[[i, j]]);
    let mut ev: Vec<f64> = m
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("eigenvalues");
    ev.sort_by(f64::total_cmp);
    ev
}

pub fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
