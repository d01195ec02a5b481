//! The DEQ's exact CK and NTK on MNIST digits {6, 8} against the designed explicit networks and an unmatched
//! two-layer ReLU network: relative operator-norm errors and Wasserstein-1 distances between spectra, for n from
//! 400 to 4000 (the table of docs/design.md).
//!
//! Run: cargo run --release --features io --example mnist_design -- ../shared/data/mnist [n1,n2,…]
use std::path::PathBuf;

use deq_kernels::activation::Builtin;
use deq_kernels::comparison::{compare, spectral_distances, ComparisonSettings};
use deq_kernels::data::{mnist, preprocess};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::progress::NoProgress;

fn main() -> deq_kernels::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("../shared/data/mnist"),
    );
    let sizes: Vec<usize> = args
        .get(2)
        .map(|s| s.split(',').filter_map(|t| t.parse().ok()).collect())
        .unwrap_or_else(|| vec![400, 1000, 2000, 4000]);
    let train = mnist::load(&dir, mnist::Split::Train)?;
    let deq = DeqParams::new(Builtin::Relu, 0.2)?;
    let settings = ComparisonSettings::default().with_finite_width(None);
    println!("| n | kernel | designed: ‖·‖₂ rel. | designed: W₁ | unmatched: ‖·‖₂ rel. | unmatched: W₁ | ‖DEQ‖₂ |");
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        let mut d = train.select_classes(&[6, 8], Some(n / 2))?;
        preprocess(&mut d.x)?;
        let c = compare(
            &deq,
            d.x.view(),
            d.labels.view(),
            None,
            &settings,
            &NoProgress,
        )?;
        for (kind, set) in [("CK", &c.ck), ("NTK", &c.ntk)] {
            let s = spectral_distances(set)?;
            let w1 = |name: &str| {
                s.wasserstein1
                    .iter()
                    .find(|(pair, _)| pair.as_str() == format!("deq|{name}"))
                    .map_or(f64::NAN, |(_, v)| *v)
            };
            let rel = |name: &str| s.relative_operator_norm(name).unwrap_or(f64::NAN);
            println!(
                "| {} | {kind} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2} |",
                d.n(),
                rel("designed"),
                w1("designed"),
                rel("unmatched"),
                w1("unmatched"),
                s.norm
            );
        }
    }
    Ok(())
}
