//! `deqk sim train` and `deqk sim compare`: the stable invariant model on real or synthetic data (math §10,
//! docs/sim.md).

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use deq_kernels::data::csv::LabelColumn;
use deq_kernels::data::{mnist, DataSource, Dataset, Standardizer};
use deq_kernels::delm::Loss;
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::sim::closed_form::ClosedFormSim;
use deq_kernels::sim::compare::{compare, CompareParams, ComparedModel};
use deq_kernels::sim::train::{accuracy, checked_labels, predict, train, TrainParams};
use deq_kernels::sim::{Sim, SimParams};
use deq_kernels::Error;

use super::{print, progress, to_json};

#[derive(Subcommand)]
pub enum SimCommand {
    /// Train one SIM (end to end, or the closed-form variant) and report its accuracy.
    Train(SimTrainArgs),
    /// SIMs of one and two tiers against a DEQ and an MLP of matched size, over several seeds.
    Compare(SimCompareArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierChoice {
    Single,
    Two,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossChoice {
    CrossEntropy,
    Square,
}

/// Data and training options shared by both subcommands.
#[derive(Args)]
pub struct Common {
    /// mnist:DIR (its train and test files), csv:PATH, npy:X.npy,y.npy or gmm (held out by --seed).
    #[arg(long)]
    data: String,
    /// CSV: the label column (index, negative from the end, or header name).
    #[arg(long, default_value = "-1", allow_hyphen_values = true)]
    label_column: String,
    /// Use only the first N training samples (after the split).
    #[arg(long)]
    train: Option<usize>,
    /// Use only the first N test samples.
    #[arg(long)]
    test: Option<usize>,
    /// Synthetic mixture: dimension and size.
    #[arg(long, default_value_t = 64)]
    p: usize,
    #[arg(long, default_value_t = 2000)]
    n: usize,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Adam's step.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lr: f64,
    #[arg(long, value_enum, default_value = "cross-entropy")]
    loss: LossChoice,
    /// The two-tier SIM's Fourier bandwidth.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    bandwidth: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SimTrainArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_enum, default_value = "single")]
    tier: TierChoice,
    /// The closed-form variant: basis fixed as drawn, U·V by reduced-rank ridge regression, ridge readout.
    #[arg(long)]
    closed_form: bool,
    /// Ridge penalty of the closed form.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    lambda: f64,
}

#[derive(Args)]
pub struct SimCompareArgs {
    #[command(flatten)]
    common: Common,
    /// Runs per model (seeds 0, 1, …).
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// The DEQ's fixed-point tolerance (max-norm) and Anderson budget.
    #[arg(long, default_value_t = 1e-6)]
    deq_tol: f64,
    #[arg(long, default_value_t = 50)]
    deq_max_iter: usize,
}

/// Train and test sets: MNIST's own split scaled to [0, 1]; other sources held out (20%) by the seed and
/// standardized with the training part's statistics.
fn load(c: &Common) -> Result<(Dataset, Dataset, &'static str), Error> {
    let source = DataSource::parse(&c.data)?;
    let (mut train, mut test, name) = match &source {
        DataSource::Mnist(dir) => {
            let mut train = mnist::load(dir, mnist::Split::Train)?;
            let mut test = mnist::load(dir, mnist::Split::Test)?;
            train.x /= 255.0;
            test.x /= 255.0;
            (train, test, "MNIST")
        }
        other => {
            let all = match other {
                DataSource::Gmm => {
                    let (x, y) = GaussianMixture::paper_with_n(c.p, c.n)?.sample(c.seed)?;
                    Dataset::new(x, y)?
                }
                file => file.load_file(&LabelColumn::parse(&c.label_column))?,
            };
            let (mut train, mut test) = all.split(0.2, c.seed)?;
            let st = Standardizer::fit(train.x.view())?;
            train.x = st.apply(train.x.view())?;
            test.x = st.apply(test.x.view())?;
            (train, test, "held out 20%")
        }
    };
    if let Some(k) = c.train {
        train = train.head(k.min(train.n()))?;
    }
    if let Some(k) = c.test {
        test = test.head(k.min(test.n()))?;
    }
    Ok((train, test, name))
}

fn train_params(c: &Common) -> Result<TrainParams, Error> {
    let loss = match c.loss {
        LossChoice::CrossEntropy => Loss::CrossEntropy,
        LossChoice::Square => Loss::Square,
    };
    TrainParams::new(loss, c.epochs, c.batch, c.lr, c.seed)
}

fn sim_params(
    tier: TierChoice,
    p: usize,
    classes: usize,
    bandwidth: f64,
) -> Result<SimParams, Error> {
    Ok(match tier {
        TierChoice::Single => SimParams::single(p, classes),
        TierChoice::Two => SimParams::two(p, classes).with_bandwidth(bandwidth)?,
    })
}

pub fn sim(command: SimCommand) -> Result<(), Error> {
    match command {
        SimCommand::Train(args) => sim_train(args),
        SimCommand::Compare(args) => sim_compare(args),
    }
}

fn sim_train(args: SimTrainArgs) -> Result<(), Error> {
    let c = &args.common;
    let tp = train_params(c)?;
    let (train_set, test_set, split) = load(c)?;
    let classes = (train_set.classes()).max(test_set.classes());
    let params = sim_params(args.tier, train_set.p(), classes, c.bandwidth)?;
    let mut sim = Sim::<f64>::new(params, c.seed)?;
    let train_y = checked_labels(train_set.labels.view(), classes)?;
    let test_y = checked_labels(test_set.labels.view(), classes)?;
    let (train_acc, test_acc, seconds_per_epoch, method) = if args.closed_form {
        let start = std::time::Instant::now();
        let fit = ClosedFormSim::fit(
            &sim,
            train_set.x.view(),
            train_set.labels.view(),
            args.lambda,
        )?;
        let seconds = start.elapsed().as_secs_f64();
        let tr = accuracy(fit.predict(&sim, train_set.x.view())?.view(), &train_y);
        let te = accuracy(fit.predict(&sim, test_set.x.view())?.view(), &test_y);
        (tr, te, seconds, "closed form (reduced-rank ridge)")
    } else {
        let bar = progress::Bar::new("epochs");
        let report = train(
            &mut sim.stack,
            train_set.x.view(),
            train_set.labels.view(),
            &tp,
            &bar,
        )?;
        let tr = accuracy(
            predict(&sim.stack, train_set.x.view(), 4096).view(),
            &train_y,
        );
        let te = accuracy(predict(&sim.stack, test_set.x.view(), 4096).view(), &test_y);
        (tr, te, report.seconds_per_epoch(), "end to end (Adam)")
    };
    let value = json!({
        "data": c.data, "split": split, "train": train_set.n(), "test": test_set.n(),
        "tier": if args.tier == TierChoice::Two { "two" } else { "single" },
        "method": method, "params": sim.parameter_count(), "epochs": c.epochs, "seed": c.seed,
        "train_accuracy": train_acc, "test_accuracy": test_acc, "seconds_per_epoch": seconds_per_epoch,
        "sim": to_json(sim.params()),
    });
    print(c.json, &value, || {
        format!(
            "SIM ({} tier{}, {method}, {} parameters) on {} ({} train, {} test): train accuracy {:.4}, test accuracy {:.4}, {:.2} s per epoch",
            if args.tier == TierChoice::Two { "two" } else { "one" },
            if args.tier == TierChoice::Two { "s" } else { "" },
            sim.parameter_count(),
            c.data,
            train_set.n(),
            test_set.n(),
            train_acc,
            test_acc,
            seconds_per_epoch
        )
    });
    Ok(())
}

fn sim_compare(args: SimCompareArgs) -> Result<(), Error> {
    let c = &args.common;
    let (train_set, test_set, split) = load(c)?;
    let classes = train_set.classes().max(test_set.classes());
    let params = CompareParams {
        train: train_params(c)?,
        runs: args.seeds,
        bandwidth: c.bandwidth,
        deq_tol: args.deq_tol,
        deq_max_iter: args.deq_max_iter,
    };
    let bar = progress::Bar::new("batches");
    let rows = compare(
        &[
            ComparedModel::SimSingle,
            ComparedModel::SimTwo,
            ComparedModel::Deq,
            ComparedModel::Mlp,
        ],
        train_set.x.view(),
        train_set.labels.view(),
        test_set.x.view(),
        test_set.labels.view(),
        classes,
        &params,
        &bar,
    )?;
    let value = json!({
        "data": c.data, "split": split, "train": train_set.n(), "test": test_set.n(), "epochs": c.epochs,
        "seeds": args.seeds, "rows": to_json(&rows),
    });
    print(c.json, &value, || {
        let mut s = format!(
            "{} ({} train, {} test), {} epochs, {} seeds\n{:<11} {:>8} {:>16} {:>10} {:>12}",
            c.data,
            train_set.n(),
            test_set.n(),
            c.epochs,
            args.seeds,
            "model",
            "params",
            "test accuracy",
            "s/epoch",
            "DEQ fwd/bwd"
        );
        for r in &rows {
            let its = match (r.forward_iterations, r.backward_iterations) {
                (Some(f), Some(b)) => format!("{f:.1}/{b:.1}"),
                _ => "—".into(),
            };
            s.push_str(&format!(
                "\n{:<11} {:>8} {:>9.4} ± {:.4} {:>10.2} {:>12}",
                r.model,
                r.params,
                r.test_accuracy_mean,
                r.test_accuracy_std,
                r.seconds_per_epoch,
                its
            ));
        }
        s
    });
    Ok(())
}
