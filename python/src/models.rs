//! Above the kernels: Gaussian mixtures and the high-dimensional equivalents (docs/math.md §6), the design of
//! the DEQ's shallow twin (§7) and finite-width empirical kernels (§8).

use deq_kernels::design::{twin, MatchParams};
use deq_kernels::kernel::explicit::FirstLayer;
use deq_kernels::kernel::Kernel;
use deq_kernels::network::empirical::{
    deq_empirical, mlp_empirical, EmpiricalParams, EmpiricalReport,
};
use deq_kernels::network::Weights;
use deq_kernels::rmt::equivalent::{
    deq_equivalent, explicit_equivalent, Coefficients, LayerMoments,
};
use deq_kernels::rmt::gmm::{Covariance, GaussianMixture, MixtureClass};
use deq_kernels::rmt::matrix::{equivalent_matrix, equivalent_spectrum};
use deq_kernels::rmt::statistics::MixtureStatistics;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrays::{matrix_out, vector_out, Dtype, Held, Matrices};
use crate::errors::{to_py, value_error};
use crate::kernels::kinds;
use crate::params::{deq_params, mlp_params};
use crate::run::{detached, interruptible};

fn coefficients_dict<'py>(py: Python<'py>, c: &Coefficients) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("c1", c.c1)?;
    d.set_item("c2", c.c2)?;
    d.set_item("c3", c.c3)?;
    d.set_item("c0", c.c0)?;
    Ok(d)
}

fn layer_moments_dict<'py>(py: Python<'py>, m: &LayerMoments) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("g1", m.g1)?;
    d.set_item("g2", m.g2)?;
    d.set_item("g4", m.g4)?;
    d.set_item("d", m.d)?;
    d.set_item("v", m.v)?;
    Ok(d)
}

/// A mixture class's covariance from Python: a number c (c·I), a vector (its diagonal) or a p×p matrix.
fn covariance(c: &Bound<'_, PyAny>, p: usize) -> PyResult<Covariance> {
    if let Ok(x) = c.extract::<f64>() {
        return Ok(Covariance::ScaledIdentity(x));
    }
    if let Ok(d) = c.cast::<PyArray1<f64>>() {
        return Ok(Covariance::Diagonal(d.to_owned_array()));
    }
    if let Ok(m) = c.cast::<PyArray2<f64>>() {
        let m = m.to_owned_array();
        if m.dim() != (p, p) {
            return Err(value_error(format!(
                "a full covariance must be p×p = {p}×{p}, got {:?}",
                m.dim()
            )));
        }
        return Ok(Covariance::Full(m));
    }
    Err(value_error(
        "a covariance is a number (c·I), a float64 vector (its diagonal) or a float64 p×p matrix",
    ))
}

