//! `deqk reproduce`: a DEQ and its designed shallow twin on high-dimensional data — the exact Implicit-CK and
//! Implicit-NTK, their high-dimensional equivalents, the designed explicit networks (CK and NTK matches), an
//! unmatched explicit network, a finite-width DEQ, their spectra and distances, and the error against p.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use ndarray::{Array1, Array2};
use serde_json::{json, Map, Value};

use deq_kernels::activation::ActivationRef;
use deq_kernels::data::csv::LabelColumn;
use deq_kernels::data::{preprocess, DataSource, Dataset};
use deq_kernels::design::{
    deq_targets, family_by_name, match_family, network_layers, ExplicitFamily, KernelKind,
    MatchParams,
};
use deq_kernels::eigen::spectrum::{operator_norm_distance, wasserstein1};
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams, Which};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams, ImplicitWhich};
use deq_kernels::network::empirical::{deq_empirical, EmpiricalKind, EmpiricalParams};
use deq_kernels::plot::{loglog, spectra, Curve, SpectrumSeries};
use deq_kernels::rmt::equivalent::{centered_layers, deq_equivalent, FirstLayer};
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::rmt::matrix::equivalent_matrix;
use deq_kernels::rmt::statistics::MixtureStatistics;
use deq_kernels::Error;

use super::{activation, progress};

#[derive(Args)]
pub struct ReproduceArgs {
    /// gmm (the paper's synthetic mixture), mnist:DIR, csv:PATH or npy:X.npy,y.npy.
    #[arg(long, default_value = "gmm")]
    data: String,
    /// The DEQ's activation.
    #[arg(long, default_value = "relu")]
    activation: String,
    #[arg(long, default_value_t = 0.2)]
    sigma_a2: f64,
    /// gmm: the dimension p (n = ⌊0.8p⌋).
    #[arg(long, default_value_t = 1024)]
    p: usize,
    /// mnist/csv/npy: the two (or more) classes to keep, comma-separated (mnist default 6,8; others: all).
    #[arg(long, value_delimiter = ',')]
    classes: Vec<i64>,
    /// mnist/csv/npy: samples per class (mnist default 500).
    #[arg(long)]
    per_class: Option<usize>,
    /// csv: the label column (index, negative from the end, or header name).
    #[arg(long, default_value = "-1")]
    label_column: String,
    /// Width of the finite-width DEQ.
    #[arg(long, default_value_t = 2000)]
    width: usize,
    /// Draws averaged for the finite-width DEQ.
    #[arg(long, default_value_t = 2)]
    draws: usize,
    /// The p of the error sweep on the synthetic mixture.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512,1024,2048")]
    sweep: Vec<usize>,
    /// Skip the sweep over p (and its figure).
    #[arg(long)]
    no_sweep: bool,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "deqk-reproduce")]
    out: PathBuf,
    /// Replace an existing output folder.
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

/// The exact CK or NTK of an explicit network with these (already centered) layers.
fn explicit_kernel(
    layers: Vec<ActivationRef>,
    frozen: bool,
    x: &Array2<f64>,
    kind: KernelKind,
) -> Result<Array2<f64>, Error> {
    let mut p = MlpParams::unit_variance(layers)?;
    if frozen {
        p = p.with_frozen_first_layer();
    }
    let which = if kind == KernelKind::Ck {
        Which::CK
    } else {
        Which::NTK
    };
    let k = mlp_kernels::<f64>(&p, x.view(), which)?;
    Ok(if kind == KernelKind::Ck { k.ck } else { k.ntk }.expect("requested kernel"))
}

/// A plain network of `depth` ReLU layers, each centered at its input scale.
fn plain_relu(depth: usize, tau0: f64) -> Result<Vec<ActivationRef>, Error> {
    centered_layers(vec![activation("relu")?; depth], tau0)
}

/// The designed network for one kernel: the best solution of the family, or why there is none.
struct Designed {
    family: Box<dyn ExplicitFamily>,
    params: Option<Vec<f64>>,
    report: Value,
}

fn design(
    act: &ActivationRef,
    sigma_a2: f64,
    tau0: f64,
    kind: KernelKind,
) -> Result<Designed, Error> {
    let name = match kind {
        KernelKind::Ck if act.parity() == deq_kernels::activation::Parity::Odd => "hardtanh",
        KernelKind::Ck => "lrelu2",
        KernelKind::Ntk => "lrelu3",
    };
    let family = family_by_name(name, false)?;
    let targets = deq_targets(act, sigma_a2, 1.0 - sigma_a2, tau0, kind)?;
    let r = match_family(
        family.as_ref(),
        &targets,
        tau0,
        kind,
        &MatchParams::default(),
    )?;
    let params = r.solutions.first().map(|s| s.params.clone());
    let report = serde_json::to_value(&r).expect("match result");
    Ok(Designed {
        family,
        params,
        report,
    })
}

