//! Exact infinite-width CK (NNGP) and NTK of fully connected networks (SPEC §4).
//!
//! Network: x ↦ [Dense(σ_w,ℓ², σ_b,ℓ²) → φ_ℓ]_{ℓ=1..L} → Dense(1, σ_w² = 1, σ_b² = 0) in the NTK
//! parameterization, the first layer acting on the plain inner product xᵀy (rows of X are samples). With
//! G = XXᵀ:
//!
//! ```text
//! Σ₁ = σ_w,1²·G + σ_b,1²,                 Θ₁ = Σ₁
//! K_ℓ = E[φ_ℓ(u)φ_ℓ(v)],  K̇_ℓ = E[φ_ℓ′(u)φ_ℓ′(v)],   (u, v) ~ N(0, Σ_ℓ restricted to the pair)
//! Σ_{ℓ+1} = σ_w,ℓ+1²·K_ℓ + σ_b,ℓ+1²,     Θ_{ℓ+1} = Σ_{ℓ+1} + σ_w,ℓ+1²·Θ_ℓ∘K̇_ℓ
//! CK = K_L,                               NTK = K_L + Θ_L∘K̇_L
//! ```
//!
//! At σ_w² = 1, σ_b² = 0 this is SPEC §4's Θ_ℓ = K_ℓ + Θ_{ℓ−1}∘K̇_ℓ with Θ₀ = K₀ = G. These are the numbers
//! neural-tangents' `stax.serial(Dense, φ, …, Dense(1))` returns in the NTK parameterization for inputs
//! multiplied by √p (it divides xᵀy by p).
//!
//! Each entry depends only on (G_ii, G_jj, G_ij), so all L layers are run entrywise in one pass over one
//! triangle after an O(nL) pass over the diagonal: no n×n temporaries beyond the outputs.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::{
    check_data, gram_lower, into_real, mirror_lower_to_upper, LayerDual, NoProgress, Progress,
    Real, BLOCK,
};
use crate::activation::{require_derivative, ActivationRef};
use crate::error::check_nonnegative;
use crate::{Error, Result};

/// One hidden layer: Dense(σ_w², σ_b²) followed by the activation.
#[derive(Debug, Clone)]
pub struct DenseLayer {
    pub activation: ActivationRef,
    pub sigma_w2: f64,
    pub sigma_b2: f64,
}

/// A checked description of a fully connected network: at least one hidden layer, finite non-negative
/// variances. Build with [`MlpParams::new`] (same layer repeated) or [`MlpParams::from_layers`].
#[derive(Debug, Clone)]
pub struct MlpParams {
    layers: Vec<DenseLayer>,
    train_first: bool,
}

impl MlpParams {
    /// `depth` identical hidden layers.
    pub fn new(
        activation: ActivationRef,
        depth: usize,
        sigma_w2: f64,
        sigma_b2: f64,
    ) -> Result<Self> {
        Self::from_layers(vec![
            DenseLayer {
                activation,
                sigma_w2,
                sigma_b2,
            };
            depth
        ])
    }

    /// Hidden layers with these activations and σ_w² = 1, σ_b² = 0 — the network Y_ℓ = σ_ℓ(W_ℓY_{ℓ−1})/√m with
    /// i.i.d. N(0, 1) weights of SPEC §4 and §7.
    pub fn unit_variance(activations: Vec<ActivationRef>) -> Result<Self> {
        Self::from_layers(
            activations
                .into_iter()
                .map(|activation| DenseLayer {
                    activation,
                    sigma_w2: 1.0,
                    sigma_b2: 0.0,
                })
                .collect(),
        )
    }

    /// Arbitrary hidden layers, input side first.
    pub fn from_layers(layers: Vec<DenseLayer>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::InvalidParameter {
                name: "depth",
                value: 0.0,
                requirement: "a network needs at least one hidden layer",
            });
        }
        for l in &layers {
            check_nonnegative("sigma_w2", l.sigma_w2)?;
            check_nonnegative("sigma_b2", l.sigma_b2)?;
        }
        Ok(MlpParams {
            layers,
            train_first: true,
        })
    }

    /// The NTK with the input layer frozen (its weights and biases not trained): Θ starts from 0 instead of
    /// Σ₁, as for the Implicit-NTK, whose input weights B are frozen (SPEC §7). The CK is unchanged.
    pub fn with_frozen_first_layer(mut self) -> Self {
        self.train_first = false;
        self
    }

    /// Whether the NTK trains the input layer.
    pub fn trains_first_layer(&self) -> bool {
        self.train_first
    }

    pub fn layers(&self) -> &[DenseLayer] {
        &self.layers
    }

    pub fn depth(&self) -> usize {
        self.layers.len()
    }
}

/// Which kernels to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Which {
    pub ck: bool,
    pub ntk: bool,
}

impl Which {
    pub const CK: Which = Which {
        ck: true,
        ntk: false,
    };
    pub const NTK: Which = Which {
        ck: false,
        ntk: true,
    };
    pub const BOTH: Which = Which {
        ck: true,
        ntk: true,
    };
}

