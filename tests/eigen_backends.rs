//! Eigenvalue backends on kernel matrices and their input checks.

mod common;

use std::sync::Arc;

use common::gaussian_data;
use deq_kernels::activation::parse_activation;
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams, Which};
use deq_kernels::Error;
use ndarray::{array, Array2};

#[test]
fn faer_eigenvalues_of_a_known_matrix() {
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    let w = FaerEigen
        .eigenvalues(array![[2.0, 1.0], [1.0, 2.0]].view())
        .unwrap();
    assert!((w[0] - 1.0).abs() < 1e-15 && (w[1] - 3.0).abs() < 1e-15);
}

#[test]
fn bad_matrices_are_refused() {
    let rect = Array2::<f64>::zeros((2, 3));
    assert!(matches!(
        FaerEigen.eigenvalues(rect.view()),
        Err(Error::Shape { .. })
    ));
    let asym = array![[1.0, 2.0], [0.0, 1.0]];
    assert!(matches!(
        FaerEigen.eigenvalues(asym.view()),
        Err(Error::Shape { .. })
    ));
    let nan = array![[1.0, f64::NAN], [f64::NAN, 1.0]];
    assert!(matches!(
        FaerEigen.eigenvalues(nan.view()),
        Err(Error::NonFinite { .. })
    ));
}

#[cfg(feature = "openblas")]
#[test]
fn lapack_and_faer_agree_on_a_kernel_matrix() {
    use deq_kernels::eigen::LapackEigen;
    let x = gaussian_data(150, 30, 1.0, 21);
    let params = MlpParams::new(Arc::new(parse_activation("relu").unwrap()), 2, 1.0, 0.1).unwrap();
    let k = mlp_kernels::<f64>(&params, x.view(), Which::NTK)
        .unwrap()
        .ntk
        .unwrap();
    let a = FaerEigen.eigenvalues(k.view()).unwrap();
    let b = LapackEigen.eigenvalues(k.view()).unwrap();
    let norm = a.last().unwrap().abs();
    for (u, v) in a.iter().zip(&b) {
        assert!(
            (u - v).abs() <= 150.0 * f64::EPSILON * norm * 10.0,
            "{u} vs {v}"
        );
    }
}

#[test]
fn kernel_spectrum_is_nonnegative() {
    let x = gaussian_data(80, 40, 1.0, 22);
    let params = MlpParams::new(Arc::new(parse_activation("gelu").unwrap()), 2, 1.0, 0.0).unwrap();
    let k = mlp_kernels::<f64>(&params, x.view(), Which::CK)
        .unwrap()
        .ck
        .unwrap();
    let w = FaerEigen.eigenvalues(k.view()).unwrap();
    assert!(w[0] > -1e-12 * w[79], "λ_min = {}", w[0]);
}
