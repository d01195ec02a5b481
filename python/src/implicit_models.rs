//! The two related implicit models: the stable invariant model's exact kernels (docs/math.md §10) and the deep
//! equilibrium linear model trained by gradient descent against its shallow optimum (§9).

use deq_kernels::delm::train::{train, StepRule, TrainParams};
use deq_kernels::delm::{features, Delm, Loss};
use deq_kernels::sim::kernel::{sim_kernels, SimVariances};
use deq_kernels::sim::SimParams;
use numpy::{PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{matrix_out, Held};
use crate::errors::{to_py, value_error};
use crate::kernels::kinds;
use crate::run::interruptible;

#[pyfunction]
#[pyo3(name = "sim_kernels", signature = (x, classes, kinds = vec!["ck".to_string(), "ntk".to_string()],
    tier = "single", bandwidth = None, sigma_w2 = 2.0, sigma_b2 = 0.1, sigma_v2 = 1.0, sigma_u2 = 1.0))]
#[allow(clippy::too_many_arguments)]
fn sim_kernels_py(
    py: Python<'_>,
    x: &Bound<'_, PyArray2<f64>>,
    classes: usize,
    kinds: Vec<String>,
    tier: &str,
    bandwidth: Option<f64>,
    sigma_w2: f64,
    sigma_b2: f64,
    sigma_v2: f64,
    sigma_u2: f64,
) -> PyResult<Vec<Py<PyAny>>> {
    let kinds = self::kinds(&kinds)?;
    let x = Held::new(x, "X")?;
    let p = x.view().ncols();
    let params = match (tier, bandwidth) {
        ("single", None) => SimParams::single(p, classes),
        ("single", Some(_)) => return Err(value_error("bandwidth applies to tier=\"two\" only")),
        ("two", None) => SimParams::two(p, classes),
        ("two", Some(b)) => SimParams::two(p, classes)
            .with_bandwidth(b)
            .map_err(to_py)?,
        (other, _) => {
            return Err(value_error(format!(
                "unknown tier \"{other}\"; use \"single\" or \"two\""
            )))
        }
    };
    let variances = SimVariances {
        sigma_w2,
        sigma_b2,
        sigma_v2,
        sigma_u2,
    };
    let matrices = interruptible(py, x.kernel_work(), move |stop| {
        let k = &kinds;
        Ok(match k.len() {
            1 => Vec::from(sim_kernels::<f64, 1>(
                &params,
                &variances,
                x.view(),
                [k[0]],
                stop,
            )?),
            2 => Vec::from(sim_kernels::<f64, 2>(
                &params,
                &variances,
                x.view(),
                [k[0], k[1]],
                stop,
            )?),
            _ => Vec::from(sim_kernels::<f64, 3>(
                &params,
                &variances,
                x.view(),
                [k[0], k[1], k[2]],
                stop,
            )?),
        })
    })?;
    Ok(matrices.into_iter().map(|m| matrix_out(py, m)).collect())
}

#[pyfunction]
#[pyo3(signature = (x, labels, classes, width = None, gamma = 0.5, loss = "square", iterations = 200,
    step = None, seed = 0))]
#[allow(clippy::too_many_arguments)]
fn delm_train<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyArray2<f64>>,
    labels: PyReadonlyArray1<'py, i64>,
    classes: usize,
    width: Option<usize>,
    gamma: f64,
    loss: &str,
    iterations: usize,
    step: Option<f64>,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let loss = match loss {
        "square" => Loss::Square,
        "cross_entropy" => Loss::CrossEntropy,
        other => {
            return Err(value_error(format!(
                "unknown loss \"{other}\"; use \"square\" or \"cross_entropy\""
            )))
        }
    };
    let step = match step {
        Some(e) => StepRule::Fixed(e),
        None => StepRule::Armijo { initial: 1.0 },
    };
    let params = TrainParams::new(loss, iterations, step).map_err(to_py)?;
    let labels = labels.as_array().to_owned();
    let x = Held::new(x, "X")?;
    let report = interruptible(py, f64::INFINITY, move |_| {
        let phi = features(x.view(), width, seed)?;
        let mut model = Delm::random(phi.nrows(), classes, gamma, seed + 1)?;
        train(&mut model, phi.view(), labels.view(), &params)
    })?;
    let d = PyDict::new(py);
    d.set_item("loss", report.loss.clone())?;
    d.set_item("loss_gap", report.loss_gap.clone())?;
    d.set_item("l_star", report.l_star)?;
    d.set_item("steps", report.steps.clone())?;
    d.set_item("observed_rate", report.observed_rate)?;
    d.set_item("bound_rate", report.bound_rate)?;
    d.set_item("lambda_plus", report.lambda_plus)?;
    d.set_item("seconds", report.seconds)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sim_kernels_py, m)?)?;
    m.add_function(wrap_pyfunction!(delm_train, m)?)?;
    Ok(())
}
