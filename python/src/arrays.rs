//! NumPy arrays in and out without copies: an input is read in place (C or Fortran order, or any non-negative
//! strides) by a worker thread that holds a reference to it; an output hands its Rust buffer to NumPy.

use ndarray::{Array1, Array2, ArrayView2, ShapeBuilder};
use numpy::{Element, IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::errors::value_error;

/// A 2-D NumPy array kept alive and read in place from another thread.
pub struct Held<T> {
    _owner: Py<PyAny>,
    data: *const T,
    shape: (usize, usize),
    strides: (usize, usize),
}

// SAFETY: the pointer is into the buffer of the array `_owner` keeps alive, which NumPy does not move or free
// while a reference exists (an array with references cannot be resized); it is only read.
unsafe impl<T: Send> Send for Held<T> {}

impl<T: Element> Held<T> {
    /// `array`, which must not be borrowed mutably by other Rust code, `what` naming it in errors.
    pub fn new(array: &Bound<'_, PyArray2<T>>, what: &str) -> PyResult<Self> {
        let readonly = array
            .try_readonly()
            .map_err(|e| value_error(format!("{what}: {e}")))?;
        let view = readonly.as_array();
        let strides = view.strides();
        if strides.iter().any(|&s| s < 0) {
            return Err(value_error(format!(
                "{what}: negative strides; pass numpy.ascontiguousarray({what})"
            )));
        }
        Ok(Held {
            _owner: array.clone().into_any().unbind(),
            data: view.as_ptr(),
            shape: view.dim(),
            strides: (strides[0] as usize, strides[1] as usize),
        })
    }

    /// (rows, columns).
    pub fn dim(&self) -> (usize, usize) {
        self.shape
    }

    /// The flops of a kernel on these samples: the Gram product and a few dozen per entry.
    pub fn kernel_work(&self) -> f64 {
        let (n, p) = (self.shape.0 as f64, self.shape.1 as f64);
        n * n * (p + 100.0)
    }

    /// The array as an ndarray view.
    pub fn view(&self) -> ArrayView2<'_, T> {
        // SAFETY: shape and element strides are the array's own, all non-negative, and the buffer lives as
        // long as `self` (see the `Send` impl).
        unsafe {
            ArrayView2::from_shape_ptr(
                (self.shape.0, self.shape.1).strides((self.strides.0, self.strides.1)),
                self.data,
            )
        }
    }
}

/// A Rust matrix as a NumPy array, its buffer handed over.
pub fn matrix_out<T: Element>(py: Python<'_>, m: Array2<T>) -> Py<PyAny> {
    m.into_pyarray(py).into_any().unbind()
}

/// A Rust vector as a 1-D NumPy array.
pub fn vector_out<T: Element>(py: Python<'_>, v: Vec<T>) -> Py<PyAny> {
    Array1::from(v).into_pyarray(py).into_any().unbind()
}

/// Matrices computed in the dtype asked for.
pub enum Matrices {
    F64(Vec<Array2<f64>>),
    F32(Vec<Array2<f32>>),
}

impl Matrices {
    /// The matrices as NumPy arrays, their buffers handed over.
    pub fn into_py(self, py: Python<'_>) -> Vec<Py<PyAny>> {
        match self {
            Matrices::F64(m) => m.into_iter().map(|m| matrix_out(py, m)).collect(),
            Matrices::F32(m) => m.into_iter().map(|m| matrix_out(py, m)).collect(),
        }
    }
}

/// The dtype asked for by name: "float64" or "float32".
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
}

impl Dtype {
    pub fn parse(name: &str) -> PyResult<Self> {
        match name {
            "float64" | "f8" | "double" => Ok(Dtype::F64),
            "float32" | "f4" | "single" => Ok(Dtype::F32),
            other => Err(value_error(format!(
                "unknown dtype `{other}`; use \"float64\" or \"float32\""
            ))),
        }
    }
}