/// The requested kernel matrices (full symmetric n×n) and how they were computed.
#[derive(Debug)]
pub struct MlpKernels<T> {
    pub ck: Option<Array2<T>>,
    pub ntk: Option<Array2<T>>,
    /// Per layer: Hermite terms used for (σ, σ′), `None` for closed forms.
    pub series_terms: Vec<Option<(usize, Option<usize>)>>,
    /// Entries that needed the 2-D quadrature fallback (see [`LayerDual`]).
    pub quadrature_fallbacks: usize,
}

/// The layer-by-layer recursion for one entry, given G_ij and the layers' diagonal variances.
struct Recursion<'a> {
    params: &'a MlpParams,
    duals: &'a [LayerDual],
    /// diag[ℓ][i] = Σ_{ℓ+1}(i, i), the pre-activation variance of sample i at hidden layer ℓ+1.
    diag: &'a [Vec<f64>],
    ntk: bool,
}

impl Recursion<'_> {
    #[inline]
    fn entry(&self, i: usize, j: usize, g: f64) -> (f64, f64) {
        let layers = self.params.layers();
        let mut sigma = layers[0].sigma_w2 * g + layers[0].sigma_b2;
        let mut theta = if self.params.train_first { sigma } else { 0.0 };
        let last = layers.len() - 1;
        for (l, dual) in self.duals.iter().enumerate() {
            let (k, kd) = dual.eval(i, j, self.diag[l][i], self.diag[l][j], sigma, self.ntk);
            if l == last {
                return (k, k + theta * kd);
            }
            let next = &layers[l + 1];
            sigma = next.sigma_w2 * k + next.sigma_b2;
            theta = sigma + next.sigma_w2 * theta * kd;
        }
        unreachable!("at least one layer")
    }

    /// [`entry`](Self::entry) for j = BLOCK·b + l, l < BLOCK, all below the diagonal.
    #[inline(always)]
    fn entry_block(&self, i: usize, b: usize, g: &[f64; BLOCK]) -> ([f64; BLOCK], [f64; BLOCK]) {
        let layers = self.params.layers();
        let mut sigma = g.map(|v| layers[0].sigma_w2 * v + layers[0].sigma_b2);
        let mut theta = if self.params.train_first {
            sigma
        } else {
            [0.0; BLOCK]
        };
        let last = layers.len() - 1;
        let js = b * BLOCK..(b + 1) * BLOCK;
        for (l, dual) in self.duals.iter().enumerate() {
            let vj: &[f64; BLOCK] = self.diag[l][js.clone()].try_into().expect("block");
            let (k, kd) = dual.eval_block(i, b, self.diag[l][i], vj, &sigma, self.ntk);
            if l == last {
                let mut ntk = [0.0; BLOCK];
                for m in 0..BLOCK {
                    ntk[m] = k[m] + theta[m] * kd[m];
                }
                return (k, ntk);
            }
            let next = &layers[l + 1];
            for m in 0..BLOCK {
                sigma[m] = next.sigma_w2 * k[m] + next.sigma_b2;
                theta[m] = sigma[m] + next.sigma_w2 * theta[m] * kd[m];
            }
        }
        unreachable!("at least one layer")
    }

    /// Fill row i's lower part (j ≤ i) from the Gram row, blocks of [`BLOCK`] first; compiled for AVX2 as well,
    /// chosen at run time.
    fn row(&self, i: usize, grow: &mut [f64], store_ntk: impl FnMut(usize, f64)) {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA.
            return unsafe { self.row_avx2(i, grow, store_ntk) };
        }
        self.row_portable(i, grow, store_ntk)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, i: usize, grow: &mut [f64], store_ntk: impl FnMut(usize, f64)) {
        self.row_portable(i, grow, store_ntk)
    }

    #[inline(always)]
    fn row_portable(&self, i: usize, grow: &mut [f64], mut store_ntk: impl FnMut(usize, f64)) {
        let full = i / BLOCK;
        for b in 0..full {
            let g: &[f64; BLOCK] = grow[b * BLOCK..(b + 1) * BLOCK].try_into().expect("block");
            let (ck, nt) = self.entry_block(i, b, g);
            for m in 0..BLOCK {
                grow[b * BLOCK + m] = ck[m];
                store_ntk(b * BLOCK + m, nt[m]);
            }
        }
        for (j, g) in grow.iter_mut().enumerate().take(i + 1).skip(full * BLOCK) {
            let (ck, nt) = self.entry(i, j, *g);
            *g = ck;
            store_ntk(j, nt);
        }
    }
}

/// The exact CK and/or NTK of the network `params` on data `x` (n×p, rows are samples).
///
/// Errors: empty or non-finite data; an NTK for an activation without a derivative.
pub fn mlp_kernels<T: Real>(
    params: &MlpParams,
    x: ArrayView2<f64>,
    which: Which,
) -> Result<MlpKernels<T>> {
    mlp_kernels_observed(params, x, which, &NoProgress)
}

