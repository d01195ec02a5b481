//! `deqk`: the command line of deq-kernels (docs/cli.md). Each subcommand parses its options, calls the library,
//! and prints a summary or JSON; the computations live in `deq_kernels`.

mod delm;
mod design;
mod eig;
mod equivalent;
mod finite;
mod kernel;
mod koopman;
mod progress;
mod reproduce;
mod sim;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

use deq_kernels::activation::{
    dual_pair, hermite_coefficients, parse_activation, Activation, ActivationRef, Cov2,
    ScaleMoments,
};
use deq_kernels::output::refuse_existing;
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::{npy, Error};

#[derive(Parser)]
#[command(
    name = "deqk",
    version,
    about = "Infinite-width kernels of deep equilibrium models and explicit networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gaussian moments m0 m1 m2 v q d of an activation at scale τ, and its Hermite coefficients (math §2).
    Moments {
        /// Activation, e.g. relu, tanh, lrelu:1.3,-0.4, hardtanh:0.7,1.1.
        #[arg(long)]
        activation: String,
        /// Scale τ > 0 of the pre-activation τξ.
        #[arg(long, allow_negative_numbers = true)]
        tau: f64,
        /// Number of Hermite coefficients a_k(σ; τ), k = 0..K−1, to add.
        #[arg(long, default_value_t = 0)]
        hermite: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Dual kernels E[σ(u)σ(v)] and E[σ′(u)σ′(v)] for (u, v) ~ N(0, [[s11, s12], [s12, s22]]) (math §3).
    Dual {
        #[arg(long)]
        activation: String,
        #[arg(long, allow_negative_numbers = true)]
        s11: f64,
        #[arg(long, allow_negative_numbers = true)]
        s22: f64,
        #[arg(long, allow_negative_numbers = true)]
        s12: f64,
        #[arg(long)]
        json: bool,
    },
    /// Exact infinite-width kernel matrix of a model on data (math §4, §5).
    Kernel(kernel::KernelArgs),
    /// The main job: a DEQ, its high-dimensional equivalent, its designed shallow twin and an unmatched network,
    /// with spectra, distances, plots and an error-vs-p sweep, written to a folder.
    Reproduce(reproduce::ReproduceArgs),
    /// Coefficients of the high-dimensional equivalent of a DEQ or explicit network (math §4, §6); with data, the
    /// equivalent matrix or its spectrum.
    Equivalent(equivalent::EquivalentArgs),
    /// The shallow explicit network whose equivalent CK or NTK equals a DEQ's (math §7).
    Design(design::DesignArgs),
    /// Empirical CK or NTK of random finite-width networks, averaged over draws (math §8).
    Empirical(finite::EmpiricalArgs),
    /// Random-feature classification on MNIST: DEQ, designed and unmatched explicit networks.
    Classify(finite::ClassifyArgs),
    /// Train the deep equilibrium linear model and show its linear convergence to the shallow optimum (math §9).
    Delm(delm::DelmArgs),
    /// The Koopman spectrum of a DEQ's iteration: a linear DEQ's augmented map and its λ = 1 projection, or EDMD
    /// of a tanh DEQ (math §10).
    Koopman(koopman::KoopmanArgs),
    /// The stable invariant model: train one, or compare it with a DEQ and an MLP (math §10).
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Eigenvalues (and optionally eigenvectors) of a symmetric matrix.
    Eig(eig::EigArgs),
    /// Eigenvalue histograms of one or more matrices, overlaid in a figure, with distances between them.
    Spectrum(eig::SpectrumArgs),
    /// Time eigensolver backends on a kernel matrix of size n.
    BenchEig(eig::BenchEigArgs),
    /// Sample the synthetic Gaussian mixture of math §6 (the paper's setting by default).
    Gmm {
        /// Dimension p.
        #[arg(long, default_value_t = 512)]
        p: usize,
        /// Number of samples n (default ⌊0.8p⌋).
        #[arg(long)]
        n: Option<usize>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Data output (.npy, n×p, one sample per row).
        #[arg(long)]
        out: PathBuf,
        /// Label output (.npy, int64, length n).
        #[arg(long)]
        labels: PathBuf,
        /// Replace existing outputs.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Element type of a kernel or eigen computation.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deqk: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn one_line(e: &Error) -> String {
    let hint = match e {
        // Models name themselves in parentheses; an activation without a derivative gets the hint.
        Error::Undefined { activation, .. } if !activation.starts_with('(') => {
            " (choose an activation with a derivative, or --kind ck)"
        }
        _ => "",
    };
    format!("{e}{hint}").replace('\n', " ")
}

fn activation(name: &str) -> Result<ActivationRef, Error> {
    Ok(parse_activation(name)?.into())
}

fn print(json: bool, value: &Value, human: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("JSON"));
    } else {
        println!("{}", human());
    }
}

