//! The SIM's architecture (docs/sim.md §Model): ŷ = W_out·ψ_inv(U·V·φ(x)), checked settings and the drawn model.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::layers::{mlp_stages, Dense, Stack, Stage};
use super::rff::{RandomFourier, RffParams};
use crate::eigen::EigenScalar;
use crate::{Error, Result};

/// The basis network g that maps x to the first tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Basis {
    /// g(x) = x: the tier is the input itself (with a Fourier tier, the "Fourier SIM").
    Identity,
    /// Dense(p → width)–ReLU–Dense(width → width)–ReLU–Dense(width → d), biases included.
    Mlp {
        /// The hidden width.
        width: usize,
    },
}

/// One tier (φ = g) or two (φ = RFF∘g, the random Fourier layer frozen).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Tier {
    /// φ = g.
    Single,
    /// φ = RFF(g).
    Two(RffParams),
}

/// Checked SIM settings. Built by [`SimParams::single`] or [`SimParams::two`] with the published MNIST sizes,
/// then adjusted with the `with_*` methods; [`SimParams::checked`] (called by [`Sim::new`]) refuses what
/// cannot be built.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SimParams {
    /// p, the input dimension.
    pub inputs: usize,
    /// k, the output dimension (classes).
    pub outputs: usize,
    /// The basis network.
    pub basis: Basis,
    /// d, the basis network's output dimension (the first tier; equals p for [`Basis::Identity`]).
    pub basis_dim: usize,
    /// One or two tiers.
    pub tier: Tier,
    /// r, the rank of U·V (`None`: d_t/2, rounded down, as published).
    pub rank: Option<usize>,
    /// The width of ψ_inv, Dense(d_t → w)–ReLU–Dense(w → w)–ReLU–Dense(w → w).
    pub rev_dim: usize,
}

impl SimParams {
    /// Single tier on a fully connected basis: d = 50, rank 25, rev_dim 32 (Konishi & Kawahara's MNIST tier
    /// sizes) and basis width 100 (their code's default for fully connected bases).
    pub fn single(inputs: usize, outputs: usize) -> Self {
        SimParams {
            inputs,
            outputs,
            basis: Basis::Mlp { width: 100 },
            basis_dim: 50,
            tier: Tier::Single,
            rank: None,
            rev_dim: 32,
        }
    }

    /// Two tiers: basis as [`SimParams::single`], then D = 104 cos/sin Gaussian features of bandwidth 10, rank
    /// 52, rev_dim 32 (the published MNIST sizes).
    pub fn two(inputs: usize, outputs: usize) -> Self {
        let rff = RffParams::new(
            104,
            10.0,
            super::FrequencyLaw::Gaussian,
            super::FourierFeatures::CosSin,
        )
        .expect("valid defaults");
        SimParams {
            tier: Tier::Two(rff),
            ..SimParams::single(inputs, outputs)
        }
    }

    /// The basis network (d is set to p for the identity).
    pub fn with_basis(mut self, basis: Basis) -> Self {
        self.basis = basis;
        if basis == Basis::Identity {
            self.basis_dim = self.inputs;
        }
        self
    }

    /// d, the basis network's output dimension.
    pub fn with_basis_dim(mut self, d: usize) -> Self {
        self.basis_dim = d;
        self
    }

