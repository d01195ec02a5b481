//! Exact infinite-width CK, pre-activation NNGP and NTK of fully connected networks (math §4).
//!
//! Network: x ↦ [Dense(σ_w,ℓ², σ_b,ℓ²) → φ_ℓ]_{ℓ=1..L} → Dense(1, σ_w² = 1, σ_b² = 0) in the NTK
//! parameterization, the first layer acting on the plain inner product xᵀy (rows of X are samples). With
//! G = XXᵀ:
//!
//! ```text
//! Σ₁ = σ_w,1²·G + σ_b,1²,                 Θ₁ = Σ₁ (or 0 with the first layer frozen)
//! K_ℓ = E[φ_ℓ(u)φ_ℓ(v)],  K̇_ℓ = E[φ_ℓ′(u)φ_ℓ′(v)],   (u, v) ~ N(0, Σ_ℓ restricted to the pair)
//! Σ_{ℓ+1} = σ_w,ℓ+1²·K_ℓ + σ_b,ℓ+1²,     Θ_{ℓ+1} = Σ_{ℓ+1} + σ_w,ℓ+1²·Θ_ℓ∘K̇_ℓ
//! NNGP = Σ_L,   CK = K_L,   NTK = K_L + Θ_L∘K̇_L
//! ```
//!
//! These are the numbers neural-tangents' `stax.serial(Dense, φ, …, Dense(1))` returns in the NTK
//! parameterization for inputs multiplied by √p (it divides xᵀy by p).
//!
//! Each entry depends only on (G_ii, G_jj, G_ij), so all L layers are run entrywise in one pass over one
//! triangle after an O(nL) pass over the diagonal: no n×n temporaries beyond the outputs.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::block::BlockIndices;
use super::layer_dual::{LayerDual, BLOCK};
use super::{check_request, Kernel};
use crate::activation::{require_derivative, ActivationRef, Centered, ScaleMoments};
use crate::error::{check_nonnegative, check_positive};
use crate::linalg::{gram_lower, into_real, mirror_lower_to_upper};
use crate::progress::{check_cancelled, Progress};
use crate::{Error, Real, Result};

/// One hidden layer: Dense(σ_w², σ_b²) followed by the activation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DenseLayer {
    /// φ_ℓ.
    pub activation: ActivationRef,
    /// Weight variance σ_w,ℓ².
    pub sigma_w2: f64,
    /// Bias variance σ_b,ℓ².
    pub sigma_b2: f64,
}

impl DenseLayer {
    /// A layer with these variances (checked when it goes into [`MlpParams::from_layers`]).
    pub fn new(activation: impl Into<ActivationRef>, sigma_w2: f64, sigma_b2: f64) -> Self {
        DenseLayer {
            activation: activation.into(),
            sigma_w2,
            sigma_b2,
        }
    }
}

/// Whether the NTK trains the input layer (math §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum FirstLayer {
    /// Trained: the NTK recursion starts from Θ₁ = Σ₁ (for the equivalents β₀ = (1, 0, 0), κ₀² = τ₀²).
    #[default]
    Trained,
    /// Frozen: Θ₁ = 0 (β₀ = (0, 0, 0), κ₀² = 0), as for the Implicit-NTK, whose input weights B are frozen.
    Frozen,
}

/// How the layers' activations are centered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum LayerCentering {
    /// As given.
    #[default]
    None,
    /// φ_ℓ − E[φ_ℓ(√q_ℓ ξ)] at the pre-activation scale of a typical sample, q₁ = σ_w,1²τ₀² + σ_b,1²,
    /// q_{ℓ+1} = σ_w,ℓ+1²·Var φ_ℓ(√q_ℓ ξ) + σ_b,ℓ+1² (math §4): the networks whose high-dimensional equivalents
    /// are [`crate::rmt::equivalent::explicit_equivalent`], and the shallow twins of [`crate::design`].
    AtInputScale,
}

