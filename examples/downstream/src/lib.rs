//! What a research project built on deq-kernels looks like: its own data, a DEQ's Implicit-NTK, the top
//! eigenpairs of that kernel and the kernel's high-dimensional equivalent, with nothing but the public API and
//! default features off. Beside it, what such a project adds to the crate and tests with the crate's test kit
//! (tests/kit.rs): an activation ([`activation::ResidualSquare`]), a kernel map ([`kernel_map::residual_block`])
//! and an eigensolver backend ([`jacobi::JacobiEigen`]).

pub mod activation;
pub mod jacobi;
pub mod kernel_map;

use deq_kernels::activation::Builtin;
use deq_kernels::eigen::spectrum::relative_operator_norm_distance;
use deq_kernels::eigen::{EigenRequest, FaerEigen, Subset, SymmetricEigensolver};
use deq_kernels::kernel::{
    implicit::{deq_kernels, DeqParams},
    Kernel,
};
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::{
    equivalent::deq_equivalent, matrix::equivalent_matrix, statistics::MixtureStatistics,
};
use ndarray::{Array1, Array2};

/// The Implicit-NTK's 20 largest eigenvalues and ‖K̄ − K*‖₂/‖K*‖₂ for labelled data (rows are samples).
pub fn implicit_ntk_study(
    x: &Array2<f64>,
    y: &Array1<i64>,
) -> deq_kernels::Result<(Vec<f64>, f64)> {
    let deq = DeqParams::new(Builtin::Relu, 0.2)?.with_tau0_from(x.view())?;
    let ([ntk], _) = deq_kernels::<f64, 1>(&deq, x.view(), [Kernel::Ntk], &NoProgress)?;
    let request = EigenRequest::subset(Subset::Largest(20)).with_vectors();
    let top = FaerEigen::default().solve(ntk.view(), &request)?;
    let stats = MixtureStatistics::from_data(x.view(), y.view())?;
    let coefficients = deq_equivalent(&deq)?.coefficients(Kernel::Ntk)?;
    let kbar = equivalent_matrix(x.view(), &stats, &coefficients)?;
    Ok((
        top.values,
        relative_operator_norm_distance(kbar.view(), ntk.view())?,
    ))
}

/// Two classes of `per_class` samples in dimension p: x = (μ_a + z)/√p with μ_a = ±2·1 on the first 8 coordinates
/// and z with independent entries drawn by a fixed linear congruential sequence mapped through Box–Muller.
pub fn two_clouds(per_class: usize, p: usize) -> (Array2<f64>, Array1<i64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal =
        move || (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
    let n = 2 * per_class;
    let labels = Array1::from_shape_fn(n, |i| (i / per_class) as i64);
    let x = Array2::from_shape_fn((n, p), |(i, j)| {
        let mean = if j < 8 {
            2.0 - 4.0 * labels[i] as f64
        } else {
            0.0
        };
        (mean + normal()) / (p as f64).sqrt()
    });
    (x, labels)
}
