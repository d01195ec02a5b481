//! ‖empirical − exact‖₂ of the finite-width DEQ's CK and NTK against the width m (ReLU, σ_a² = 0.2, the paper's
//! mixture with p = 256, n = 204, 4 draws — the setting of SPEC §8), fixed point and 30 unrolled iterations.
//!
//! Run: cargo run --release --example finite_width_convergence
use std::sync::Arc;

use deq_kernels::activation::parse_activation;
use deq_kernels::eigen::spectrum::operator_norm_distance;
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams, ImplicitWhich};
use deq_kernels::kernel::NoProgress;
use deq_kernels::network::empirical::{deq_empirical, EmpiricalKind, EmpiricalParams};
use deq_kernels::rmt::gmm::GaussianMixture;

fn main() {
    let (x, _) = GaussianMixture::paper(256).unwrap().sample(1).unwrap();
    let params = DeqParams::new(Arc::new(parse_activation("relu").unwrap()), 0.2).unwrap();
    let which = ImplicitWhich {
        nngp: false,
        ck: true,
        ntk: true,
    };
    let exact = deq_kernels::<f64>(&params, x.view(), which).unwrap();
    println!("| m | CK (fixed point) | NTK (fixed point) | CK (30 unrolled) |");
    println!("|---|---|---|---|");
    for m in [500, 1000, 2000, 4000, 8000] {
        let mut row = format!("| {m} |");
        for (kind, exact, unrolled) in [
            (EmpiricalKind::Ck, exact.ck.as_ref().unwrap(), false),
            (EmpiricalKind::Ntk, exact.ntk.as_ref().unwrap(), false),
            (EmpiricalKind::Ck, exact.ck.as_ref().unwrap(), true),
        ] {
            let mut emp = EmpiricalParams::new(m, 4).unwrap().with_seed(7);
            if unrolled {
                emp = emp.unrolled(30);
            }
            let k = deq_empirical::<f64>(&params, x.view(), kind, &emp, &NoProgress).unwrap();
            row.push_str(&format!(
                " {:.3} |",
                operator_norm_distance(k.matrix.view(), exact.view()).unwrap()
            ));
        }
        println!("{row}");
    }
}
