//! Random-feature classification: only the readout is trained, by ridge regression on the features of a
//! random network (the DEQ's fixed point Z, or an explicit network's last layer) — the paper's accuracy
//! experiment.

use crate::linalg::zeroed_matrix;
use faer::linalg::solvers::Solve;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::linalg::matmul_into;
use crate::{Error, Result};

/// A linear readout W (m×K) fitted by ridge regression on one-hot targets.
#[derive(Debug, Clone)]
pub struct RidgeReadout {
    /// W (m×K).
    pub weights: Array2<f64>,
    /// The ridge λ.
    pub lambda: f64,
}

/// Labels already checked to lie in 0..k.
fn one_hot(labels: ArrayView1<i64>, k: usize) -> Result<Array2<f64>> {
    let mut y = zeroed_matrix::<f64>(labels.len(), k)?;
    for (i, &l) in labels.iter().enumerate() {
        y[[i, l as usize]] = 1.0;
    }
    Ok(y)
}

/// Solve (S + λI)Z = R for symmetric positive definite S by faer's Cholesky.
fn spd_solve(s: &Array2<f64>, lambda: f64, r: &Array2<f64>) -> Result<Array2<f64>> {
    let k = s.nrows();
    let a = faer::Mat::<f64>::from_fn(k, k, |i, j| s[[i, j]] + if i == j { lambda } else { 0.0 });
    let rhs = faer::Mat::<f64>::from_fn(k, r.ncols(), |i, j| r[[i, j]]);
    let llt = a.llt(faer::Side::Lower).map_err(|_| Error::Shape {
        what: "the ridge system is not positive definite; increase the regularization λ".into(),
    })?;
    let z = llt.solve(&rhs);
    Ok(Array2::from_shape_fn((k, r.ncols()), |(i, j)| z[(i, j)]))
}

impl RidgeReadout {
    /// W = argmin ‖FW − Y‖² + λ‖W‖² for features F (n×m) and labels 0..K−1: (FᵀF + λI)⁻¹FᵀY, or through
    /// the n×n system Fᵀ(FFᵀ + λI)⁻¹Y when n < m — one solve either way.
    pub fn fit(features: ArrayView2<f64>, labels: ArrayView1<i64>, lambda: f64) -> Result<Self> {
        crate::error::check_positive("lambda", lambda)?;
        let (n, m) = features.dim();
        if labels.len() != n || n == 0 {
            return Err(Error::Shape {
                what: format!("{} labels for {n} feature rows", labels.len()),
            });
        }
        if labels.iter().any(|&l| l < 0) {
            return Err(Error::Shape {
                what: "labels must be 0, 1, …, K−1".into(),
            });
        }
        let k = labels.iter().copied().max().unwrap_or(0) as usize + 1;
        let y = one_hot(labels, k)?;
        let weights = if n >= m {
            let mut s = zeroed_matrix::<f64>(m, m)?;
            matmul_into(s.view_mut(), features.t(), features, false);
            let mut r = zeroed_matrix::<f64>(m, k)?;
            matmul_into(r.view_mut(), features.t(), y.view(), false);
            spd_solve(&s, lambda, &r)?
        } else {
            let mut s = zeroed_matrix::<f64>(n, n)?;
            matmul_into(s.view_mut(), features, features.t(), false);
            let alpha = spd_solve(&s, lambda, &y)?;
            let mut w = zeroed_matrix::<f64>(m, k)?;
            matmul_into(w.view_mut(), features.t(), alpha.view(), false);
            w
        };
        Ok(RidgeReadout { weights, lambda })
    }

    /// The class with the largest output for every row of `features`.
    pub fn predict(&self, features: ArrayView2<f64>) -> Result<Array1<i64>> {
        if features.ncols() != self.weights.nrows() {
            return Err(Error::Shape {
                what: format!(
                    "{} features, the readout was fitted on {}",
                    features.ncols(),
                    self.weights.nrows()
                ),
            });
        }
        let mut out = zeroed_matrix::<f64>(features.nrows(), self.weights.ncols())?;
        matmul_into(out.view_mut(), features, self.weights.view(), false);
        Ok(out
            .outer_iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |b, (j, &v)| if v > b.1 { (j, v) } else { b },
                    )
                    .0 as i64
            })
            .collect())
    }

    /// The fraction of rows predicted right.
    pub fn accuracy(&self, features: ArrayView2<f64>, labels: ArrayView1<i64>) -> Result<f64> {
        let p = self.predict(features)?;
        if p.len() != labels.len() {
            return Err(Error::Shape {
                what: format!("{} labels for {} rows", labels.len(), p.len()),
            });
        }
        Ok(p.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / p.len().max(1) as f64)
    }
}
