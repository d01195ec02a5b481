//! One DEQ Implicit-CK + Implicit-NTK computation at scale, with its time, fixed-point diagnostics and the
//! process's peak resident memory; optionally the outer-iteration reference on the same data and the largest
//! difference between the two.
//!
//! Run: cargo run --release --example implicit_vs_reference -- [n] [activation] [--reference]
use std::time::Instant;

use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::implicit::{deq_kernels, deq_kernels_reference, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;

/// Peak resident set size of this process in bytes (Linux: ru_maxrss is in KiB).
fn peak_rss_bytes() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as f64 * 1024.0
}

fn main() -> deq_kernels::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let name = args.get(2).map(String::as_str).unwrap_or("relu");
    let reference = args.iter().any(|a| a == "--reference");
    let (x, _) = GaussianMixture::paper_with_n(784, n)?.sample(7)?;
    let params = DeqParams::new(parse_activation(name)?, 0.2)?;
    let before = peak_rss_bytes();
    let t = Instant::now();
    let ([fast_g, fast_k], r) =
        deq_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)?;
    let seconds = t.elapsed().as_secs_f64();
    let peak = peak_rss_bytes();
    println!(
        "{name} n={n} p=784: CK+NTK {seconds:.2} s, max residual {:.1e}, mean Newton iterations {:.2}, \
         peak RSS {:.2} GB = {:.2}·n²·8 B (data and process before: {:.2} GB)",
        r.max_residual,
        r.mean_iterations,
        peak / 1e9,
        peak / (n as f64 * n as f64 * 8.0),
        before / 1e9,
    );
    if reference {
        let t = Instant::now();
        let (_, g, k) = deq_kernels_reference(&params, x.view(), 1e-12)?;
        let t_ref = t.elapsed().as_secs_f64();
        let diff = |a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>| {
            a.iter()
                .zip(b.iter())
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f64::max)
        };
        println!(
            "  outer iteration {t_ref:.2} s ({:.1}× slower); max |ΔG*| {:.1e}, max |ΔK*| {:.1e}",
            t_ref / seconds,
            diff(&fast_g, &g),
            diff(&fast_k, &k)
        );
    }
    Ok(())
}
