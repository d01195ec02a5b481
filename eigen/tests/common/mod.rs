//! Test matrices shared by the eigensolver tests, built without any kernel library.
#![allow(dead_code)]

use ndarray::Array2;

/// A small deterministic generator (SplitMix64), so tests are reproducible without an RNG crate.
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

/// n×p Gaussian data with rows of squared norm ≈ 1.
pub fn gaussian_data(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut r = SplitMix(seed);
    let scale = (1.0 / p as f64).sqrt();
    Array2::from_shape_fn((n, p), |_| scale * r.normal())
}

/// The arc-cosine kernel of degree 1 of n Gaussian samples in p = n/2 dimensions, K_ij = ‖x_i‖‖x_j‖(sin θ +
/// (π − θ)cos θ)/(2π) with cos θ the samples' correlation (the ReLU network's NNGP, Cho & Saul 2009): a kernel
/// spectrum with a bulk and outliers.
pub fn arc_cosine_kernel(n: usize, seed: u64) -> Array2<f64> {
    let x = gaussian_data(n, (n / 2).max(1), seed);
    let g = x.dot(&x.t());
    Array2::from_shape_fn((n, n), |(i, j)| {
        let (si, sj) = (g[[i, i]].sqrt(), g[[j, j]].sqrt());
        let c = (g[[i, j]] / (si * sj)).clamp(-1.0, 1.0);
        let theta = if i == j { 0.0 } else { c.acos() };
        si * sj * (theta.sin() + (std::f64::consts::PI - theta) * theta.cos())
            / (2.0 * std::f64::consts::PI)
    })
}

/// The Gaussian kernel exp(−‖x_i − x_j‖²/2) of n Gaussian samples in p dimensions.
pub fn gaussian_kernel(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let x = gaussian_data(n, p, seed);
    let g = x.dot(&x.t());
    Array2::from_shape_fn((n, n), |(i, j)| {
        (-(g[[i, i]] + g[[j, j]] - 2.0 * g[[i, j]]) / 2.0).exp()
    })
}
