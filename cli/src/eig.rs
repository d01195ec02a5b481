//! `deqk eig`, `deqk spectrum` and `deqk bench-eig`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use ndarray::{Array1, Array2, ArrayView2};
use serde_json::{json, Value};

use deq_kernels::comparison::benchmark_matrix;
use deq_kernels::eigen::slq::{slq, SlqParams};
use deq_kernels::eigen::spectrum::{
    operator_norm_distance, outliers, relative_frobenius, wasserstein1_weighted,
};
use deq_kernels::eigen::{
    check_symmetric, tolerance, EigenDecomposition, EigenRequest, EigenScalar, LapackDriver,
    Subset, SymmetricEigensolver,
};
use deq_kernels::output::refuse_existing;
use deq_kernels::plot::{spectra, SpectrumSeries};
use deq_kernels::{npy, Error};

use super::{print, Dtype};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
pub enum Backend {
    /// faer (pure Rust).
    Faer,
    /// LAPACK through the system OpenBLAS (needs a build with `--features openblas`).
    Lapack,
    /// Block Lanczos for the k extreme pairs (needs --top or --bottom).
    Lanczos,
}

/// The LAPACK routine (for `--backend lapack`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug, Default)]
pub enum Driver {
    /// ?syevd for all pairs and for values below n = 6000, ?syevd_2stage for values from there, ?syevr for
    /// subsets.
    #[default]
    Auto,
    /// Divide and conquer (?syevd).
    Syevd,
    /// Two-stage tridiagonalization, then divide and conquer (?syevd_2stage); values only.
    #[value(name = "syevd-2stage")]
    Syevd2Stage,
    /// MRRR (?syevr).
    Syevr,
}

impl From<Driver> for LapackDriver {
    fn from(d: Driver) -> Self {
        match d {
            Driver::Auto => LapackDriver::Auto,
            Driver::Syevd => LapackDriver::Syevd,
            Driver::Syevd2Stage => LapackDriver::Syevd2Stage,
            Driver::Syevr => LapackDriver::Syevr,
        }
    }
}

/// The library's solver for a backend and driver named on the command line; LAPACK in a build without it is a
/// typed error that says how to get it.
fn solver<T: EigenScalar>(
    backend: Backend,
    driver: Driver,
) -> Result<Box<dyn SymmetricEigensolver<T>>, Error> {
    let b = match backend {
        Backend::Faer => deq_kernels::eigen::Backend::Faer,
        Backend::Lanczos => deq_kernels::eigen::Backend::Lanczos,
        Backend::Lapack => deq_kernels::eigen::Backend::Lapack(driver.into()),
    };
    Ok(b.solver::<T>()?)
}

