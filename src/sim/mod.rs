//! The stable invariant model (SIM) of Konishi & Kawahara, "Stable Invariant Models via Koopman Spectra"
//! (docs/sim.md, math §10).
//!
//! A DEQ's output is the limit of an iteration; read through the Koopman operator 𝒦g = g∘F, that limit is the
//! spectral projection of 𝒦 onto the eigenvalue 1. A SIM parametrizes such a projection directly and is
//! evaluated like a feed-forward network:
//!
//! ŷ = W_out · ψ_inv(U · V · φ(x)),
//!
//! with φ the tier map (the basis network g, or a frozen random Fourier layer on top of it), V: ℝ^{d_t} → ℝ^r and
//! U: ℝ^r → ℝ^{d_t} linear without bias (rank ≤ r, r = d_t/2 by default), ψ_inv a Linear–ReLU–Linear–ReLU–Linear
//! network of width `rev_dim` and W_out linear.
//!
//! - [`model`]: [`SimParams`] (checked settings with the published MNIST sizes) and the drawn [`Sim`];
//! - [`layers`]: dense, ReLU and Fourier stages with hand-written back-propagation;
//! - [`rff`]: the random Fourier layer ([`RffParams`]);
//! - [`train`]: Adam on mini-batches, cross-entropy or square loss, reproducible from a seed;
//! - [`closed_form`]: the variant with the basis fixed, U·V by reduced-rank ridge regression;
//! - [`compare`]: SIMs against a DEQ trained by implicit differentiation and an MLP, of matched size;
//! - [`kernel`]: the infinite-width CK and NTK of a random SIM, composed from the explicit recursions;
//! - [`koopman`]: the Koopman view of DEQs (spectral projection of a linear DEQ's augmented map, EDMD of a
//!   nonlinear one).

pub mod closed_form;
pub mod compare;
pub mod kernel;
pub mod koopman;
pub mod layers;
pub mod model;
pub mod rff;
pub mod train;

pub use model::{Basis, Sim, SimParams, Tier};
pub use rff::{FourierFeatures, FrequencyLaw, RandomFourier, RffParams};
