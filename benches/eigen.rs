//! Dense symmetric eigensolvers on kernel matrices (the one-layer ReLU CK of the paper's Gaussian mixture with
//! p = n/2, f64): all eigenvalues and all eigenpairs by faer and by LAPACK's drivers; the 20 largest pairs by
//! block Lanczos; the spectral density by stochastic Lanczos quadrature.
//!
//! Sizes: `DEQK_EIG_SIZES` (default 1000,2000,4000,8000) for the dense solvers and Lanczos,
//! `DEQK_SLQ_SIZES` (default 20000) for the density; `DEQK_EIG_BACKENDS` (default all of faer, dsyevd,
//! dsyevd_2stage, dsyevr) limits the dense solvers, since ten samples of each at n = 8000 take most of an hour. With `DEQK_EIG_DATA=DIR` the matrices are also written
//! to DIR/K<n>.npy for benches/eig_scipy.py. Results: docs/benchmarks.md.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use deq_kernels::activation::parse_activation;
use deq_kernels::eigen::lanczos::{lanczos, Extreme, LanczosParams};
use deq_kernels::eigen::slq::{slq, SlqParams};
use deq_kernels::eigen::{EigenRequest, FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams, Which};
use deq_kernels::rmt::gmm::GaussianMixture;
use ndarray::Array2;

fn sizes(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn kernel(n: usize) -> Array2<f64> {
    let (x, _) = GaussianMixture::paper_with_n(n / 2, n)
        .unwrap()
        .sample(7)
        .unwrap();
    let p = MlpParams::new(Arc::new(parse_activation("relu").unwrap()), 1, 1.0, 0.0).unwrap();
    let k = mlp_kernels::<f64>(&p, x.view(), Which::CK)
        .unwrap()
        .ck
        .unwrap();
    if let Ok(dir) = std::env::var("DEQK_EIG_DATA") {
        let path = std::path::Path::new(&dir).join(format!("K{n}.npy"));
        deq_kernels::npy::write_matrix(&path, &k, true).unwrap();
    }
    k
}

fn solvers() -> Vec<(&'static str, Box<dyn SymmetricEigensolver<f64>>)> {
    let wanted = std::env::var("DEQK_EIG_BACKENDS").ok();
    let keep = |name: &str| {
        wanted
            .as_deref()
            .is_none_or(|w| w.split(',').any(|t| t.trim() == name))
    };
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, Box<dyn SymmetricEigensolver<f64>>)> =
        vec![("faer", Box::new(FaerEigen))];
    #[cfg(feature = "openblas")]
    {
        use deq_kernels::eigen::{LapackDriver, LapackEigen};
        v.push((
            "dsyevd",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevd)),
        ));
        v.push((
            "dsyevd_2stage",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevd2Stage)),
        ));
        v.push((
            "dsyevr",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevr)),
        ));
    }
    v.retain(|(name, _)| keep(name));
    v
}

fn dense(c: &mut Criterion) {
    for n in sizes("DEQK_EIG_SIZES", &[1000, 2000, 4000, 8000]) {
        let k = kernel(n);
        for (kind, request) in [
            ("values", EigenRequest::values()),
            ("pairs", EigenRequest::pairs()),
        ] {
            let mut group = c.benchmark_group(format!("eig_{kind}"));
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(1));
            group.measurement_time(Duration::from_secs(5));
            for (name, s) in solvers() {
                if kind == "pairs" && name == "dsyevd_2stage" {
                    continue;
                }
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                    b.iter(|| s.solve(k.view(), &request).unwrap())
                });
            }
            group.finish();
        }
        let mut group = c.benchmark_group("lanczos_top20");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(5));
        let params = LanczosParams::new(20, Extreme::Largest).unwrap();
        group.bench_with_input(BenchmarkId::new("block8", n), &n, |b, _| {
            b.iter(|| lanczos(&k.view(), &params).unwrap())
        });
        group.finish();
    }
}

fn density(c: &mut Criterion) {
    for n in sizes("DEQK_SLQ_SIZES", &[20000]) {
        let k = kernel(n);
        let mut group = c.benchmark_group("slq_density");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(5));
        let params = SlqParams::new(10, 80).unwrap();
        group.bench_with_input(BenchmarkId::new("probes10_steps80", n), &n, |b, _| {
            b.iter(|| slq(&k.view(), &params).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, dense, density);
criterion_main!(benches);
