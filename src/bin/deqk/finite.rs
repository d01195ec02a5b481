//! `deqk empirical` (finite-width kernels, SPEC §8) and `deqk classify` (random-feature classification).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use ndarray::Array2;
use serde_json::{json, Value};

use deq_kernels::activation::ActivationRef;
use deq_kernels::data::{mnist, Dataset};
use deq_kernels::design::{
    deq_targets, family_by_name, match_family, network_layers, KernelKind, MatchParams,
};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::kernel::Real;
use deq_kernels::network::empirical::{
    deq_empirical, mlp_empirical, EmpiricalKind, EmpiricalParams,
};
use deq_kernels::network::features::RidgeReadout;
use deq_kernels::network::{DeqNetwork, MlpNetwork, Weights};
use deq_kernels::rmt::equivalent::centered_layers;
use deq_kernels::solve::AndersonParams;
use deq_kernels::{npy, Error};

use super::{activation, print, progress, refuse_existing};

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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FiniteDtype {
    F32,
    F64,
}

/// `gaussian`, `rademacher` or `ternary:S` (density S).
pub fn parse_weights(s: &str) -> Result<Weights, Error> {
    let bad = || Error::Missing {
        name: "a weight distribution",
        why: "write gaussian, rademacher or ternary:S with a density S in (0, 1]",
    };
    match s.trim() {
        "gaussian" => Ok(Weights::Gaussian),
        "rademacher" => Ok(Weights::Rademacher),
        t => {
            let d = t.strip_prefix("ternary:").ok_or_else(bad)?;
            Weights::SparseTernary {
                density: d.parse().map_err(|_| bad())?,
            }
            .checked()
        }
    }
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
    dtype: FiniteDtype,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

fn run_empirical<T: Real + ndarray_npy::WritableElement>(
    args: &EmpiricalArgs,
    x: &Array2<f64>,
    act: ActivationRef,
) -> Result<Value, Error> {
    let kind = match args.kind {
        FiniteKind::Ck => EmpiricalKind::Ck,
        FiniteKind::Ntk => EmpiricalKind::Ntk,
    };
    let mut emp = EmpiricalParams::new(args.width, args.draws)?
        .with_weights(parse_weights(&args.weights)?)?
        .with_seed(args.seed)
        .with_anderson(AndersonParams::new(5, 1.0, args.tol, 1000)?);
    if let Some(it) = args.unrolled {
        emp = emp.unrolled(it);
    }
    let bar = progress::Bar::new("draws");
    let k = match args.model {
        FiniteModel::Deq => {
            let mut p = DeqParams::new(act, args.sigma_a2)?;
            if let Some(b2) = args.sigma_b2 {
                p = p.with_sigma_b2(b2)?;
            }
            deq_empirical::<T>(&p, x.view(), kind, &emp, &bar)?
        }
        FiniteModel::Mlp => {
            let layers = centered_layers(
                vec![act; args.depth],
                deq_kernels::kernel::data_scale(x.view()),
            )?;
            mlp_empirical::<T>(&layers, x.view(), kind, args.frozen_first_layer, &emp, &bar)?
        }
    };
    npy::write_matrix(&args.out, &k.matrix, args.force)?;
    Ok(serde_json::to_value(&k.report).expect("report"))
}

pub fn empirical(args: EmpiricalArgs) -> Result<(), Error> {
    refuse_existing(&[&args.out], args.force)?;
    let act = activation(&args.activation)?;
    let x = npy::read_matrix(&args.input)?;
    let start = Instant::now();
    let mut value = match args.dtype {
        FiniteDtype::F64 => run_empirical::<f64>(&args, &x, act.clone())?,
        FiniteDtype::F32 => run_empirical::<f32>(&args, &x, act.clone())?,
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

/// Both splits with the paper's preprocessing fitted on the training split: centered with its mean sample and
/// scaled so that its mean squared norm is 1.
fn mnist_splits(
    dir: &std::path::Path,
    train: usize,
    test: usize,
) -> Result<(Dataset, Dataset), Error> {
    let take = |d: Dataset, k: usize| -> Result<Dataset, Error> {
        if k > d.n() {
            return Err(Error::Shape {
                what: format!("asked for {k} samples, the split has {}", d.n()),
            });
        }
        Dataset::new(
            d.x.slice(ndarray::s![..k, ..]).to_owned(),
            d.labels.slice(ndarray::s![..k]).to_owned(),
        )
    };
    let mut tr = take(mnist::load(dir, mnist::Split::Train)?, train)?;
    let mut te = take(mnist::load(dir, mnist::Split::Test)?, test)?;
    let mean = tr.x.mean_axis(ndarray::Axis(0)).expect("samples");
    let mut both = ndarray::concatenate![ndarray::Axis(0), tr.x, te.x];
    both -= &mean;
    let ms = both
        .slice(ndarray::s![..train, ..])
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        / train as f64;
    both.mapv_inplace(|v| v / ms.sqrt());
    tr.x = both.slice(ndarray::s![..train, ..]).to_owned();
    te.x = both.slice(ndarray::s![train.., ..]).to_owned();
    Ok((tr, te))
}

pub fn classify(args: ClassifyArgs) -> Result<(), Error> {
    let act = activation(&args.activation)?;
    let weights = parse_weights(&args.weights)?;
    let (train, test) = mnist_splits(&args.mnist, args.train, args.test)?;
    let tau0 = deq_kernels::kernel::data_scale(train.x.view());
    let sb2 = 1.0 - args.sigma_a2;
    let deq_params = DeqParams::new(act.clone(), args.sigma_a2)?.with_tau0(tau0)?;
    let family = family_by_name("lrelu2", false)?;
    let targets = deq_targets(&act, args.sigma_a2, sb2, tau0, KernelKind::Ck)?;
    let matched = match_family(
        family.as_ref(),
        &targets,
        tau0,
        KernelKind::Ck,
        &MatchParams::default(),
    )?;
    let designed = matched.solutions.first().map(|s| s.params.clone());
    let plain = centered_layers(vec![activation("relu")?; 2], tau0)?;
    let mut rows = Vec::new();
    let start = Instant::now();
    for &m in &args.widths {
        let mut row = json!({"width": m});
        // DEQ features: the fixed point of one network, on both splits.
        let net = DeqNetwork::sample(&deq_params, train.x.view(), m, weights, args.seed)?;
        let anderson = AndersonParams::new(5, 1.0, 1e-8, 500)?;
        let ftr = net.forward(train.x.view(), &anderson)?.z;
        let fte = net.forward(test.x.view(), &anderson)?.z;
        let r = RidgeReadout::fit(ftr.view(), train.labels.view(), args.lambda)?;
        row["deq"] = json!(r.accuracy(fte.view(), test.labels.view())?);
        let explicit = |layers: &[ActivationRef]| -> Result<f64, Error> {
            let net = MlpNetwork::sample(layers, train.p(), m, weights, args.seed)?;
            let ftr = net.forward(train.x.view())?.y.pop().expect("last layer");
            let fte = net.forward(test.x.view())?.y.pop().expect("last layer");
            RidgeReadout::fit(ftr.view(), train.labels.view(), args.lambda)?
                .accuracy(fte.view(), test.labels.view())
        };
        if let Some(p) = &designed {
            let layers = network_layers(family.as_ref(), p, tau0)?;
            row["designed"] = json!(explicit(&layers)?);
        }
        row["unmatched_relu2"] = json!(explicit(&plain)?);
        rows.push(row);
    }
    let value = json!({
        "data": "MNIST, 10 classes", "train": args.train, "test": args.test, "p": train.p(),
        "activation": act.name(), "sigma_a2": args.sigma_a2, "lambda": args.lambda, "tau0": tau0,
        "designed_network": designed, "results": rows, "seconds": start.elapsed().as_secs_f64(),
    });
    print(args.json, &value, || {
        let mut s = format!(
            "MNIST test accuracy ({} train, {} test), ridge λ = {}\n{:>6} {:>8} {:>9} {:>10}",
            args.train, args.test, args.lambda, "width", "DEQ", "designed", "plain ReLU"
        );
        for r in &rows {
            s.push_str(&format!(
                "\n{:>6} {:>8.4} {:>9.4} {:>10.4}",
                r["width"],
                r["deq"].as_f64().unwrap_or(f64::NAN),
                r["designed"].as_f64().unwrap_or(f64::NAN),
                r["unmatched_relu2"].as_f64().unwrap_or(f64::NAN)
            ));
        }
        s
    });
    Ok(())
}
