//! Finite-width random networks whose kernels converge to the infinite-width ones (math §8).
//!
//! - [`DeqNetwork`]: z = φ(σ_a·Az + σ_b·Bx)/√m with A ∈ ℝ^{m×m}, B ∈ ℝ^{m×p} of i.i.d. unit-variance entries; the
//!   forward pass solves Z = φ(σ_a·ZAᵀ + σ_b·XBᵀ)/√m for all n samples at once (rows of Z), each iteration one
//!   n×m×m matrix product, accelerated by Anderson ([`crate::solve::anderson`]); or unrolls a fixed number of
//!   iterations from Z = 0.
//! - [`MlpNetwork`]: Y_ℓ = σ_ℓ(Y_{ℓ−1}W_ℓᵀ)/√m, the readout f = Y_Lv (the convention of the exact kernels with
//!   σ_w² = 1, σ_b² = 0).
//! - Empirical kernels ([`empirical`]): CK = ZZᵀ; the DEQ's NTK (ZZᵀ) ⊘ (11ᵀ − σ_a²·dZdZᵀ) with
//!   dZ = φ′(H)/√m; the MLP's NTK from the gradients, Y_LY_Lᵀ + Σ_ℓ (D_ℓD_ℓᵀ)∘(Y_{ℓ−1}Y_{ℓ−1}ᵀ); averaged over
//!   draws with one n×n accumulator.
//!
//! Weights are Gaussian by default, or Rademacher, or sparse ternary — the equivalents do not depend on the
//! weight distribution beyond its variance.

pub mod empirical;
pub mod features;

use crate::linalg::{filled_matrix, zeroed_matrix};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::activation::{require_derivative, Activation, ActivationRef};
use crate::data::check_samples as check_data;
use crate::kernel::explicit::{FirstLayer, MlpParams};
use crate::kernel::implicit::DeqParams;
use crate::linalg::{faer_mut, faer_ref, matmul_into};
use crate::solve::{anderson, AndersonParams, SolveReport};
use crate::{Error, Result};

/// The distribution of the weights' entries (all with mean 0 and variance 1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum Weights {
    /// N(0, 1).
    Gaussian,
    /// ±1 with probability ½.
    Rademacher,
    /// ±1/√s with probability s/2 each, 0 otherwise (s ∈ (0, 1]).
    SparseTernary {
        /// The fraction s of non-zero entries.
        density: f64,
    },
}

impl std::str::FromStr for Weights {
    type Err = Error;

    /// `gaussian`, `rademacher` or `ternary:S` (density S in (0, 1]).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::UnknownName {
            what: "weight distribution",
            name: s.trim().into(),
            known: "gaussian, rademacher, ternary:S with a density S in (0, 1]".into(),
        };
        match s.trim() {
            "gaussian" => Ok(Weights::Gaussian),
            "rademacher" => Ok(Weights::Rademacher),
            t => {
                let d = t.strip_prefix("ternary:").ok_or_else(bad)?;
                Weights::SparseTernary {
                    density: d.trim().parse().map_err(|_| bad())?,
                }
                .checked()
            }
        }
    }
}

impl Weights {
    /// Checked: the density of sparse ternary weights lies in (0, 1].
    pub fn checked(self) -> Result<Self> {
        if let Weights::SparseTernary { density } = self {
            if !(density > 0.0 && density <= 1.0) {
                return Err(Error::InvalidParameter {
                    name: "density",
                    value: density,
                    requirement: "sparse ternary weights need a density in (0, 1]",
                });
            }
        }
        Ok(self)
    }

    /// A rows×cols matrix of i.i.d. entries, drawn in row-major order; [`Error::Eigen`] with an allocation error
    /// when the memory is not there.
    pub fn draw(&self, rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Result<Array2<f64>> {
        match *self {
            Weights::Gaussian => filled_matrix(rows, cols, || StandardNormal.sample(rng)),
            Weights::Rademacher => {
                filled_matrix(rows, cols, || if rng.random::<bool>() { 1.0 } else { -1.0 })
            }
            Weights::SparseTernary { density } => {
                let v = 1.0 / density.sqrt();
                filled_matrix(rows, cols, || {
                    let u: f64 = rng.random();
                    if u < 0.5 * density {
                        v
                    } else if u < density {
                        -v
                    } else {
                        0.0
                    }
                })
            }
        }
    }
}

/// out ← φ(h)/√m elementwise (and, when asked, dout ← φ′(h)/√m), rows in parallel.
fn activate(
    act: &ActivationRef,
    h: ArrayView2<f64>,
    m: usize,
    out: Option<ArrayViewMut2<f64>>,
    dout: Option<ArrayViewMut2<f64>>,
) {
    let s = 1.0 / (m as f64).sqrt();
    if let Some(mut o) = out {
        match (h.as_slice(), o.as_slice_mut()) {
            (Some(hs), Some(os)) => {
                os.par_chunks_mut(4096)
                    .zip(hs.par_chunks(4096))
                    .for_each(|(oc, hc)| {
                        act.value_slice(hc, oc);
                        oc.iter_mut().for_each(|v| *v *= s);
                    })
            }
            _ => Zip::from(o)
                .and(h)
                .par_for_each(|o, &v| *o = act.value(v) * s),
        }
    }
    if let Some(d) = dout {
        Zip::from(d)
            .and(h)
            .par_for_each(|o, &v| *o = act.derivative(v) * s);
    }
}

/// A random DEQ of width m.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeqNetwork {
    /// φ as used (centered as the parameters say).
    pub activation: ActivationRef,
    /// σ_a².
    pub sigma_a2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// m×m.
    pub a: Array2<f64>,
    /// m×p.
    pub b: Array2<f64>,
}

