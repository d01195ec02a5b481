//! Implicit-CK + Implicit-NTK of the DEQ (math §5, σ_a² = 0.2, σ_b² = 0.8, φ centered at τ*) on the paper's
//! Gaussian mixture with p = 784, f64, Gram matrix included, for relu and tanh; and the reference outer
//! iteration Σ ← σ_a²F(Σ) + σ_b²XXᵀ over whole matrices on the same data.
//!
//! Sizes: `DEQK_BENCH_SIZES` (default 1000,4000,10000,20000) for the per-entry path,
//! `DEQK_BENCH_REFERENCE_SIZES` (default 1000,4000) for the outer iteration. Results: docs/benchmarks.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::implicit::{deq_kernels, deq_kernels_reference, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;

fn sizes(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

const P: usize = 784;
const ACTIVATIONS: [&str; 2] = ["relu", "tanh"];

fn params(name: &str) -> DeqParams {
    DeqParams::new(parse_activation(name).unwrap(), 0.2).unwrap()
}

fn implicit_ck_ntk(c: &mut Criterion) {
    for n in sizes("DEQK_BENCH_SIZES", &[1000, 4000, 10000, 20000]) {
        let (x, _) = GaussianMixture::paper_with_n(P, n)
            .unwrap()
            .sample(7)
            .unwrap();
        let mut group = c.benchmark_group(format!("implicit_ck_ntk_p{P}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(if n >= 10000 { 60 } else { 10 }));
        for name in ACTIVATIONS {
            let p = params(name);
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    deq_kernels::<f64, 2>(&p, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

fn reference_iteration(c: &mut Criterion) {
    for n in sizes("DEQK_BENCH_REFERENCE_SIZES", &[1000, 4000]) {
        let (x, _) = GaussianMixture::paper_with_n(P, n)
            .unwrap()
            .sample(7)
            .unwrap();
        let mut group = c.benchmark_group(format!("implicit_reference_iteration_p{P}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(10));
        for name in ACTIVATIONS {
            let p = params(name);
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| deq_kernels_reference(&p, x.view(), 1e-12).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, implicit_ck_ntk, reference_iteration);
criterion_main!(benches);