#[pyfunction]
#[pyo3(signature = (p, n = None, seed = 0, means = None, covariances = None, sizes = None))]
fn gaussian_mixture(
    py: Python<'_>,
    p: usize,
    n: Option<usize>,
    seed: u64,
    means: Option<Bound<'_, PyArray2<f64>>>,
    covariances: Option<Vec<Bound<'_, PyAny>>>,
    sizes: Option<Vec<usize>>,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let mixture = match (means, covariances, sizes) {
        (None, None, None) => match n {
            Some(n) => GaussianMixture::paper_with_n(p, n),
            None => GaussianMixture::paper(p),
        }
        .map_err(to_py)?,
        (Some(means), Some(covs), Some(sizes)) => {
            let means = means.to_owned_array();
            if means.nrows() != covs.len() || covs.len() != sizes.len() {
                return Err(value_error(format!(
                    "means ({} rows), covariances ({}) and sizes ({}) must describe the same classes",
                    means.nrows(),
                    covs.len(),
                    sizes.len()
                )));
            }
            if n.is_some() {
                return Err(value_error("n is the sum of sizes; give one or the other"));
            }
            let classes = means
                .rows()
                .into_iter()
                .zip(&covs)
                .zip(&sizes)
                .map(|((mean, c), &size)| {
                    Ok(MixtureClass {
                        size,
                        mean: mean.to_owned(),
                        covariance: covariance(c, p)?,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            GaussianMixture::new(p, classes).map_err(to_py)?
        }
        _ => return Err(value_error(
            "give means, covariances and sizes together (or none of them for the paper's mixture)",
        )),
    };
    let (x, labels) = detached(py, || mixture.sample(seed))?;
    Ok((
        matrix_out(py, x),
        vector_out(py, labels.into_raw_vec_and_offset().0),
    ))
}

#[pyfunction]
#[pyo3(signature = (activation = "relu", sigma_a2 = 0.2, tau0 = 1.0, sigma_b2 = None))]
#[pyo3(name = "deq_equivalent")]
fn deq_equivalent_py<'py>(
    py: Python<'py>,
    activation: &str,
    sigma_a2: f64,
    tau0: f64,
    sigma_b2: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let params = deq_params(
        activation,
        sigma_a2,
        sigma_b2,
        Some(tau0),
        "tau_star",
        0.0,
        false,
    )?;
    let e = detached(py, || deq_equivalent(&params))?;
    let d = PyDict::new(py);
    d.set_item("sigma_a2", e.sigma_a2)?;
    d.set_item("sigma_b2", e.sigma_b2)?;
    d.set_item("tau0", e.tau0)?;
    d.set_item("tau_star", e.tau_star)?;
    d.set_item("moments", layer_moments_dict(py, &e.moments)?)?;
    d.set_item("alpha", e.alpha.to_vec())?;
    d.set_item("residuals", e.residuals.to_vec())?;
    d.set_item("beta", e.beta.map(|b| b.to_vec()))?;
    d.set_item("kappa2", e.kappa2)?;
    d.set_item("nngp", coefficients_dict(py, &e.nngp)?)?;
    d.set_item("ck", coefficients_dict(py, &e.ck)?)?;
    d.set_item("ntk", e.ntk.map(|c| coefficients_dict(py, &c)).transpose()?)?;
    Ok(d)
}

#[pyfunction]
#[pyo3(signature = (activations, tau0 = 1.0, train_first_layer = true))]
fn mlp_equivalent<'py>(
    py: Python<'py>,
    activations: Vec<String>,
    tau0: f64,
    train_first_layer: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let params = mlp_params(&activations, 1.0, 0.0, train_first_layer, true, Some(tau0))?;
    let e = detached(py, || explicit_equivalent(&params))?;
    let d = PyDict::new(py);
    d.set_item("tau0", e.tau0)?;
    d.set_item("tau", e.tau)?;
    let layers = PyList::empty(py);
    for m in &e.layers {
        layers.append(layer_moments_dict(py, m)?)?;
    }
    d.set_item("layers", layers)?;
    d.set_item("alpha", e.alpha.to_vec())?;
    d.set_item("beta", e.beta.map(|b| b.to_vec()))?;
    d.set_item("kappa2", e.kappa2)?;
    d.set_item("ck", coefficients_dict(py, &e.ck)?)?;
    d.set_item("ntk", e.ntk.map(|c| coefficients_dict(py, &c)).transpose()?)?;
    Ok(d)
}

/// (c₁, c₂, c₃, c₀) from Python.
fn coefficients(c: [f64; 4]) -> Coefficients {
    Coefficients {
        c1: c[0],
        c2: c[1],
        c3: c[2],
        c0: c[3],
    }
}

#[pyfunction]
#[pyo3(name = "equivalent_matrix")]
fn equivalent_matrix_py(
    py: Python<'_>,
    x: &Bound<'_, PyArray2<f64>>,
    labels: PyReadonlyArray1<'_, i64>,
    coefficients: [f64; 4],
) -> PyResult<Py<PyAny>> {
    let labels = labels.as_array().to_owned();
    let x = Held::new(x, "X")?;
    let c = self::coefficients(coefficients);
    let k = interruptible(py, x.kernel_work(), move |_| {
        let stats = MixtureStatistics::from_data(x.view(), labels.view())?;
        equivalent_matrix(x.view(), &stats, &c)
    })?;
    Ok(matrix_out(py, k))
}

#[pyfunction]
#[pyo3(name = "equivalent_spectrum")]
fn equivalent_spectrum_py(
    py: Python<'_>,
    x: &Bound<'_, PyArray2<f64>>,
    labels: PyReadonlyArray1<'_, i64>,
    coefficients: [f64; 4],
) -> PyResult<Py<PyAny>> {
    let labels = labels.as_array().to_owned();
    let x = Held::new(x, "X")?;
    let c = self::coefficients(coefficients);
    let values = interruptible(py, x.kernel_work(), move |_| {
        let stats = MixtureStatistics::from_data(x.view(), labels.view())?;
        Ok(equivalent_spectrum(x.view(), &stats, &c)?.all())
    })?;
    Ok(vector_out(py, values))
}

#[pyfunction]
#[pyo3(name = "twin", signature = (activation = "relu", sigma_a2 = 0.2, tau0 = 1.0, kind = "ck",
    sigma_b2 = None, starts = 64, seed = 0, accept = 1e-10))]
