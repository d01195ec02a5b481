//! `deqk delm`: train the deep equilibrium linear model (math §9) and show its linear convergence to L*.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use deq_kernels::data::csv::LabelColumn;
use deq_kernels::data::{preprocess, DataSource, Dataset};
use deq_kernels::delm::train::{train, StepRule, TrainParams};
use deq_kernels::delm::{features, Delm, Loss};
use deq_kernels::output::refuse_existing;
use deq_kernels::plot::{semilogy, Curve};
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::Error;

use super::print;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    Square,
    CrossEntropy,
}

#[derive(Args)]
pub struct DelmArgs {
    /// gmm (the paper's mixture at --p), mnist:DIR (the first --n training images, 10 classes), csv:PATH or
    /// npy:X.npy,y.npy.
    #[arg(long, default_value = "gmm")]
    data: String,
    #[arg(long, default_value_t = 64)]
    p: usize,
    /// Samples (mnist, gmm).
    #[arg(long, default_value_t = 200)]
    n: usize,
    /// Width m: a fixed random tanh feature map of this width (default: the identity, m = p).
    #[arg(long)]
    width: Option<usize>,
    #[arg(long, default_value_t = 0.5)]
    gamma: f64,
    #[arg(long, value_enum, default_value = "square")]
    loss: LossArg,
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// A fixed step (default: Armijo backtracking from 1).
    #[arg(long)]
    step: Option<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also draw the convergence figure (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

pub fn delm(args: DelmArgs) -> Result<(), Error> {
    if let Some(plot) = &args.plot {
        refuse_existing(&[plot], args.force)?;
    }
    let source = DataSource::parse(&args.data)?;
    let mut data = match &source {
        DataSource::Gmm => {
            let (x, y) = GaussianMixture::paper_with_n(args.p, args.n)?.sample(args.seed)?;
            Dataset::new(x, y)?
        }
        other => {
            let d = other.load_file(&LabelColumn::Index(-1))?;
            d.head(args.n.min(d.n()))?
        }
    };
    if !matches!(source, DataSource::Gmm) {
        preprocess(&mut data.x)?;
    }
    let phi = features(data.x.view(), args.width, args.seed)?;
    let m = phi.nrows();
    let d = data.classes();
    let mut model = Delm::random(m, d, args.gamma, args.seed + 1)?;
    let loss = match args.loss {
        LossArg::Square => Loss::Square,
        LossArg::CrossEntropy => Loss::CrossEntropy,
    };
    let step = match args.step {
        Some(e) => StepRule::Fixed(e),
        None => StepRule::Armijo { initial: 1.0 },
    };
    let report = train(
        &mut model,
        phi.view(),
        data.labels.view(),
        &TrainParams::new(loss, args.iterations, step)?,
    )?;
    let gap: Vec<(f64, f64)> = report
        .loss_gap
        .iter()
        .enumerate()
        .filter(|(_, g)| **g > 0.0)
        .map(|(k, &g)| (k as f64, g))
        .collect();
    let mut curves = vec![Curve {
        label: "L − L*",
        points: &gap,
        guide: false,
    }];
    let bound_pts: Vec<(f64, f64)>;
    if let (Some(b), Some(&(_, g0))) = (report.bound_rate, gap.first()) {
        bound_pts = (0..=args.iterations)
            .map(|k| (k as f64, g0 * b.powi(k as i32)))
            .filter(|p| p.1 > 0.0)
            .collect();
        curves.push(Curve {
            label: "bound (gradient flow)",
            points: &bound_pts,
            guide: true,
        });
    }
    let fig = args
        .plot
        .as_ref()
        .map(|path| {
            semilogy(
                path,
                "DELM: loss gap to the shallow optimum",
                "iteration",
                "L − L*",
                &curves,
                args.force,
            )
        })
        .transpose()?;
    let drawn = fig.as_ref().map(|f| f.path.clone());
    let value = json!({
        "n": data.n(), "p": data.p(), "width": m, "outputs": d, "gamma": args.gamma,
        "loss": report.loss_kind, "l_star": report.l_star, "loss_gap": report.loss_gap,
        "observed_rate": report.observed_rate, "bound_rate": report.bound_rate,
        "lambda_plus": report.lambda_plus, "steps": report.steps, "plot": drawn,
        "seconds": report.seconds,
    });
    print(args.json, &value, || {
        format!(
            "DELM (m = {m}, d = {d}, n = {}, γ = {}): L − L* {:.3e} → {:.3e} in {} steps; rate {:.4} per step (bound {}){}",
            data.n(),
            args.gamma,
            report.loss_gap[0],
            report.loss_gap.last().copied().unwrap_or(f64::NAN),
            args.iterations,
            report.observed_rate,
            report.bound_rate.map_or("—".into(), |b| format!("{b:.4}")),
            drawn.as_ref().map_or(String::new(), |p| format!("; wrote {p}"))
        )
    });
    Ok(())
}
