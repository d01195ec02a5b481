//! `deqk`: the command line of deq-kernels (SPEC §11).

mod delm;
mod design;
mod eig;
mod equivalent;
mod finite;
mod progress;
mod reproduce;

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
use deq_kernels::kernel::explicit::{mlp_kernels_observed, MlpParams, Which};
use deq_kernels::kernel::implicit::{
    deq_kernels_observed, fk_kernels, Centering, DeqParams, FengKolterParams, ImplicitReport,
    ImplicitWhich,
};
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
    /// The main job: a DEQ, its high-dimensional equivalent, its designed shallow twin and an unmatched network,
    /// with spectra, distances, plots and an error-vs-p sweep, written to a folder.
    Reproduce(reproduce::ReproduceArgs),
    /// Coefficients of the high-dimensional equivalent of a DEQ or explicit network (SPEC §4, §6); with data, the
    /// equivalent matrix or its spectrum.
    Equivalent(equivalent::EquivalentArgs),
    /// The shallow explicit network whose equivalent CK or NTK equals a DEQ's (SPEC §7).
    Design(design::DesignArgs),
    /// Empirical CK or NTK of random finite-width networks, averaged over draws (SPEC §8).
    Empirical(finite::EmpiricalArgs),
    /// Random-feature classification on MNIST: DEQ, designed and unmatched explicit networks.
    Classify(finite::ClassifyArgs),
    /// Train the deep equilibrium linear model and show its linear convergence to the shallow optimum (SPEC §9).
    Delm(delm::DelmArgs),
    /// Eigenvalues (and optionally eigenvectors) of a symmetric matrix.
    Eig(eig::EigArgs),
    /// Eigenvalue histograms of one or more matrices, overlaid in a figure, with distances between them.
    Spectrum(eig::SpectrumArgs),
    /// Time eigensolver backends on a kernel matrix of size n.
    BenchEig(eig::BenchEigArgs),
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
    /// Deep equilibrium model z = φ(σ_a·Az + σ_b·Bx)/√m (SPEC §5).
    Deq,
    /// Feng–Kolter DEQ in the NTK parameterization (SPEC §5), xᵀy/d with d = p.
    Fk,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// Conjugate kernel (NNGP of the readout; the Implicit-CK G* for a DEQ).
    Ck,
    /// Pre-activation NNGP Σ* of an implicit model.
    Nngp,
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
    /// Weight variance: σ_w² of every hidden layer (mlp, default 1) or σ_W² (fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_w2: Option<f64>,
    /// Bias variance: σ_b² of every hidden layer (mlp, default 0), of the input injection (deq, default
    /// 1 − σ_a²) or the bias (fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    /// DEQ: weight variance σ_a² of the implicit layer.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// Feng–Kolter: input weight variance σ_U².
    #[arg(long, allow_negative_numbers = true)]
    sigma_u2: Option<f64>,
    /// DEQ: do not center φ at the fixed-point scale τ*.
    #[arg(long)]
    no_center: bool,
    /// DEQ: input scale τ₀ for τ* (default √(‖X‖_F²/n)).
    #[arg(long)]
    tau0: Option<f64>,
    /// DEQ: the NTK also trains the input weights B.
    #[arg(long)]
    train_b: bool,
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
        Command::Reproduce(args) => reproduce::reproduce(args),
        Command::Equivalent(args) => equivalent::equivalent(args),
        Command::Design(args) => design::design(args),
        Command::Empirical(args) => finite::empirical(args),
        Command::Classify(args) => finite::classify(args),
        Command::Delm(args) => delm::delm(args),
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

fn required(value: Option<f64>, name: &'static str) -> Result<f64, Error> {
    value.ok_or(Error::Missing {
        name,
        why: "--model fk needs --sigma-w2, --sigma-u2 and --sigma-b2",
    })
}

