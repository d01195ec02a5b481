//! Exact CK and NTK of a depth-3 tanh network on the paper's Gaussian mixture, with their extreme
//! eigenvalues. Run: cargo run --release --example explicit_kernels
use deq_kernels::activation::{Builtin, ScaleMoments};
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;

fn main() -> deq_kernels::Result<()> {
    let (x, _labels) = GaussianMixture::paper(256)?.sample(1)?;
    let m = ScaleMoments::compute(&Builtin::Tanh, 1.0)?;
    println!(
        "tanh at τ = 1: m1 = {:.6}, v = {:.6}, d = {:.6}",
        m.m1,
        m.v,
        m.d.unwrap_or(f64::NAN)
    );

    let params = MlpParams::new(Builtin::Tanh, 3, 1.0, 0.1)?;
    let (kernels, report) =
        mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)?;
    for (name, mat) in ["CK", "NTK"].iter().zip(&kernels) {
        let w = FaerEigen::default().eigenvalues(mat.view())?;
        println!(
            "{name}: n = {}, λ_min = {:.4e}, λ_max = {:.4}",
            mat.nrows(),
            w[0],
            w[w.len() - 1]
        );
    }
    println!("Hermite terms per layer: {:?}", report.series_terms);
    Ok(())
}
