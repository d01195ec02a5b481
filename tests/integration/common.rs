//! Helpers shared by the integration tests that are not generators (those come from `deq_kernels::testing`).
#![allow(dead_code)]

use ndarray::Array2;

pub use deq_kernels::testing::gaussian_samples as gaussian_data;

/// Eigenvalues of a symmetric matrix by faer's own solver (independent of the crate's engine), ascending.
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
