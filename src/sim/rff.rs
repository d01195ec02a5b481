//! The frozen random Fourier layer of the two-tier SIM (docs/sim.md §Model):
//! z = [cos(hWᵀ), sin(hWᵀ)]/√(D/2) with W ∈ ℝ^{D/2×d}, or z = cos(hWᵀ + b)/√(D/2) with W ∈ ℝ^{D×d} and
//! b ~ U[0, 2π). Gaussian rows N(0, I/bw²) give E[z(h)·z(h′)] = exp(−‖h − h′‖²/(2bw²)); i.i.d. Cauchy(0, 1/bw)
//! entries give exp(−‖h − h′‖₁/bw).

use ndarray::{s, Array1, Array2, ArrayView2, Zip};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Cauchy, Distribution, Normal};

use crate::eigen::EigenScalar;
use crate::linalg::matmul_into;
use crate::{Error, Result};

/// The law of the frequencies, which fixes the kernel the features approximate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum FrequencyLaw {
    /// Rows N(0, I/bw²): the Gaussian kernel exp(−‖h − h′‖²/(2bw²)).
    Gaussian,
    /// Entries Cauchy(0, 1/bw): the L1 Laplace kernel exp(−‖h − h′‖₁/bw).
    Cauchy,
}

/// How frequencies become features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum FourierFeatures {
    /// [cos(hWᵀ), sin(hWᵀ)]/√(D/2), D even, D/2 frequencies.
    CosSin,
    /// cos(hWᵀ + b)/√(D/2), D frequencies and phases b ~ U[0, 2π).
    CosPhase,
}

/// Settings of the random Fourier layer, checked by [`RffParams::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RffParams {
    dim: usize,
    bandwidth: f64,
    law: FrequencyLaw,
    features: FourierFeatures,
}

impl RffParams {
    /// D = `dim` features of bandwidth bw = `bandwidth`. D must be positive, and even for
    /// [`FourierFeatures::CosSin`]; bw finite and positive.
    pub fn new(
        dim: usize,
        bandwidth: f64,
        law: FrequencyLaw,
        features: FourierFeatures,
    ) -> Result<Self> {
        if dim == 0 || (features == FourierFeatures::CosSin && dim % 2 != 0) {
            return Err(Error::InvalidParameter {
                name: "rff_dim",
                value: dim as f64,
                requirement: "must be positive, and even for cos/sin features (D/2 frequencies, each giving a cosine and a sine)",
            });
        }
        crate::error::check_positive("bandwidth", bandwidth)?;
        Ok(RffParams {
            dim,
            bandwidth,
            law,
            features,
        })
    }

    /// D, the number of features.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// bw.
    pub fn bandwidth(&self) -> f64 {
        self.bandwidth
    }

    /// The frequencies' law.
    pub fn law(&self) -> FrequencyLaw {
        self.law
    }

    /// The feature form.
    pub fn features(&self) -> FourierFeatures {
        self.features
    }
}

/// A drawn random Fourier layer: frozen frequencies (and phases).
#[derive(Debug, Clone)]
pub struct RandomFourier<T> {
    params: RffParams,
    /// W: D/2×d (cos/sin) or D×d (cos with phase).
    pub frequencies: Array2<T>,
    /// b (cos with phase only).
    pub phases: Option<Array1<T>>,
}

impl<T: EigenScalar> RandomFourier<T> {
    /// Draws the frequencies (and phases) for inputs of dimension `inputs`.
    pub fn draw(params: RffParams, inputs: usize, rng: &mut ChaCha8Rng) -> Self {
        let rows = match params.features {
            FourierFeatures::CosSin => params.dim / 2,
            FourierFeatures::CosPhase => params.dim,
        };
        let scale = 1.0 / params.bandwidth;
        let frequencies = match params.law {
            FrequencyLaw::Gaussian => {
                let law = Normal::new(0.0, scale).expect("a positive scale");
                Array2::from_shape_simple_fn((rows, inputs), || T::from_f64(law.sample(rng)))
            }
            FrequencyLaw::Cauchy => {
                let law = Cauchy::new(0.0, scale).expect("a positive scale");
                Array2::from_shape_simple_fn((rows, inputs), || T::from_f64(law.sample(rng)))
            }
        };
        let phases = (params.features == FourierFeatures::CosPhase).then(|| {
            Array1::from_shape_simple_fn(rows, || {
                T::from_f64(rng.random_range(0.0..std::f64::consts::TAU))
            })
        });
        RandomFourier {
            params,
            frequencies,
            phases,
        }
    }

    /// The settings it was drawn with.
    pub fn params(&self) -> RffParams {
        self.params
    }

    /// d, the input dimension.
    pub fn inputs(&self) -> usize {
        self.frequencies.ncols()
    }

    fn norm(&self) -> f64 {
        (self.params.dim as f64 / 2.0).sqrt()
    }

    /// The arguments hWᵀ (+ b).
    fn arguments(&self, h: ArrayView2<T>) -> Array2<T> {
        let mut a = Array2::zeros((h.nrows(), self.frequencies.nrows()));
        matmul_into(a.view_mut(), h, self.frequencies.t(), false);
        if let Some(b) = &self.phases {
            a += b;
        }
        a
    }

    /// The features z(h) for h n×d: n×D.
    pub fn forward(&self, h: ArrayView2<T>) -> Array2<T> {
        let a = self.arguments(h);
        let inv = 1.0 / self.norm();
        match self.params.features {
            FourierFeatures::CosSin => {
                let m = a.ncols();
                let mut z = Array2::zeros((h.nrows(), 2 * m));
                Zip::from(z.slice_mut(s![.., ..m]))
                    .and(&a)
                    .for_each(|z, &a| *z = T::from_f64(a.to_f64().cos() * inv));
                Zip::from(z.slice_mut(s![.., m..]))
                    .and(&a)
                    .for_each(|z, &a| *z = T::from_f64(a.to_f64().sin() * inv));
                z
            }
            FourierFeatures::CosPhase => a.mapv(|a| T::from_f64(a.to_f64().cos() * inv)),
        }
    }

    /// ∂L/∂h from ∂L/∂z: for cos/sin, (−sin(a)∘dz_cos + cos(a)∘dz_sin)·W/√(D/2); for cos with phase,
    /// (−sin(a)∘dz)·W/√(D/2).
    pub fn backward(&self, h: ArrayView2<T>, dz: ArrayView2<T>) -> Array2<T> {
        let a = self.arguments(h);
        let inv = 1.0 / self.norm();
        let mut da = Array2::zeros(a.raw_dim());
        match self.params.features {
            FourierFeatures::CosSin => {
                let m = a.ncols();
                Zip::from(&mut da)
                    .and(&a)
                    .and(dz.slice(s![.., ..m]))
                    .and(dz.slice(s![.., m..]))
                    .for_each(|d, &a, &gc, &gs| {
                        let (sin, cos) = a.to_f64().sin_cos();
                        *d = T::from_f64((-sin * gc.to_f64() + cos * gs.to_f64()) * inv);
                    });
            }
            FourierFeatures::CosPhase => {
                Zip::from(&mut da).and(&a).and(dz).for_each(|d, &a, &g| {
                    *d = T::from_f64(-a.to_f64().sin() * g.to_f64() * inv);
                });
            }
        }
        let mut dh = Array2::zeros(h.raw_dim());
        matmul_into(dh.view_mut(), da.view(), self.frequencies.view(), false);
        dh
    }
}
