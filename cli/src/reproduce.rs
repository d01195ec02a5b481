//! `deqk reproduce`: a DEQ and its designed shallow twin on high-dimensional data ([`deq_kernels::comparison`]),
//! written to a folder with the spectra, the distances, the error against p, and the figures.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::{json, Value};

use deq_kernels::activation::Activation;
use deq_kernels::comparison::{
    compare, error_sweep, spectral_distances, ComparisonSettings, SpectralDistances, SweepPoint,
};
use deq_kernels::data::csv::LabelColumn;
use deq_kernels::data::{DataSource, Dataset, Standardizer};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::network::empirical::EmpiricalParams;
use deq_kernels::output::{write_atomic, OutputDir};
use deq_kernels::plot::{loglog, spectra, Curve, FigureReport, SpectrumSeries};
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::Error;

use super::{activation, object, progress, to_json};

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
    /// Width of the finite-width DEQ (0 skips it).
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

/// The data set, the mixture it was drawn from (synthetic data), and a description.
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
    let mnist = matches!(source, DataSource::Mnist(_));
    let classes = match (mnist, args.classes.is_empty()) {
        (true, true) => vec![6, 8],
        (false, true) => (0..raw.classes() as i64).collect(),
        (_, false) => args.classes.clone(),
    };
    let per_class = args.per_class.or(mnist.then_some(500));
    let mut d = raw.select_classes(&classes, per_class)?;
    d.x = Standardizer::fit(d.x.view())?.apply(d.x.view())?;
    Ok((d, None, format!("{} (classes {classes:?})", args.data)))
}

/// The distances of one side as report.json has them.
fn distances_json(d: &SpectralDistances) -> Value {
    json!({"relative_operator_norm": object(&d.relative_operator_norm),
           "wasserstein1": object(&d.wasserstein1), "norm": d.norm})
}

