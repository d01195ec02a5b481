//! How much a kernel's spectrum moves when the kernel is held and solved in f32 instead of f64: the top
//! eigenvalues by block Lanczos and the spectral density by SLQ (same probes), each computed in its own
//! precision from the kernel `deqk kernel` wrote in that precision, and the distance between the matrices.
//!
//! ```sh
//! deqk kernel --model deq --activation relu --kind ck --input X.npy --out K64.npy --dtype f64
//! deqk kernel --model deq --activation relu --kind ck --input X.npy --out K32.npy --dtype f32
//! cargo run --release --features io --example f32_vs_f64_spectrum -- K64.npy K32.npy [top] [probes] [steps]
//! ```
//!
//! Prints one JSON object (docs/benchmarks.md, "One machine at its limit").

use deq_kernels::eigen::lanczos::{lanczos, Extreme, LanczosParams};
use deq_kernels::eigen::slq::{slq, SlqParams};
use deq_kernels::eigen::spectrum::{relative_frobenius, wasserstein1_weighted};
use deq_kernels::eigen::EigenScalar;
use deq_kernels::npy;
use ndarray::ArrayView2;

struct Spectrum {
    top: Vec<f64>,
    density: Vec<(f64, f64)>,
}

fn spectrum<T: EigenScalar>(
    k: ArrayView2<T>,
    top: usize,
    probes: usize,
    steps: usize,
) -> deq_kernels::Result<Spectrum> {
    let (d, _) = lanczos(&k, &LanczosParams::new(top, Extreme::Largest)?)?;
    let q = slq(&k, &SlqParams::new(probes, steps)?)?;
    Ok(Spectrum {
        top: d.values.iter().map(|v| v.to_f64()).collect(),
        density: q.sorted(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: f32_vs_f64_spectrum K64.npy K32.npy [top] [probes] [steps]".into());
    }
    let arg = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (top, probes, steps) = (arg(3, 20)?, arg(4, 10)?, arg(5, 80)?);
    let k64 = npy::read_matrix_as::<f64>(args[1].as_ref())?;
    let k32 = npy::read_matrix_as::<f32>(args[2].as_ref())?;
    let s64 = spectrum(k64.view(), top, probes, steps)?;
    let s32 = spectrum(k32.view(), top, probes, steps)?;
    let widened = k32.mapv(f64::from);
    let rel_frobenius = relative_frobenius(widened.view(), k64.view())?;
    drop(widened);
    let largest = s64.top.iter().fold(0f64, |m, v| m.max(v.abs()));
    let rel_top: Vec<f64> = s64
        .top
        .iter()
        .zip(&s32.top)
        .map(|(a, b)| (a - b).abs() / a.abs())
        .collect();
    let max_rel_top = rel_top.iter().fold(0f64, |m, &v| m.max(v));
    let max_abs_top = s64
        .top
        .iter()
        .zip(&s32.top)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    let w1 = wasserstein1_weighted(&s32.density, &s64.density)?;
    let (lo, hi) = s64
        .density
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(x, _)| {
            (l.min(x), h.max(x))
        });
    println!(
        "{}",
        serde_json::json!({
            "n": k64.nrows(), "top": top, "probes": probes, "steps": steps,
            "relative_frobenius_k32_k64": rel_frobenius,
            "top_f64": s64.top, "top_f32": s32.top,
            "max_relative_top_difference": max_rel_top,
            "max_top_difference_over_largest": max_abs_top / largest,
            "slq_wasserstein1": w1, "slq_support_width": hi - lo,
            "slq_wasserstein1_over_width": w1 / (hi - lo),
        })
    );
    Ok(())
}
