//! Times the explicit CK + NTK of benches/explicit_kernels.rs (depth 3, σ_w² = 1, σ_b² = 0.1, f64, Gram matrix
//! included) on data from a `.npy` file: one untimed warm-up call, then REPS timed calls in this process, and
//! prints one JSON line with their median. benches/run_nt_interleaved.sh alternates it with neural-tangents.
//! Run: cargo run --release --features io --example time_explicit_kernels -- X.npy relu [REPS]
#[path = "timing/mod.rs"]
mod timing;

use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;

fn main() -> deq_kernels::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(name)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: time_explicit_kernels X.npy ACTIVATION [REPS]");
        std::process::exit(2);
    };
    let reps: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let x = deq_kernels::npy::read_matrix(std::path::Path::new(path))?;
    let params = MlpParams::new(parse_activation(name)?, 3, 1.0, 0.1)?;
    let run = || mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress);
    let timing = timing::median_of_calls(reps, run)?;
    println!(
        "{{\"n\": {}, \"activation\": \"{name}\", {timing}}}",
        x.nrows()
    );
    Ok(())
}
