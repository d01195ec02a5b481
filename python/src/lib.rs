//! The native module of the `deq_kernels` Python package (`deq_kernels._native`): the crate's API with NumPy
//! arrays in and out. The Python package (python/deq_kernels/) wraps it with keyword defaults, dtype handling and
//! docstrings; docs/python.md describes both.
//!
//! Every computation runs with the GIL released; the long ones run on a worker thread and stop on Ctrl-C
//! (`run.rs`). Inputs are read in place (`arrays.rs`); outputs hand their buffers to NumPy.

use pyo3::prelude::*;

mod activation;
mod arrays;
mod eigen;
mod errors;
mod implicit_models;
mod kernels;
mod models;
mod params;
mod run;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "ConvergenceError",
        m.py().get_type::<errors::ConvergenceError>(),
    )?;
    activation::register(m)?;
    kernels::register(m)?;
    eigen::register(m)?;
    models::register(m)?;
    implicit_models::register(m)?;
    Ok(())
}