/// A checked description of a fully connected network: at least one hidden layer, finite non-negative
/// variances, whether the NTK trains the input layer, how activations are centered, and the input scale τ₀ the
/// centering uses (default: √(‖X‖_F²/n) of the data).
///
/// ```
/// use deq_kernels::activation::Builtin;
/// use deq_kernels::kernel::explicit::{FirstLayer, MlpParams};
/// let twin = MlpParams::unit_variance([Builtin::LRelu { a: 0.96, b: 0.59 }, Builtin::LRelu { a: 0.0, b: -1.18 }])?
///     .centered_at_input_scale()
///     .with_first_layer(FirstLayer::Frozen);
/// assert_eq!(twin.depth(), 2);
/// # Ok::<(), deq_kernels::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MlpParams {
    layers: Vec<DenseLayer>,
    first_layer: FirstLayer,
    centering: LayerCentering,
    tau0: Option<f64>,
}

/// The deepest network the explicit recursions accept: each layer costs one pass over the n×n kernel, and long
/// before this depth the layer kernels have settled (for a DEQ's limit, use the implicit kernels).
pub const MAX_DEPTH: usize = 1_000_000;

fn check_depth(depth: usize) -> Result<()> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(Error::InvalidParameter {
            name: "depth",
            value: depth as f64,
            requirement: "a network needs between 1 and 1 000 000 hidden layers (MAX_DEPTH)",
        });
    }
    Ok(())
}

impl MlpParams {
    /// `depth` identical hidden layers, 1 ≤ depth ≤ [`MAX_DEPTH`].
    pub fn new(
        activation: impl Into<ActivationRef>,
        depth: usize,
        sigma_w2: f64,
        sigma_b2: f64,
    ) -> Result<Self> {
        check_depth(depth)?;
        Self::from_layers(vec![DenseLayer::new(activation, sigma_w2, sigma_b2); depth])
    }

    /// Hidden layers with these activations and σ_w² = 1, σ_b² = 0 — the network Y_ℓ = φ_ℓ(W_ℓY_{ℓ−1})/√m with
    /// i.i.d. N(0, 1) weights of math §4 and §7.
    pub fn unit_variance<A: Into<ActivationRef>>(
        activations: impl IntoIterator<Item = A>,
    ) -> Result<Self> {
        Self::from_layers(
            activations
                .into_iter()
                .map(|a| DenseLayer::new(a, 1.0, 0.0))
                .collect(),
        )
    }

    /// Arbitrary hidden layers, input side first.
    pub fn from_layers(layers: Vec<DenseLayer>) -> Result<Self> {
        check_depth(layers.len())?;
        for l in &layers {
            check_nonnegative("sigma_w2", l.sigma_w2)?;
            check_nonnegative("sigma_b2", l.sigma_b2)?;
        }
        Ok(MlpParams {
            layers,
            first_layer: FirstLayer::Trained,
            centering: LayerCentering::None,
            tau0: None,
        })
    }

    /// Whether the NTK trains the input layer (default [`FirstLayer::Trained`]); the CK and NNGP do not depend
    /// on it.
    pub fn with_first_layer(mut self, first_layer: FirstLayer) -> Self {
        self.first_layer = first_layer;
        self
    }

    /// Center every activation at its pre-activation scale ([`LayerCentering::AtInputScale`]).
    pub fn centered_at_input_scale(mut self) -> Self {
        self.centering = LayerCentering::AtInputScale;
        self
    }

    /// The input scale τ₀ the centering uses (default: √(‖X‖_F²/n) of the data the network is applied to).
    pub fn with_tau0(mut self, tau0: f64) -> Result<Self> {
        self.tau0 = Some(check_positive("tau0", tau0)?);
        Ok(self)
    }

    /// τ₀ fixed for good: the one given, else √(‖X‖_F²/n) of `x`.
    pub fn with_tau0_from(self, x: ArrayView2<f64>) -> Result<Self> {
        let tau0 = self.input_scale(Some(x))?;
        self.with_tau0(tau0)
    }

    /// Where the NTK recursion starts.
    pub fn first_layer(&self) -> FirstLayer {
        self.first_layer
    }

    /// How activations are centered.
    pub fn centering(&self) -> LayerCentering {
        self.centering
    }