/// Everything compared for one data set.
struct Comparison {
    /// (name, matrix) for the CK side; the first is the DEQ's G*.
    ck: Vec<(&'static str, Array2<f64>)>,
    ntk: Vec<(&'static str, Array2<f64>)>,
    report: Value,
}

fn compare(
    x: &Array2<f64>,
    labels: &Array1<i64>,
    mixture: Option<&GaussianMixture>,
    act: &ActivationRef,
    args: &ReproduceArgs,
    with_finite_width: bool,
) -> Result<Comparison, Error> {
    let tau0 = deq_kernels::kernel::data_scale(x.view());
    let t = Instant::now();
    let mut timings = Map::new();
    let mut lap = |name: &str, t: &mut Instant| {
        timings.insert(name.into(), json!(t.elapsed().as_secs_f64()));
        *t = Instant::now();
    };
    let mut t = t;
    let params = DeqParams::new(act.clone(), args.sigma_a2)?.with_tau0(tau0)?;
    let which = ImplicitWhich {
        nngp: false,
        ck: true,
        ntk: true,
    };
    let exact = deq_kernels::<f64>(&params, x.view(), which)?;
    lap("deq_kernels", &mut t);
    let eq = deq_equivalent(act, args.sigma_a2, 1.0 - args.sigma_a2, tau0)?;
    let stats = match mixture {
        Some(m) => MixtureStatistics::from_population(m, x.view(), labels.view())?,
        None => MixtureStatistics::from_data(x.view(), labels.view())?,
    };
    let gbar = equivalent_matrix(x.view(), &stats, &eq.ck)?;
    let kbar = equivalent_matrix(
        x.view(),
        &stats,
        &eq.ntk.ok_or_else(|| Error::Undefined {
            quantity: "the Implicit-NTK equivalent",
            activation: act.name(),
            why: "it needs d = E[φ′²]",
        })?,
    )?;
    lap("equivalents", &mut t);
    let dck = design(act, args.sigma_a2, tau0, KernelKind::Ck)?;
    let dntk = design(act, args.sigma_a2, tau0, KernelKind::Ntk)?;
    lap("design", &mut t);
    let mut ck = vec![("deq", exact.ck.expect("CK")), ("equivalent", gbar)];
    let mut ntk = vec![("deq", exact.ntk.expect("NTK")), ("equivalent", kbar)];
    if let Some(p) = &dck.params {
        ck.push((
            "designed",
            explicit_kernel(
                network_layers(dck.family.as_ref(), p, tau0)?,
                false,
                x,
                KernelKind::Ck,
            )?,
        ));
    }
    if let Some(p) = &dntk.params {
        let frozen = dntk.family.first_layer() == FirstLayer::Frozen;
        ntk.push((
            "designed",
            explicit_kernel(
                network_layers(dntk.family.as_ref(), p, tau0)?,
                frozen,
                x,
                KernelKind::Ntk,
            )?,
        ));
    }
    let plain = plain_relu(2, tau0)?;
    ck.push((
        "unmatched",
        explicit_kernel(plain.clone(), false, x, KernelKind::Ck)?,
    ));
    ntk.push((
        "unmatched",
        explicit_kernel(plain, false, x, KernelKind::Ntk)?,
    ));
    lap("explicit_kernels", &mut t);
    let mut finite = Value::Null;
    if with_finite_width {
        let bar = progress::Bar::new("finite-width DEQ");
        let emp = EmpiricalParams::new(args.width, args.draws)?.with_seed(args.seed);
        let k = deq_empirical::<f64>(&params, x.view(), EmpiricalKind::Ck, &emp, &bar)?;
        finite = serde_json::to_value(&k.report).expect("report");
        ck.push(("finite_width", k.matrix));
        lap("finite_width", &mut t);
    }
    let m = exact.report;
    let report = json!({
        "n": x.nrows(), "p": x.ncols(), "tau0": tau0,
        "deq": {"tau_star": m.tau_star, "centering": m.centering, "max_residual": m.max_residual,
                "contraction": m.contraction, "mean_newton_iterations": m.mean_iterations},
        "equivalent": eq,
        "design": {"ck": dck.report, "ntk": dntk.report},
        "finite_width": finite,
        "timings": Value::Object(timings),
    });
    Ok(Comparison { ck, ntk, report })
}

/// ‖A − base‖₂/‖base‖₂ for every non-base matrix, and W₁ between all spectra.
fn distances(set: &[(&'static str, Array2<f64>)], spectra: &[Vec<f64>]) -> Result<Value, Error> {
    let base = &set[0].1;
    let norm = spectra[0].iter().fold(0f64, |m, v| m.max(v.abs()));
    let mut rel = Map::new();
    for (name, m) in &set[1..] {
        rel.insert(
            (*name).into(),
            json!(operator_norm_distance(m.view(), base.view())? / norm),
        );
    }
    let mut w1 = Map::new();
    for i in 0..set.len() {
        for j in i + 1..set.len() {
            w1.insert(
                format!("{}|{}", set[i].0, set[j].0),
                json!(wasserstein1(&spectra[i], &spectra[j])?),
            );
        }
    }
    Ok(json!({"relative_operator_norm": rel, "wasserstein1": w1, "norm": norm}))
}

fn load_data(args: &ReproduceArgs) -> Result<(Dataset, Option<GaussianMixture>, String), Error> {
    let source = DataSource::parse(&args.data)?;
    if source == DataSource::Gmm {
        let mix = GaussianMixture::paper(args.p)?;
        let (x, y) = mix.sample(args.seed)?;
        return Ok((
            Dataset::new(x, y)?,
            Some(mix),
            format!("synthetic mixture, p = {}", args.p),
        ));
    }
    let raw = source.load_file(&LabelColumn::parse(&args.label_column))?;
    let classes = match (&source, args.classes.is_empty()) {
        (DataSource::Mnist(_), true) => vec![6, 8],
        (_, true) => {
            let k = raw.labels.iter().copied().max().unwrap_or(0);
            (0..=k).collect()
        }
        (_, false) => args.classes.clone(),
    };
    let per_class = args
        .per_class
        .or(matches!(source, DataSource::Mnist(_)).then_some(500));
    let mut d = raw.select_classes(&classes, per_class)?;
    preprocess(&mut d.x)?;
    Ok((d, None, format!("{} (classes {classes:?})", args.data)))
}

pub fn reproduce(args: ReproduceArgs) -> Result<(), Error> {
    let start = Instant::now();
    if args.out.exists() && !args.force {
        return Err(Error::Io {
            path: args.out.display().to_string(),
            detail: "exists already; pass --force to replace it or choose another --out".into(),
        });
    }
    let act = activation(&args.activation)?;
    let (data, mixture, description) = load_data(&args)?;
    // Everything goes into a fresh temporary folder, renamed into place at the end.
    let parent = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(Error::Io {
            path: parent.display().to_string(),
            detail: "the parent folder of --out does not exist".into(),
        });
    }
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        args.out
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let io = |p: &Path, e: std::io::Error| Error::Io {
        path: p.display().to_string(),
        detail: e.to_string(),
    };
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let result = run(
        &args,
        &act,
        &data,
        mixture.as_ref(),
        &description,
        &tmp,
        start,
    );
    match result {
        Ok(summary) => {
            if args.out.exists() {
                std::fs::remove_dir_all(&args.out).map_err(|e| io(&args.out, e))?;
            }
            std::fs::rename(&tmp, &args.out).map_err(|e| io(&args.out, e))?;
            if args.json {
                let report = std::fs::read_to_string(args.out.join("report.json"))
                    .map_err(|e| io(&args.out, e))?;
                println!("{report}");
            } else {
                println!("{summary}");
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn run(
    args: &ReproduceArgs,
    act: &ActivationRef,
    data: &Dataset,
    mixture: Option<&GaussianMixture>,
    description: &str,
    dir: &Path,
    start: Instant,
) -> Result<String, Error> {
    let cmp = compare(
        &data.x,
        &data.labels,
        mixture,
        act,
        args,
        args.width > 0 && args.draws > 0,
    )?;
    let eig = |set: &[(&'static str, Array2<f64>)]| -> Result<Vec<Vec<f64>>, Error> {
        set.iter()
            .map(|(_, m)| FaerEigen.eigenvalues(m.view()))
            .collect()
    };
    let (sck, sntk) = (eig(&cmp.ck)?, eig(&cmp.ntk)?);
    let dck = distances(&cmp.ck, &sck)?;
    let dntk = distances(&cmp.ntk, &sntk)?;
    let mut figures = Vec::new();
    for (kind, set, spec) in [("ck", &cmp.ck, &sck), ("ntk", &cmp.ntk, &sntk)] {
        let series: Vec<SpectrumSeries> = set
            .iter()
            .zip(spec)
            .map(|((name, _), v)| SpectrumSeries {
                label: name,
                values: v,
                weights: None,
            })
            .collect();
        for ext in ["png", "svg"] {
            let title = format!("{} spectra (n = {})", kind.to_uppercase(), data.n());
            figures.push(spectra(
                &dir.join(format!("spectra_{kind}.{ext}")),
                &title,
                &series,
                60,
                true,
            )?);
        }
    }
    // Error against p on the synthetic mixture.
    let mut sweep = Vec::new();
    let bar = progress::Bar::new("sweep over p");
    use deq_kernels::kernel::Progress;
    let sweep_ps: &[usize] = if args.no_sweep { &[] } else { &args.sweep };
    bar.start(sweep_ps.len() as u64);
    for &p in sweep_ps {
        let mix = GaussianMixture::paper(p)?;
        let (x, y) = mix.sample(args.seed)?;
        let c = compare(&x, &y, Some(&mix), act, args, false)?;
        let mut row = json!({"p": p, "n": x.nrows()});
        for (kind, set) in [("ck", &c.ck), ("ntk", &c.ntk)] {
            let base = &set[0].1;
            let norm = operator_norm_distance(base.view(), Array2::zeros(base.dim()).view())?;
            for (name, m) in &set[1..] {
                row[kind][*name] = json!(operator_norm_distance(m.view(), base.view())? / norm);
            }
        }
        sweep.push(row);
        bar.advance(1);
    }
    bar.finish();
    if !sweep.is_empty() {
        let pick = |kind: &str, name: &str| -> Vec<(f64, f64)> {
            sweep
                .iter()
                .filter_map(|r| Some((r["p"].as_f64()?, r[kind][name].as_f64()?)))
                .filter(|&(_, e)| e > 0.0)
                .collect()
        };
        let eq_ck = pick("ck", "equivalent");
        let (p0, e0) = eq_ck.first().copied().unwrap_or((128.0, 1.0));
        let guide: Vec<(f64, f64)> = sweep_ps
            .iter()
            .map(|&p| (p as f64, e0 * (p0 / p as f64).sqrt()))
            .collect();
        let curves = [
            ("CK: equivalent vs G*", pick("ck", "equivalent")),
            ("CK: designed vs G*", pick("ck", "designed")),
            ("NTK: equivalent vs K*", pick("ntk", "equivalent")),
            ("NTK: designed vs K*", pick("ntk", "designed")),
        ];
        let mut series: Vec<Curve> = curves
            .iter()
            .filter(|(_, pts)| !pts.is_empty())
            .map(|(label, pts)| Curve {
                label,
                points: pts,
                guide: false,
            })
            .collect();
        series.push(Curve {
            label: "∝ p^(−1/2)",
            points: &guide,
            guide: true,
        });
        for ext in ["png", "svg"] {
            figures.push(loglog(
                &dir.join(format!("error_vs_p.{ext}")),
                "relative operator-norm error against p (synthetic mixture)",
                "p",
                "‖A − exact‖₂ / ‖exact‖₂",
                &series,
                true,
            )?);
        }
    }
    let err = |d: &Value, name: &str| d["relative_operator_norm"][name].clone();
    let report = json!({
        "data": description, "activation": act.name(), "sigma_a2": args.sigma_a2,
        "sigma_b2": 1.0 - args.sigma_a2,
        "errors": {
            "ck": {"equivalent": err(&dck, "equivalent"), "designed": err(&dck, "designed"),
                   "unmatched": err(&dck, "unmatched"), "finite_width": err(&dck, "finite_width")},
            "ntk": {"equivalent": err(&dntk, "equivalent"), "designed": err(&dntk, "designed"),
                    "unmatched": err(&dntk, "unmatched")},
        },
        "distances": {"ck": dck, "ntk": dntk},
        "details": cmp.report,
        "sweep": sweep,
        "figures": figures,
        "seconds": start.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&report).expect("JSON");
    deq_kernels::npy::write_atomic(&dir.join("report.json"), true, |w| {
        w.write_all(text.as_bytes()).map_err(|e| Error::Io {
            path: "report.json".into(),
            detail: e.to_string(),
        })
    })?;
    let f = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:.2e}"));
    let r = &report["errors"];
    Ok(format!(
        "{description}: n = {}, p = {}, {} with σ_a² = {}\n\
         relative operator-norm distance to the DEQ's kernel      CK (G*)     NTK (K*)\n\
         \x20 high-dimensional equivalent                         {:>9}   {:>9}\n\
         \x20 designed explicit network                           {:>9}   {:>9}\n\
         \x20 unmatched 2-layer ReLU network                      {:>9}   {:>9}\n\
         \x20 finite-width DEQ (width {}, {} draws)             {:>9}\n\
         wrote {} ({:.1} s)",
        data.n(),
        data.p(),
        act.name(),
        args.sigma_a2,
        f(&r["ck"]["equivalent"]),
        f(&r["ntk"]["equivalent"]),
        f(&r["ck"]["designed"]),
        f(&r["ntk"]["designed"]),
        f(&r["ck"]["unmatched"]),
        f(&r["ntk"]["unmatched"]),
        args.width,
        args.draws,
        f(&r["ck"]["finite_width"]),
        args.out.display(),
        start.elapsed().as_secs_f64()
    ))
}
