//! The random-matrix side (math §4, §6): Gaussian-mixture data ([`gmm`]), the mixture objects J, ψ, t, T, u
//! and τ₀ ([`statistics`]), the coefficients of the high-dimensional equivalents of explicit networks and of the
//! DEQ ([`equivalent`]), and the equivalent matrices with their spectra ([`matrix`]).

pub mod equivalent;
pub mod gmm;
pub mod matrix;
pub mod statistics;