    /// The τ₀ given with [`with_tau0`](Self::with_tau0), if any.
    pub fn tau0(&self) -> Option<f64> {
        self.tau0
    }

    /// The hidden layers, input side first, as given (uncentered).
    pub fn layers(&self) -> &[DenseLayer] {
        &self.layers
    }

    /// The number of hidden layers L.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Whether every layer has σ_w² = 1 and σ_b² = 0 (the convention of the equivalents and of the finite-width
    /// networks).
    pub fn is_unit_variance(&self) -> bool {
        self.layers
            .iter()
            .all(|l| l.sigma_w2 == 1.0 && l.sigma_b2 == 0.0)
    }

    /// The input scale τ₀ for data `x`: the one given, else √(‖X‖_F²/n) of `x`; an error when neither is there.
    pub fn input_scale(&self, x: Option<ArrayView2<f64>>) -> Result<f64> {
        crate::data::resolve_input_scale(self.tau0, x)
    }

    /// The layers as the network applies them to data of scale τ₀: as given, or centered at their
    /// pre-activation scales ([`LayerCentering::AtInputScale`]).
    pub fn resolved_layers(&self, tau0: f64) -> Result<Vec<DenseLayer>> {
        if self.centering == LayerCentering::None {
            return Ok(self.layers.clone());
        }
        check_positive("tau0", tau0)?;
        let first = &self.layers[0];
        // √(σ_w²)·τ₀ without a bias: exactly τ₀ for unit variances.
        let mut scale = if first.sigma_b2 == 0.0 {
            first.sigma_w2.sqrt() * tau0
        } else {
            (first.sigma_w2 * tau0 * tau0 + first.sigma_b2).sqrt()
        };
        let mut out = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let scale_here = check_positive("pre-activation scale (is a layer constant?)", scale)?;
            let m = ScaleMoments::compute(&layer.activation, scale_here)?;
            out.push(DenseLayer {
                activation: std::sync::Arc::new(Centered::new(layer.activation.clone(), m.m0)),
                ..layer.clone()
            });
            if let Some(next) = self.layers.get(l + 1) {
                scale = (next.sigma_w2 * m.v + next.sigma_b2).sqrt();
            }
        }
        Ok(out)
    }
}

/// How [`mlp_kernels`] computed its entries.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct MlpReport {
    /// The input scale the centering used ([`LayerCentering::AtInputScale`] only).
    pub tau0: Option<f64>,
    /// Per layer: Hermite terms used for (φ, φ′), `None` for closed forms.
    pub series_terms: Vec<Option<(usize, Option<usize>)>>,
    /// Entries that needed the 2-D quadrature fallback of Mehler's series.
    pub quadrature_fallbacks: usize,
}

/// Index of a kernel in the triples the recursion returns.
fn slot(k: Kernel) -> usize {
    match k {
        Kernel::Nngp => 0,
        Kernel::Ck => 1,
        Kernel::Ntk => 2,
    }
}

crate::eigen::widest_vectors! {
    /// [`Recursion::row_portable`] compiled for the widest vectors the CPU has.
    fn recursion_row[T: Real](
        this: &Recursion<'_>,
        i: usize,
        first: &mut [f64],
        rest: &mut [&mut [T]],
        slots: &[usize]
    ) = Recursion::row_portable
}

/// The layer-by-layer recursion for one entry, given G_ij and the layers' diagonal variances.
struct Recursion<'a> {
    layers: &'a [DenseLayer],
    train_first: bool,
    duals: &'a [LayerDual],
    /// diag[ℓ][i] = Σ_{ℓ+1}(i, i), the pre-activation variance of sample i at hidden layer ℓ+1.
    diag: &'a [Vec<f64>],
    ntk: bool,
}

