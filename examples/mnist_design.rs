//! The DEQ's exact CK and NTK on MNIST digits {6, 8} against the designed explicit networks and an unmatched
//! two-layer ReLU network: relative operator-norm errors and Wasserstein-1 distances between spectra, for n from
//! 400 to 4000 (the table of docs/design.md).
//!
//! Run: cargo run --release --example mnist_design -- ../shared/data/mnist [n1,n2,…]
use std::path::PathBuf;
use std::sync::Arc;

use deq_kernels::activation::{parse_activation, ActivationRef};
use deq_kernels::data::{mnist, preprocess};
use deq_kernels::design::{
    deq_targets, family_by_name, match_family, network_layers, KernelKind, MatchParams,
};
use deq_kernels::eigen::spectrum::{operator_norm_distance, wasserstein1};
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams, Which};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams, ImplicitWhich};
use deq_kernels::rmt::equivalent::centered_layers;
use ndarray::Array2;

fn kernel(layers: Vec<ActivationRef>, frozen: bool, x: &Array2<f64>, ck: bool) -> Array2<f64> {
    let mut p = MlpParams::unit_variance(layers).unwrap();
    if frozen {
        p = p.with_frozen_first_layer();
    }
    let k = mlp_kernels::<f64>(&p, x.view(), if ck { Which::CK } else { Which::NTK }).unwrap();
    if ck {
        k.ck.unwrap()
    } else {
        k.ntk.unwrap()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("../shared/data/mnist"),
    );
    let sizes: Vec<usize> = args
        .get(2)
        .map(|s| s.split(',').map(|t| t.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![400, 1000, 2000, 4000]);
    let train = mnist::load(&dir, mnist::Split::Train).unwrap();
    let relu: ActivationRef = Arc::new(parse_activation("relu").unwrap());
    println!("| n | kernel | designed: ‖·‖₂ rel. | designed: W₁ | unmatched: ‖·‖₂ rel. | unmatched: W₁ | ‖DEQ‖₂ |");
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        let mut d = train.select_classes(&[6, 8], Some(n / 2)).unwrap();
        preprocess(&mut d.x).unwrap();
        let x = d.x;
        let tau0 = (x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64).sqrt();
        let which = ImplicitWhich {
            nngp: false,
            ck: true,
            ntk: true,
        };
        let deq = deq_kernels::<f64>(&DeqParams::new(relu.clone(), 0.2).unwrap(), x.view(), which)
            .unwrap();
        let plain = centered_layers(vec![relu.clone(); 2], tau0).unwrap();
        for (ck, family) in [(true, "lrelu2"), (false, "lrelu3")] {
            let kind = if ck { KernelKind::Ck } else { KernelKind::Ntk };
            let f = family_by_name(family, false).unwrap();
            let t = deq_targets(&relu, 0.2, 0.8, tau0, kind).unwrap();
            let r = match_family(f.as_ref(), &t, tau0, kind, &MatchParams::default()).unwrap();
            let sol = &r.solutions[0].params;
            let designed = kernel(network_layers(f.as_ref(), sol, tau0).unwrap(), !ck, &x, ck);
            let unmatched = kernel(plain.clone(), false, &x, ck);
            let exact = if ck {
                deq.ck.as_ref().unwrap()
            } else {
                deq.ntk.as_ref().unwrap()
            };
            let w = |m: &Array2<f64>| FaerEigen.eigenvalues(m.view()).unwrap();
            let (we, wd, wu) = (w(exact), w(&designed), w(&unmatched));
            let norm = we.last().copied().unwrap();
            println!(
                "| {} | {} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2} |",
                x.nrows(),
                if ck { "CK" } else { "NTK" },
                operator_norm_distance(designed.view(), exact.view()).unwrap() / norm,
                wasserstein1(&wd, &we).unwrap(),
                operator_norm_distance(unmatched.view(), exact.view()).unwrap() / norm,
                wasserstein1(&wu, &we).unwrap(),
                norm
            );
        }
    }
}
