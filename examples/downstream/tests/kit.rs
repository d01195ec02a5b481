//! The crate's test kit applied to what this crate adds: an activation, a kernel map and an eigensolver backend.

use deq_kernels::activation::{Activation, Derivative, ScaleMoments};
use deq_kernels::eigen::FaerEigen;
use deq_kernels::kernel::explicit::mlp_kernels;
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::testing::matrices::{
    check_backend, check_backends_agree, symmetric_matrices, Scale,
};
use deq_kernels::testing::{
    check_gaussian_calculus, check_kernel_matrix, check_stein_moments, covariances, mlp_params,
    samples, scales, Check,
};
use downstream_example::activation::ResidualSquare;
use downstream_example::jacobi::JacobiEigen;
use downstream_example::kernel_map::residual_block;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

const SCALES: [Scale; 3] = [Scale::Unit, Scale::NearOverflow, Scale::NearUnderflow];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The new activation's closed forms, Stein forms, Hermite coefficients, Mehler series, Price's identity and
    /// Cauchy–Schwarz, at random scales and covariances (correlations at and near ±1 included).
    #[test]
    fn residual_square_obeys_the_gaussian_calculus(a in -1.0f64..1.0, tau in scales(), c in covariances()) {
        for check in check_gaussian_calculus(&ResidualSquare { a }, tau, &c).unwrap() {
            prop_assert!(check.holds(), "{check}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The residual block maps a kernel matrix to a kernel matrix (symmetric, Cauchy–Schwarz, PSD), and on the
    /// diagonal it is αK_ii + (1 − α)·E[σ(τξ)²] at τ = √K_ii, from the activation's one-dimensional moments.
    #[test]
    fn residual_block_maps_kernels_to_kernels(
        params in mlp_params(),
        x in samples(1usize..24, 4usize..16),
        alpha in 0.0f64..=1.0,
        a in -1.0f64..1.0,
    ) {
        let ([k], _) = mlp_kernels::<f64, 1>(&params, x.view(), [Kernel::Nngp], &NoProgress).unwrap();
        let act = ResidualSquare { a };
        let out = residual_block(&act, alpha, k.view()).unwrap();
        for check in check_kernel_matrix(out.view(), 8.0).unwrap() {
            prop_assert!(check.holds(), "{check}");
        }
        for i in 0..out.nrows() {
            let second = ScaleMoments::compute(&act, k[[i, i]].sqrt()).unwrap().second_moment();
            let want = alpha * k[[i, i]] + (1.0 - alpha) * second;
            let check = Check::new("K′_ii = αK_ii + (1 − α)E[σ(τξ)²]", (out[[i, i]] - want).abs(), 1e-12 * want.abs().max(1.0), format!("sample {i}"));
            prop_assert!(check.holds(), "{check}");
        }
    }

    /// The backend suite in f64: every matrix family, orders 0 to 64, scales near overflow and underflow;
    /// residual, orthogonality, the known spectrum, and agreement with the crate's own solver.
    #[test]
    fn jacobi_passes_the_backend_suite_in_f64(m in symmetric_matrices::<f64>(0usize..=64, &SCALES)) {
        for check in check_backend(&JacobiEigen, &m, 50.0).unwrap() {
            prop_assert!(check.holds(), "{check}");
        }
        let agree = check_backends_agree(&JacobiEigen, &FaerEigen::default(), &m, 50.0).unwrap();
        prop_assert!(agree.holds(), "{agree}");
    }

    /// The same suite in f32.
    #[test]
    fn jacobi_passes_the_backend_suite_in_f32(m in symmetric_matrices::<f32>(0usize..=64, &SCALES)) {
        for check in check_backend(&JacobiEigen, &m, 50.0).unwrap() {
            prop_assert!(check.holds(), "{check}");
        }
        let agree = check_backends_agree(&JacobiEigen, &FaerEigen::default(), &m, 50.0).unwrap();
        prop_assert!(agree.holds(), "{agree}");
    }
}

/// The residual square with its derivative written wrongly (the 1 from x forgotten): σ′(x) = 2ax.
#[derive(Debug, Clone, Copy)]
struct ForgotTheOne {
    a: f64,
}

impl Activation for ForgotTheOne {
    fn name(&self) -> String {
        format!("forgot_the_one:{}", self.a)
    }
    fn value(&self, x: f64) -> f64 {
        x + self.a * x * x
    }
    fn derivative(&self, x: f64) -> f64 {
        2.0 * self.a * x
    }
    fn derivative_kind(&self) -> Derivative {
        Derivative::Available
    }
}

/// The Stein check catches the broken derivative, and proptest shrinks the failure to the simplest case there is:
/// a = 0 (σ(x) = x, whose derivative 1 the broken form gives as 0) at τ = 1.
#[test]
fn a_broken_derivative_shrinks_to_a_readable_counterexample() {
    let mut runner = TestRunner::new_with_rng(
        Config::with_cases(64),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&(-1.0f64..1.0, scales()), |(a, tau)| {
        for check in check_stein_moments(&ForgotTheOne { a }, tau).unwrap() {
            prop_assert!(check.holds(), "{check}");
        }
        Ok(())
    });
    let Err(TestError::Fail(reason, (a, tau))) = result else {
        panic!("the broken derivative was not caught: {result:?}");
    };
    eprintln!("minimal failing input: a = {a}, τ = {tau}\n{reason}");
    assert!(
        a.abs() < 1e-6 && (tau - 1.0).abs() < 1e-6,
        "shrunk to a = {a}, τ = {tau}"
    );
    assert!(reason.to_string().contains("m₁"), "{reason}");
}