/// [`mlp_kernels`] reporting progress in entries of the lower triangle.
pub fn mlp_kernels_observed<T: Real>(
    params: &MlpParams,
    x: ArrayView2<f64>,
    which: Which,
    progress: &dyn Progress,
) -> Result<MlpKernels<T>> {
    check_data(x)?;
    if which.ntk {
        for l in params.layers() {
            require_derivative(&l.activation, "the NTK")?;
        }
    }
    let n = x.nrows();
    let mut g = gram_lower(x);
    let gdiag: Vec<f64> = (0..n).map(|i| g[[i, i]]).collect();

    // Diagonal pass: Σ_ℓ(i, i) for every layer, building each layer's dual evaluator on the way.
    let layers = params.layers();
    let mut diag: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
    let mut duals: Vec<LayerDual> = Vec::with_capacity(layers.len());
    let mut current: Vec<f64> = gdiag
        .iter()
        .map(|&v| layers[0].sigma_w2 * v + layers[0].sigma_b2)
        .collect();
    for l in 0..layers.len() {
        let dual = LayerDual::new(layers[l].activation.clone(), &current, which.ntk)?;
        if l + 1 < layers.len() {
            let next = &layers[l + 1];
            let following: Vec<f64> = (0..n)
                .map(|i| {
                    next.sigma_w2 * dual.eval(i, i, current[i], current[i], current[i], false).0
                        + next.sigma_b2
                })
                .collect();
            diag.push(std::mem::replace(&mut current, following));
        } else {
            diag.push(std::mem::take(&mut current));
        }
        duals.push(dual);
    }
    let rec = Recursion {
        params,
        duals: &duals,
        diag: &diag,
        ntk: which.ntk,
    };

    // Off-diagonal pass over the lower triangle, rows in parallel. The CK overwrites G in place.
    progress.start((n * (n + 1) / 2) as u64);
    let mut ntk: Option<Array2<T>> = which.ntk.then(|| Array2::<T>::default((n, n)));
    match ntk.as_mut() {
        Some(t) => g
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(t.axis_iter_mut(Axis(0)).into_par_iter())
            .enumerate()
            .with_min_len(4)
            .for_each(|(i, (mut grow, mut trow))| {
                let grow = grow.as_slice_mut().expect("standard layout");
                rec.row(i, grow, |j, v| trow[j] = T::from_f64(v));
                progress.advance(i as u64 + 1);
            }),
        None => g
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .with_min_len(4)
            .for_each(|(i, mut grow)| {
                rec.row(i, grow.as_slice_mut().expect("standard layout"), |_, _| {});
                progress.advance(i as u64 + 1);
            }),
    }
    progress.finish();
    if let Some(t) = ntk.as_mut() {
        mirror_lower_to_upper(t);
    }
    let ck = which.ck.then(|| {
        mirror_lower_to_upper(&mut g);
        into_real(g)
    });
    Ok(MlpKernels {
        ck,
        ntk,
        series_terms: duals.iter().map(|d| d.series_terms()).collect(),
        quadrature_fallbacks: duals.iter().map(|d| d.fallbacks()).sum(),
    })
}

/// The CK and NTK of one pair of inputs from their inner products (G_xx, G_yy, G_xy) = (xᵀx, yᵀy, xᵀy),
/// evaluating every dual kernel directly (closed form or 2-D quadrature, no Hermite series). A reference for
/// testing [`mlp_kernels`], and handy for single entries.
pub fn mlp_kernel_pair(
    params: &MlpParams,
    gxx: f64,
    gyy: f64,
    gxy: f64,
) -> Result<(f64, Option<f64>)> {
    use crate::activation::{dual_kernel, dual_kernel_derivative, Cov2};
    let layers = params.layers();
    let want_ntk = layers
        .iter()
        .all(|l| require_derivative(&l.activation, "the NTK").is_ok());
    let first = &layers[0];
    let (mut sx, mut sy, mut sxy) = (
        first.sigma_w2 * gxx + first.sigma_b2,
        first.sigma_w2 * gyy + first.sigma_b2,
        first.sigma_w2 * gxy + first.sigma_b2,
    );
    let mut theta = if params.train_first { sxy } else { 0.0 };
    for (l, layer) in layers.iter().enumerate() {
        let act = &layer.activation;
        let kxy = dual_kernel(act, &Cov2::new(sx, sy, sxy)?);
        let kxx = dual_kernel(act, &Cov2::new(sx, sx, sx)?);
        let kyy = dual_kernel(act, &Cov2::new(sy, sy, sy)?);
        let kd = if want_ntk {
            dual_kernel_derivative(act, &Cov2::new(sx, sy, sxy)?)?
        } else {
            0.0
        };
        if l + 1 == layers.len() {
            return Ok((kxy, want_ntk.then_some(kxy + theta * kd)));
        }
        let next = &layers[l + 1];
        sx = next.sigma_w2 * kxx + next.sigma_b2;
        sy = next.sigma_w2 * kyy + next.sigma_b2;
        sxy = next.sigma_w2 * kxy + next.sigma_b2;
        theta = sxy + next.sigma_w2 * theta * kd;
    }
    unreachable!("at least one layer")
}