fn kernel(args: KernelArgs) -> Result<(), Error> {
    refuse_existing(&[&args.out], args.force)?;
    let act = activation(&args.activation)?;
    let kind = match args.kind {
        Kind::Ck => "ck",
        Kind::Nngp => "nngp",
        Kind::Ntk => "ntk",
    };
    let start = Instant::now();
    let bar = progress::Bar::new("kernel");
    let mut report = match args.model {
        Model::Mlp => {
            let (w2, b2) = (args.sigma_w2.unwrap_or(1.0), args.sigma_b2.unwrap_or(0.0));
            let params = MlpParams::new(act.clone(), args.depth, w2, b2)?;
            let which = match args.kind {
                Kind::Ck => Which::CK,
                Kind::Ntk => Which::NTK,
                Kind::Nngp => {
                    return Err(Error::Missing {
                        name: "a kernel an explicit network has",
                        why: "use --kind ck or ntk (nngp is for --model deq and fk)",
                    })
                }
            };
            let x = npy::read_matrix(&args.input)?;
            let (terms, fallbacks) = match args.dtype {
                Dtype::F64 => {
                    let k = mlp_kernels_observed::<f64>(&params, x.view(), which, &bar)?;
                    write_one(k.ck.or(k.ntk), &args)?;
                    (k.series_terms, k.quadrature_fallbacks)
                }
                Dtype::F32 => {
                    let k = mlp_kernels_observed::<f32>(&params, x.view(), which, &bar)?;
                    write_one(k.ck.or(k.ntk), &args)?;
                    (k.series_terms, k.quadrature_fallbacks)
                }
            };
            json!({"depth": args.depth, "sigma_w2": w2, "sigma_b2": b2, "n": x.nrows(), "p": x.ncols(),
                   "hermite_terms": terms, "quadrature_fallbacks": fallbacks})
        }
        Model::Deq | Model::Fk => {
            let x = npy::read_matrix(&args.input)?;
            let which = ImplicitWhich {
                nngp: matches!(args.kind, Kind::Nngp),
                ck: matches!(args.kind, Kind::Ck),
                ntk: matches!(args.kind, Kind::Ntk),
            };
            let (fields, implicit) = if let Model::Deq = args.model {
                let mut params = DeqParams::new(act.clone(), args.sigma_a2)?;
                if let Some(b2) = args.sigma_b2 {
                    params = params.with_sigma_b2(b2)?;
                }
                if args.no_center {
                    params = params.with_centering(Centering::None);
                }
                if let Some(t) = args.tau0 {
                    params = params.with_tau0(t)?;
                }
                params = params.with_trained_input_weights(args.train_b);
                let fields = json!({"sigma_a2": params.sigma_a2(), "sigma_b2": params.sigma_b2(),
                                    "center": !args.no_center, "train_b": args.train_b});
                (fields, Implicit::Deq(params))
            } else {
                if matches!(args.kind, Kind::Ck) {
                    return Err(Error::Missing {
                        name: "a kernel the Feng–Kolter model has",
                        why: "use --kind nngp or ntk",
                    });
                }
                let (w2, u2, b2) = (
                    required(args.sigma_w2, "--sigma-w2")?,
                    required(args.sigma_u2, "--sigma-u2")?,
                    required(args.sigma_b2, "--sigma-b2")?,
                );
                let fields =
                    json!({"sigma_w2": w2, "sigma_u2": u2, "sigma_b2": b2, "input_dim": x.ncols()});
                (
                    fields,
                    Implicit::Fk(FengKolterParams::new(act.clone(), w2, u2, b2)?),
                )
            };
            let rep = match args.dtype {
                Dtype::F64 => implicit.run::<f64>(x.view(), which, &bar, &args)?,
                Dtype::F32 => implicit.run::<f32>(x.view(), which, &bar, &args)?,
            };
            let mut v = fields;
            v["n"] = json!(x.nrows());
            v["p"] = json!(x.ncols());
            v["tau_star"] = json!(rep.tau_star);
            v["centering"] = json!(rep.centering);
            v["max_residual"] = json!(rep.max_residual);
            v["contraction"] = json!(rep.contraction);
            v["max_newton_iterations"] = json!(rep.max_iterations);
            v["mean_newton_iterations"] = json!(rep.mean_iterations);
            v["quadrature_fallbacks"] = json!(rep.quadrature_fallbacks);
            v
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let model = match args.model {
        Model::Mlp => "mlp",
        Model::Deq => "deq",
        Model::Fk => "fk",
    };
    report["model"] = json!(model);
    report["kind"] = json!(kind);
    report["activation"] = json!(act.name());
    report["dtype"] = json!(match args.dtype {
        Dtype::F32 => "f32",
        Dtype::F64 => "f64",
    });
    report["seconds"] = json!(seconds);
    report["out"] = json!(args.out.display().to_string());
    print(args.json, &report, || {
        format!(
            "{kind} of the {model} model ({}) on {}×{} data → {} ({seconds:.2} s)",
            act.name(),
            report["n"],
            report["p"],
            args.out.display()
        )
    });
    Ok(())
}

enum Implicit {
    Deq(DeqParams),
    Fk(FengKolterParams),
}

impl Implicit {
    fn run<T: Real + ndarray_npy::WritableElement>(
        &self,
        x: ndarray::ArrayView2<f64>,
        which: ImplicitWhich,
        bar: &progress::Bar,
        args: &KernelArgs,
    ) -> Result<ImplicitReport, Error> {
        let k = match self {
            Implicit::Deq(p) => deq_kernels_observed::<T>(p, x, which, bar)?,
            Implicit::Fk(p) => fk_kernels::<T>(p, x, x.ncols() as f64, which)?,
        };
        write_one(k.nngp.or(k.ck).or(k.ntk), args)?;
        Ok(k.report)
    }
}

fn write_one<T: ndarray_npy::WritableElement>(
    m: Option<ndarray::Array2<T>>,
    args: &KernelArgs,
) -> Result<(), Error> {
    let m = m.expect("the requested kernel");
    npy::write_matrix(&args.out, &m, args.force)
}
