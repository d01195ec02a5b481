//! Typed errors. Every fallible public function of the crate returns [`Result`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

/// Errors the library reports instead of panicking on user input. Each message says what is wrong and how to
/// fix it, on one line.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum Error {
    /// An activation name or parameter list that does not parse (the syntax of
    /// [`crate::activation::BUILTIN_SYNTAX`]).
    #[error("unknown activation `{name}`: {hint}")]
    UnknownActivation {
        /// The text given.
        name: String,
        /// What was expected.
        hint: String,
    },

    /// A name (of an explicit family, a data source, …) that is not one of the known ones.
    #[error("unknown {what} `{name}`; known: {known}")]
    UnknownName {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },

    /// A numeric parameter outside its valid range (a scale τ ≤ 0, a negative variance, depth 0, …).
    #[error("invalid parameter `{name}` = {value}: {requirement}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },

    /// A setting that the chosen model needs and that was not given.
    #[error("missing {name}: {why}")]
    Missing {
        /// What is missing.
        name: &'static str,
        /// Why it is needed and how to give it.
        why: &'static str,
    },

    /// Data containing NaN or ±∞.
    #[error("{what} contains a non-finite value at {location}; clean or drop that entry")]
    NonFinite {
        /// What holds the value.
        what: &'static str,
        /// Where.
        location: String,
    },

    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {what}")]
    Shape {
        /// What does not fit.
        what: String,
    },

    /// A 2×2 covariance that is not positive semi-definite.
    #[error("covariance [[{s11}, {s12}], [{s12}, {s22}]] is not positive semi-definite (need s11 ≥ 0, s22 ≥ 0, s12² ≤ s11·s22)")]
    NotPsd {
        /// Σ₁₁.
        s11: f64,
        /// Σ₂₂.
        s22: f64,
        /// Σ₁₂.
        s12: f64,
    },

    /// A quantity that does not exist for this activation or model (the derivative kernel of a step, the NTK of a
    /// closure given without its derivative, the Implicit-CK of the Feng–Kolter model).
    #[error("{quantity} is undefined for `{activation}`: {why}")]
    Undefined {
        /// The quantity asked for.
        quantity: &'static str,
        /// The activation (or model) it was asked of.
        activation: String,
        /// Why it does not exist.
        why: &'static str,
    },

    /// An iterative method that used its iteration budget without reaching its tolerance.
    #[error("{method} did not converge in {iterations} iterations: residual {residual:e}{}", contraction_note(*.contraction))]
    NotConverged {
        /// The method.
        method: &'static str,
        /// Iterations used.
        iterations: usize,
        /// The last residual.
        residual: f64,
        /// The observed linear contraction factor, when measured.
        contraction: Option<f64>,
    },

    /// An iterative method whose iterates blew up (non-finite or growing residuals).
    #[error("{method} diverged at iteration {iterations}: residual {residual:e}{}", contraction_note(*.contraction))]
    Diverged {
        /// The method.
        method: &'static str,
        /// The iteration at which it was stopped.
        iterations: usize,
        /// The last residual.
        residual: f64,
        /// The observed linear contraction factor, when measured.
        contraction: Option<f64>,
    },

    /// An implicit model whose kernel map is not a contraction: its fixed point may not exist or be unique.
    #[error("the {model} kernel map is not a contraction: estimated contraction factor {factor:.4} ≥ 1; choose {parameter} < {max_safe:.6} (or a smaller activation scale)")]
    OutsideContraction {
        /// The model.
        model: &'static str,
        /// The measured contraction factor.
        factor: f64,
        /// The parameter to lower.
        parameter: &'static str,
        /// Its largest value for which the map contracts, estimated from the factor.
        max_safe: f64,
    },

    /// A failure of the eigensolvers or spectrum tools ([`crate::eigen::Error`]: a non-symmetric matrix, a
    /// backend not in this build, memory that could not be allocated, …).
    #[error(transparent)]
    Eigen(#[from] crate::eigen::Error),

    /// The operating system refused to read or write a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A file that was read but is not what it should be (a truncated IDX file, a `.npy` of the wrong type, a
    /// CSV row with a non-number).
    #[error("{path}: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
        /// The reader's own error, when there is one.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },

    /// A figure that could not be drawn or encoded.
    #[error("drawing the figure failed: {detail}")]
    Figure {
        /// What the drawing library said.
        detail: String,
    },

    /// A computation stopped because its observer asked for it ([`crate::progress::Progress::cancelled`]).
    #[error("stopped on request before the end")]
    Cancelled,

    /// An output that exists already and may not be replaced.
    #[error("{path}: exists already; pass --force to replace it")]
    OutputExists {
        /// The output.
        path: PathBuf,
    },
}

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source: Arc::new(source),
        }
    }

    /// A malformed file, without an underlying error.
    pub fn format(path: impl AsRef<Path>, detail: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            detail: detail.into(),
            source: None,
        }
    }
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
