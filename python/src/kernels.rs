//! Exact kernels: explicit MLPs (docs/math.md §4), the DEQ and the Feng–Kolter DEQ (§5), with their reports.

use deq_kernels::kernel::explicit::mlp_kernels;
use deq_kernels::kernel::implicit::{deq_kernels, fk_kernels, FengKolterParams, ImplicitReport};
use deq_kernels::kernel::Kernel;
use deq_kernels::Error;
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::activation::activation;
use crate::arrays::{Dtype, Held, Matrices};
use crate::errors::{to_py, value_error};
use crate::params::{deq_params, mlp_params};
use crate::run::interruptible;

/// `$f::<T, N>(params, x, kinds, progress)` for the 1–3 kinds asked, the matrices as a `Vec`.
macro_rules! for_kinds {
    ($t:ty, $f:ident, $params:expr, $x:expr, $kinds:expr, $progress:expr) => {{
        let k = $kinds;
        match k.len() {
            1 => $f::<$t, 1>($params, $x, [k[0]], $progress).map(|(m, r)| (Vec::from(m), r)),
            2 => $f::<$t, 2>($params, $x, [k[0], k[1]], $progress).map(|(m, r)| (Vec::from(m), r)),
            3 => $f::<$t, 3>($params, $x, [k[0], k[1], k[2]], $progress)
                .map(|(m, r)| (Vec::from(m), r)),
            _ => unreachable!("kinds() allows one to three"),
        }
    }};
}

/// The kinds asked for: 1 to 3 distinct names among "nngp", "ck", "ntk".
pub fn kinds(names: &[String]) -> PyResult<Vec<Kernel>> {
    if names.is_empty() || names.len() > 3 {
        return Err(value_error(format!(
            "ask for one to three kernels among \"nngp\", \"ck\", \"ntk\" (got {})",
            names.len()
        )));
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let k: Kernel = name
            .parse()
            .map_err(|e: Error| value_error(e.to_string()))?;
        if out.contains(&k) {
            return Err(value_error(format!("kernel \"{name}\" asked for twice")));
        }
        out.push(k);
    }
    Ok(out)
}

/// `$f::<T, N>(params, x, kinds, progress)` in the dtype asked for, as [`Matrices`] and the report.
macro_rules! in_dtype {
    ($dtype:expr, $f:ident, $params:expr, $x:expr, $kinds:expr, $progress:expr) => {
        match $dtype {
            Dtype::F64 => for_kinds!(f64, $f, $params, $x, $kinds, $progress)
                .map(|(m, r)| (Matrices::F64(m), r)),
            Dtype::F32 => for_kinds!(f32, $f, $params, $x, $kinds, $progress)
                .map(|(m, r)| (Matrices::F32(m), r)),
        }
    };
}

fn implicit_report<'py>(py: Python<'py>, r: &ImplicitReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("tau0", r.tau0)?;
    d.set_item("tau_star", r.tau_star)?;
    d.set_item("centering", r.centering)?;
    d.set_item("max_residual", r.max_residual)?;
    d.set_item("contraction", r.contraction)?;
    d.set_item("max_iterations", r.max_iterations)?;
    d.set_item("mean_iterations", r.mean_iterations)?;
    d.set_item("quadrature_fallbacks", r.quadrature_fallbacks)?;
    d.set_item("seconds", r.seconds)?;
    Ok(d)
}

#[pyfunction]
#[pyo3(signature = (x, activation = "relu", sigma_a2 = 0.2, kinds = vec!["ck".to_string()], sigma_b2 = None,
    tau0 = None, centering = "tau_star", shift = 0.0, train_input_weights = false, dtype = "float64"))]
#[allow(clippy::too_many_arguments)]
#[pyo3(name = "deq_kernels")]
fn deq_kernels_py<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    activation: &str,
    sigma_a2: f64,
    kinds: Vec<String>,
    sigma_b2: Option<f64>,
    tau0: Option<f64>,
    centering: &str,
    shift: f64,
    train_input_weights: bool,
    dtype: &str,
) -> PyResult<(Vec<Py<PyAny>>, Bound<'py, PyDict>)> {
    let kinds = self::kinds(&kinds)?;
    let dtype = Dtype::parse(dtype)?;
    let params = deq_params(
        activation,
        sigma_a2,
        sigma_b2,
        tau0,
        centering,
        shift,
        train_input_weights,
    )?;
    let x = Held::new(x, "X")?;
    let (m, report) = interruptible(py, x.kernel_work(), move |stop| {
        in_dtype!(dtype, deq_kernels, &params, x.view(), &kinds, stop)
    })?;
    Ok((m.into_py(py), implicit_report(py, &report)?))
}

#[pyfunction]
#[pyo3(signature = (x, activation = "relu", sigma_w2 = 0.5, sigma_u2 = 1.0, sigma_b2 = 0.0,
    kinds = vec!["nngp".to_string()], input_dim = None, dtype = "float64"))]
#[allow(clippy::too_many_arguments)]
#[pyo3(name = "fk_kernels")]
fn fk_kernels_py<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    activation: &str,
    sigma_w2: f64,
    sigma_u2: f64,
    sigma_b2: f64,
    kinds: Vec<String>,
    input_dim: Option<f64>,
    dtype: &str,
) -> PyResult<(Vec<Py<PyAny>>, Bound<'py, PyDict>)> {
    let act = self::activation(activation)?;
    let kinds = self::kinds(&kinds)?;
    let dtype = Dtype::parse(dtype)?;
    let params = FengKolterParams::new(act, sigma_w2, sigma_u2, sigma_b2).map_err(to_py)?;
    let params = match input_dim {
        Some(d) => params.with_input_dim(d).map_err(to_py)?,
        None => params,
    };
    let x = Held::new(x, "X")?;
    let (m, report) = interruptible(py, x.kernel_work(), move |stop| {
        in_dtype!(dtype, fk_kernels, &params, x.view(), &kinds, stop)
    })?;
    Ok((m.into_py(py), implicit_report(py, &report)?))
}

#[pyfunction]
#[pyo3(signature = (x, activations, sigma_w2 = 1.0, sigma_b2 = 0.0, kinds = vec!["ck".to_string()],
    train_first_layer = true, center = false, tau0 = None, dtype = "float64"))]
#[pyo3(name = "mlp_kernels")]
#[allow(clippy::too_many_arguments)]
fn mlp_kernels_py<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    activations: Vec<String>,
    sigma_w2: f64,
    sigma_b2: f64,
    kinds: Vec<String>,
    train_first_layer: bool,
    center: bool,
    tau0: Option<f64>,
    dtype: &str,
) -> PyResult<(Vec<Py<PyAny>>, Bound<'py, PyDict>)> {
    let kinds = self::kinds(&kinds)?;
    let dtype = Dtype::parse(dtype)?;
    let params = mlp_params(
        &activations,
        sigma_w2,
        sigma_b2,
        train_first_layer,
        center,
        tau0,
    )?;
    let x = Held::new(x, "X")?;
    let (m, report) = interruptible(py, x.kernel_work(), move |stop| {
        in_dtype!(dtype, mlp_kernels, &params, x.view(), &kinds, stop)
    })?;
    let d = PyDict::new(py);
    d.set_item("tau0", report.tau0)?;
    d.set_item("quadrature_fallbacks", report.quadrature_fallbacks)?;
    Ok((m.into_py(py), d))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(deq_kernels_py, m)?)?;
    m.add_function(wrap_pyfunction!(fk_kernels_py, m)?)?;
    m.add_function(wrap_pyfunction!(mlp_kernels_py, m)?)?;
    Ok(())
}
