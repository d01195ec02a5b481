//! An eigensolver backend the crate does not ship: cyclic Jacobi (Rutishauser's rotations), computed in f64 for
//! either precision after scaling the matrix by a power of two to max|a_ij| ≈ 1, so that neither overflow nor
//! underflow can occur.

use deq_kernels::eigen::{
    check_symmetric, tolerance, EigenDecomposition, EigenRequest, EigenScalar, SymmetricEigensolver,
};
use ndarray::Array2;

/// Cyclic Jacobi: sweeps of plane rotations until every off-diagonal entry is below ε·√(|a_pp·a_qq|) (at most
/// 60 sweeps; convergence is quadratic once the off-diagonal part is small).
#[derive(Debug, Clone, Copy, Default)]
pub struct JacobiEigen;

impl<T: EigenScalar> SymmetricEigensolver<T> for JacobiEigen {
    fn name(&self) -> &'static str {
        "jacobi"
    }

    fn solve(
        &self,
        a: ndarray::ArrayView2<T>,
        request: &EigenRequest,
    ) -> deq_kernels::eigen::Result<EigenDecomposition<T>> {
        check_symmetric(a, tolerance::SYMMETRY)?;
        let n = a.nrows();
        let largest = a.iter().fold(0f64, |m, v| m.max(v.to_f64().abs()));
        let scale = if largest > 0.0 {
            2f64.powi(-(largest.log2().floor() as i32))
        } else {
            1.0
        };
        let mut m = a.mapv(|v| v.to_f64() * scale);
        let mut v = Array2::<f64>::eye(n);
        for _sweep in 0..60 {
            let mut rotated = false;
            for p in 0..n {
                for q in p + 1..n {
                    let apq = m[[p, q]];
                    let threshold = f64::EPSILON * (m[[p, p]] * m[[q, q]]).abs().sqrt();
                    if apq.abs() <= threshold.max(f64::MIN_POSITIVE) {
                        m[[p, q]] = 0.0;
                        m[[q, p]] = 0.0;
                        continue;
                    }
                    rotated = true;
                    let theta = (m[[q, q]] - m[[p, p]]) / (2.0 * apq);
                    let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
                    let c = 1.0 / t.hypot(1.0);
                    let s = t * c;
                    for k in 0..n {
                        let (x, y) = (m[[k, p]], m[[k, q]]);
                        m[[k, p]] = c * x - s * y;
                        m[[k, q]] = s * x + c * y;
                    }
                    for k in 0..n {
                        let (x, y) = (m[[p, k]], m[[q, k]]);
                        m[[p, k]] = c * x - s * y;
                        m[[q, k]] = s * x + c * y;
                    }
                    m[[p, q]] = 0.0;
                    m[[q, p]] = 0.0;
                    for k in 0..n {
                        let (x, y) = (v[[k, p]], v[[k, q]]);
                        v[[k, p]] = c * x - s * y;
                        v[[k, q]] = s * x + c * y;
                    }
                }
            }
            if !rotated {
                break;
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| m[[i, i]].total_cmp(&m[[j, j]]));
        let values = order
            .iter()
            .map(|&i| T::from_f64(m[[i, i]] / scale))
            .collect();
        let vectors = request
            .vectors
            .then(|| Array2::from_shape_fn((n, n), |(i, k)| T::from_f64(v[[i, order[k]]])));
        EigenDecomposition::from_all_pairs(values, vectors, &request.subset, "jacobi")
    }
}
