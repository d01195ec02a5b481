//! Exact CK and NTK of a depth-3 tanh network on the paper's Gaussian mixture, with their extreme
//! eigenvalues. Run: cargo run --release --example explicit_kernels
use std::sync::Arc;

use deq_kernels::activation::{parse_activation, ScaleMoments};
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams, Which};
use deq_kernels::rmt::gmm::GaussianMixture;

fn main() -> deq_kernels::Result<()> {
    let (x, _labels) = GaussianMixture::paper(256)?.sample(1)?;
    let tanh = Arc::new(parse_activation("tanh")?);
    let m = ScaleMoments::compute(&tanh, 1.0)?;
    println!(
        "tanh at τ = 1: m1 = {:.6}, v = {:.6}, d = {:.6}",
        m.m1,
        m.v,
        m.d.unwrap_or(f64::NAN)
    );

    let params = MlpParams::new(tanh, 3, 1.0, 0.1)?;
    let k = mlp_kernels::<f64>(&params, x.view(), Which::BOTH)?;
    for (name, mat) in [("CK", k.ck.as_ref()), ("NTK", k.ntk.as_ref())] {
        let mat = mat.expect("requested");
        let w = FaerEigen.eigenvalues(mat.view())?;
        println!(
            "{name}: n = {}, λ_min = {:.4e}, λ_max = {:.4}",
            mat.nrows(),
            w[0],
            w[w.len() - 1]
        );
    }
    println!("Hermite terms per layer: {:?}", k.series_terms);
    Ok(())
}
