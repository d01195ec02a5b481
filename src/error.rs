//! Typed errors. Every fallible public function of the crate returns [`Result`].

use thiserror::Error;

/// Errors the library reports instead of panicking on user input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// An activation name or parameter list that does not parse (SPEC §2 syntax).
    #[error("unknown activation `{name}`: {hint}")]
    UnknownActivation { name: String, hint: String },

    /// A numeric parameter outside its valid range (a scale τ ≤ 0, a negative variance, depth 0, …).
    #[error("invalid parameter `{name}` = {value}: {requirement}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        requirement: &'static str,
    },

    /// A setting that the chosen model needs and that was not given.
    #[error("missing {name}: {why}")]
    Missing {
        name: &'static str,
        why: &'static str,
    },

    /// Data containing NaN or ±∞.
    #[error("{what} contains a non-finite value at {location}; clean or drop that entry")]
    NonFinite {
        what: &'static str,
        location: String,
    },

    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {what}")]
    Shape { what: String },

    /// A matrix that should be symmetric and is not.
    #[error("matrix is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ by {difference:e}, more than the tolerance {tolerance:e} (1e-10·max|a|); symmetrize it, e.g. (A + Aᵀ)/2")]
    NotSymmetric {
        i: usize,
        j: usize,
        difference: f64,
        tolerance: f64,
    },

    /// A 2×2 covariance that is not positive semi-definite.
    #[error("covariance [[{s11}, {s12}], [{s12}, {s22}]] is not positive semi-definite (need s11 ≥ 0, s22 ≥ 0, s12² ≤ s11·s22)")]
    NotPsd { s11: f64, s22: f64, s12: f64 },

    /// A quantity that does not exist for this activation (e.g. the derivative kernel of a step, or of a
    /// closure given without its derivative).
    #[error("{quantity} is undefined for activation `{activation}`: {why}")]
    Undefined {
        quantity: &'static str,
        activation: String,
        why: &'static str,
    },

    /// An iterative method that used its iteration budget without reaching its tolerance.
    #[error("{method} did not converge in {iterations} iterations: residual {residual:e}{}", contraction_note(*.contraction))]
    NotConverged {
        method: &'static str,
        iterations: usize,
        residual: f64,
        contraction: Option<f64>,
    },

    /// An iterative method whose iterates blew up (non-finite or growing residuals).
    #[error("{method} diverged at iteration {iterations}: residual {residual:e}{}", contraction_note(*.contraction))]
    Diverged {
        method: &'static str,
        iterations: usize,
        residual: f64,
        contraction: Option<f64>,
    },

    /// An implicit model whose kernel map is not a contraction: its fixed point may not exist or be unique.
    #[error("the {model} kernel map is not a contraction: estimated contraction factor {factor:.4} ≥ 1; choose {parameter} < {max_safe:.6} (or a smaller activation scale)")]
    OutsideContraction {
        model: &'static str,
        factor: f64,
        parameter: &'static str,
        max_safe: f64,
    },

    /// A linear-algebra backend failure.
    #[error("linear algebra backend `{backend}` failed: {detail}")]
    Backend {
        backend: &'static str,
        detail: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
}

fn contraction_note(c: Option<f64>) -> String {
    match c {
        Some(c) => format!(", observed contraction factor {c:.4}"),
        None => String::new(),
    }
}

/// Crate-wide result type.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            requirement: "must be finite and > 0",
        })
    }
}

pub(crate) fn check_nonnegative(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            requirement: "must be finite and ≥ 0",
        })
    }
}
