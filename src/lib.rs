//! # deq-kernels
//!
//! Infinite-width kernels of deep equilibrium models (DEQs) and of explicit networks, computed exactly and at
//! scale: Gaussian moments, Hermite coefficients and dual kernels of activations ([`activation`]), exact
//! conjugate and neural tangent kernels of multilayer networks ([`kernel`]).
//!
//! The mathematics and conventions are those of the project specification (`SPEC.md`); section numbers
//! (§2, §3, …) in the documentation refer to it. Data matrices are n×p with one sample per row.

pub mod activation;
pub(crate) mod buffer;
pub mod data;
pub mod delm;
pub mod design;
pub mod eigen;
pub mod error;
pub mod kernel;
pub mod network;
pub mod npy;
pub mod plot;
pub mod real;
pub mod rmt;
pub(crate) mod simd;
pub mod solve;
pub(crate) mod spin_team;

pub use error::{Error, Result};
pub use real::Real;

#[cfg(feature = "openblas")]
extern crate openblas_src;