#[allow(clippy::too_many_arguments)]
fn twin_py<'py>(
    py: Python<'py>,
    activation: &str,
    sigma_a2: f64,
    tau0: f64,
    kind: &str,
    sigma_b2: Option<f64>,
    starts: usize,
    seed: u64,
    accept: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let params = deq_params(
        activation,
        sigma_a2,
        sigma_b2,
        Some(tau0),
        "tau_star",
        0.0,
        false,
    )?;
    let kind = kinds(&[kind.to_string()])?[0];
    let search = MatchParams::new(starts, seed, accept).map_err(to_py)?;
    let t = detached(py, || twin(&params, kind, &search))?;
    let r = &t.result;
    let d = PyDict::new(py);
    d.set_item("family", r.family)?;
    d.set_item("parameter_names", r.parameter_names.clone())?;
    d.set_item("kind", kind_name(r.kind))?;
    d.set_item("targets", coefficients_dict(py, &r.targets)?)?;
    d.set_item("matched", r.matched.clone())?;
    d.set_item("feasible", r.feasible)?;
    let solutions = PyList::empty(py);
    for s in &r.solutions {
        let one = PyDict::new(py);
        one.set_item("params", s.params.clone())?;
        one.set_item("residual", s.residual)?;
        solutions.append(one)?;
    }
    d.set_item("solutions", solutions)?;
    d.set_item("reason", r.reason.clone())?;
    d.set_item("starts", r.starts)?;
    let network = match &t.network {
        Some(net) => {
            let n = PyDict::new(py);
            let names: Vec<String> = net.layers().iter().map(|l| l.activation.name()).collect();
            n.set_item("activations", names)?;
            n.set_item(
                "train_first_layer",
                net.first_layer() == FirstLayer::Trained,
            )?;
            n.set_item("tau0", tau0)?;
            Some(n)
        }
        None => None,
    };
    d.set_item("network", network)?;
    Ok(d)
}

fn kind_name(k: Kernel) -> &'static str {
    match k {
        Kernel::Nngp => "nngp",
        Kernel::Ck => "ck",
        _ => "ntk",
    }
}

/// The empirical-kernel settings from Python.
fn empirical_params(
    width: usize,
    draws: usize,
    weights: &str,
    seed: u64,
) -> PyResult<EmpiricalParams> {
    let w: Weights = weights.parse().map_err(to_py)?;
    EmpiricalParams::new(width, draws)
        .and_then(|p| p.with_weights(w))
        .map(|p| p.with_seed(seed))
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (x, width, draws = 1, kind = "ck", activation = "relu", sigma_a2 = 0.2, sigma_b2 = None,
    weights = "gaussian", seed = 0, dtype = "float64"))]
