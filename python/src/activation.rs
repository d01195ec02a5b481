//! Activations: Gaussian moments, Hermite coefficients, dual kernels (docs/math.md §2–3).

use deq_kernels::activation::{
    dual_kernel as dual, dual_kernel_derivative, hermite_coefficients as hermite,
    hermite_coefficients_derivative, parse_activation, ActivationRef, Cov2, ScaleMoments,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::vector_out;
use crate::errors::{to_py, value_error};
use crate::run::detached;

/// The largest number of Hermite coefficients one call computes.
const MAX_HERMITE: usize = 1 << 20;

/// An activation from its name in the crate's syntax (`relu`, `lrelu:a,b`, `elu:α`, …).
pub fn activation(spec: &str) -> PyResult<ActivationRef> {
    parse_activation(spec).map(Into::into).map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (activation, tau))]
fn moments<'py>(py: Python<'py>, activation: &str, tau: f64) -> PyResult<Bound<'py, PyDict>> {
    let act = self::activation(activation)?;
    let m = detached(py, || ScaleMoments::compute(&act, tau))?;
    let out = PyDict::new(py);
    out.set_item("tau", m.tau)?;
    out.set_item("m0", m.m0)?;
    out.set_item("m1", m.m1)?;
    out.set_item("m2", m.m2)?;
    out.set_item("v", m.v)?;
    out.set_item("q", m.q)?;
    out.set_item("d", m.d)?;
    Ok(out)
}

#[pyfunction]
#[pyo3(signature = (activation, scale, count, derivative = false))]
fn hermite_coefficients(
    py: Python<'_>,
    activation: &str,
    scale: f64,
    count: usize,
    derivative: bool,
) -> PyResult<Py<PyAny>> {
    let act = self::activation(activation)?;
    if count > MAX_HERMITE {
        return Err(value_error(format!(
            "count = {count} Hermite coefficients is more than {MAX_HERMITE}; ask for fewer"
        )));
    }
    let a = detached(py, || {
        if derivative {
            hermite_coefficients_derivative(&act, scale, count)
        } else {
            hermite(&act, scale, count)
        }
    })?;
    Ok(vector_out(py, a))
}

#[pyfunction]
#[pyo3(signature = (activation, s11, s22, s12, derivative = false))]
fn dual_kernel(
    py: Python<'_>,
    activation: &str,
    s11: f64,
    s22: f64,
    s12: f64,
    derivative: bool,
) -> PyResult<f64> {
    let act = self::activation(activation)?;
    detached(py, || {
        let c = Cov2::new(s11, s22, s12)?;
        if derivative {
            dual_kernel_derivative(&act, &c)
        } else {
            Ok(dual(&act, &c))
        }
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(moments, m)?)?;
    m.add_function(wrap_pyfunction!(hermite_coefficients, m)?)?;
    m.add_function(wrap_pyfunction!(dual_kernel, m)?)?;
    Ok(())
}
