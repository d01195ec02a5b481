//! Finite-width SIMs converging to their infinite-width CK (docs/sim.md §Infinite width): the relative Frobenius
//! error of one draw's empirical CK F·Fᵀ/m, averaged over 8 draws, at widths m = 64 … 2048 (basis width, d and
//! rev_dim = m; two tiers with D = 2m and bw² = m·β², β = 0.7), on 24 Gaussian inputs in p = 5.
//!
//! cargo run --release --example sim_finite_width

use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::sim::kernel::{sim_kernels, SimVariances};
use deq_kernels::sim::{Basis, FourierFeatures, FrequencyLaw, RffParams, Sim, SimParams, Tier};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let num: f64 = a.iter().zip(b.iter()).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

fn main() -> Result<(), deq_kernels::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = Array2::from_shape_simple_fn((24, 5), || {
        0.6 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
    });
    let v = SimVariances::default();
    println!("{:>6} {:>12} {:>12}", "m", "one tier", "two tiers");
    for m in [64usize, 128, 256, 512, 1024, 2048] {
        let mut row = Vec::new();
        for two in [false, true] {
            let tier = if two {
                Tier::Two(RffParams::new(
                    2 * m,
                    0.7 * (m as f64).sqrt(),
                    FrequencyLaw::Gaussian,
                    FourierFeatures::CosSin,
                )?)
            } else {
                Tier::Single
            };
            let params = SimParams::single(5, 3)
                .with_basis(Basis::Mlp { width: m })
                .with_basis_dim(m)
                .with_tier(tier)
                .with_rev_dim(m);
            let [want]: [Array2<f64>; 1] =
                sim_kernels(&params, &v, x.view(), [Kernel::Ck], &NoProgress)?;
            let draws = 8;
            let mut error = 0.0;
            for seed in 0..draws {
                let f = Sim::<f64>::gaussian(params, &v, 1000 + seed)?.penultimate(x.view())?;
                error += rel(&(f.dot(&f.t()) / m as f64), &want);
            }
            row.push(error / draws as f64);
        }
        println!("{m:>6} {:>12.4} {:>12.4}", row[0], row[1]);
    }
    Ok(())
}
