//! # deq-kernels
//!
//! Infinite-width kernels of deep equilibrium models (DEQs) and of explicit networks, computed exactly and at
//! scale, with their high-dimensional (random-matrix) equivalents on Gaussian mixtures and the design of a
//! shallow explicit network with the same kernel. The mathematics is written out in the repository's
//! `docs/math.md`; section numbers in these docs (math §5, …) refer to it.
//!
//! | layer | modules |
//! |---|---|
//! | foundations | [`activation`] (moments, Hermite coefficients, dual kernels), [`solve`] (fixed points, Anderson, Newton, Levenberg–Marquardt), [`eigen`] (the `deq-eigen` crate: dense and matrix-free eigensolvers, spectra), [`data`] (samples, labelled data sets, standardization, file readers) |
//! | kernels | [`kernel`]: exact CK/NNGP/NTK of explicit networks ([`kernel::explicit`]) and DEQs ([`kernel::implicit`]) |
//! | random matrices | [`rmt`]: Gaussian mixtures, their statistics, the equivalents and their spectra |
//! | design | [`design`]: explicit families, matching, the DEQ's shallow twin |
//! | beside | [`network`] (finite width), [`delm`] (deep equilibrium linear model) |
//! | on top | [`comparison`]: a DEQ against its equivalent, its twin, an unmatched network and a finite-width DEQ |
//!
//! Conventions: a data matrix is n×p with one sample per row; variances are named squared (`sigma_a2` = σ_a²);
//! kernels come as full symmetric n×n matrices in f32 or f64 ([`Real`]); every fallible function returns
//! [`Result`]; long computations take a [`progress::Progress`] observer; accuracy thresholds live in
//! [`tolerance`].
//!
//! ```
//! use deq_kernels::activation::Builtin;
//! use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
//! use deq_kernels::kernel::Kernel;
//! use deq_kernels::progress::NoProgress;
//!
//! // Four samples in three dimensions (rows), the paper's DEQ: ReLU, σ_a² = 0.2, σ_b² = 1 − σ_a².
//! let x = ndarray::array![[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]];
//! let deq = DeqParams::new(Builtin::Relu, 0.2)?;
//! let ([ck, ntk], report) = deq_kernels::<f64, 2>(&deq, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)?;
//! assert!(report.max_residual < 1e-12 && ck[[0, 1]] == ck[[1, 0]]);
//! assert!(ntk[[0, 0]] > ck[[0, 0]]); // K* = G* ⊘ (1 − σ_a²Ġ*) ≥ G* entrywise on the diagonal
//! # Ok::<(), deq_kernels::Error>(())
//! ```
//!
//! Features: `io` (`.npy`, MNIST IDX, CSV readers and writers), `plot` (PNG/SVG figures), `serde` (serializable
//! reports), `openblas` (the LAPACK eigensolver backend through the system OpenBLAS), `testing` (proptest
//! strategies and identity checkers for downstream property tests, the module `testing`; docs/testing.md).

#![warn(missing_docs)]

pub mod activation;
pub mod comparison;
pub mod data;
pub mod delm;
pub mod design;
pub mod error;
pub mod kernel;
mod linalg;
pub mod network;
#[cfg(feature = "io")]
pub mod npy;
pub mod output;
#[cfg(feature = "plot")]
pub mod plot;
pub mod progress;
pub mod rmt;
pub mod sim;
pub mod solve;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tolerance;

/// Dense symmetric eigensolvers, matrix-free Lanczos, stochastic Lanczos quadrature and spectrum tools: the
/// `deq-eigen` crate, re-exported.
pub use deq_eigen as eigen;

pub use deq_eigen::Real;
pub use error::{Error, Result};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
