//! Infinite-width CK and NTK of a random SIM (math §10, docs/sim.md §Infinite width), composed from the
//! explicit recursions of math §4 in the NTK parameterization (dense weights N(0, σ_w²/fan-in), biases
//! N(0, σ_b²); U and V without bias, variances σ_u², σ_v²).
//!
//! For a pair of inputs the recursion carries the 2×2 covariance Σ and the NTK Θ through the stages:
//!
//! ```text
//! dense (σ_w², σ_b²), input K, K̇ of the stage before:   Σ ← σ_w²K + σ_b²,   Θ ← Σ + σ_w²·Θ·K̇
//! ReLU:                                                  K = E[φ(u)φ(v)], K̇ = E[φ′(u)φ′(v)], (u, v) ~ N(0, Σ)
//! linear stages (basis output, V, U, the last ψ_inv layer): K = Σ, K̇ = 1
//! Fourier tier (frozen) on d₁ = d coordinates, s² = Σ_xx + Σ_yy − 2Σ_xy:
//!     K = (1 + s²/bw²)^(−d₁/2),  K̇ = (d₁/bw²)(1 + s²/bw²)^(−(d₁+2)/2),  Θ ← K̇·Θ     (Gaussian frequencies)
//!     K = [e^{s²/(2bw²)} erfc(s/(√2·bw))]^{d₁}, NTK undefined (E‖w‖² = ∞)              (Cauchy frequencies)
//! ```
//!
//! The Fourier formulas are the mean over the basis network's Gaussian-process outputs of the layer's kernel
//! E_w[cos(w·δ)] (and of E_w[‖w‖²cos(w·δ)], the inner product of its input gradients). With bw² = d₁β² and
//! d₁ → ∞ they become the deterministic exp(−s²/(2β²)) and β⁻²exp(−s²/(2β²)); composing ψ_inv on the mean is
//! exact in that limit. With the identity basis the tier acts on x itself and its kernel is exactly
//! exp(−‖x − y‖²/(2bw²)) (K̇ = (p/bw² − ‖x − y‖²/bw⁴)·exp(…), but the input layer is not trained, so Θ = 0
//! there).
//!
//! A random single-tier SIM therefore has the kernel of an MLP whose linear layers only rescale: the tier is
//! invisible. The CK is the kernel of the last ψ_inv layer's outputs; the NTK includes the readout.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::layers::{Dense, Stage};
use super::model::{Basis, Sim, SimParams, Tier};
use super::rff::FrequencyLaw;
use crate::activation::{dual_pair, Builtin, Cov2};
use crate::eigen::EigenScalar;
use crate::kernel::Kernel;
use crate::linalg::{gram_lower, mirror_lower_to_upper};
use crate::progress::{check_cancelled, Progress};
use crate::{Error, Real, Result};

/// The weight and bias variances of a random SIM.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SimVariances {
    /// σ_w² of every dense layer with a bias (basis, ψ_inv, readout).
    pub sigma_w2: f64,
    /// σ_b² of those layers.
    pub sigma_b2: f64,
    /// σ_v² of V.
    pub sigma_v2: f64,
    /// σ_u² of U.
    pub sigma_u2: f64,
}

impl Default for SimVariances {
    /// He-like: σ_w² = 2, σ_b² = 0.1, σ_u² = σ_v² = 1.
    fn default() -> Self {
        SimVariances {
            sigma_w2: 2.0,
            sigma_b2: 0.1,
            sigma_v2: 1.0,
            sigma_u2: 1.0,
        }
    }
}

impl SimVariances {
    /// Checked: σ_w², σ_u², σ_v² finite and > 0, σ_b² finite and ≥ 0.
    pub fn checked(self) -> Result<Self> {
        crate::error::check_positive("sigma_w2", self.sigma_w2)?;
        crate::error::check_positive("sigma_v2", self.sigma_v2)?;
        crate::error::check_positive("sigma_u2", self.sigma_u2)?;
        crate::error::check_nonnegative("sigma_b2", self.sigma_b2)?;
        Ok(self)
    }
}