impl Recursion<'_> {
    /// [Σ_L, K_L, NTK] of entry (i, j) with Gram value g.
    #[inline]
    fn entry(&self, i: usize, j: usize, g: f64) -> [f64; 3] {
        let layers = self.layers;
        let mut sigma = layers[0].sigma_w2 * g + layers[0].sigma_b2;
        let mut theta = if self.train_first { sigma } else { 0.0 };
        let last = layers.len() - 1;
        for (l, dual) in self.duals.iter().enumerate() {
            let (k, kd) = dual.eval(i, j, self.diag[l][i], self.diag[l][j], sigma, self.ntk);
            if l == last {
                return [sigma, k, k + theta * kd];
            }
            let next = &layers[l + 1];
            sigma = next.sigma_w2 * k + next.sigma_b2;
            theta = sigma + next.sigma_w2 * theta * kd;
        }
        unreachable!("at least one layer")
    }

    /// [`entry`](Self::entry) for j = BLOCK·b + l, l < BLOCK, all below the diagonal.
    #[inline(always)]
    fn entry_block(&self, i: usize, b: usize, g: &[f64; BLOCK]) -> [[f64; BLOCK]; 3] {
        let layers = self.layers;
        let mut sigma = g.map(|v| layers[0].sigma_w2 * v + layers[0].sigma_b2);
        let mut theta = if self.train_first {
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
                return [sigma, k, ntk];
            }
            let next = &layers[l + 1];
            for m in 0..BLOCK {
                sigma[m] = next.sigma_w2 * k[m] + next.sigma_b2;
                theta[m] = sigma[m] + next.sigma_w2 * theta[m] * kd[m];
            }
        }
        unreachable!("at least one layer")
    }

    /// Row i's lower part (j ≤ i) of every output: `first` holds the Gram row on entry and is overwritten with
    /// the first output, `rest` receives the others; `slots` are the outputs' indices in the recursion's
    /// triples. Blocks of [`BLOCK`] first; compiled for AVX2 as well, chosen at run time.
    fn row<T: Real>(&self, i: usize, first: &mut [f64], rest: &mut [&mut [T]], slots: &[usize]) {
        recursion_row(self, i, first, rest, slots)
    }

    #[inline(always)]
    fn row_portable<T: Real>(
        &self,
        i: usize,
        first: &mut [f64],
        rest: &mut [&mut [T]],
        slots: &[usize],
    ) {
        let full = i / BLOCK;
        for b in 0..full {
            let j0 = b * BLOCK;
            let g: &[f64; BLOCK] = first[j0..j0 + BLOCK].try_into().expect("block");
            let values = self.entry_block(i, b, g);
            first[j0..j0 + BLOCK].copy_from_slice(&values[slots[0]]);
            for (out, &s) in rest.iter_mut().zip(&slots[1..]) {
                for (o, &v) in out[j0..j0 + BLOCK].iter_mut().zip(&values[s]) {
                    *o = T::from_f64(v);
                }
            }
        }
        for j in full * BLOCK..=i {
            let values = self.entry(i, j, first[j]);
            first[j] = values[slots[0]];
            for (out, &s) in rest.iter_mut().zip(&slots[1..]) {
                out[j] = T::from_f64(values[s]);
            }
        }
    }
}