#[allow(clippy::too_many_arguments)]
fn deq_empirical_kernel<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    width: usize,
    draws: usize,
    kind: &str,
    activation: &str,
    sigma_a2: f64,
    sigma_b2: Option<f64>,
    weights: &str,
    seed: u64,
    dtype: &str,
) -> PyResult<(Py<PyAny>, Bound<'py, PyDict>)> {
    let params = deq_params(activation, sigma_a2, sigma_b2, None, "tau_star", 0.0, false)?;
    let emp = empirical_params(width, draws, weights, seed)?;
    let kind = kinds(&[kind.to_string()])?[0];
    let dtype = Dtype::parse(dtype)?;
    let x = Held::new(x, "X")?;
    let (k, report) = interruptible(py, f64::INFINITY, move |stop| match dtype {
        Dtype::F64 => deq_empirical::<f64>(&params, x.view(), kind, &emp, stop)
            .map(|(k, r)| (Matrices::F64(vec![k]), r)),
        Dtype::F32 => deq_empirical::<f32>(&params, x.view(), kind, &emp, stop)
            .map(|(k, r)| (Matrices::F32(vec![k]), r)),
    })?;
    empirical_out(py, k, &report)
}

#[pyfunction]
#[pyo3(signature = (x, activations, width, draws = 1, kind = "ck", train_first_layer = true, center = true,
    weights = "gaussian", seed = 0, dtype = "float64"))]
#[allow(clippy::too_many_arguments)]
fn mlp_empirical_kernel<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    activations: Vec<String>,
    width: usize,
    draws: usize,
    kind: &str,
    train_first_layer: bool,
    center: bool,
    weights: &str,
    seed: u64,
    dtype: &str,
) -> PyResult<(Py<PyAny>, Bound<'py, PyDict>)> {
    let params = mlp_params(&activations, 1.0, 0.0, train_first_layer, center, None)?;
    let emp = empirical_params(width, draws, weights, seed)?;
    let kind = kinds(&[kind.to_string()])?[0];
    let dtype = Dtype::parse(dtype)?;
    let x = Held::new(x, "X")?;
    let (k, report) = interruptible(py, f64::INFINITY, move |stop| match dtype {
        Dtype::F64 => mlp_empirical::<f64>(&params, x.view(), kind, &emp, stop)
            .map(|(k, r)| (Matrices::F64(vec![k]), r)),
        Dtype::F32 => mlp_empirical::<f32>(&params, x.view(), kind, &emp, stop)
            .map(|(k, r)| (Matrices::F32(vec![k]), r)),
    })?;
    empirical_out(py, k, &report)
}

/// The empirical kernel as a NumPy array and its report as a dict (the forward-pass fields are the DEQ's).
fn empirical_out<'py>(
    py: Python<'py>,
    k: Matrices,
    report: &EmpiricalReport,
) -> PyResult<(Py<PyAny>, Bound<'py, PyDict>)> {
    let d = PyDict::new(py);
    d.set_item("width", report.width)?;
    d.set_item("draws", report.draws)?;
    d.set_item("forward_iterations", report.forward_iterations.clone())?;
    d.set_item("max_forward_residual", report.max_forward_residual)?;
    d.set_item("seconds", report.seconds)?;
    let matrix = k.into_py(py).pop().expect("one matrix");
    Ok((matrix, d))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gaussian_mixture, m)?)?;
    m.add_function(wrap_pyfunction!(deq_equivalent_py, m)?)?;
    m.add_function(wrap_pyfunction!(mlp_equivalent, m)?)?;
    m.add_function(wrap_pyfunction!(equivalent_matrix_py, m)?)?;
    m.add_function(wrap_pyfunction!(equivalent_spectrum_py, m)?)?;
    m.add_function(wrap_pyfunction!(twin_py, m)?)?;
    m.add_function(wrap_pyfunction!(deq_empirical_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(mlp_empirical_kernel, m)?)?;
    Ok(())
}
