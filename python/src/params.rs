//! The crate's checked parameter structs from Python's keyword arguments, shared by every binding that takes a
//! model (kernels, equivalents, design, finite width).

use deq_kernels::kernel::explicit::{DenseLayer, FirstLayer, MlpParams};
use deq_kernels::kernel::implicit::{Centering, DeqParams};
use pyo3::prelude::*;

use crate::activation::activation;
use crate::errors::{to_py, value_error};

/// The DEQ: σ_b² = 1 − σ_a² unless given; φ centered at τ* (`"tau_star"`), not (`"none"`) or by `shift`.
#[allow(clippy::too_many_arguments)]
pub fn deq_params(
    name: &str,
    sigma_a2: f64,
    sigma_b2: Option<f64>,
    tau0: Option<f64>,
    centering: &str,
    shift: f64,
    train_input_weights: bool,
) -> PyResult<DeqParams> {
    let act = activation(name)?;
    let centering = match centering {
        "tau_star" => Centering::AtFixedPoint,
        "none" => Centering::None,
        "shift" => Centering::Shift(shift),
        other => {
            return Err(value_error(format!(
            "unknown centering \"{other}\"; use \"tau_star\", \"none\" or \"shift\" (with shift=c)"
        )))
        }
    };
    let p = match sigma_b2 {
        Some(b2) => DeqParams::with_variances(act, sigma_a2, b2),
        None => DeqParams::new(act, sigma_a2),
    }
    .map_err(to_py)?
    .with_centering(centering)
    .with_trained_input_weights(train_input_weights);
    match tau0 {
        Some(t) => p.with_tau0(t).map_err(to_py),
        None => Ok(p),
    }
}

/// An MLP with one hidden layer per activation name, all with the variances σ_w², σ_b².
pub fn mlp_params(
    activations: &[String],
    sigma_w2: f64,
    sigma_b2: f64,
    train_first_layer: bool,
    center: bool,
    tau0: Option<f64>,
) -> PyResult<MlpParams> {
    let layers = activations
        .iter()
        .map(|name| Ok(DenseLayer::new(activation(name)?, sigma_w2, sigma_b2)))
        .collect::<PyResult<Vec<_>>>()?;
    let mut p = MlpParams::from_layers(layers)
        .map_err(to_py)?
        .with_first_layer(if train_first_layer {
            FirstLayer::Trained
        } else {
            FirstLayer::Frozen
        });
    if center {
        p = p.centered_at_input_scale();
    }
    match tau0 {
        Some(t) => p.with_tau0(t).map_err(to_py),
        None => Ok(p),
    }
}
