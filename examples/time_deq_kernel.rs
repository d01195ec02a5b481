//! Times the DEQ's Implicit-NTK K* (ReLU, σ_a² = 0.2, σ_b² = 0.8, φ centered at τ*, f64) on data from a `.npy`
//! file: one untimed warm-up call, then REPS timed calls in this process, and prints one JSON line with their
//! median. benches/run_python_interleaved.sh alternates it with the same call from Python.
//! Run: cargo run --release --features io --example time_deq_kernel -- X.npy [REPS]
#[path = "timing/mod.rs"]
mod timing;

use deq_kernels::activation::Builtin;
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;

fn main() -> deq_kernels::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: time_deq_kernel X.npy [REPS]");
        std::process::exit(2);
    };
    let reps: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let x = deq_kernels::npy::read_matrix(std::path::Path::new(path))?;
    let params = DeqParams::new(Builtin::Relu, 0.2)?;
    let run = || deq_kernels::<f64, 1>(&params, x.view(), [Kernel::Ntk], &NoProgress);
    let timing = timing::median_of_calls(reps, run)?;
    println!("{{\"n\": {}, {timing}}}", x.nrows());
    Ok(())
}