#[derive(Args)]
pub struct EigArgs {
    /// Symmetric matrix (.npy, n×n, f64 or f32).
    #[arg(long)]
    input: PathBuf,
    #[arg(long, value_enum, default_value = "faer")]
    backend: Backend,
    /// LAPACK routine (with --backend lapack).
    #[arg(long, value_enum, default_value = "auto")]
    driver: Driver,
    /// Only the k largest eigenvalues.
    #[arg(long, conflicts_with_all = ["bottom", "index", "values"])]
    top: Option<usize>,
    /// Only the k smallest eigenvalues.
    #[arg(long, conflicts_with_all = ["index", "values"])]
    bottom: Option<usize>,
    /// Only the eigenvalues with ascending indices FIRST:LAST (0-based, inclusive).
    #[arg(long, value_name = "FIRST:LAST", conflicts_with = "values")]
    index: Option<String>,
    /// Only the eigenvalues in (LO, HI].
    #[arg(long, value_name = "LO:HI", allow_hyphen_values = true)]
    values: Option<String>,
    /// Also write the eigenvectors (.npy, n×m, one per column).
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Report max‖Kv − λv‖ and max|VᵀV − I| (computes the vectors).
    #[arg(long)]
    check: bool,
    /// Precision of the computation.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// Eigenvalues (.npy, ascending).
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

fn parse_pair<T: std::str::FromStr>(s: &str, what: &'static str) -> Result<(T, T), Error> {
    let bad = || Error::Missing {
        name: what,
        why: "write it as A:B, e.g. --index 0:9 or --values -1:2.5",
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

fn subset_of(args: &EigArgs) -> Result<Subset, Error> {
    Ok(if let Some(k) = args.top {
        Subset::Largest(k)
    } else if let Some(k) = args.bottom {
        Subset::Smallest(k)
    } else if let Some(s) = &args.index {
        let (first, last) = parse_pair(s, "--index")?;
        Subset::Index { first, last }
    } else if let Some(s) = &args.values {
        let (lower, upper) = parse_pair(s, "--values")?;
        Subset::Values { lower, upper }
    } else {
        Subset::All
    })
}

fn run_eig<T: EigenScalar>(args: &EigArgs) -> Result<Value, Error> {
    let a = npy::read_matrix_as::<T>(&args.input)?;
    let mut request = EigenRequest::subset(subset_of(args)?);
    if args.vectors.is_some() || args.check {
        request = request.with_vectors();
    }
    let s = solver::<T>(args.backend, args.driver)?;
    let t = Instant::now();
    let d: EigenDecomposition<T> = s.solve(a.view(), &request)?;
    let seconds = t.elapsed().as_secs_f64();
    let accuracy = if args.check {
        d.accuracy(a.view())
    } else {
        None
    };
    let w = Array1::from(d.values.clone());
    npy::write_vector(&args.out, &w, args.force)?;
    if let (Some(path), Some(v)) = (&args.vectors, &d.vectors) {
        npy::write_matrix(path, &v.as_standard_layout().to_owned(), args.force)?;
    }
    let vals: Vec<f64> = d.values.iter().map(|v| v.to_f64()).collect();
    Ok(json!({
        "n": a.nrows(), "backend": s.name(), "driver": d.driver, "count": vals.len(),
        "min": vals.first(), "max": vals.last(), "seconds": seconds,
        "residual": accuracy.map(|x| x.residual), "orthogonality": accuracy.map(|x| x.orthogonality),
        "out": args.out.display().to_string(),
        "vectors": args.vectors.as_ref().map(|p| p.display().to_string()),
    }))
}

pub fn eig(args: EigArgs) -> Result<(), Error> {
    let mut outs: Vec<&Path> = vec![&args.out];
    if let Some(v) = &args.vectors {
        outs.push(v);
    }
    refuse_existing(&outs, args.force)?;
    if args.driver != Driver::Auto && args.backend != Backend::Lapack {
        return Err(Error::Missing {
            name: "--backend lapack",
            why: "--driver chooses a LAPACK routine; add --backend lapack or drop --driver",
        });
    }
    if args.backend == Backend::Lanczos && args.top.is_none() && args.bottom.is_none() {
        return Err(Error::Missing {
            name: "--top or --bottom",
            why: "the Lanczos backend computes a few extreme eigenpairs; say how many",
        });
    }
    let value = match args.dtype {
        Dtype::F64 => run_eig::<f64>(&args)?,
        Dtype::F32 => run_eig::<f32>(&args)?,
    };
    print(args.json, &value, || {
        format!(
            "{} eigenvalues of the {n}×{n} matrix by {} ({}) in {:.2} s → {}",
            value["count"],
            value["backend"].as_str().unwrap_or(""),
            value["driver"].as_str().unwrap_or(""),
            value["seconds"].as_f64().unwrap_or(0.0),
            args.out.display(),
            n = value["n"]
        )
    });
    Ok(())
}

#[derive(Args)]
pub struct SpectrumArgs {
    /// A symmetric matrix (.npy, n×n) or its eigenvalues (.npy, 1-D).
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
    /// Eigenvalue backend for matrix inputs.
    #[arg(long, value_enum, default_value = "faer")]
    backend: Backend,
    /// Estimate each matrix's spectral density by stochastic Lanczos quadrature instead of computing all
    /// eigenvalues (for large n).
    #[arg(long)]
    slq: bool,
    /// SLQ: random probes.
    #[arg(long, default_value_t = 10)]
    probes: usize,
    /// SLQ: Lanczos steps per probe.
    #[arg(long, default_value_t = 80)]
    steps: usize,
    /// Precision in which matrix inputs are read and solved (f32 halves the memory: a 50000×50000 kernel
    /// takes 10 GB).
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// Figure (.png or .svg).
    #[arg(long)]
    plot: PathBuf,
    /// Figure title.
    #[arg(long, default_value = "eigenvalue density")]
    title: String,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

/// A spectrum input: a matrix (kept, for matrix distances) with its eigenvalues or its SLQ quadrature
/// (weighted nodes), or eigenvalues alone.
struct Input<T> {
    label: String,
    matrix: Option<Array2<T>>,
    values: Vec<f64>,
    weights: Option<Vec<f64>>,
}

impl<T> Input<T> {
    fn measure(&self) -> Vec<(f64, f64)> {
        match &self.weights {
            Some(w) => self.values.iter().copied().zip(w.iter().copied()).collect(),
            None => self.values.iter().map(|&v| (v, 1.0)).collect(),
        }
    }
}

fn read_input<T: EigenScalar>(
    path: &Path,
    label: Option<&String>,
    args: &SpectrumArgs,
) -> Result<Input<T>, Error> {
    let label = label.cloned().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    if let Ok(v) = npy::read_vector(path) {
        let values = v.to_vec();
        if let Some(bad) = values.iter().find(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: "eigenvalue list",
                location: format!("{} (value {bad})", path.display()),
            });
        }
        return Ok(Input {
            label,
            matrix: None,
            values,
            weights: None,
        });
    }
    let m = npy::read_matrix_as::<T>(path)?;
    if args.slq {
        check_symmetric(m.view(), tolerance::SYMMETRY)?;
        let params = SlqParams::new(args.probes, args.steps)?;
        let q = slq(&m.view(), &params)?;
        let (values, weights) = q.sorted().into_iter().unzip();
        return Ok(Input {
            label,
            matrix: Some(m),
            values,
            weights: Some(weights),
        });
    }
    if args.backend == Backend::Lanczos {
        return Err(Error::Missing {
            name: "a backend for whole spectra",
            why: "use --backend faer or lapack (or --slq) with deqk spectrum",
        });
    }
    let values = solver::<T>(args.backend, Driver::Auto)?
        .eigenvalues(m.view())?
        .into_iter()
        .map(|v| v.to_f64())
        .collect();
    Ok(Input {
        label,
        matrix: Some(m),
        values,
        weights: None,
    })
}

pub fn spectrum(args: SpectrumArgs) -> Result<(), Error> {
    match args.dtype {
        Dtype::F64 => spectrum_as::<f64>(args),
        Dtype::F32 => spectrum_as::<f32>(args),
    }
}

fn spectrum_as<T: EigenScalar>(args: SpectrumArgs) -> Result<(), Error> {
    refuse_existing(&[&args.plot], args.force)?;
    let mut paths = vec![&args.input];
    paths.extend(args.compare.iter());
    if !args.labels.is_empty() && args.labels.len() != paths.len() {
        return Err(Error::Shape {
            what: format!(
                "{} labels for {} spectra; give one per input or none",
                args.labels.len(),
                paths.len()
            ),
        });
    }
    let inputs: Vec<Input<T>> = paths
        .iter()
        .enumerate()
        .map(|(k, p)| read_input(p, args.labels.get(k), &args))
        .collect::<Result<_, _>>()?;
    let series: Vec<SpectrumSeries> = inputs
        .iter()
        .map(|i| SpectrumSeries {
            label: &i.label,
            values: &i.values,
            weights: i.weights.as_deref(),
        })
        .collect();
    let fig = spectra(&args.plot, &args.title, &series, args.bins, args.force)?;
    let base = &inputs[0];
    let mut comparisons = Vec::new();
    for other in &inputs[1..] {
        let mut c = json!({
            "label": other.label,
            "wasserstein1": wasserstein1_weighted(&other.measure(), &base.measure())?,
        });
        if let (Some(a), Some(b)) = (&other.matrix, &base.matrix) {
            if a.dim() == b.dim() {
                let op = operator_norm_distance(a.view(), b.view())?;
                let norm_b = base.values.iter().fold(0f64, |m, v| m.max(v.abs()));
                c["operator_norm"] = json!(op);
                c["relative_operator_norm"] = json!(op / norm_b);
                c["relative_frobenius"] = json!(relative_frobenius(a.view(), b.view())?);
            }
        }
        comparisons.push(c);
    }
    let summaries: Vec<Value> = inputs
        .iter()
        .map(|i| {
            let marked = if i.weights.is_some() {
                Vec::new()
            } else {
                outliers(&i.values, 3.0, 20)
            };
            json!({"label": i.label, "points": i.values.len(), "min": i.values.first(),
                   "max": i.values.last(), "outliers": marked,
                   "method": if i.weights.is_some() { "slq" } else if i.matrix.is_some() { "eigenvalues" } else { "given" }})
        })
        .collect();
    let value = json!({"plot": fig.path, "text_drawn": fig.text, "spectra": summaries,
                       "against": base.label, "comparisons": comparisons});
    print(args.json, &value, || {
        let mut s = format!("wrote {}", fig.path);
        for c in &comparisons {
            s.push_str(&format!(
                "\n  {} vs {}: W1 = {:.4e}{}",
                c["label"].as_str().unwrap_or(""),
                base.label,
                c["wasserstein1"].as_f64().unwrap_or(f64::NAN),
                c["relative_operator_norm"]
                    .as_f64()
                    .map(|r| format!(", ‖A − B‖₂/‖B‖₂ = {r:.4e}"))
                    .unwrap_or_default()
            ));
        }
        s
    });
    Ok(())
}

#[derive(Args)]
pub struct BenchEigArgs {
    /// Matrix size of the built-in test matrix (the ReLU CK of the paper's Gaussian mixture, p = n/2).
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    n: Option<usize>,
    /// Time this symmetric matrix (.npy, n×n) instead of the built-in one.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Backends to time, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "faer")]
    backends: Vec<Backend>,
    /// LAPACK routines to time for the lapack backend, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    drivers: Vec<Driver>,
    /// Time the eigenvectors too (all pairs).
    #[arg(long)]
    vectors: bool,
    /// k for Lanczos (the k largest pairs).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Calls per backend, one after the other in this process; the reported time is their median (the
    /// first call also pays for starting the BLAS threads and faulting in memory).
    #[arg(long, default_value_t = 1)]
    reps: usize,
    /// Also write the timed matrix (.npy, f64) here, e.g. to time other libraries on the same input.
    #[arg(long)]
    save_matrix: Option<PathBuf>,
    /// Replace an existing --save-matrix file.
    #[arg(long)]
    force: bool,
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

/// The process's peak resident memory so far (Linux: VmHWM of /proc/self/status, the high-water mark of the
/// resident set), in bytes; `None` where that is not available.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        0.5 * (s[m - 1] + s[m])
    }
}

fn time_backends<T: EigenScalar>(
    args: &BenchEigArgs,
    a: ArrayView2<f64>,
) -> Result<Vec<Value>, Error> {
    let mut converted = deq_kernels::eigen::buffer::zeroed_matrix::<T>(a.nrows(), a.ncols())?;
    converted.zip_mut_with(&a, |c, &x| *c = T::from_f64(x));
    let a = converted;
    let mut rows = Vec::new();
    let mut reference: Option<Vec<f64>> = None;
    let runs = args.backends.iter().flat_map(|&b| {
        let drivers = if b == Backend::Lapack {
            args.drivers.clone()
        } else {
            vec![Driver::Auto]
        };
        drivers.into_iter().map(move |d| (b, d))
    });
    for (b, driver) in runs {
        let s = solver::<T>(b, driver)?;
        let request = match (b, args.vectors) {
            (Backend::Lanczos, _) => EigenRequest::subset(Subset::Largest(args.top)).with_vectors(),
            (_, true) => EigenRequest::pairs(),
            (_, false) => EigenRequest::values(),
        };
        let mut samples = Vec::with_capacity(args.reps);
        let mut d = None;
        for _ in 0..args.reps {
            let t = Instant::now();
            d = Some(s.solve(a.view(), &request)?);
            samples.push(t.elapsed().as_secs_f64());
        }
        let d = d.expect("reps ≥ 1");
        let vals: Vec<f64> = d.values.iter().map(|v| v.to_f64()).collect();
        // Agreement on the largest eigenvalues with the first full backend.
        let top = &vals[vals.len().saturating_sub(args.top)..];
        let diff = reference.as_ref().map(|r| {
            let rt = &r[r.len() - top.len()..];
            rt.iter()
                .zip(top)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
        });
        if reference.is_none() && b != Backend::Lanczos {
            reference = Some(vals.clone());
        }
        rows.push(
            json!({"backend": s.name(), "driver": d.driver, "seconds": median(&samples),
                         "samples": samples, "count": vals.len(), "vectors": d.vectors.is_some(),
                         "max_top_difference": diff}),
        );
    }
    Ok(rows)
}

pub fn bench_eig(args: BenchEigArgs) -> Result<(), Error> {
    if args.reps == 0 {
        return Err(Error::InvalidParameter {
            name: "reps",
            value: 0.0,
            requirement: "at least one call per backend",
        });
    }
    if let Some(path) = &args.save_matrix {
        refuse_existing(&[path], args.force)?;
    }
    let a = match (&args.input, args.n) {
        (Some(path), _) => npy::read_matrix(path)?,
        (None, Some(n)) => benchmark_matrix(n, args.seed)?,
        (None, None) => {
            return Err(Error::Missing {
                name: "a matrix",
                why: "give --n N for the built-in test matrix or --input K.npy",
            })
        }
    };
    if let Some(path) = &args.save_matrix {
        npy::write_matrix(path, &a, args.force)?;
    }
    let n = a.nrows();
    let rows = match args.dtype {
        Dtype::F64 => time_backends::<f64>(&args, a.view())?,
        Dtype::F32 => time_backends::<f32>(&args, a.view())?,
    };
    let threads = deq_kernels::eigen::Par::Pool.requested();
    let peak = peak_rss_bytes();
    let value = json!({"n": n, "dtype": args.dtype.name(),
                       "reps": args.reps, "threads": threads,
                       "openblas_num_threads": std::env::var("OPENBLAS_NUM_THREADS").ok(),
                       "peak_rss_bytes": peak,
                       "results": rows});
    print(args.json, &value, || {
        let peak = peak.map_or("unknown".to_string(), |b| {
            format!("{:.2} GB", b as f64 / 1e9)
        });
        let mut s = format!(
            "n = {n}, {:?}, {threads} threads, median of {} call(s), peak resident memory {peak} \
             (the whole process: matrix, copies, workspaces)\n{:<10} {:<14} {:>10} {:>8}",
            args.dtype, args.reps, "backend", "driver", "seconds", "count"
        );
        for r in &rows {
            s.push_str(&format!(
                "\n{:<10} {:<14} {:>10.3} {:>8}",
                r["backend"].as_str().unwrap_or(""),
                r["driver"].as_str().unwrap_or(""),
                r["seconds"].as_f64().unwrap_or(f64::NAN),
                r["count"]
            ));
        }
        s
    });
    Ok(())
}