pub fn reproduce(args: ReproduceArgs) -> Result<(), Error> {
    let start = Instant::now();
    let dir = OutputDir::create(&args.out, args.force)?;
    let act = activation(&args.activation)?;
    let deq = DeqParams::new(act.clone(), args.sigma_a2)?;
    let (data, mixture, description) = load_data(&args)?;
    let finite_width = (args.width > 0 && args.draws > 0)
        .then(|| EmpiricalParams::new(args.width, args.draws).map(|e| e.with_seed(args.seed)))
        .transpose()?;
    let settings = ComparisonSettings::default().with_finite_width(finite_width);
    let cmp = compare(
        &deq,
        data.x.view(),
        data.labels.view(),
        mixture.as_ref(),
        &settings,
        &progress::Bar::new("comparison"),
    )?;
    let (dck, dntk) = (spectral_distances(&cmp.ck)?, spectral_distances(&cmp.ntk)?);
    let mut figures = Vec::new();
    for (kind, set, d) in [("ck", &cmp.ck, &dck), ("ntk", &cmp.ntk, &dntk)] {
        let series: Vec<SpectrumSeries> = set
            .iter()
            .zip(&d.spectra)
            .map(|((name, _), v)| SpectrumSeries {
                label: name,
                values: v,
                weights: None,
            })
            .collect();
        for ext in ["png", "svg"] {
            let title = format!("{} spectra (n = {})", kind.to_uppercase(), data.n());
            figures.push(spectra(
                &dir.path(&format!("spectra_{kind}.{ext}")),
                &title,
                &series,
                60,
                true,
            )?);
        }
    }
    let sweep_ps: &[usize] = if args.no_sweep { &[] } else { &args.sweep };
    let sweep = error_sweep(
        &deq,
        sweep_ps,
        args.seed,
        &settings,
        &progress::Bar::new("sweep over p"),
    )?;
    if !sweep.is_empty() {
        figures.extend(sweep_figures(&sweep, &dir)?);
    }
    let e = |d: &SpectralDistances, name: &str| json!(d.relative_operator_norm(name));
    let r = &cmp.report;
    let details = json!({
        "n": r.n, "p": r.p, "tau0": r.tau0,
        "deq": {"tau_star": r.deq.tau_star, "centering": r.deq.centering, "max_residual": r.deq.max_residual,
                "contraction": r.deq.contraction, "mean_newton_iterations": r.deq.mean_iterations},
        "equivalent": to_json(&r.equivalent),
        "design": to_json(&r.design),
        "finite_width": to_json(&r.finite_width),
        "timings": object(&r.timings),
    });
    // Where the figures will be once the folder is in place.
    let figures: Vec<Value> = figures
        .iter()
        .map(|f| {
            let name = std::path::Path::new(&f.path)
                .file_name()
                .unwrap_or_default();
            json!({"path": args.out.join(name).display().to_string(), "text": f.text})
        })
        .collect();
    let sweep_json: Vec<Value> = sweep
        .iter()
        .map(|s| json!({"p": s.p, "n": s.n, "ck": object(&s.ck), "ntk": object(&s.ntk)}))
        .collect();
    let report = json!({
        "data": description, "activation": act.name(), "sigma_a2": deq.sigma_a2(),
        "sigma_b2": deq.sigma_b2(),
        "errors": {
            "ck": {"equivalent": e(&dck, "equivalent"), "designed": e(&dck, "designed"),
                   "unmatched": e(&dck, "unmatched"), "finite_width": e(&dck, "finite_width")},
            "ntk": {"equivalent": e(&dntk, "equivalent"), "designed": e(&dntk, "designed"),
                    "unmatched": e(&dntk, "unmatched")},
        },
        "distances": {"ck": distances_json(&dck), "ntk": distances_json(&dntk)},
        "details": details,
        "sweep": sweep_json,
        "figures": figures,
        "seconds": start.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&report).expect("JSON");
    write_atomic(&dir.path("report.json"), true, |w| {
        w.write_all(text.as_bytes())
            .map_err(|err| Error::io("report.json", err))
    })?;
    let out = dir.commit()?;
    if args.json {
        println!("{text}");
        return Ok(());
    }
    let f = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.2e}"));
    println!(
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
        f(dck.relative_operator_norm("equivalent")),
        f(dntk.relative_operator_norm("equivalent")),
        f(dck.relative_operator_norm("designed")),
        f(dntk.relative_operator_norm("designed")),
        f(dck.relative_operator_norm("unmatched")),
        f(dntk.relative_operator_norm("unmatched")),
        args.width,
        args.draws,
        f(dck.relative_operator_norm("finite_width")),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// error_vs_p.{png,svg}: the equivalents' and twins' errors against p on log-log axes, with a p^(−1/2) guide
/// through the first CK equivalent point.
fn sweep_figures(sweep: &[SweepPoint], dir: &OutputDir) -> Result<Vec<FigureReport>, Error> {
    let pick = |ntk: bool, name: &str| -> Vec<(f64, f64)> {
        sweep
            .iter()
            .filter_map(|s| {
                let side = if ntk { &s.ntk } else { &s.ck };
                let e = side.iter().find(|(n, _)| *n == name)?.1;
                (e > 0.0).then_some((s.p as f64, e))
            })
            .collect()
    };
    let (p0, e0) = pick(false, "equivalent")
        .first()
        .copied()
        .unwrap_or((128.0, 1.0));
    let guide: Vec<(f64, f64)> = sweep
        .iter()
        .map(|s| (s.p as f64, e0 * (p0 / s.p as f64).sqrt()))
        .collect();
    let curves = [
        ("CK: equivalent vs G*", pick(false, "equivalent")),
        ("CK: designed vs G*", pick(false, "designed")),
        ("NTK: equivalent vs K*", pick(true, "equivalent")),
        ("NTK: designed vs K*", pick(true, "designed")),
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
    ["png", "svg"]
        .iter()
        .map(|ext| {
            loglog(
                &dir.path(&format!("error_vs_p.{ext}")),
                "relative operator-norm error against p (synthetic mixture)",
                "p",
                "‖A − exact‖₂ / ‖exact‖₂",
                &series,
                true,
            )
        })
        .collect()
}
