//! `deqk empirical` (finite-width kernels, math §8) and `deqk classify` (random-feature classification).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use ndarray::Array2;
use serde_json::{json, Value};

use deq_kernels::activation::{Activation, ActivationRef};
use deq_kernels::comparison::{random_feature_accuracy, ComparisonSettings};
use deq_kernels::data::{mnist, Standardizer};
use deq_kernels::kernel::explicit::{FirstLayer, MlpParams};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::kernel::Kernel;
use deq_kernels::network::empirical::{deq_empirical, mlp_empirical, EmpiricalParams};
use deq_kernels::network::Weights;
use deq_kernels::output::refuse_existing;
use deq_kernels::solve::AndersonParams;
use deq_kernels::{npy, Error, Real};

use super::{activation, print, progress, to_json, Dtype};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FiniteModel {
    Deq,
    Mlp,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FiniteKind {
    Ck,
    Ntk,
}

#[derive(Args)]
pub struct EmpiricalArgs {
    #[arg(long, value_enum)]
    model: FiniteModel,
    #[arg(long)]
    activation: String,
    /// mlp: hidden layers (each centered at its input scale).
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// deq: σ_a².
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// deq: σ_b² (default 1 − σ_a²).
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    #[arg(long, value_enum)]
    kind: FiniteKind,
    /// Width m.
    #[arg(long)]
    width: usize,
    /// Independent draws averaged.
    #[arg(long, default_value_t = 1)]
    draws: usize,
    /// Weight distribution: gaussian, rademacher, ternary:S.
    #[arg(long, default_value = "gaussian")]
    weights: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// deq: unroll this many iterations from z = 0 instead of solving for the fixed point.
    #[arg(long)]
    unrolled: Option<usize>,
    /// deq: residual tolerance of the forward fixed point.
    #[arg(long, default_value_t = 1e-10)]
    tol: f64,
    /// mlp NTK: keep the input layer frozen.
    #[arg(long)]
    frozen_first_layer: bool,
    #[arg(long)]
    input: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

fn run_empirical<T: Real>(
    args: &EmpiricalArgs,
    x: &Array2<f64>,
    act: ActivationRef,
) -> Result<Value, Error> {
    let kind = match args.kind {
        FiniteKind::Ck => Kernel::Ck,
        FiniteKind::Ntk => Kernel::Ntk,
    };
    let mut emp = EmpiricalParams::new(args.width, args.draws)?
        .with_weights(args.weights.parse::<Weights>()?)?
        .with_seed(args.seed)
        .with_anderson(AndersonParams::new(5, 1.0, args.tol, 1000)?);
    if let Some(it) = args.unrolled {
        emp = emp.unrolled(it);
    }
    let bar = progress::Bar::new("draws");
    let (k, report) = match args.model {
        FiniteModel::Deq => {
            let p = match args.sigma_b2 {
                Some(b2) => DeqParams::with_variances(act, args.sigma_a2, b2)?,
                None => DeqParams::new(act, args.sigma_a2)?,
            };
            deq_empirical::<T>(&p, x.view(), kind, &emp, &bar)?
        }
        FiniteModel::Mlp => {
            let mut net =
                MlpParams::unit_variance(vec![act; args.depth])?.centered_at_input_scale();
            if args.frozen_first_layer {
                net = net.with_first_layer(FirstLayer::Frozen);
            }
            mlp_empirical::<T>(&net, x.view(), kind, &emp, &bar)?
        }
    };
    npy::write_matrix(&args.out, &k, args.force)?;
    Ok(to_json(&report))
}

pub fn empirical(args: EmpiricalArgs) -> Result<(), Error> {
    refuse_existing(&[&args.out], args.force)?;
    let act = activation(&args.activation)?;
    let x = npy::read_matrix(&args.input)?;
    let start = Instant::now();
    let mut value = match args.dtype {
        Dtype::F64 => run_empirical::<f64>(&args, &x, act.clone())?,
        Dtype::F32 => run_empirical::<f32>(&args, &x, act.clone())?,
    };
    value["n"] = json!(x.nrows());
    value["p"] = json!(x.ncols());
    value["activation"] = json!(act.name());
    value["out"] = json!(args.out.display().to_string());
    value["total_seconds"] = json!(start.elapsed().as_secs_f64());
    print(args.json, &value, || {
        format!(
            "empirical kernel, width {}, {} draws → {} ({:.2} s)",
            args.width,
            args.draws,
            args.out.display(),
            start.elapsed().as_secs_f64()
        )
    });
    Ok(())
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// Folder with the MNIST IDX files (gzipped or not).
    #[arg(long)]
    mnist: PathBuf,
    /// Training samples (the first ones of the training split).
    #[arg(long, default_value_t = 10000)]
    train: usize,
    /// Test samples (the first ones of the test split).
    #[arg(long, default_value_t = 2000)]
    test: usize,
    /// Widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,1024,4096")]
    widths: Vec<usize>,
    #[arg(long, default_value = "relu")]
    activation: String,
    #[arg(long, default_value_t = 0.2)]
    sigma_a2: f64,
    /// Ridge regularization λ.
    #[arg(long, default_value_t = 1e-2)]
    lambda: f64,
    #[arg(long, default_value = "gaussian")]
    weights: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

pub fn classify(args: ClassifyArgs) -> Result<(), Error> {
    let act = activation(&args.activation)?;
    let weights: Weights = args.weights.parse()?;
    let deq = DeqParams::new(act.clone(), args.sigma_a2)?;
    let mut train = mnist::load(&args.mnist, mnist::Split::Train)?.head(args.train)?;
    let mut test = mnist::load(&args.mnist, mnist::Split::Test)?.head(args.test)?;
    let standardizer = Standardizer::fit(train.x.view())?;
    train.x = standardizer.apply(train.x.view())?;
    test.x = standardizer.apply(test.x.view())?;
    let start = Instant::now();
    let (designed, rows) = random_feature_accuracy(
        &deq,
        &train,
        &test,
        &args.widths,
        args.lambda,
        weights,
        args.seed,
        &ComparisonSettings::default(),
        &progress::Bar::new("widths"),
    )?;
    let tau0 = deq_kernels::data::input_scale(train.x.view());
    let slopes = designed.result.solutions.first().map(|s| s.params.clone());
    let value = json!({
        "data": "MNIST, 10 classes", "train": args.train, "test": args.test, "p": train.p(),
        "activation": act.name(), "sigma_a2": args.sigma_a2, "lambda": args.lambda, "tau0": tau0,
        "designed_network": slopes,
        "results": rows.iter().map(|r| json!({"width": r.width, "deq": r.deq, "designed": r.designed,
                                              "unmatched_relu2": r.unmatched})).collect::<Vec<_>>(),
        "seconds": start.elapsed().as_secs_f64(),
    });
    print(args.json, &value, || {
        let mut s = format!(
            "MNIST test accuracy ({} train, {} test), ridge λ = {}\n{:>6} {:>8} {:>9} {:>10}",
            args.train, args.test, args.lambda, "width", "DEQ", "designed", "plain ReLU"
        );
        for r in &rows {
            s.push_str(&format!(
                "\n{:>6} {:>8.4} {:>9.4} {:>10.4}",
                r.width,
                r.deq,
                r.designed.unwrap_or(f64::NAN),
                r.unmatched
            ));
        }
        s
    });
    Ok(())
}
