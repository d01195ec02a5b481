//! Typed errors of the eigensolvers and spectrum tools. Every fallible public function returns [`Result`].

use thiserror::Error;

/// What went wrong, said so that the caller can fix it.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A setting outside its valid range (a block size of 0, an empty interval, …).
    #[error("invalid parameter `{name}` = {value}: {requirement}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },

    /// A matrix or list containing NaN or ±∞.
    #[error("{what} contains a non-finite value at {location}; clean or drop that entry")]
    NonFinite {
        /// What holds the value.
        what: &'static str,
        /// Where (an index or a pair of indices).
        location: String,
    },

    /// Arrays whose shapes do not fit the request.
    #[error("shape mismatch: {what}")]
    Shape {
        /// What does not fit.
        what: String,
    },

    /// A matrix that should be symmetric and is not (see [`crate::tolerance::SYMMETRY`]).
    #[error("matrix is not symmetric: entries ({i}, {j}) and ({j}, {i}) differ by {difference:e}, more than the tolerance {tolerance:e} (1e-10·max|a|); symmetrize it, e.g. (A + Aᵀ)/2")]
    NotSymmetric {
        /// Row of the worst pair.
        i: usize,
        /// Column of the worst pair.
        j: usize,
        /// |a_ij − a_ji|.
        difference: f64,
        /// The tolerance it exceeds.
        tolerance: f64,
    },

    /// An iterative method that used its iteration budget without reaching its tolerance.
    #[error("{method} did not converge in {iterations} iterations: residual {residual:e}")]
    NotConverged {
        /// The method.
        method: &'static str,
        /// Iterations (restarts, sweeps) used.
        iterations: usize,
        /// The last residual.
        residual: f64,
    },

    /// A failure reported by a backend (LAPACK's `info`, faer's error).
    #[error("linear algebra backend `{backend}` failed: {detail}")]
    Backend {
        /// The backend.
        backend: &'static str,
        /// What it reported.
        detail: String,
    },

    /// A name (of a backend, …) that is not one of the known ones.
    #[error("unknown {what} `{name}`; known: {known}")]
    UnknownName {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The names accepted.
        known: &'static str,
    },

    /// Memory that could not be allocated (or a size that does not fit in the address space).
    #[error("cannot allocate the {what}{}: not enough memory; ask for smaller sizes (n, p, width), or for kernels and spectra use f32 or a matrix-free method (Lanczos, SLQ)", .bytes.map(|b| format!(" ({:.1} GB)", b as f64 / 1e9)).unwrap_or_else(|| " (its size overflows the address space)".to_string()))]
    Allocation {
        /// What was being allocated.
        what: &'static str,
        /// Its size in bytes, when representable.
        bytes: Option<usize>,
    },

    /// A request a backend cannot answer (eigenvectors from a values-only driver, the whole spectrum from
    /// Lanczos); [`SymmetricEigensolver::supports`](crate::SymmetricEigensolver::supports) says so in advance.
    #[error("the {backend} backend does not compute {request}; {instead}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// What it was asked for.
        request: &'static str,
        /// What to use instead.
        instead: &'static str,
    },

    /// A backend this build does not contain.
    #[error("the {backend} backend is not in this build: {how}")]
    Unavailable {
        /// The backend asked for.
        backend: &'static str,
        /// How to get it.
        how: &'static str,
    },
}

/// Result type of the crate.
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
