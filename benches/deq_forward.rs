//! The finite-width DEQ's forward pass (math §8): Z = φ(σ_a·ZAᵀ + σ_b·XBᵀ)/√m for n = 10000 samples of the
//! paper's mixture (p = 784) at widths m ∈ {1024, 4096}, Anderson to a residual of 1e-8; throughput in flop/s
//! (2nm² per iteration plus 2nmp for the injection), next to faer's matrix product on 4096×4096 matrices — this
//! machine's GEMM peak as the crate reaches it — measured in the same run. `DEQK_FORWARD_N` and
//! `DEQK_FORWARD_WIDTHS` change the sizes.

use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::network::{DeqNetwork, Weights};
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::solve::AndersonParams;

fn env_list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn forward(c: &mut Criterion) {
    let n = env_list("DEQK_FORWARD_N", &[10000])[0];
    let p = 784;
    let (x, _) = GaussianMixture::paper_with_n(p, n)
        .unwrap()
        .sample(7)
        .unwrap();
    let params = DeqParams::new(parse_activation("relu").unwrap(), 0.2).unwrap();
    let anderson = AndersonParams::new(5, 1.0, 1e-8, 500).unwrap();

    let mut group = c.benchmark_group("gemm_peak");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    let k = 4096;
    let a = faer::Mat::<f64>::from_fn(k, k, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1);
    let b = faer::Mat::<f64>::from_fn(k, k, |i, j| ((i + 2 * j) % 13) as f64 * 0.1);
    let mut out = faer::Mat::<f64>::zeros(k, k);
    group.throughput(Throughput::Elements(2 * (k as u64).pow(3)));
    group.bench_function(BenchmarkId::new("faer_matmul", k), |bch| {
        bch.iter(|| {
            faer::linalg::matmul::matmul(
                out.as_mut(),
                faer::Accum::Replace,
                a.as_ref(),
                b.as_ref(),
                1.0,
                faer::Par::rayon(0),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("deq_forward_n{n}_p{p}"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(30));
    for m in env_list("DEQK_FORWARD_WIDTHS", &[1024, 4096]) {
        let net = DeqNetwork::sample(&params, x.view(), m, Weights::Gaussian, 1).unwrap();
        let iterations = net.forward(x.view(), &anderson).unwrap().report.iterations as u64;
        let (nn, mm, pp) = (n as u64, m as u64, p as u64);
        // One product per map evaluation, one more for H at the fixed point, and the injection.
        group.throughput(Throughput::Elements(
            (iterations + 1) * 2 * nn * mm * mm + 2 * nn * mm * pp,
        ));
        eprintln!("m = {m}: {iterations} Anderson iterations");
        group.bench_with_input(BenchmarkId::new("relu", m), &m, |bch, _| {
            bch.iter(|| net.forward(x.view(), &anderson).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