/// The fixed point of a forward pass: Z (n×m), the pre-activations H = σ_a·ZAᵀ + σ_b·XBᵀ, and how the solver went.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeqState {
    /// Z (n×m), one sample per row.
    pub z: Array2<f64>,
    /// H = σ_a·ZAᵀ + σ_b·XBᵀ at Z.
    pub h: Array2<f64>,
    /// How the solver went.
    pub report: SolveReport,
}

impl DeqNetwork {
    /// Draw A and B for `params` (the activation centered for data `x`, as the infinite-width kernels do).
    pub fn sample(
        params: &DeqParams,
        x: ArrayView2<f64>,
        width: usize,
        weights: Weights,
        seed: u64,
    ) -> Result<Self> {
        check_data(x)?;
        if width == 0 {
            return Err(Error::InvalidParameter {
                name: "width",
                value: 0.0,
                requirement: "a network needs at least one neuron",
            });
        }
        let weights = weights.checked()?;
        let activation = params.at_scale(params.input_scale(Some(x))?)?.activation;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let a = weights.draw(width, width, &mut rng)?;
        let b = weights.draw(width, x.ncols(), &mut rng)?;
        Ok(DeqNetwork {
            activation,
            sigma_a2: params.sigma_a2(),
            sigma_b2: params.sigma_b2(),
            a,
            b,
        })
    }

    /// The width m.
    pub fn width(&self) -> usize {
        self.a.nrows()
    }

    /// σ_b·XBᵀ (n×m), the input injection.
    fn injection(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_data(x)?;
        if x.ncols() != self.b.ncols() {
            return Err(Error::Shape {
                what: format!(
                    "data has {} columns, the network's input dimension is {}",
                    x.ncols(),
                    self.b.ncols()
                ),
            });
        }
        let mut u = zeroed_matrix::<f64>(x.nrows(), self.width())?;
        matmul_into(u.view_mut(), x, self.b.t(), false);
        u.mapv_inplace(|v| v * self.sigma_b2.sqrt());
        Ok(u)
    }

    /// H = σ_a·ZAᵀ + U.
    fn preactivation(&self, z: ArrayView2<f64>, u: &Array2<f64>, h: &mut Array2<f64>) {
        h.assign(u);
        faer::linalg::matmul::matmul(
            faer_mut(h.view_mut()),
            faer::Accum::Add,
            faer_ref(z),
            faer_ref(self.a.t()),
            self.sigma_a2.sqrt(),
            faer::Par::rayon(0),
        );
    }

    /// The fixed point Z* by Anderson acceleration to ‖Z − φ(H(Z))/√m‖_∞ ≤ `params`' tolerance. Outside the
    /// contraction region the solver's NotConverged or Diverged error says so.
    pub fn forward(&self, x: ArrayView2<f64>, params: &AndersonParams) -> Result<DeqState> {
        let u = self.injection(x)?;
        let (n, m) = (x.nrows(), self.width());
        let mut h = zeroed_matrix::<f64>(n, m)?;
        let mut z = vec![0.0; n * m];
        let report = anderson(
            &mut z,
            |zin, zout| {
                let zv = ArrayView2::from_shape((n, m), zin).expect("n×m");
                self.preactivation(zv, &u, &mut h);
                let zout = ArrayViewMut2::from_shape((n, m), zout).expect("n×m");
                activate(&self.activation, h.view(), m, Some(zout), None);
            },
            params,
        )
        .map_err(|e| match e {
            Error::NotConverged {
                iterations,
                residual,
                contraction,
                ..
            } => Error::NotConverged {
                method:
                    "DEQ forward pass (Anderson): the map may not be a contraction at this σ_a²",
                iterations,
                residual,
                contraction,
            },
            Error::Diverged {
                iterations,
                residual,
                contraction,
                ..
            } => Error::Diverged {
                method: "DEQ forward pass (Anderson): the map is not a contraction at this σ_a²",
                iterations,
                residual,
                contraction,
            },
            other => other,
        })?;
        let z = Array2::from_shape_vec((n, m), z).expect("n×m");
        self.preactivation(z.view(), &u, &mut h);
        Ok(DeqState { z, h, report })
    }

