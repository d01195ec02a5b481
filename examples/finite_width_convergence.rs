//! ‖empirical − exact‖₂ of the finite-width DEQ's CK and NTK against the width m (ReLU, σ_a² = 0.2, the paper's
//! mixture with p = 256, n = 204, 4 draws — the setting of math §8), fixed point and 30 unrolled iterations.
//!
//! Run: cargo run --release --example finite_width_convergence
use deq_kernels::activation::Builtin;
use deq_kernels::eigen::spectrum::operator_norm_distance;
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::network::empirical::{deq_empirical, EmpiricalParams};
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;

fn main() -> deq_kernels::Result<()> {
    let (x, _) = GaussianMixture::paper(256)?.sample(1)?;
    let params = DeqParams::new(Builtin::Relu, 0.2)?;
    let ([g, k], _) =
        deq_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)?;
    println!("| m | CK (fixed point) | NTK (fixed point) | CK (30 unrolled) |");
    println!("|---|---|---|---|");
    for m in [500, 1000, 2000, 4000, 8000] {
        let mut row = format!("| {m} |");
        for (kind, exact, unrolled) in [
            (Kernel::Ck, &g, false),
            (Kernel::Ntk, &k, false),
            (Kernel::Ck, &g, true),
        ] {
            let mut emp = EmpiricalParams::new(m, 4)?.with_seed(7);
            if unrolled {
                emp = emp.unrolled(30);
            }
            let (empirical, _) = deq_empirical::<f64>(&params, x.view(), kind, &emp, &NoProgress)?;
            row.push_str(&format!(
                " {:.3} |",
                operator_norm_distance(empirical.view(), exact.view())?
            ));
        }
        println!("{row}");
    }
    Ok(())
}