/// A serializable report as JSON.
fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("reports serialize")
}

/// (name, value) pairs as a JSON object.
fn object<V: serde::Serialize>(pairs: &[(impl AsRef<str>, V)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.as_ref().to_string(), to_json(v)))
            .collect(),
    )
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Moments {
            activation: name,
            tau,
            hermite,
            json,
        } => moments(&name, tau, hermite, json),
        Command::Dual {
            activation: name,
            s11,
            s22,
            s12,
            json,
        } => dual(&name, Cov2::new(s11, s22, s12)?, json),
        Command::Kernel(args) => kernel::kernel(args),
        Command::Reproduce(args) => reproduce::reproduce(args),
        Command::Equivalent(args) => equivalent::equivalent(args),
        Command::Design(args) => design::design(args),
        Command::Empirical(args) => finite::empirical(args),
        Command::Classify(args) => finite::classify(args),
        Command::Delm(args) => delm::delm(args),
        Command::Koopman(args) => koopman::koopman(args),
        Command::Sim(command) => sim::sim(command),
        Command::Eig(args) => eig::eig(args),
        Command::Spectrum(args) => eig::spectrum(args),
        Command::BenchEig(args) => eig::bench_eig(args),
        Command::Gmm {
            p,
            n,
            seed,
            out,
            labels,
            force,
            json,
        } => {
            let mixture = match n {
                Some(n) => GaussianMixture::paper_with_n(p, n)?,
                None => GaussianMixture::paper(p)?,
            };
            refuse_existing(&[&out, &labels], force)?;
            let (x, y) = mixture.sample(seed)?;
            npy::write_matrix(&out, &x, force)?;
            npy::write_labels(&labels, &y, force)?;
            let value = json!({"n": x.nrows(), "p": p, "classes": 2, "seed": seed,
                               "out": out.display().to_string(), "labels": labels.display().to_string()});
            print(json, &value, || {
                format!(
                    "wrote {}×{p} mixture to {} and labels to {}",
                    x.nrows(),
                    out.display(),
                    labels.display()
                )
            });
            Ok(())
        }
    }
}

fn moments(name: &str, tau: f64, hermite: usize, json: bool) -> Result<(), Error> {
    let act = activation(name)?;
    let m = ScaleMoments::compute(&act, tau)?;
    let h = hermite_coefficients(&act, tau, hermite)?;
    let value = json!({
        "activation": act.name(), "tau": tau,
        "m0": m.m0, "m1": m.m1, "m2": m.m2, "v": m.v, "q": m.q, "d": m.d,
        "hermite": h,
    });
    print(json, &value, || {
        let mut s = format!(
            "{} at τ = {tau}\n  m0 = {:.12}\n  m1 = {:.12}\n  m2 = {:.12}\n  v  = {:.12}\n  q  = {:.12}\n  d  = {}",
            act.name(),
            m.m0,
            m.m1,
            m.m2,
            m.v,
            m.q,
            m.d.map_or("undefined (σ′ unavailable)".into(), |d| format!("{d:.12}"))
        );
        for (k, a) in h.iter().enumerate() {
            s.push_str(&format!("\n  a_{k} = {a:.12}"));
        }
        s
    });
    Ok(())
}

fn dual(name: &str, c: Cov2, json: bool) -> Result<(), Error> {
    let act = activation(name)?;
    let d = dual_pair(&act, &c);
    if !d.k.is_finite() || d.kdot.is_some_and(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "covariance",
            value: c.s11.max(c.s22),
            requirement: "the dual kernel overflows f64 at this covariance; use smaller variances or activation parameters",
        });
    }
    let value = json!({"activation": act.name(), "s11": c.s11, "s22": c.s22, "s12": c.s12, "k": d.k, "kdot": d.kdot});
    print(json, &value, || {
        format!(
            "{}: E[σ(u)σ(v)] = {:.12}, E[σ′(u)σ′(v)] = {}",
            act.name(),
            d.k,
            d.kdot.map_or("undefined".into(), |v| format!("{v:.12}"))
        )
    });
    Ok(())
}
