//! deqk-mpi: `deqk kernel`, `deqk eig` and `deqk spectrum` over MPI (docs/distributed.md). Run under
//! `mpirun -np P`; every process reads the inputs, computes its blocks, and the outputs are written
//! collectively. One line on standard error (from process 0) and a non-zero exit when anything fails anywhere.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use deq_distributed::eigen::{eigenpairs, eigenvalues, EigenRange, ScalapackEigen};
use deq_distributed::grid::ProcessGrid;
use deq_distributed::kernels::{fill_kernel, KernelModel};
use deq_distributed::matrix::DistributedMatrix;
use deq_distributed::slq::distributed_slq;
use deq_distributed::{agree, Error, Result};
use deq_kernels::activation::parse_activation;
use deq_kernels::eigen::slq::SlqParams;
use deq_kernels::kernel::explicit::MlpParams;
use deq_kernels::kernel::implicit::{Centering, DeqParams, FengKolterParams};
use deq_kernels::kernel::Kernel;
use mpi::traits::*;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "deqk-mpi",
    about = "deqk's kernel, eig and spectrum over MPI with ScaLAPACK"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// An exact kernel matrix, filled in block-cyclic layout and written collectively to .npy.
    Kernel(KernelArgs),
    /// Eigenvalues (ascending) and optionally eigenvectors of a symmetric .npy matrix, by ScaLAPACK.
    Eig(EigArgs),
    /// The spectral density of a symmetric .npy matrix by stochastic Lanczos quadrature.
    Spectrum(SpectrumArgs),
}

/// The process grid and block size.
#[derive(Args, Clone)]
struct Layout {
    /// Process grid RxC (R·C = the number of processes; default: the most nearly square, R ≤ C).
    #[arg(long, value_parser = parse_grid)]
    grid: Option<(usize, usize)>,
    /// Block size nb of the block-cyclic layout.
    #[arg(long, default_value_t = 64)]
    block: usize,
}

fn parse_grid(s: &str) -> std::result::Result<(usize, usize), String> {
    let (r, c) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("grid '{s}' is not RxC, e.g. 2x3"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("grid '{s}' is not RxC, e.g. 2x3"))
    };
    Ok((parse(r)?, parse(c)?))
}

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Mlp,
    Deq,
    Fk,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Ck,
    Nngp,
    Ntk,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dtype {
    F64,
    F32,
}

/// `deqk kernel`'s options for the mlp, deq and fk models.
#[derive(Args)]
struct KernelArgs {
    #[arg(long, value_enum)]
    model: Model,
    /// Number of hidden layers (mlp).
    #[arg(long, default_value_t = 1)]
    depth: usize,
    #[arg(long)]
    activation: String,
    /// σ_w² of every hidden layer (mlp, default 1) or σ_W² (fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_w2: Option<f64>,
    /// σ_b² (mlp, default 0; deq, default 1 − σ_a²; fk, required).
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    /// DEQ: σ_a².
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// Feng–Kolter: σ_U².
    #[arg(long, allow_negative_numbers = true)]
    sigma_u2: Option<f64>,
    /// DEQ: do not center φ at τ*.
    #[arg(long)]
    no_center: bool,
    /// DEQ: input scale τ₀ (default √(‖X‖_F²/n)).
    #[arg(long)]
    tau0: Option<f64>,
    /// DEQ: the NTK also trains B.
    #[arg(long)]
    train_b: bool,
    #[arg(long, value_enum)]
    kind: Kind,
    /// Data (.npy, n×p, one sample per row), read by every process.
    #[arg(long)]
    input: PathBuf,
    /// Kernel output (.npy, n×n).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    layout: Layout,
}