impl<T: EigenScalar> Sim<T> {
    /// A SIM with the structure of `params` and Gaussian weights in the NTK parameterization of `variances`:
    /// dense layers N(0, σ_w²/fan-in) with biases N(0, σ_b²), except the input layer, N(0, σ_w²), which acts on
    /// xᵀy as the explicit kernels do (math §4); V N(0, σ_v²/d_t) on one tier and N(0, σ_v²) after the Fourier
    /// layer (whose features are already normalized so that z·z′ is the kernel); U N(0, σ_u²/r).
    /// Its empirical kernels converge to [`sim_kernels`] as the widths grow.
    pub fn gaussian(params: SimParams, variances: &SimVariances, seed: u64) -> Result<Self> {
        let v = variances.checked()?;
        let mut sim = Sim::<T>::new(params, seed)?;
        // A second stream of the same seed: independent of the uniform draws `Sim::new` made.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let v_stage = sim.v_stage();
        let fourier = matches!(sim.params().tier, Tier::Two(_));
        for (i, stage) in sim.stack.stages.iter_mut().enumerate() {
            if let Stage::Dense(d) = stage {
                let fan_in = if i == 0 { 1.0 } else { d.inputs() as f64 };
                *d = if i == v_stage {
                    let var = if fourier {
                        v.sigma_v2
                    } else {
                        v.sigma_v2 / fan_in
                    };
                    Dense::gaussian(d.inputs(), d.outputs(), var, None, &mut rng)
                } else if i == v_stage + 1 {
                    Dense::gaussian(d.inputs(), d.outputs(), v.sigma_u2 / fan_in, None, &mut rng)
                } else {
                    Dense::gaussian(
                        d.inputs(),
                        d.outputs(),
                        v.sigma_w2 / fan_in,
                        Some(v.sigma_b2),
                        &mut rng,
                    )
                };
            }
        }
        Ok(sim)
    }

    /// The outputs of the last ψ_inv layer (before the readout), n×rev_dim: the features whose scaled Gram
    /// matrix FFᵀ/rev_dim is the SIM's empirical CK.
    pub fn penultimate(&self, x: ArrayView2<T>) -> Result<Array2<T>> {
        self.check_input(x)?;
        Ok(self
            .stack
            .forward_prefix(x, self.stack.stages.len().saturating_sub(1)))
    }
}

/// The 2×2 state of the recursion for one pair: covariances (xx, yy, xy) and the NTK's (xx, yy, xy).
#[derive(Debug, Clone, Copy)]
struct Pair {
    s: [f64; 3],
    t: [f64; 3],
}

/// The ReLU's diagonal values (K(x, x), K̇(x, x)) at each ReLU stage, in order, for one sample: computed once
/// per sample and replayed for every pair that sample is in.
type Diagonal = Vec<(f64, f64)>;

/// Where a ReLU stage takes its diagonal values from.
enum Diag<'a> {
    /// The one-sample pass (x = y): compute them and record them.
    Record(&'a mut Diagonal),
    /// A pair (x, y): the two samples' recorded values, and the index of the next stage.
    Replay(&'a [(f64, f64)], &'a [(f64, f64)], usize),
}

fn relu(p: &Pair, diag: &mut Diag) -> Result<([f64; 3], [f64; 3])> {
    let act = Builtin::Relu;
    let kd = |d: &crate::activation::DualValue| d.kdot.unwrap_or(f64::NAN);
    match diag {
        Diag::Record(record) => {
            let xx = dual_pair(&act, &Cov2::new(p.s[0], p.s[0], p.s[0])?);
            record.push((xx.k, kd(&xx)));
            Ok(([xx.k; 3], [kd(&xx); 3]))
        }
        Diag::Replay(di, dj, stage) => {
            let ((kx, kdx), (ky, kdy)) = (di[*stage], dj[*stage]);
            *stage += 1;
            // Rounding can push |Σ_xy| a hair above √(Σ_xxΣ_yy).
            let bound = (p.s[0] * p.s[1]).sqrt();
            let xy = dual_pair(
                &act,
                &Cov2::new(p.s[0], p.s[1], p.s[2].clamp(-bound, bound))?,
            );
            Ok(([kx, ky, xy.k], [kdx, kdy, kd(&xy)]))
        }
    }
}