/// The exact kernels `kinds` of the network `params` on data `x` (n×p, rows are samples), as full symmetric n×n
/// matrices in the order asked, with how they were computed. Progress is reported in entries of the lower
/// triangle.
///
/// Memory: the Gram matrix (n×n f64) becomes the first output in place; the others are allocated in T. In f32
/// the first output is rounded from that f64 buffer at the end, so the peak is n²·(8 + 4·N) bytes; the implicit
/// drivers' f32 path, by Gram panels, holds n²·4·N (docs/implicit.md).
///
/// Errors: empty or non-finite data; a kernel asked twice; the NTK of an activation without a derivative; a
/// centered network without τ₀ (given or from the data).
pub fn mlp_kernels<T: Real, const N: usize>(
    params: &MlpParams,
    x: ArrayView2<f64>,
    kinds: [Kernel; N],
    progress: &dyn Progress,
) -> Result<([Array2<T>; N], MlpReport)> {
    let (tau0, layers, ntk) = resolve(params, x, &kinds)?;
    let n = x.nrows();
    let mut g = gram_lower(x)?;
    let gdiag: Vec<f64> = (0..n).map(|i| g[[i, i]]).collect();
    let (diag, duals) = layer_diagonals(&layers, &gdiag, ntk)?;
    let rec = Recursion {
        layers: &layers,
        train_first: params.first_layer == FirstLayer::Trained,
        duals: &duals,
        diag: &diag,
        ntk,
    };
    let slots: Vec<usize> = kinds.iter().map(|&k| slot(k)).collect();

    // Off-diagonal pass over the lower triangle, rows in parallel. The first output overwrites G in place.
    progress.start((n * (n + 1) / 2) as u64);
    let mut rest: Vec<Array2<T>> = (1..N)
        .map(|_| crate::linalg::zeroed_matrix::<T>(n, n))
        .collect::<std::result::Result<_, _>>()?;
    {
        let mut rest_rows: Vec<Vec<&mut [T]>> = (0..n).map(|_| Vec::with_capacity(N)).collect();
        for m in rest.iter_mut() {
            let slice = m.as_slice_mut().expect("standard layout");
            for (i, row) in slice.chunks_mut(n).enumerate() {
                rest_rows[i].push(&mut row[..=i]);
            }
        }
        g.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(rest_rows.into_par_iter())
            .enumerate()
            .with_min_len(4)
            .try_for_each(|(i, (mut grow, mut others))| {
                let grow = grow.as_slice_mut().expect("standard layout");
                rec.row(i, &mut grow[..=i], &mut others, &slots);
                progress.advance(i as u64 + 1);
                check_cancelled(progress)
            })?;
    }
    progress.finish();
    mirror_lower_to_upper(&mut g);
    let mut matrices = Vec::with_capacity(N);
    matrices.push(into_real::<T>(g));
    for mut m in rest {
        mirror_lower_to_upper(&mut m);
        matrices.push(m);
    }
    let matrices: [Array2<T>; N] = matrices
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked"));
    Ok((
        matrices,
        MlpReport {
            tau0,
            series_terms: duals.iter().map(|d| d.series_terms()).collect(),
            quadrature_fallbacks: duals.iter().map(|d| d.fallbacks()).sum(),
        },
    ))
}

/// Checks shared by the full and the block computation: the data, the request, τ₀ (for a network centered at
/// its input scale), the layers at that scale and whether the NTK (and so every φ′) is needed.
fn resolve(
    params: &MlpParams,
    x: ArrayView2<f64>,
    kinds: &[Kernel],
) -> Result<(Option<f64>, Vec<DenseLayer>, bool)> {
    crate::data::check_samples(x)?;
    check_request(kinds)?;
    let ntk = kinds.contains(&Kernel::Ntk);
    let tau0 = (params.centering == LayerCentering::AtInputScale)
        .then(|| params.input_scale(Some(x)))
        .transpose()?;
    let layers = params.resolved_layers(tau0.unwrap_or(1.0))?;
    if ntk {
        for l in &layers {
            require_derivative(&l.activation, "the NTK")?;
        }
    }
    Ok((tau0, layers, ntk))
}