/// `deqk eig`'s options.
#[derive(Args)]
struct EigArgs {
    /// Symmetric matrix (.npy, n×n, f64 or f32).
    #[arg(long)]
    input: PathBuf,
    /// Only the k largest eigenvalues (and vectors).
    #[arg(long)]
    top: Option<usize>,
    /// Also write the eigenvectors (.npy, n×m, columns in the order of the values).
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Eigenvalues (.npy, ascending).
    #[arg(long)]
    out: PathBuf,
    /// Precision of the solve.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// ScaLAPACK (p?syevr, p?syevd) or ELPA's one- or two-stage solver (a build with the feature `elpa`).
    #[arg(long, value_enum, default_value = "scalapack")]
    backend: Backend,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    layout: Layout,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Backend {
    Scalapack,
    Elpa1,
    Elpa2,
}

/// The element types every backend of this build takes.
#[cfg(feature = "elpa")]
trait Solvable: ScalapackEigen + deq_distributed::elpa::ElpaScalar {}
#[cfg(feature = "elpa")]
impl<T: ScalapackEigen + deq_distributed::elpa::ElpaScalar> Solvable for T {}
#[cfg(not(feature = "elpa"))]
trait Solvable: ScalapackEigen {}
#[cfg(not(feature = "elpa"))]
impl<T: ScalapackEigen> Solvable for T {}

/// The eigenvalues (and with `vectors`, the eigenpairs) `range` of `k` by `backend`.
fn solve<'g, T: Solvable>(
    k: &mut DistributedMatrix<'g, T>,
    range: EigenRange,
    vectors: bool,
    backend: Backend,
) -> Result<(Vec<T>, Option<deq_distributed::eigen::EigenPairs<'g, T>>)> {
    match backend {
        Backend::Scalapack if vectors => eigenpairs(k, range).map(|p| (Vec::new(), Some(p))),
        Backend::Scalapack => eigenvalues(k, range).map(|w| (w, None)),
        #[cfg(feature = "elpa")]
        Backend::Elpa1 | Backend::Elpa2 => {
            use deq_distributed::elpa::{elpa_eigenpairs, elpa_eigenvalues, ElpaStage};
            let stage = if backend == Backend::Elpa1 { ElpaStage::One } else { ElpaStage::Two };
            if vectors {
                elpa_eigenpairs(k, range, stage).map(|p| (Vec::new(), Some(p)))
            } else {
                elpa_eigenvalues(k, range, stage).map(|w| (w, None))
            }
        }
        #[cfg(not(feature = "elpa"))]
        Backend::Elpa1 | Backend::Elpa2 => agree(
            k.grid().comm(),
            Err(Error::Layout(
                "this deqk-mpi was built without ELPA; rebuild with `--features elpa` (needs libelpa-dev) or use --backend scalapack".into(),
            )),
        ),
    }
}