fn dense(k: [f64; 3], kd: [f64; 3], t: [f64; 3], w2: f64, b2: f64) -> Pair {
    let s = k.map(|v| w2 * v + b2);
    Pair {
        s,
        t: [0, 1, 2].map(|i| s[i] + w2 * t[i] * kd[i]),
    }
}

/// Runs Dense–ReLU–Dense–ReLU–Dense (the basis and ψ_inv shape) on an input pair whose K and Θ are given.
fn mlp3(k: [f64; 3], kd: [f64; 3], t: [f64; 3], v: &SimVariances, diag: &mut Diag) -> Result<Pair> {
    let mut p = dense(k, kd, t, v.sigma_w2, v.sigma_b2);
    for _ in 0..2 {
        let (k, kd) = relu(&p, diag)?;
        p = dense(k, kd, p.t, v.sigma_w2, v.sigma_b2);
    }
    Ok(p)
}

/// The kernels (CK, NTK) of one pair from its Gram values (xᵀx, yᵀy, xᵀy), the ReLU stages' diagonal values
/// recorded or replayed through `diag`.
fn pair_kernels(
    params: &SimParams,
    v: &SimVariances,
    g: [f64; 3],
    mut diag: Diag,
) -> Result<(f64, f64)> {
    let ones = [1.0; 3];
    // The input layer: trained (its Θ starts at Σ) when it is a dense layer.
    let (tier_k, tier_t) = match (params.basis, params.tier) {
        (Basis::Mlp { .. }, tier) => {
            let h = mlp3(g, ones, [0.0; 3], v, &mut diag)?;
            match tier {
                Tier::Single => (h.s, h.t),
                Tier::Two(rff) => {
                    let d1 = params.basis_dim as f64;
                    let bw2 = rff.bandwidth() * rff.bandwidth();
                    let s2 = [0.0, 0.0, (h.s[0] + h.s[1] - 2.0 * h.s[2]).max(0.0)];
                    match rff.law() {
                        FrequencyLaw::Gaussian => {
                            let k = s2.map(|s2| (1.0 + s2 / bw2).powf(-d1 / 2.0));
                            let kd =
                                s2.map(|s2| d1 / bw2 * (1.0 + s2 / bw2).powf(-(d1 + 2.0) / 2.0));
                            (k, [0, 1, 2].map(|i| kd[i] * h.t[i]))
                        }
                        FrequencyLaw::Cauchy => {
                            let b = rff.bandwidth();
                            let one = |s2: f64| {
                                let s = s2.sqrt();
                                ((s2 / (2.0 * b * b)).exp()
                                    * libm::erfc(s / (std::f64::consts::SQRT_2 * b)))
                                .powf(d1)
                            };
                            (s2.map(one), [f64::NAN; 3])
                        }
                    }
                }
            }
        }
        (Basis::Identity, Tier::Single) => (g, [0.0; 3]),
        (Basis::Identity, Tier::Two(rff)) => {
            let s2 = [0.0, 0.0, (g[0] + g[1] - 2.0 * g[2]).max(0.0)];
            let b = rff.bandwidth();
            let k = match rff.law() {
                FrequencyLaw::Gaussian => s2.map(|s2| (-s2 / (2.0 * b * b)).exp()),
                // Σ|x_i − y_i| is not a function of the Gram values; refused by the caller.
                FrequencyLaw::Cauchy => [f64::NAN; 3],
            };
            (k, [0.0; 3])
        }
    };
    // The identity basis: the input is not trained, Θ starts at 0. A first trainable layer is V.
    let p = dense(tier_k, ones, tier_t, v.sigma_v2, 0.0);
    let p = dense(p.s, ones, p.t, v.sigma_u2, 0.0);
    let out = mlp3(p.s, ones, p.t, v, &mut diag)?;
    // Readout Dense(1) with σ_w² = 1, σ_b² = 0: CK = K of ψ_inv's (linear) output, NTK = K + Θ.
    Ok((out.s[2], out.s[2] + out.t[2]))
}

