//! A random SIM's CK against a DEQ's on the Gaussian mixture of math §6 (docs/sim.md §Infinite width):
//! each kernel is centred (PKP, P = I − 11ᵀ/n, which removes the constant mode the DEQ's centred activation
//! already lacks) and scaled to unit mean eigenvalue, then compared by relative operator-norm distance and by
//! the Wasserstein-1 distance of the spectra, with the spectra drawn in one figure. Then a grid over the random
//! SIM's σ_w², σ_b² and (two tiers) bandwidth looks for the closest match to the DEQ's CK.
//!
//! cargo run --release --features plot --example sim_vs_deq -- docs/figures/sim_vs_deq_ck.png

use deq_kernels::activation::Builtin;
use deq_kernels::eigen::spectrum::{relative_operator_norm_distance, wasserstein1};
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::plot::{spectra, SpectrumSeries};
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::sim::kernel::{sim_kernels, SimVariances};
use deq_kernels::sim::{FourierFeatures, FrequencyLaw, RffParams, SimParams, Tier};
use ndarray::{Array2, Axis};

fn centred_unit_trace(k: Array2<f64>) -> Array2<f64> {
    let n = k.nrows() as f64;
    let rows = k.mean_axis(Axis(1)).expect("n > 0");
    let all = rows.mean().expect("n > 0");
    let mut c = k;
    for ((i, j), v) in c.indexed_iter_mut() {
        *v += all - rows[i] - rows[j];
    }
    let trace: f64 = c.diag().sum();
    c / (trace / n)
}

fn main() -> Result<(), deq_kernels::Error> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sim_vs_deq_ck.png".into());
    let (x, _) = GaussianMixture::paper(512)?.sample(0)?;
    let p = x.ncols();
    let ([deq], _) = deq_kernels::<f64, 1>(
        &DeqParams::new(Builtin::Relu, 0.2)?,
        x.view(),
        [Kernel::Ck],
        &NoProgress,
    )?;
    let v = SimVariances::default();
    let [sim1] = sim_kernels::<f64, 1>(
        &SimParams::single(p, 1),
        &v,
        x.view(),
        [Kernel::Ck],
        &NoProgress,
    )?;
    let two = SimParams::single(p, 1)
        .with_tier(Tier::Two(RffParams::new(
            2,
            10.0,
            FrequencyLaw::Gaussian,
            FourierFeatures::CosSin,
        )?))
        .with_rank(1);
    let [sim2] = sim_kernels::<f64, 1>(&two, &v, x.view(), [Kernel::Ck], &NoProgress)?;
    let ([mlp], _) = mlp_kernels::<f64, 1>(
        &MlpParams::new(Builtin::Relu, 2, 2.0, 0.1)?,
        x.view(),
        [Kernel::Ck],
        &NoProgress,
    )?;
    let named = [
        ("DEQ relu σ_a²=0.2", centred_unit_trace(deq)),
        ("SIM one tier", centred_unit_trace(sim1)),
        ("SIM two tiers bw=10", centred_unit_trace(sim2)),
        ("ReLU MLP depth 2", centred_unit_trace(mlp)),
    ];
    let values: Vec<Vec<f64>> = named
        .iter()
        .map(|(_, k)| FaerEigen::default().eigenvalues(k.view()))
        .collect::<Result<_, _>>()?;
    println!(
        "n = {}, p = {p}; kernels centred and scaled to unit mean eigenvalue",
        x.nrows()
    );
    println!(
        "{:<22} {:>26} {:>22}",
        "model", "relative ‖K − K_DEQ‖₂", "W₁(spectra)"
    );
    for ((name, k), w) in named.iter().zip(&values).skip(1) {
        println!(
            "{name:<22} {:>26.4} {:>22.4}",
            relative_operator_norm_distance(k.view(), named[0].1.view())?,
            wasserstein1(w, &values[0])?
        );
    }
    let series: Vec<SpectrumSeries> = named
        .iter()
        .zip(&values)
        .map(|((name, _), w)| SpectrumSeries {
            label: name,
            values: w,
            weights: None,
        })
        .collect();
    spectra(
        std::path::Path::new(&out),
        "CK spectra, centred, unit mean eigenvalue",
        &series,
        60,
        true,
    )?;
    println!("wrote {out}");

    let target = &named[0].1;
    println!(
        "closest random SIMs over σ_w² ∈ {{0.25, 0.5, 1, 2}} and σ_b² ∈ {{0, 0.1, 0.3, 1, 3, 10}}:"
    );
    for bandwidth in [
        None,
        Some(1.0),
        Some(3.0),
        Some(10.0),
        Some(30.0),
        Some(100.0),
    ] {
        let mut params = SimParams::single(p, 1).with_rank(1);
        if let Some(bw) = bandwidth {
            params = params.with_tier(Tier::Two(RffParams::new(
                2,
                bw,
                FrequencyLaw::Gaussian,
                FourierFeatures::CosSin,
            )?));
        }
        let mut best = (f64::INFINITY, (0.0, 0.0));
        for sigma_w2 in [0.25, 0.5, 1.0, 2.0] {
            for sigma_b2 in [0.0, 0.1, 0.3, 1.0, 3.0, 10.0] {
                let v = SimVariances {
                    sigma_w2,
                    sigma_b2,
                    ..SimVariances::default()
                };
                let [k] = sim_kernels::<f64, 1>(&params, &v, x.view(), [Kernel::Ck], &NoProgress)?;
                let d =
                    relative_operator_norm_distance(centred_unit_trace(k).view(), target.view())?;
                if d < best.0 {
                    best = (d, (sigma_w2, sigma_b2));
                }
            }
        }
        let tier = bandwidth.map_or("one tier".to_string(), |bw| format!("two tiers, bw = {bw}"));
        println!(
            "  {tier:<22} σ_w² = {}, σ_b² = {:<5} relative ‖K − K_DEQ‖₂ = {:.4}",
            best.1 .0, best.1 .1, best.0
        );
    }
    Ok(())
}