/// `deqk spectrum`'s options: eigenvalue histograms, overlaid, with distances to the first input.
#[derive(Args)]
struct SpectrumArgs {
    /// Symmetric matrix (.npy, n×n, f64 or f32) or eigenvalue list (.npy vector).
    #[arg(long)]
    input: PathBuf,
    /// More matrices or eigenvalue lists to compare with the input (repeat the option).
    #[arg(long)]
    compare: Vec<PathBuf>,
    /// Legend labels, in the order input, compare… (default: file names).
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
    #[arg(long, default_value_t = 60)]
    bins: usize,
    /// Estimate each matrix's density by stochastic Lanczos quadrature with distributed products instead of
    /// computing all eigenvalues.
    #[arg(long)]
    slq: bool,
    /// SLQ: random probes.
    #[arg(long, default_value_t = 10)]
    probes: usize,
    /// SLQ: Lanczos steps per probe.
    #[arg(long, default_value_t = 80)]
    steps: usize,
    /// SLQ: seed of the probes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Figure (.png or .svg), written by process 0.
    #[arg(long)]
    plot: PathBuf,
    #[arg(long, default_value = "eigenvalue density")]
    title: String,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    layout: Layout,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(universe) = mpi::initialize() else {
        eprintln!("deqk-mpi: MPI could not be initialized; run it under mpirun");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    let rank = world.rank();
    let outcome = match &cli.command {
        Command::Kernel(a) => kernel(&world, a),
        Command::Eig(a) => match a.dtype {
            Dtype::F64 => eig::<f64>(&world, a),
            Dtype::F32 => eig::<f32>(&world, a),
        },
        Command::Spectrum(a) => spectrum(&world, a),
    };
    match outcome {
        Ok(report) => {
            if rank == 0 {
                match report {
                    Some(Value::String(line)) => println!("{line}"),
                    Some(r) => println!("{}", serde_json::to_string_pretty(&r).expect("JSON")),
                    None => {}
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Every process holds the same error (agreed); one prints it.
            if rank == 0 {
                eprintln!("deqk-mpi: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn library<T>(r: deq_kernels::Result<T>) -> Result<T> {
    r.map_err(Error::from)
}

fn model(a: &KernelArgs) -> Result<(KernelModel, Kernel)> {
    let act = library(parse_activation(&a.activation))?;
    let kind = match a.kind {
        Kind::Ck => Kernel::Ck,
        Kind::Nngp => Kernel::Nngp,
        Kind::Ntk => Kernel::Ntk,
    };
    let model = match a.model {
        Model::Mlp => KernelModel::Mlp(library(MlpParams::new(
            act,
            a.depth,
            a.sigma_w2.unwrap_or(1.0),
            a.sigma_b2.unwrap_or(0.0),
        ))?),
        Model::Deq => {
            let mut p = library(match a.sigma_b2 {
                Some(b2) => DeqParams::with_variances(act, a.sigma_a2, b2),
                None => DeqParams::new(act, a.sigma_a2),
            })?;
            if a.no_center {
                p = p.with_centering(Centering::None);
            }
            if let Some(t) = a.tau0 {
                p = library(p.with_tau0(t))?;
            }
            KernelModel::Deq(p.with_trained_input_weights(a.train_b))
        }
        Model::Fk => {
            if let Kind::Ck = a.kind {
                return Err(Error::Layout(
                    "the Feng–Kolter model has no CK here; use --kind nngp or ntk".into(),
                ));
            }
            let need = |v: Option<f64>, name: &str| {
                v.ok_or_else(|| {
                    Error::Layout(format!(
                        "--model fk needs {name} (and --sigma-w2, --sigma-u2, --sigma-b2)"
                    ))
                })
            };
            KernelModel::FengKolter(library(FengKolterParams::new(
                act,
                need(a.sigma_w2, "--sigma-w2")?,
                need(a.sigma_u2, "--sigma-u2")?,
                need(a.sigma_b2, "--sigma-b2")?,
            ))?)
        }
    };
    Ok((model, kind))
}

fn kernel(world: &mpi::topology::SimpleCommunicator, a: &KernelArgs) -> Result<Option<Value>> {
    let setup = model(a).and_then(|m| {
        let x = library(deq_kernels::npy::read_matrix(&a.input))?;
        if a.out.exists() && !a.force {
            return Err(Error::Io(format!(
                "{} exists; pass --force to replace it",
                a.out.display()
            )));
        }
        Ok((m, x))
    });
    let ((model, kind), x) = agree(world, setup)?;
    let grid = ProcessGrid::new(world, a.layout.grid)?;
    let n = x.nrows();
    let report = match a.dtype {
        Dtype::F64 => fill_and_write::<f64>(&grid, &model, &x, kind, a)?,
        Dtype::F32 => fill_and_write::<f32>(&grid, &model, &x, kind, a)?,
    };
    Ok(a.json.then(|| {
        json!({"n": n, "p": x.ncols(), "kind": format!("{kind:?}").to_lowercase(),
               "processes": world.size(), "grid": [grid.shape().0, grid.shape().1],
               "block": a.layout.block, "report": report, "out": a.out})
    }))
}

fn fill_and_write<T: ScalapackEigen>(
    grid: &ProcessGrid,
    model: &KernelModel,
    x: &ndarray::Array2<f64>,
    kind: Kernel,
    a: &KernelArgs,
) -> Result<deq_distributed::kernels::FillReport> {
    let n = x.nrows();
    let mut k = DistributedMatrix::<T>::zeros(grid, (n, n), a.layout.block)?;
    let report = fill_kernel(&mut k, model, x.view(), kind)?;
    k.write_npy(&a.out, None, a.force)?;
    Ok(report)
}

fn eig<T: Solvable>(
    world: &mpi::topology::SimpleCommunicator,
    a: &EigArgs,
) -> Result<Option<Value>> {
    let refused = [Some(&a.out), a.vectors.as_ref()]
        .into_iter()
        .flatten()
        .find(|p| p.exists() && !a.force)
        .map(|p| {
            Err(Error::Io(format!(
                "{} exists; pass --force to replace it",
                p.display()
            )))
        })
        .unwrap_or(Ok(()));
    agree(world, refused)?;
    let grid = ProcessGrid::new(world, a.layout.grid)?;
    let start = std::time::Instant::now();
    let mut k = DistributedMatrix::<T>::read_npy(&grid, &a.input, a.layout.block)?;
    let n = k.shape().0;
    let range = match a.top {
        Some(t) if t == 0 || t > n => {
            return agree(
                world,
                Err(Error::Layout(format!("--top {t} must lie in 1..={n}"))),
            )
        }
        Some(t) => EigenRange::top(t, n),
        None => EigenRange::All,
    };
    let values = match (
        &a.vectors,
        solve(&mut k, range, a.vectors.is_some(), a.backend)?,
    ) {
        (Some(path), (_, Some(pairs))) => {
            pairs
                .vectors
                .write_npy(path, Some(pairs.columns.clone()), a.force)?;
            pairs.values
        }
        (_, (w, _)) => w,
    };
    let written = if world.rank() == 0 {
        let w = ndarray::Array1::from_iter(values.iter().copied());
        library(deq_kernels::npy::write_vector(&a.out, &w, a.force))
    } else {
        Ok(())
    };
    agree(world, written)?;
    let as_f64: Vec<f64> = values.iter().map(|v| v.to_f64()).collect();
    Ok(a.json.then(|| {
        json!({"n": n, "count": as_f64.len(), "min": as_f64.first(), "max": as_f64.last(),
               "driver": match (a.backend, a.vectors.is_some()) {
                   (Backend::Scalapack, true) => "p?syevd",
                   (Backend::Scalapack, false) => "p?syevr",
                   (Backend::Elpa1, _) => "elpa 1-stage",
                   (Backend::Elpa2, _) => "elpa 2-stage",
               },
               "processes": world.size(), "grid": [grid.shape().0, grid.shape().1], "block": a.layout.block,
               "seconds": start.elapsed().as_secs_f64(), "out": a.out, "vectors": a.vectors})
    }))
}

/// One spectrum: eigenvalues or SLQ nodes with weights.
struct Spectrum {
    label: String,
    values: Vec<f64>,
    weights: Option<Vec<f64>>,
    matrix: bool,
}

impl Spectrum {
    fn measure(&self) -> Vec<(f64, f64)> {
        match &self.weights {
            Some(w) => self.values.iter().copied().zip(w.iter().copied()).collect(),
            None => self.values.iter().map(|&v| (v, 1.0)).collect(),
        }
    }
}

/// The spectrum of `k` (overwritten): all eigenvalues by p?syevr, or SLQ's sorted nodes and weights.
fn spectrum_of(
    k: &mut DistributedMatrix<'_, f64>,
    a: &SpectrumArgs,
) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
    if a.slq {
        let params = SlqParams::new(a.probes, a.steps).map_err(|e| Error::Layout(e.to_string()));
        let params = agree(k.grid().comm(), params)?.with_seed(a.seed);
        let q = distributed_slq(k, &params)?;
        let (v, w) = q.sorted().into_iter().unzip();
        Ok((v, Some(w)))
    } else {
        Ok((eigenvalues(k, EigenRange::All)?, None))
    }
}

fn spectrum(world: &mpi::topology::SimpleCommunicator, a: &SpectrumArgs) -> Result<Option<Value>> {
    use deq_kernels::eigen::spectrum::{outliers, wasserstein1_weighted};
    let mut paths = vec![&a.input];
    paths.extend(a.compare.iter());
    let checked = if !a.labels.is_empty() && a.labels.len() != paths.len() {
        Err(Error::Layout(format!(
            "{} labels for {} spectra; give one per input or none",
            a.labels.len(),
            paths.len()
        )))
    } else if a.plot.exists() && !a.force {
        Err(Error::Io(format!(
            "{} exists; pass --force to replace it",
            a.plot.display()
        )))
    } else {
        Ok(())
    };
    agree(world, checked)?;
    let grid = ProcessGrid::new(world, a.layout.grid)?;
    let mut spectra: Vec<Spectrum> = Vec::new();
    let mut base: Option<DistributedMatrix<'_, f64>> = None;
    let mut comparisons = Vec::new();
    for (k, path) in paths.iter().enumerate() {
        let label = a.labels.get(k).cloned().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        // An eigenvalue list is read whole by every process; a matrix in blocks.
        if let Ok(v) = deq_kernels::npy::read_vector(path) {
            spectra.push(Spectrum {
                label,
                values: v.to_vec(),
                weights: None,
                matrix: false,
            });
            continue;
        }
        let mut m = DistributedMatrix::<f64>::read_npy(&grid, path, a.layout.block)?;
        let mut distances = None;
        match &base {
            None if k == 0 && paths.len() > 1 => base = Some(m.duplicate()),
            Some(b) if b.shape() == m.shape() => {
                let mut d = m.difference(b)?;
                let frobenius = (d.frobenius_squared() / b.frobenius_squared()).sqrt();
                let w = eigenvalues(&mut d, EigenRange::All)?;
                let op = w.iter().fold(0f64, |x, v| x.max(v.abs()));
                distances = Some((op, frobenius));
            }
            _ => {}
        }
        let (values, weights) = spectrum_of(&mut m, a)?;
        if let Some((op, frobenius)) = distances {
            let norm_base = spectra[0].values.iter().fold(0f64, |x, v| x.max(v.abs()));
            comparisons.push(json!({"label": label, "operator_norm": op,
                "relative_operator_norm": op / norm_base, "relative_frobenius": frobenius}));
        } else if k > 0 {
            comparisons.push(json!({"label": label}));
        }
        spectra.push(Spectrum {
            label,
            values,
            weights,
            matrix: true,
        });
    }
    for (c, s) in comparisons.iter_mut().zip(&spectra[1..]) {
        let w1 = wasserstein1_weighted(&s.measure(), &spectra[0].measure())
            .map_err(|e| Error::Library(e.to_string()));
        c["wasserstein1"] = json!(agree(world, w1)?);
    }
    let figure = if world.rank() == 0 {
        let series: Vec<deq_kernels::plot::SpectrumSeries> = spectra
            .iter()
            .map(|s| deq_kernels::plot::SpectrumSeries {
                label: &s.label,
                values: &s.values,
                weights: s.weights.as_deref(),
            })
            .collect();
        library(deq_kernels::plot::spectra(
            &a.plot, &a.title, &series, a.bins, a.force,
        ))
        .map(|f| (f.path, f.text))
    } else {
        Ok((String::new(), false))
    };
    let (plot, text_drawn) = agree(world, figure)?;
    let summaries: Vec<Value> = spectra
        .iter()
        .map(|s| {
            let marked = if s.weights.is_some() { Vec::new() } else { outliers(&s.values, 3.0, 20) };
            let mut summary = json!({"label": s.label, "points": s.values.len(), "min": s.values.first(),
                   "max": s.values.last(), "outliers": marked,
                   "method": if s.weights.is_some() { "slq" } else if s.matrix { "eigenvalues" } else { "given" }});
            if let Some(w) = &s.weights {
                summary["nodes"] = json!(s.values);
                summary["weights"] = json!(w);
            }
            summary
        })
        .collect();
    let value = json!({"plot": plot, "text_drawn": text_drawn, "spectra": summaries,
                       "against": spectra[0].label, "comparisons": comparisons,
                       "processes": world.size(), "grid": [grid.shape().0, grid.shape().1]});
    Ok(Some(if a.json {
        value
    } else {
        json!(format!("wrote {plot}"))
    }))
}
