//! `deqk kernel`: an exact infinite-width kernel matrix of an explicit network, a DEQ or a Feng–Kolter DEQ.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use ndarray::{Array2, ArrayView2};
use serde_json::{json, Value};

use deq_kernels::activation::Activation;
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::implicit::{
    deq_kernels, fk_kernels, Centering, DeqParams, FengKolterParams,
};
use deq_kernels::kernel::Kernel;
use deq_kernels::output::refuse_existing;
use deq_kernels::progress::Progress;
use deq_kernels::sim::kernel::{sim_kernels, SimVariances};
use deq_kernels::sim::{Basis, FourierFeatures, FrequencyLaw, RffParams, SimParams, Tier};
use deq_kernels::{npy, Error, Real};

use super::{activation, print, progress, to_json, Dtype};

#[derive(Clone, Copy, ValueEnum)]
pub enum Model {
    /// Fully connected network: [Dense(σ_w², σ_b²) → φ] × depth → Dense(1).
    Mlp,
    /// Deep equilibrium model z = φ(σ_a·Az + σ_b·Bx)/√m (math §5).
    Deq,
    /// Feng–Kolter DEQ in the NTK parameterization (math §5), xᵀy/d with d = p.
    Fk,
    /// Random stable invariant model with ReLU basis and ψ_inv (math §10): CK or NTK.
    Sim,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TierArg {
    /// φ = g.
    Single,
    /// φ = RFF(g), the Fourier layer frozen.
    Two,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BasisArg {
    /// Linear–ReLU–Linear–ReLU–Linear to the tier.
    Mlp,
    /// The input itself (with --tier two, the Fourier SIM).
    Identity,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FrequenciesArg {
    /// Gaussian rows N(0, I/bw²): the Gaussian kernel.
    Gaussian,
    /// Cauchy(0, 1/bw) entries: the L1 Laplace kernel (CK only).
    Cauchy,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Conjugate kernel (NNGP of the readout; the Implicit-CK G* for a DEQ).
    Ck,
    /// Pre-activation NNGP (Σ* of an implicit model, Σ_L of an explicit one).
    Nngp,
    /// Neural tangent kernel.
    Ntk,
}

impl From<Kind> for Kernel {
    fn from(k: Kind) -> Kernel {
        match k {
            Kind::Ck => Kernel::Ck,
            Kind::Nngp => Kernel::Nngp,
            Kind::Ntk => Kernel::Ntk,
        }
    }
}

#[derive(Args)]
pub struct KernelArgs {
    #[arg(long, value_enum)]
    model: Model,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Activation (mlp, deq, fk); the SIM's layers are ReLU.
    #[arg(long)]
    activation: Option<String>,
    /// Weight variance: σ_w² of every hidden layer (mlp, default 1; sim, default 2) or σ_W² (fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_w2: Option<f64>,
    /// Bias variance: σ_b² of every hidden layer (mlp, default 0; sim, default 0.1), of the input injection
    /// (deq, default 1 − σ_a²) or the bias (fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    /// DEQ: weight variance σ_a² of the implicit layer.
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// Feng–Kolter: input weight variance σ_U²; SIM: the variance σ_u² of U (default 1).
    #[arg(long, allow_negative_numbers = true)]
    sigma_u2: Option<f64>,
    /// SIM: the variance σ_v² of V.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    sigma_v2: f64,
    /// SIM: one tier or two.
    #[arg(long, value_enum, default_value = "single")]
    tier: TierArg,
    /// SIM: the basis network.
    #[arg(long, value_enum, default_value = "mlp")]
    basis: BasisArg,
    /// SIM: d, the basis network's output dimension (the Fourier tier's mean kernel depends on it).
    #[arg(long, default_value_t = 50)]
    basis_dim: usize,
    /// SIM: the Fourier layer's bandwidth bw.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    bandwidth: f64,
    /// SIM: the Fourier layer's frequencies.
    #[arg(long, value_enum, default_value = "gaussian")]
    frequencies: FrequenciesArg,
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

/// The model of a `deqk kernel` call, checked, with the JSON fields that describe it.
enum Described {
    Mlp(MlpParams),
    Deq(DeqParams),
    Fk(FengKolterParams),
    Sim(SimParams, SimVariances),
}

impl Described {
    fn from_args(args: &KernelArgs, p: usize) -> Result<(Self, Value), Error> {
        if let Model::Sim = args.model {
            return Described::sim(args, p);
        }
        let act = activation(args.activation.as_deref().ok_or(Error::Missing {
            name: "--activation",
            why: "the mlp, deq and fk models need an activation, e.g. --activation relu",
        })?)?;
        Ok(match args.model {
            Model::Mlp => {
                let (w2, b2) = (args.sigma_w2.unwrap_or(1.0), args.sigma_b2.unwrap_or(0.0));
                let fields = json!({"depth": args.depth, "sigma_w2": w2, "sigma_b2": b2});
                (
                    Described::Mlp(MlpParams::new(act, args.depth, w2, b2)?),
                    fields,
                )
            }
            Model::Deq => {
                let mut p = match args.sigma_b2 {
                    Some(b2) => DeqParams::with_variances(act, args.sigma_a2, b2)?,
                    None => DeqParams::new(act, args.sigma_a2)?,
                };
                if args.no_center {
                    p = p.with_centering(Centering::None);
                }
                if let Some(t) = args.tau0 {
                    p = p.with_tau0(t)?;
                }
                p = p.with_trained_input_weights(args.train_b);
                let fields = json!({"sigma_a2": p.sigma_a2(), "sigma_b2": p.sigma_b2(),
                                    "center": !args.no_center, "train_b": args.train_b});
                (Described::Deq(p), fields)
            }
            Model::Fk => {
                if matches!(args.kind, Kind::Ck) {
                    return Err(Error::Missing {
                        name: "a kernel the Feng–Kolter model has",
                        why: "use --kind nngp or ntk",
                    });
                }
                let required = |v: Option<f64>, name| {
                    v.ok_or(Error::Missing {
                        name,
                        why: "--model fk needs --sigma-w2, --sigma-u2 and --sigma-b2",
                    })
                };
                let (w2, u2, b2) = (
                    required(args.sigma_w2, "--sigma-w2")?,
                    required(args.sigma_u2, "--sigma-u2")?,
                    required(args.sigma_b2, "--sigma-b2")?,
                );
                let fields = json!({"sigma_w2": w2, "sigma_u2": u2, "sigma_b2": b2});
                (
                    Described::Fk(FengKolterParams::new(act, w2, u2, b2)?),
                    fields,
                )
            }
            Model::Sim => unreachable!("handled above"),
        })
    }

    fn sim(args: &KernelArgs, p: usize) -> Result<(Self, Value), Error> {
        if let Some(a) = &args.activation {
            if activation(a)?.name() != "relu" {
                return Err(Error::InvalidParameter {
                    name: "activation",
                    value: f64::NAN,
                    requirement: "the SIM's basis and ψ_inv are ReLU networks; leave --activation out or give relu",
                });
            }
        }
        let variances = SimVariances {
            sigma_w2: args.sigma_w2.unwrap_or(2.0),
            sigma_b2: args.sigma_b2.unwrap_or(0.1),
            sigma_v2: args.sigma_v2,
            sigma_u2: args.sigma_u2.unwrap_or(1.0),
        }
        .checked()?;
        let basis = match args.basis {
            BasisArg::Mlp => Basis::Mlp { width: 100 },
            BasisArg::Identity => Basis::Identity,
        };
        // Widths and the rank do not enter the infinite-width kernels; d does, through the Fourier tier.
        let mut params = SimParams::single(p, 1)
            .with_basis_dim(args.basis_dim)
            .with_basis(basis)
            .with_rank(1);
        let basis_name = match basis {
            Basis::Identity => "identity",
            _ => "mlp",
        };
        let mut fields = json!({"tier": "single", "basis": basis_name,
            "basis_dim": params.basis_dim, "sigma_w2": variances.sigma_w2, "sigma_b2": variances.sigma_b2,
            "sigma_v2": variances.sigma_v2, "sigma_u2": variances.sigma_u2});
        if let TierArg::Two = args.tier {
            let law = match args.frequencies {
                FrequenciesArg::Gaussian => FrequencyLaw::Gaussian,
                FrequenciesArg::Cauchy => FrequencyLaw::Cauchy,
            };
            let rff = RffParams::new(2, args.bandwidth, law, FourierFeatures::CosSin)?;
            params = params.with_tier(Tier::Two(rff));
            fields["tier"] = json!("two");
            fields["bandwidth"] = json!(args.bandwidth);
            fields["frequencies"] = json!(format!("{law:?}").to_lowercase());
        }
        Ok((Described::Sim(params.checked()?, variances), fields))
    }

    /// The kernel and the JSON fields of its report.
    fn compute<T: Real>(
        &self,
        x: ArrayView2<f64>,
        kind: Kernel,
        bar: &dyn Progress,
    ) -> Result<(Array2<T>, Value), Error> {
        Ok(match self {
            Described::Mlp(p) => {
                let ([k], r) = mlp_kernels::<T, 1>(p, x, [kind], bar)?;
                (
                    k,
                    json!({"hermite_terms": r.series_terms, "quadrature_fallbacks": r.quadrature_fallbacks}),
                )
            }
            Described::Deq(p) => {
                let ([k], r) = deq_kernels::<T, 1>(p, x, [kind], bar)?;
                (k, implicit_fields(to_json(&r)))
            }
            Described::Fk(p) => {
                let ([k], r) = fk_kernels::<T, 1>(p, x, [kind], bar)?;
                let mut v = implicit_fields(to_json(&r));
                v["input_dim"] = json!(x.ncols());
                (k, v)
            }
            Described::Sim(p, v) => {
                let [k] = sim_kernels::<T, 1>(p, v, x, [kind], bar)?;
                (k, json!({}))
            }
        })
    }
}

/// The implicit report's fields under their command-line names.
fn implicit_fields(r: Value) -> Value {
    json!({"tau0": r["tau0"], "tau_star": r["tau_star"], "centering": r["centering"],
           "max_residual": r["max_residual"], "contraction": r["contraction"],
           "max_newton_iterations": r["max_iterations"], "mean_newton_iterations": r["mean_iterations"],
           "quadrature_fallbacks": r["quadrature_fallbacks"]})
}

fn compute_and_write<T: Real>(
    model: &Described,
    x: ArrayView2<f64>,
    args: &KernelArgs,
) -> Result<Value, Error> {
    let bar = progress::Bar::new("kernel");
    let (k, fields) = model.compute::<T>(x, args.kind.into(), &bar)?;
    npy::write_matrix(&args.out, &k, args.force)?;
    Ok(fields)
}

pub fn kernel(args: KernelArgs) -> Result<(), Error> {
    refuse_existing(&[&args.out], args.force)?;
    let x = npy::read_matrix(&args.input)?;
    let (model, mut report) = Described::from_args(&args, x.ncols())?;
    let start = Instant::now();
    let fields = match args.dtype {
        Dtype::F64 => compute_and_write::<f64>(&model, x.view(), &args)?,
        Dtype::F32 => compute_and_write::<f32>(&model, x.view(), &args)?,
    };
    let seconds = start.elapsed().as_secs_f64();
    let kind = Kernel::from(args.kind).name();
    let model_name = match args.model {
        Model::Mlp => "mlp",
        Model::Deq => "deq",
        Model::Fk => "fk",
        Model::Sim => "sim",
    };
    for (k, v) in fields.as_object().into_iter().flatten() {
        report[k] = v.clone();
    }
    report["n"] = json!(x.nrows());
    report["p"] = json!(x.ncols());
    report["model"] = json!(model_name);
    report["kind"] = json!(kind);
    report["activation"] = json!(match &args.activation {
        Some(a) => activation(a)?.name(),
        None => "relu".into(),
    });
    report["dtype"] = json!(args.dtype.name());
    report["seconds"] = json!(seconds);
    report["out"] = json!(args.out.display().to_string());
    print(args.json, &report, || {
        format!(
            "{kind} of the {model_name} model ({}) on {}×{} data → {} ({seconds:.2} s)",
            report["activation"].as_str().unwrap_or(""),
            report["n"],
            report["p"],
            args.out.display()
        )
    });
    Ok(())
}
