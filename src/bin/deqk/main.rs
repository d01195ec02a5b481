//! `deqk`: the command line of deq-kernels (SPEC §11).

mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

use deq_kernels::activation::{
    dual_pair, hermite_coefficients, parse_activation, Activation, ActivationRef, Cov2,
    ScaleMoments,
};
use deq_kernels::kernel::explicit::{mlp_kernels_observed, MlpKernels, MlpParams, Which};
use deq_kernels::kernel::Real;
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
    /// Gaussian moments m0 m1 m2 v q d of an activation at scale τ, and its Hermite coefficients (SPEC §2).
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
    /// Dual kernels E[σ(u)σ(v)] and E[σ′(u)σ′(v)] for (u, v) ~ N(0, [[s11, s12], [s12, s22]]) (SPEC §3).
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
    /// Exact infinite-width kernel matrix of a model on data (SPEC §4).
    Kernel(KernelArgs),
    /// Sample the synthetic Gaussian mixture of SPEC §6 (the paper's setting by default).
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

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    /// Fully connected network: [Dense(σ_w², σ_b²) → φ] × depth → Dense(1).
    Mlp,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// Conjugate kernel (NNGP of the readout).
    Ck,
    /// Neural tangent kernel.
    Ntk,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dtype {
    F32,
    F64,
}

#[derive(clap::Args)]
struct KernelArgs {
    #[arg(long, value_enum)]
    model: Model,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    #[arg(long)]
    activation: String,
    /// Weight variance σ_w² of every hidden layer.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    sigma_w2: f64,
    /// Bias variance σ_b² of every hidden layer.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    sigma_b2: f64,
    #[arg(long, value_enum)]
    kind: Kind,
    /// Data (.npy, n×p, f64 or f32, one sample per row).
    #[arg(long)]
    input: PathBuf,
    /// Kernel output (.npy, n×n).
    #[arg(long)]
    out: PathBuf,
    /// Element type of the output.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// Replace an existing output.
    #[arg(long)]
    force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
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
        Error::Undefined { .. } => " (choose an activation with a derivative, or --kind ck)",
        _ => "",
    };
    format!("{e}{hint}").replace('\n', " ")
}

fn activation(name: &str) -> Result<ActivationRef, Error> {
    Ok(Arc::new(parse_activation(name)?))
}

fn print(json: bool, value: &Value, human: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("JSON"));
    } else {
        println!("{}", human());
    }
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Moments {
            activation: name,
            tau,
            hermite,
            json,
        } => {
            let act = activation(&name)?;
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
        Command::Dual {
            activation: name,
            s11,
            s22,
            s12,
            json,
        } => {
            let act = activation(&name)?;
            let c = Cov2::new(s11, s22, s12)?;
            let d = dual_pair(&act, &c);
            let value = json!({"activation": act.name(), "s11": s11, "s22": s22, "s12": s12, "k": d.k, "kdot": d.kdot});
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
        Command::Kernel(args) => kernel(args),
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
            npy::write_vector(&labels, &y, force)?;
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

/// Check every output before writing any, so that a refusal leaves nothing behind.
fn refuse_existing(paths: &[&Path], force: bool) -> Result<(), Error> {
    for p in paths {
        if p.exists() && !force {
            return Err(Error::Io {
                path: p.display().to_string(),
                detail: "exists already; pass --force to replace it".into(),
            });
        }
    }
    Ok(())
}

fn kernel(args: KernelArgs) -> Result<(), Error> {
    refuse_existing(&[&args.out], args.force)?;
    let act = activation(&args.activation)?;
    let Model::Mlp = args.model;
    let params = MlpParams::new(act.clone(), args.depth, args.sigma_w2, args.sigma_b2)?;
    let x = npy::read_matrix(&args.input)?;
    let which = match args.kind {
        Kind::Ck => Which::CK,
        Kind::Ntk => Which::NTK,
    };
    let start = Instant::now();
    let bar = progress::Bar::new("kernel");
    let (series_terms, fallbacks) = match args.dtype {
        Dtype::F64 => {
            write_kernel::<f64>(mlp_kernels_observed(&params, x.view(), which, &bar)?, &args)?
        }
        Dtype::F32 => {
            write_kernel::<f32>(mlp_kernels_observed(&params, x.view(), which, &bar)?, &args)?
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let kind = match args.kind {
        Kind::Ck => "ck",
        Kind::Ntk => "ntk",
    };
    let value = json!({
        "model": "mlp", "kind": kind, "activation": act.name(), "depth": args.depth,
        "sigma_w2": args.sigma_w2, "sigma_b2": args.sigma_b2, "n": x.nrows(), "p": x.ncols(),
        "dtype": match args.dtype { Dtype::F32 => "f32", Dtype::F64 => "f64" },
        "seconds": seconds, "hermite_terms": series_terms, "quadrature_fallbacks": fallbacks,
        "out": args.out.display().to_string(),
    });
    print(args.json, &value, || {
        format!(
            "{kind} of a depth-{} {} network on {}×{} data → {} ({seconds:.2} s)",
            args.depth,
            act.name(),
            x.nrows(),
            x.ncols(),
            args.out.display()
        )
    });
    Ok(())
}

type SeriesTerms = Vec<Option<(usize, Option<usize>)>>;

fn write_kernel<T: Real + ndarray_npy::WritableElement>(
    k: MlpKernels<T>,
    args: &KernelArgs,
) -> Result<(SeriesTerms, usize), Error> {
    let m =
        k.ck.as_ref()
            .or(k.ntk.as_ref())
            .expect("one kernel requested");
    npy::write_matrix(&args.out, m, args.force)?;
    Ok((k.series_terms, k.quadrature_fallbacks))
}