/// The diagonal pass: Σ_ℓ(s, s) for every layer and sample from the samples' squared norms ‖x_s‖², building each
/// layer's dual evaluator on the way.
fn layer_diagonals(
    layers: &[DenseLayer],
    sq_norms: &[f64],
    ntk: bool,
) -> Result<(Vec<Vec<f64>>, Vec<LayerDual>)> {
    let mut diag: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
    let mut duals: Vec<LayerDual> = Vec::with_capacity(layers.len());
    let mut current: Vec<f64> = sq_norms
        .iter()
        .map(|&v| layers[0].sigma_w2 * v + layers[0].sigma_b2)
        .collect();
    for l in 0..layers.len() {
        let dual = LayerDual::new(layers[l].activation.clone(), &current, ntk)?;
        if l + 1 < layers.len() {
            let next = &layers[l + 1];
            let following: Vec<f64> = (0..current.len())
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
    Ok((diag, duals))
}

/// The exact kernels `kinds` of the network `params` on the block `block` of the n×n matrices: output entry
/// (r, c) is `K[rows[r], cols[c]]` of [`mlp_kernels`] on the same X (n×p), to rounding (docs/distributed.md). Memory:
/// the |rows|×|cols| outputs and tables for the block's samples; nothing n×n.
///
/// Errors: those of [`mlp_kernels`], and data whose row count is not the block's n.
pub fn mlp_kernels_block<T: Real, const N: usize>(
    params: &MlpParams,
    x: ArrayView2<f64>,
    block: &BlockIndices,
    kinds: [Kernel; N],
) -> Result<([Array2<T>; N], MlpReport)> {
    let (tau0, layers, ntk) = resolve(params, x, &kinds)?;
    let (g, sq_norms) = block.gram(x)?;
    let (diag, duals) = layer_diagonals(&layers, &sq_norms, ntk)?;
    let rec = Recursion {
        layers: &layers,
        train_first: params.first_layer == FirstLayer::Trained,
        duals: &duals,
        diag: &diag,
        ntk,
    };
    let slots: Vec<usize> = kinds.iter().map(|&k| slot(k)).collect();
    let nc = block.shape().1;
    let off = block.col_offset();
    let mut outs = block.outputs::<T>(N)?;
    let per_row = block.output_rows(&mut outs);
    per_row
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut rows)| {
            let grow = g.row(r);
            for (c0, lanes) in block.runs(r) {
                if lanes {
                    let gs: [f64; BLOCK] = std::array::from_fn(|l| grow[c0 + l]);
                    let values = rec.entry_block(r, (off + c0) / BLOCK, &gs);
                    for (out, &s) in rows.iter_mut().zip(&slots) {
                        for l in 0..BLOCK {
                            out[c0 + l] = T::from_f64(values[s][l]);
                        }
                    }
                } else {
                    for c in c0..(c0 + BLOCK).min(nc) {
                        let values = rec.entry(r, off + c, grow[c]);
                        for (out, &s) in rows.iter_mut().zip(&slots) {
                            out[c] = T::from_f64(values[s]);
                        }
                    }
                }
            }
        });
    let outs: [Array2<T>; N] = outs
        .try_into()
        .unwrap_or_else(|_| unreachable!("one matrix per kernel asked"));
    Ok((
        outs,
        MlpReport {
            tau0,
            series_terms: duals.iter().map(|d| d.series_terms()).collect(),
            quadrature_fallbacks: duals.iter().map(|d| d.fallbacks()).sum(),
        },
    ))
}

/// The kernels of one pair of inputs from their inner products (G_xx, G_yy, G_xy) = (xᵀx, yᵀy, xᵀy),
/// evaluating every dual kernel directly (closed form or 2-D quadrature, no Hermite series): [Σ_L, K_L, NTK],
/// the NTK `None` when a layer has no derivative. A reference for testing [`mlp_kernels`], and handy for single
/// entries. The layers are used as given (centered at τ₀ = 1 for a network centered at its input scale without
/// a τ₀ of its own).
pub fn mlp_kernel_pair(
    params: &MlpParams,
    gxx: f64,
    gyy: f64,
    gxy: f64,
) -> Result<(f64, f64, Option<f64>)> {
    use crate::activation::{dual_kernel, dual_kernel_derivative, Cov2};
    let layers = params.resolved_layers(params.tau0.unwrap_or(1.0))?;
    let want_ntk = layers
        .iter()
        .all(|l| require_derivative(&l.activation, "the NTK").is_ok());
    let first = &layers[0];
    let (mut sx, mut sy, mut sxy) = (
        first.sigma_w2 * gxx + first.sigma_b2,
        first.sigma_w2 * gyy + first.sigma_b2,
        first.sigma_w2 * gxy + first.sigma_b2,
    );
    let mut theta = if params.first_layer == FirstLayer::Trained {
        sxy
    } else {
        0.0
    };
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
            return Ok((sxy, kxy, want_ntk.then_some(kxy + theta * kd)));
        }
        let next = &layers[l + 1];
        sx = next.sigma_w2 * kxx + next.sigma_b2;
        sy = next.sigma_w2 * kyy + next.sigma_b2;
        sxy = next.sigma_w2 * kxy + next.sigma_b2;
        theta = sxy + next.sigma_w2 * theta * kd;
    }
    unreachable!("at least one layer")
}
