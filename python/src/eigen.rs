//! Eigenvalues and eigenvectors of symmetric matrices, spectral densities by stochastic Lanczos quadrature and
//! the distances between spectra and matrices (docs/spectra.md).

use deq_kernels::eigen::slq::{slq, SlqParams};
use deq_kernels::eigen::spectrum::{operator_norm_distance, relative_frobenius, wasserstein1};
use deq_kernels::eigen::{Backend, EigenRequest, EigenScalar, LapackDriver, Subset};
use numpy::{Element, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{matrix_out, vector_out, Held};
use crate::errors::{to_py, value_error};
use crate::run::interruptible;

/// A float64 or float32 matrix, held for a worker thread.
enum Matrix {
    F64(Held<f64>),
    F32(Held<f32>),
}

impl Matrix {
    fn new(a: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if let Ok(a) = a.cast::<PyArray2<f64>>() {
            Ok(Matrix::F64(Held::new(a, what)?))
        } else if let Ok(a) = a.cast::<PyArray2<f32>>() {
            Ok(Matrix::F32(Held::new(a, what)?))
        } else {
            Err(value_error(format!(
                "{what} must be a 2-D float64 or float32 array"
            )))
        }
    }
}

fn backend(name: &str, driver: &str) -> PyResult<Backend> {
    let driver = match driver {
        "auto" => LapackDriver::Auto,
        "syevd" => LapackDriver::Syevd,
        "syevd_2stage" => LapackDriver::Syevd2Stage,
        "syevr" => LapackDriver::Syevr,
        other => {
            return Err(value_error(format!(
                "unknown driver \"{other}\"; use \"auto\", \"syevd\", \"syevd_2stage\" or \"syevr\""
            )))
        }
    };
    if driver != LapackDriver::Auto && name != "lapack" {
        return Err(value_error("a driver applies to backend=\"lapack\" only"));
    }
    match name {
        "faer" => Ok(Backend::Faer),
        "lanczos" => Ok(Backend::Lanczos),
        "lapack" => Ok(Backend::Lapack(driver)),
        other => Err(value_error(format!(
            "unknown backend \"{other}\"; use \"faer\", \"lapack\" or \"lanczos\""
        ))),
    }
}

/// Which eigenvalues: at most one of `top`, `bottom`, `index`, `values`.
fn subset(
    top: Option<usize>,
    bottom: Option<usize>,
    index: Option<(usize, usize)>,
    values: Option<(f64, f64)>,
) -> PyResult<Subset> {
    let given = [
        top.is_some(),
        bottom.is_some(),
        index.is_some(),
        values.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(value_error(
            "give at most one of top, bottom, index and values",
        ));
    }
    Ok(match (top, bottom, index, values) {
        (Some(k), ..) => Subset::Largest(k),
        (_, Some(k), ..) => Subset::Smallest(k),
        (_, _, Some((first, last)), _) => Subset::Index { first, last },
        (.., Some((lower, upper))) => Subset::Values { lower, upper },
        _ => Subset::All,
    })
}

/// Values (ascending), vectors (columns) and the driver that computed them.
type Decomposition = (Py<PyAny>, Option<Py<PyAny>>, &'static str);

/// Values, vectors when asked, and a dict of facts about the computation.
type WithInfo<'py> = (Py<PyAny>, Option<Py<PyAny>>, Bound<'py, PyDict>);

fn decompose<T: EigenScalar + Element>(
    py: Python<'_>,
    a: Held<T>,
    backend: Backend,
    request: EigenRequest,
) -> PyResult<Decomposition> {
    let n = a.dim().0 as f64;
    let d = interruptible(py, n * n * n, move |_| {
        let solver = backend.solver::<T>()?;
        Ok(solver.solve(a.view(), &request)?)
    })?;
    Ok((
        vector_out(py, d.values),
        d.vectors.map(|v| matrix_out(py, v)),
        d.driver,
    ))
}

#[pyfunction]
#[pyo3(signature = (a, backend = "faer", driver = "auto", vectors = false, top = None, bottom = None,
    index = None, values = None))]
