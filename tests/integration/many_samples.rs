//! Kernel matrices with hundreds of samples whose norms differ widely: the per-sample Hermite tables and the
//! diagonal of the implicit kernels then come from Chebyshev fits over the samples' scales, and Mehler sums are
//! cut where |ρ|^K meets the tolerance. Entries are checked against direct computations that use neither
//! (2-D quadrature of every dual kernel, per-entry fixed points).

use crate::common::gaussian_data;
use deq_kernels::activation::{
    dual_kernel, dual_kernel_derivative, parse_activation, ActivationRef, Centered, Cov2, Custom,
};
use deq_kernels::eigen::testing::uniform_stream;
use deq_kernels::kernel::explicit::{mlp_kernel_pair, mlp_kernels, MlpParams};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::{gram, Kernel};
use deq_kernels::progress::NoProgress;
use ndarray::Array2;

/// n samples with squared norms spread over [0.2, 3] (so the fitted interval is wide), plus a near-copy and
/// the negation of sample 0 (correlations at ±1, where the series needs all its terms or the fallback).
fn spread_data(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut x = gaussian_data(n, p, 1.0, seed);
    let mut uniform = uniform_stream(seed + 1);
    for mut row in x.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row *= (0.2 + 2.8 * (uniform() + 0.5)).sqrt() / norm;
    }
    for j in 0..p {
        x[[n - 1, j]] = -x[[0, j]];
        x[[n - 2, j]] = x[[0, j]] * (1.0 + 1e-9 * j as f64);
    }
    x
}

/// Pairs to check: random ones, the diagonal of a few rows, and the pairs at correlation ±1.
fn pairs(n: usize, count: usize, seed: u64) -> Vec<(usize, usize)> {
    let mut uniform = uniform_stream(seed);
    let mut v: Vec<(usize, usize)> = (0..count)
        .map(|_| {
            let i = ((uniform() + 0.5) * n as f64) as usize;
            let j = ((uniform() + 0.5) * (i + 1) as f64) as usize;
            (i, j)
        })
        .collect();
    v.extend([(3, 3), (n - 1, 0), (n - 2, 0), (n - 1, n - 2)]);
    v
}

fn softsign() -> ActivationRef {
    Custom::new("softsign", |x: f64| x / (1.0 + x.abs()))
        .with_derivative(|x: f64| 1.0 / (1.0 + x.abs()).powi(2))
        .with_kinks(&[0.0])
        .into()
}

#[test]
fn explicit_kernels_with_fitted_tables_equal_direct_pairs() {
    let n = 400;
    let x = spread_data(n, 30, 5);
    let g = gram(x.view()).unwrap();
    let mut acts: Vec<ActivationRef> = ["tanh", "gelu", "softplus", "sigmoid", "elu:0.8", "sin"]
        .iter()
        .map(|s| parse_activation(s).unwrap().into())
        .collect();
    acts.push(softsign());
    for act in acts {
        let params = MlpParams::new(act.clone(), 2, 1.3, 0.1).unwrap();
        let ([ck, ntk], _) =
            mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)
                .unwrap();
        for (i, j) in pairs(n, 40, 9) {
            let (_, c, t) = mlp_kernel_pair(&params, g[[i, i]], g[[j, j]], g[[i, j]]).unwrap();
            let t = t.unwrap();
            assert!(
                (ck[[i, j]] - c).abs() <= 1e-11 * c.abs().max(1.0),
                "{}: CK ({i},{j}) {} vs {c}",
                act.name(),
                ck[[i, j]]
            );
            // elu's σ′ jumps at 0, so its k̇ has slope ~1/√(1−ρ²) at the duplicated pair (see
            // tests/integration/explicit_kernels.rs): a last-bit difference there moves the NTK by ~1e-9.
            let tol = if act.name().starts_with("elu") {
                1e-8
            } else {
                1e-11
            };
            assert!(
                (ntk[[i, j]] - t).abs() <= tol * t.abs().max(1.0),
                "{}: NTK ({i},{j}) {} vs {t}",
                act.name(),
                ntk[[i, j]]
            );
        }
    }
}

/// Σ* of one entry by plain fixed-point iteration on 2-D quadratures: the diagonal first, then the pair.
fn entry_by_iteration(act: &ActivationRef, a: f64, b: [f64; 3]) -> (f64, f64, f64) {
    // Iterate x ← g(x) until it stops moving (the maps contract by a·E[φ′φ′] ≲ 0.2 here).
    let iterate = |start: f64, g: &dyn Fn(f64) -> f64| {
        let mut x = start;
        for _ in 0..500 {
            let next = g(x);
            if (next - x).abs() <= 1e-16 * x.abs().max(1.0) {
                return next;
            }
            x = next;
        }
        panic!("no fixed point from {start}");
    };
    let diag = |bi: f64| {
        iterate(bi, &|v| {
            a * dual_kernel(act, &Cov2::new(v, v, v).unwrap()) + bi
        })
    };
    let (vi, vj) = (diag(b[0]), diag(b[1]));
    let y = iterate(b[2], &|y| {
        a * dual_kernel(act, &Cov2::new(vi, vj, y).unwrap()) + b[2]
    });
    let c = Cov2::new(vi, vj, y).unwrap();
    (
        y,
        dual_kernel(act, &c),
        dual_kernel_derivative(act, &c).unwrap(),
    )
}

#[test]
fn implicit_kernels_with_fitted_diagonal_equal_per_entry_iteration() {
    let n = 300;
    let x = spread_data(n, 20, 15);
    let g = gram(x.view()).unwrap();
    for (name, act) in [
        ("tanh", parse_activation("tanh").unwrap().into()),
        ("softsign", softsign()),
    ] {
        let (sa2, sb2) = (0.3, 0.7);
        let params = DeqParams::new(act.clone(), sa2).unwrap();
        let ([s, ck, ntk], report) = deq_kernels::<f64, 3>(
            &params,
            x.view(),
            [Kernel::Nngp, Kernel::Ck, Kernel::Ntk],
            &NoProgress,
        )
        .unwrap();
        let phi: ActivationRef = Centered::new(act, report.centering).into();
        for (i, j) in pairs(n, 12, 21) {
            let (y, f, fd) = entry_by_iteration(
                &phi,
                sa2,
                [sb2 * g[[i, i]], sb2 * g[[j, j]], sb2 * g[[i, j]]],
            );
            let t = f / (1.0 - sa2 * fd);
            for (what, got, want) in [
                ("Σ*", s[[i, j]], y),
                ("G*", ck[[i, j]], f),
                ("K*", ntk[[i, j]], t),
            ] {
                assert!(
                    (got - want).abs() <= 1e-11 * want.abs().max(1.0),
                    "{name} {what} ({i},{j}): {got} vs {want}"
                );
            }
        }
    }
}
