//! Exact CK + NTK of a depth-3 fully connected network (math §4) on the paper's Gaussian mixture with
//! p = 784, f64, for relu, erf, tanh and gelu. Sizes default to n ∈ {1000, 4000, 10000}; set
//! `DEQK_BENCH_SIZES=1000,4000` to choose. Results and the neural-tangents comparison: docs/benchmarks.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;

fn sizes() -> Vec<usize> {
    std::env::var("DEQK_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 4000, 10000])
}

fn explicit_ck_ntk(c: &mut Criterion) {
    let p = 784;
    for n in sizes() {
        let (x, _) = GaussianMixture::paper_with_n(p, n)
            .unwrap()
            .sample(7)
            .unwrap();
        let mut group = c.benchmark_group(format!("explicit_ck_ntk_depth3_p{p}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(if n >= 10000 { 60 } else { 10 }));
        for name in ["relu", "erf", "tanh", "gelu"] {
            let params = MlpParams::new(parse_activation(name).unwrap(), 3, 1.0, 0.1).unwrap();
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, explicit_ck_ntk);
criterion_main!(benches);
