//! The crate's errors as Python exceptions: `ValueError` with the crate's one-line message for bad input,
//! [`ConvergenceError`] (a `ValueError`) for a fixed point or an iteration that does not converge, carrying the
//! contraction factor, `OSError` for files, `MemoryError` for allocations refused, `KeyboardInterrupt` for a
//! call stopped by Ctrl-C.

use deq_kernels::Error;
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    deq_kernels,
    ConvergenceError,
    PyValueError,
    "A fixed point or an iteration that did not converge. Attributes: `contraction` (the measured contraction \
     factor, or None), `max_safe` (the largest variance for which the map contracts, or None), `parameter` (the \
     variance to lower, or None), `iterations` and `residual` (or None)."
);

/// What a [`ConvergenceError`] carries besides its message.
#[derive(Default)]
struct Convergence {
    contraction: Option<f64>,
    max_safe: Option<f64>,
    parameter: Option<&'static str>,
    iterations: Option<usize>,
    residual: Option<f64>,
}

/// The Python exception for `e`.
pub fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::OutsideContraction {
            factor,
            parameter,
            max_safe,
            ..
        } => convergence(
            message,
            Convergence {
                contraction: Some(factor),
                max_safe: Some(max_safe),
                parameter: Some(parameter),
                ..Default::default()
            },
        ),
        Error::NotConverged {
            iterations,
            residual,
            contraction,
            ..
        }
        | Error::Diverged {
            iterations,
            residual,
            contraction,
            ..
        } => convergence(
            message,
            Convergence {
                contraction,
                iterations: Some(iterations),
                residual: Some(residual),
                ..Default::default()
            },
        ),
        Error::Eigen(deq_kernels::eigen::Error::NotConverged { .. }) => {
            convergence(message, Convergence::default())
        }
        Error::Eigen(deq_kernels::eigen::Error::Allocation { .. }) => {
            PyMemoryError::new_err(message)
        }
        Error::Io { .. } => PyOSError::new_err(message),
        Error::Cancelled => PyKeyboardInterrupt::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

fn convergence(message: String, fields: Convergence) -> PyErr {
    let err = ConvergenceError::new_err(message);
    Python::attach(|py| {
        let value = err.value(py);
        // Setting attributes on a fresh exception instance cannot fail short of memory exhaustion, where the
        // exception without them is still the right one to raise.
        let _ = value.setattr("contraction", fields.contraction);
        let _ = value.setattr("max_safe", fields.max_safe);
        let _ = value.setattr("parameter", fields.parameter);
        let _ = value.setattr("iterations", fields.iterations);
        let _ = value.setattr("residual", fields.residual);
    });
    err
}

/// `ValueError(message)`.
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