    /// The tier structure.
    pub fn with_tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }

    /// The Fourier tier's bandwidth bw (its law, features and dimension kept); an error without a Fourier tier
    /// or for a bandwidth that is not finite and positive.
    pub fn with_bandwidth(mut self, bandwidth: f64) -> Result<Self> {
        let Tier::Two(rff) = self.tier else {
            return Err(Error::Missing {
                name: "a Fourier tier",
                why: "only a two-tier SIM has a bandwidth",
            });
        };
        self.tier = Tier::Two(RffParams::new(
            rff.dim(),
            bandwidth,
            rff.law(),
            rff.features(),
        )?);
        Ok(self)
    }

    /// r, the rank of U·V.
    pub fn with_rank(mut self, rank: usize) -> Self {
        self.rank = Some(rank);
        self
    }

    /// The width of ψ_inv.
    pub fn with_rev_dim(mut self, rev_dim: usize) -> Self {
        self.rev_dim = rev_dim;
        self
    }

    /// d_t, the dimension U·V acts on: d (one tier) or D (two).
    pub fn tier_dim(&self) -> usize {
        match self.tier {
            Tier::Single => self.basis_dim,
            Tier::Two(rff) => rff.dim(),
        }
    }

    /// r.
    pub fn rank(&self) -> usize {
        self.rank.unwrap_or(self.tier_dim() / 2)
    }

    /// Every dimension positive, d = p for the identity basis, and 1 ≤ r ≤ d_t.
    pub fn checked(self) -> Result<Self> {
        let positive = [
            ("inputs", self.inputs),
            ("outputs", self.outputs),
            ("basis_dim", self.basis_dim),
            ("rev_dim", self.rev_dim),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(Error::InvalidParameter {
                    name,
                    value: 0.0,
                    requirement: "must be at least 1",
                });
            }
        }
        match self.basis {
            Basis::Mlp { width: 0 } => {
                return Err(Error::InvalidParameter {
                    name: "basis_width",
                    value: 0.0,
                    requirement: "must be at least 1",
                })
            }
            Basis::Identity if self.basis_dim != self.inputs => {
                return Err(Error::Shape {
                    what: format!(
                        "the identity basis keeps the input dimension {}, not basis_dim = {}",
                        self.inputs, self.basis_dim
                    ),
                })
            }
            _ => {}
        }
        let (r, dt) = (self.rank(), self.tier_dim());
        if r == 0 || r > dt {
            return Err(Error::InvalidParameter {
                name: "rank",
                value: r as f64,
                requirement: "the rank of U·V must lie in 1..=d_t, the tier dimension",
            });
        }
        Ok(self)
    }
}

/// A drawn stable invariant model: the stack basis → (RFF) → V → U → ψ_inv → W_out.
#[derive(Debug, Clone)]
pub struct Sim<T> {
    params: SimParams,
    /// The stages, in order.
    pub stack: Stack<T>,
    v_stage: usize,
}

impl<T: EigenScalar> Sim<T> {
    /// A SIM with weights drawn from `seed` (dense layers uniform in ±1/√fan-in, the Fourier layer by its law).
    pub fn new(params: SimParams, seed: u64) -> Result<Self> {
        let params = params.checked()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stages: Vec<Stage<T>> = Vec::new();
        if let Basis::Mlp { width } = params.basis {
            stages.extend(mlp_stages(
                params.inputs,
                width,
                2,
                params.basis_dim,
                &mut rng,
            ));
        }
        if let Tier::Two(rff) = params.tier {
            stages.push(Stage::Fourier(RandomFourier::draw(
                rff,
                params.basis_dim,
                &mut rng,
            )));
        }
        let (dt, r) = (params.tier_dim(), params.rank());
        let v_stage = stages.len();
        stages.push(Stage::Dense(Dense::uniform(dt, r, false, &mut rng)));
        stages.push(Stage::Dense(Dense::uniform(r, dt, false, &mut rng)));
        stages.extend(mlp_stages(dt, params.rev_dim, 2, params.rev_dim, &mut rng));
        stages.push(Stage::Dense(Dense::uniform(
            params.rev_dim,
            params.outputs,
            true,
            &mut rng,
        )));
        Ok(Sim {
            params,
            stack: Stack { stages },
            v_stage,
        })
    }

    /// The settings.
    pub fn params(&self) -> &SimParams {
        &self.params
    }

    /// Trainable numbers (the Fourier layer is frozen and not counted).
    pub fn parameter_count(&self) -> usize {
        self.stack.parameter_count()
    }

    /// ŷ for inputs x (n×p): n×k.
    pub fn forward(&self, x: ArrayView2<T>) -> Result<Array2<T>> {
        self.check_input(x)?;
        Ok(self.stack.forward(x))
    }

    /// φ(x), the tier features U·V acts on: n×d_t.
    pub fn tier_features(&self, x: ArrayView2<T>) -> Result<Array2<T>> {
        self.check_input(x)?;
        Ok(self.stack.forward_prefix(x, self.v_stage))
    }

    /// The index of V in the stack (U follows it).
    pub fn v_stage(&self) -> usize {
        self.v_stage
    }

    pub(crate) fn check_input(&self, x: ArrayView2<T>) -> Result<()> {
        if x.ncols() != self.params.inputs {
            return Err(Error::Shape {
                what: format!(
                    "the SIM takes {} input features, the data has {}",
                    self.params.inputs,
                    x.ncols()
                ),
            });
        }
        crate::data::check_samples(x)
    }
}