/// The exact kernels `kinds` (CK and/or NTK; not the NNGP) of a random SIM with the structure of `params` and
/// variances `variances` on data `x` (n×p), as full symmetric matrices. Progress in entries of the lower
/// triangle.
///
/// Errors: the NNGP asked (a SIM has no single pre-activation to report); the NTK of a Cauchy tier (its
/// frequencies have infinite variance); a Cauchy tier on the identity basis (its kernel exp(−‖x − y‖₁/bw)
/// is not a function of inner products); bad data or variances.
pub fn sim_kernels<T: Real, const N: usize>(
    params: &SimParams,
    variances: &SimVariances,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    progress: &dyn Progress,
) -> Result<[Array2<T>; N]> {
    let params = params.checked()?;
    let variances = variances.checked()?;
    crate::data::check_samples(x)?;
    crate::kernel::check_request(&kinds)?;
    if x.ncols() != params.inputs {
        return Err(Error::Shape {
            what: format!(
                "the SIM takes {} input features, the data has {}",
                params.inputs,
                x.ncols()
            ),
        });
    }
    if kinds.contains(&Kernel::Nngp) {
        return Err(Error::Undefined {
            quantity: "the NNGP",
            activation: "(SIM)".into(),
            why: "a SIM's kernels are its CK and NTK",
        });
    }
    if let Tier::Two(rff) = params.tier {
        if rff.law() == FrequencyLaw::Cauchy {
            if params.basis == Basis::Identity {
                return Err(Error::Undefined {
                    quantity: "the kernel of a Cauchy Fourier tier on the raw input",
                    activation: "(SIM)".into(),
                    why: "exp(−‖x − y‖₁/bw) is not a function of inner products; use Gaussian frequencies or an MLP basis",
                });
            }
            if kinds.contains(&Kernel::Ntk) {
                return Err(Error::Undefined {
                    quantity: "the NTK",
                    activation: "(SIM with a Cauchy Fourier tier)".into(),
                    why: "Cauchy frequencies have infinite variance, so the layer's input gradients do",
                });
            }
        }
    }
    let n = x.nrows();
    let g = gram_lower(x)?;
    let diagonals: Vec<Diagonal> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut record = Diagonal::new();
            pair_kernels(
                &params,
                &variances,
                [g[[i, i]]; 3],
                Diag::Record(&mut record),
            )?;
            Ok(record)
        })
        .collect::<Result<_>>()?;
    progress.start((n * (n + 1) / 2) as u64);
    let mut outs: Vec<Array2<f64>> = (0..N)
        .map(|_| crate::linalg::zeroed_matrix::<f64>(n, n))
        .collect::<std::result::Result<_, _>>()?;
    let slots: Vec<usize> = kinds
        .iter()
        .map(|k| usize::from(*k == Kernel::Ntk))
        .collect();
    {
        let mut rows: Vec<Vec<&mut [f64]>> = (0..n).map(|_| Vec::with_capacity(N)).collect();
        for m in outs.iter_mut() {
            let slice = m.as_slice_mut().expect("standard layout");
            for (i, row) in slice.chunks_mut(n.max(1)).enumerate() {
                rows[i].push(&mut row[..=i]);
            }
        }
        rows.into_par_iter()
            .enumerate()
            .try_for_each(|(i, mut row)| -> Result<()> {
                for j in 0..=i {
                    let replay = Diag::Replay(&diagonals[i], &diagonals[j], 0);
                    let (ck, ntk) = pair_kernels(
                        &params,
                        &variances,
                        [g[[i, i]], g[[j, j]], g[[i, j]]],
                        replay,
                    )?;
                    for (out, &s) in row.iter_mut().zip(&slots) {
                        out[j] = if s == 1 { ntk } else { ck };
                    }
                }
                progress.advance(i as u64 + 1);
                check_cancelled(progress)
            })?;
    }
    progress.finish();
    let mut result = Vec::with_capacity(N);
    for mut m in outs {
        mirror_lower_to_upper(&mut m);
        result.push(crate::linalg::into_real::<T>(m));
    }
    Ok(result
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked")))
}
