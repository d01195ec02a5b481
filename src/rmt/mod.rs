//! High-dimensional Gaussian-mixture data (SPEC §6).

pub mod gmm;