#[allow(clippy::too_many_arguments)]
fn eigh<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    backend: &str,
    driver: &str,
    vectors: bool,
    top: Option<usize>,
    bottom: Option<usize>,
    index: Option<(usize, usize)>,
    values: Option<(f64, f64)>,
) -> PyResult<WithInfo<'py>> {
    let backend = self::backend(backend, driver)?;
    let mut request = EigenRequest::subset(subset(top, bottom, index, values)?);
    if vectors {
        request = request.with_vectors();
    }
    let (w, v, driver) = match Matrix::new(a, "A")? {
        Matrix::F64(a) => decompose(py, a, backend, request)?,
        Matrix::F32(a) => decompose(py, a, backend, request)?,
    };
    let info = PyDict::new(py);
    info.set_item("driver", driver)?;
    Ok((w, v, info))
}

#[pyfunction]
#[pyo3(name = "slq", signature = (a, probes = 10, steps = 80, block = None, seed = 0))]
fn slq_py<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    probes: usize,
    steps: usize,
    block: Option<usize>,
    seed: u64,
) -> PyResult<(Py<PyAny>, Py<PyAny>, Bound<'py, PyDict>)> {
    let mut params = SlqParams::new(probes, steps)
        .map_err(|e| to_py(e.into()))?
        .with_seed(seed);
    if let Some(b) = block {
        params = params.with_block(b).map_err(|e| to_py(e.into()))?;
    }
    let work = |n: usize| (n * n * probes * steps) as f64 * 2.0;
    let q = match Matrix::new(a, "A")? {
        Matrix::F64(a) => {
            interruptible(py, work(a.dim().0), move |_| Ok(slq(&a.view(), &params)?))?
        }
        Matrix::F32(a) => {
            interruptible(py, work(a.dim().0), move |_| Ok(slq(&a.view(), &params)?))?
        }
    };
    let info = PyDict::new(py);
    info.set_item("n", q.n)?;
    info.set_item("probes", q.probes)?;
    info.set_item("steps", q.steps)?;
    info.set_item("block_products", q.block_products)?;
    info.set_item("seconds", q.seconds)?;
    Ok((vector_out(py, q.nodes), vector_out(py, q.weights), info))
}

/// The flops of a distance: an operator norm by Lanczos takes some hundred products.
fn distance_work((n, m): (usize, usize)) -> f64 {
    (n * m) as f64 * 200.0
}

/// ‖A − B‖_F/‖B‖_F (`relative_fro`) or ‖A − B‖₂ of two matrices of one dtype.
fn matrix_distance(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    relative_fro: bool,
) -> PyResult<f64> {
    match (Matrix::new(a, "A")?, Matrix::new(b, "B")?) {
        (Matrix::F64(a), Matrix::F64(b)) => interruptible(py, distance_work(a.dim()), move |_| {
            distance(&a, &b, relative_fro)
        }),
        (Matrix::F32(a), Matrix::F32(b)) => interruptible(py, distance_work(a.dim()), move |_| {
            distance(&a, &b, relative_fro)
        }),
        _ => Err(value_error("A and B must have the same dtype")),
    }
}

fn distance<T: EigenScalar + Element>(
    a: &Held<T>,
    b: &Held<T>,
    relative_fro: bool,
) -> deq_kernels::Result<f64> {
    Ok(if relative_fro {
        relative_frobenius(a.view(), b.view())?
    } else {
        operator_norm_distance(a.view(), b.view())?
    })
}

#[pyfunction]
#[pyo3(name = "relative_frobenius")]
fn relative_frobenius_py(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    matrix_distance(py, a, b, true)
}

#[pyfunction]
#[pyo3(name = "operator_norm_distance")]
fn operator_norm_distance_py(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    matrix_distance(py, a, b, false)
}

#[pyfunction]
#[pyo3(name = "wasserstein1")]
fn wasserstein1_py(py: Python<'_>, a: Vec<f64>, b: Vec<f64>) -> PyResult<f64> {
    py.detach(|| wasserstein1(&a, &b))
        .map_err(|e| to_py(e.into()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(eigh, m)?)?;
    m.add_function(wrap_pyfunction!(slq_py, m)?)?;
    m.add_function(wrap_pyfunction!(relative_frobenius_py, m)?)?;
    m.add_function(wrap_pyfunction!(operator_norm_distance_py, m)?)?;
    m.add_function(wrap_pyfunction!(wasserstein1_py, m)?)?;
    m.add(
        "HAS_LAPACK",
        Backend::Lapack(LapackDriver::Auto).is_available(),
    )?;
    Ok(())
}