    /// `iterations` unrolled steps from Z = 0 (a depth-`iterations` network with tied weights).
    pub fn unrolled(&self, x: ArrayView2<f64>, iterations: usize) -> Result<DeqState> {
        let u = self.injection(x)?;
        let (n, m) = (x.nrows(), self.width());
        let mut h = zeroed_matrix::<f64>(n, m)?;
        let mut z = zeroed_matrix::<f64>(n, m)?;
        let mut next = zeroed_matrix::<f64>(n, m)?;
        let start = std::time::Instant::now();
        let mut residual = f64::NAN;
        for _ in 0..iterations {
            self.preactivation(z.view(), &u, &mut h);
            activate(&self.activation, h.view(), m, Some(next.view_mut()), None);
            residual = crate::solve::max_abs_diff(
                next.as_slice().expect("standard layout"),
                z.as_slice().expect("standard layout"),
            );
            std::mem::swap(&mut z, &mut next);
        }
        self.preactivation(z.view(), &u, &mut h);
        Ok(DeqState {
            z,
            h,
            report: SolveReport {
                iterations,
                residual,
                contraction: None,
                seconds: start.elapsed().as_secs_f64(),
            },
        })
    }

    /// dZ = φ′(H)/√m at a state.
    pub fn derivative(&self, state: &DeqState) -> Result<Array2<f64>> {
        require_derivative(&self.activation, "the empirical NTK")?;
        let m = self.width();
        let mut d = Array2::<f64>::zeros(state.h.raw_dim());
        activate(
            &self.activation,
            state.h.view(),
            m,
            None,
            Some(d.view_mut()),
        );
        Ok(d)
    }
}

/// A random fully connected network of width m: layers (activation, W_ℓ) and a readout v.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MlpNetwork {
    /// (φ_ℓ as used, W_ℓ of m × fan-in), input side first.
    pub layers: Vec<(ActivationRef, Array2<f64>)>,
    /// The readout v (m).
    pub readout: ndarray::Array1<f64>,
    /// Whether the NTK trains the input layer.
    pub first_layer: FirstLayer,
}

/// Post-activations Y_ℓ (n×m, ℓ = 0 is the input) and pre-activations H_ℓ (ℓ = 1..L) of a forward pass.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MlpState {
    /// Y_0 = X, Y_1, …, Y_L.
    pub y: Vec<Array2<f64>>,
    /// H_1, …, H_L.
    pub h: Vec<Array2<f64>>,
}

impl MlpNetwork {
    /// Draw the weights of the network `params` of width m for inputs of X's dimension, its activations centered
    /// for data `x` as the params say (as the infinite-width kernels do). Finite-width networks use the
    /// convention of math §4: unit weight variances, no biases.
    pub fn sample(
        params: &MlpParams,
        x: ArrayView2<f64>,
        width: usize,
        weights: Weights,
        seed: u64,
    ) -> Result<Self> {
        check_data(x)?;
        if width == 0 {
            return Err(Error::InvalidParameter {
                name: "width",
                value: 0.0,
                requirement: "a network needs at least one neuron",
            });
        }
        if !params.is_unit_variance() {
            return Err(Error::Undefined {
                quantity: "a finite-width network",
                activation: "an MLP with σ_w² ≠ 1 or σ_b² ≠ 0".into(),
                why: "finite-width networks are built with unit weight variances and no biases (MlpParams::unit_variance)",
            });
        }
        let layers = params.resolved_layers(params.input_scale(Some(x))?)?;
        let weights = weights.checked()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut fan_in = x.ncols();
        let mut out = Vec::with_capacity(layers.len());
        for l in layers {
            out.push((l.activation, weights.draw(width, fan_in, &mut rng)?));
            fan_in = width;
        }
        let readout = weights.draw(width, 1, &mut rng)?.column(0).to_owned();
        Ok(MlpNetwork {
            layers: out,
            readout,
            first_layer: params.first_layer(),
        })
    }

    /// The forward pass on data `x` (n×p).
    pub fn forward(&self, x: ArrayView2<f64>) -> Result<MlpState> {
        check_data(x)?;
        if x.ncols() != self.layers[0].1.ncols() {
            return Err(Error::Shape {
                what: format!(
                    "data has {} columns, the network's input dimension is {}",
                    x.ncols(),
                    self.layers[0].1.ncols()
                ),
            });
        }
        let mut y = vec![x.to_owned()];
        let mut h = Vec::with_capacity(self.layers.len());
        for (act, w) in &self.layers {
            let m = w.nrows();
            let mut pre = zeroed_matrix::<f64>(x.nrows(), m)?;
            matmul_into(
                pre.view_mut(),
                y.last().expect("input").view(),
                w.t(),
                false,
            );
            let mut post = zeroed_matrix::<f64>(x.nrows(), m)?;
            activate(act, pre.view(), m, Some(post.view_mut()), None);
            h.push(pre);
            y.push(post);
        }
        Ok(MlpState { y, h })
    }
}
