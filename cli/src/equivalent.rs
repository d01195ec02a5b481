//! `deqk equivalent`: the coefficients of the high-dimensional equivalents (math §4, §6) and, with data, the
//! equivalent matrix or its spectrum.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ndarray::Array1;
use serde_json::{json, Value};

use deq_kernels::activation::Activation;
use deq_kernels::kernel::explicit::{FirstLayer, MlpParams};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::kernel::Kernel;
use deq_kernels::output::refuse_existing;
use deq_kernels::rmt::equivalent::{deq_equivalent, explicit_equivalent, Coefficients};
use deq_kernels::rmt::matrix::{equivalent_matrix, equivalent_spectrum};
use deq_kernels::rmt::statistics::MixtureStatistics;
use deq_kernels::{npy, Error};

use super::{activation, print};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EquivalentModel {
    /// The DEQ's four equations (math §6).
    Deq,
    /// An explicit network of `--depth` layers, each centered at its input scale (math §4).
    Mlp,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EquivalentKind {
    Ck,
    Ntk,
}

#[derive(Args)]
pub struct EquivalentArgs {
    #[arg(long, value_enum)]
    model: EquivalentModel,
    /// Activation (every layer of an mlp).
    #[arg(long)]
    activation: String,
    /// Hidden layers of an mlp.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// DEQ: σ_a².
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// DEQ: σ_b² (default 1 − σ_a²).
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    /// Data scale τ₀ (default with --input: √(‖X‖_F²/n); without: 1).
    #[arg(long, allow_negative_numbers = true)]
    tau0: Option<f64>,
    /// mlp NTK: keep the input layer frozen (β₀ = 0, κ₀² = 0), as the Implicit-NTK keeps B frozen.
    #[arg(long)]
    frozen_first_layer: bool,
    #[arg(long, value_enum)]
    kind: EquivalentKind,
    /// Data (.npy, n×p) for the equivalent matrix; needs --labels.
    #[arg(long, requires = "labels")]
    input: Option<PathBuf>,
    /// Class labels (.npy, integers 0..K−1).
    #[arg(long, requires = "input")]
    labels: Option<PathBuf>,
    /// Write the n×n equivalent matrix (.npy).
    #[arg(long, requires = "input")]
    out: Option<PathBuf>,
    /// Write all n eigenvalues of the equivalent matrix (.npy), from its structure (no n×n matrix).
    #[arg(long, requires = "input")]
    spectrum: Option<PathBuf>,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

/// `beta1 beta2 beta3 kappa2` of an NTK equivalent.
fn ntk_fields(v: &mut Value, beta: Option<[f64; 3]>, kappa2: Option<f64>) {
    if let Some(b) = beta {
        v["beta1"] = json!(b[0]);
        v["beta2"] = json!(b[1]);
        v["beta3"] = json!(b[2]);
        v["kappa2"] = json!(kappa2);
    }
}

fn coefficient_fields(c: &Coefficients) -> Value {
    json!({"c1": c.c1, "c2": c.c2, "c3": c.c3, "c0": c.c0})
}

pub fn equivalent(args: EquivalentArgs) -> Result<(), Error> {
    let mut outs = Vec::new();
    outs.extend(args.out.as_deref());
    outs.extend(args.spectrum.as_deref());
    refuse_existing(&outs, args.force)?;
    let act = activation(&args.activation)?;
    let data = match (&args.input, &args.labels) {
        (Some(x), Some(y)) => {
            let x = npy::read_matrix(x)?;
            let y = npy::read_labels(y)?;
            Some((x, y))
        }
        _ => None,
    };
    let tau0 = match (args.tau0, &data) {
        (Some(t), _) => t,
        (None, Some((x, _))) => {
            deq_kernels::data::check_samples(x.view())?;
            deq_kernels::data::input_scale(x.view())
        }
        (None, None) => 1.0,
    };
    let ntk = args.kind == EquivalentKind::Ntk;
    let kind = if ntk { Kernel::Ntk } else { Kernel::Ck };
    let (mut value, coefficients) = match args.model {
        EquivalentModel::Deq => {
            let deq = match args.sigma_b2 {
                Some(b2) => DeqParams::with_variances(act.clone(), args.sigma_a2, b2)?,
                None => DeqParams::new(act.clone(), args.sigma_a2)?,
            };
            let e = deq_equivalent(&deq.with_tau0(tau0)?)?;
            let m = e.moments;
            let mut v = json!({
                "model": "deq", "activation": act.name(), "sigma_a2": e.sigma_a2, "sigma_b2": e.sigma_b2,
                "tau0": tau0, "tau_star": e.tau_star, "g1": m.g1, "g2": m.g2, "g4": m.g4, "d": m.d, "v": m.v,
                "alpha1": e.alpha[0], "alpha2": e.alpha[1], "alpha3": e.alpha[2], "alpha4": e.alpha[3],
                "ghat1": e.ck.c1, "ghat2": e.ck.c2, "ghat3": e.ck.c3, "ghat0": e.ck.c0,
                "e1_iterations": e.tau_solve.iterations, "e1_residual": e.tau_solve.residual,
                "linear_residuals": e.residuals,
            });
            let c = e.coefficients(kind)?;
            if ntk {
                ntk_fields(&mut v, e.beta, e.kappa2);
            }
            (v, c)
        }
        EquivalentModel::Mlp => {
            let first = if args.frozen_first_layer {
                FirstLayer::Frozen
            } else {
                FirstLayer::Trained
            };
            let net = MlpParams::unit_variance(vec![act.clone(); args.depth])?
                .centered_at_input_scale()
                .with_first_layer(first)
                .with_tau0(tau0)?;
            let e = explicit_equivalent(&net)?;
            let mut v = json!({
                "model": "mlp", "activation": act.name(), "depth": args.depth, "tau0": tau0,
                "layers": e.layers, "tau": e.tau,
                "alpha1": e.alpha[0], "alpha2": e.alpha[1], "alpha3": e.alpha[2], "alpha4": e.alpha[3],
            });
            let c = e.coefficients(kind)?;
            if ntk {
                ntk_fields(&mut v, e.beta, e.kappa2);
                v["first_layer"] = json!(first);
            }
            (v, c)
        }
    };
    value["kind"] = json!(if ntk { "ntk" } else { "ck" });
    value["coefficients"] = coefficient_fields(&coefficients);
    if let Some((x, y)) = &data {
        let stats = MixtureStatistics::from_data(x.view(), y.view())?;
        value["n"] = json!(x.nrows());
        value["p"] = json!(x.ncols());
        value["classes"] = json!(stats.classes());
        value["t"] = json!(stats.t.to_vec());
        value["T"] = json!(stats
            .big_t
            .outer_iter()
            .map(|r| r.to_vec())
            .collect::<Vec<_>>());
        if let Some(path) = &args.out {
            let k = equivalent_matrix(x.view(), &stats, &coefficients)?;
            npy::write_matrix(path, &k, args.force)?;
            value["out"] = json!(path.display().to_string());
        }
        if let Some(path) = &args.spectrum {
            let s = equivalent_spectrum(x.view(), &stats, &coefficients)?;
            value["spectrum_bulk"] = json!(s.bulk);
            value["spectrum_bulk_multiplicity"] = json!(s.multiplicity);
            npy::write_vector(path, &Array1::from(s.all()), args.force)?;
            value["spectrum"] = json!(path.display().to_string());
        }
    }
    print(args.json, &value, || {
        let c = coefficients;
        format!(
            "{} equivalent of the {} ({}): K̃ = {:.6}·XXᵀ + {:.6}·uuᵀ + {:.6}·JTJᵀ/p + {:.6}·I",
            if ntk { "NTK" } else { "CK" },
            value["model"].as_str().unwrap_or(""),
            act.name(),
            c.c1,
            c.c2,
            c.c3,
            c.c0
        )
    });
    Ok(())
}
