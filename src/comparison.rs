//! The experiments the crate is built around (math §6–§8): a DEQ against its high-dimensional equivalent, its
//! designed shallow twin, an unmatched explicit network and a finite-width DEQ, on one data set, with every
//! spectrum and the distances between them ([`compare`], [`spectral_distances`]); the equivalents' and twins'
//! errors against p on the synthetic mixture ([`error_sweep`]); and the accuracy of random-feature classifiers
//! built on the DEQ and its twin ([`random_feature_accuracy`]).
//!
//! ```no_run
//! use deq_kernels::activation::Builtin;
//! use deq_kernels::comparison::{compare, ComparisonSettings, spectral_distances};
//! use deq_kernels::kernel::implicit::DeqParams;
//! use deq_kernels::progress::NoProgress;
//! use deq_kernels::rmt::gmm::GaussianMixture;
//!
//! let mixture = GaussianMixture::paper(512)?;
//! let (x, labels) = mixture.sample(0)?;
//! let deq = DeqParams::new(Builtin::Relu, 0.2)?;
//! let c = compare(&deq, x.view(), labels.view(), Some(&mixture), &ComparisonSettings::default(), &NoProgress)?;
//! let ck = spectral_distances(&c.ck)?;
//! println!("‖Ḡ − G*‖₂/‖G*‖₂ = {:.2e}", ck.relative_operator_norm("equivalent").unwrap());
//! # Ok::<(), deq_kernels::Error>(())
//! ```

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::activation::Builtin;
use crate::design::{twin, MatchParams, MatchResult, Twin};
use crate::eigen::spectrum::{operator_norm_distance, wasserstein1};
use crate::eigen::{FaerEigen, SymmetricEigensolver};
use crate::kernel::explicit::{mlp_kernels, MlpParams};
use crate::kernel::implicit::{deq_kernels, DeqParams, ImplicitReport};
use crate::kernel::Kernel;
use crate::network::empirical::{deq_empirical, EmpiricalParams, EmpiricalReport};
use crate::network::features::RidgeReadout;
use crate::network::{DeqNetwork, MlpNetwork, Weights};
use crate::progress::{NoProgress, Progress};
use crate::rmt::equivalent::{deq_equivalent, DeqEquivalent};
use crate::rmt::gmm::GaussianMixture;
use crate::rmt::matrix::equivalent_matrix;
use crate::rmt::statistics::MixtureStatistics;
use crate::solve::AndersonParams;
use crate::{Error, Result};

/// Checked settings of [`compare`].
#[derive(Debug, Clone)]
pub struct ComparisonSettings {
    finite_width: Option<EmpiricalParams>,
    unmatched: MlpParams,
    search: MatchParams,
}

impl Default for ComparisonSettings {
    /// A finite-width DEQ of width 2000 averaged over 2 draws (seed 0), the unmatched network of two ReLU layers
    /// centered at their input scales, and the design's default search.
    fn default() -> Self {
        ComparisonSettings {
            finite_width: Some(EmpiricalParams::new(2000, 2).expect("valid")),
            unmatched: MlpParams::unit_variance([Builtin::Relu, Builtin::Relu])
                .expect("two layers")
                .centered_at_input_scale(),
            search: MatchParams::default(),
        }
    }
}

impl ComparisonSettings {
    /// The finite-width DEQ's width, draws and seed; `None` leaves it out.
    pub fn with_finite_width(mut self, finite_width: Option<EmpiricalParams>) -> Self {
        self.finite_width = finite_width;
        self
    }

    /// The unmatched explicit network (its NTK trains the input layer as its params say).
    pub fn with_unmatched(mut self, unmatched: MlpParams) -> Self {
        self.unmatched = unmatched;
        self
    }

    /// The design's search.
    pub fn with_search(mut self, search: MatchParams) -> Self {
        self.search = search;
        self
    }
}

/// The kernels compared for one data set, by name, the DEQ's first: for the CK `deq` (G*), `equivalent` (Ḡ),
/// `designed` (when the design is feasible), `unmatched`, `finite_width` (when asked); for the NTK the same
/// without the finite-width DEQ.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Comparison {
    /// The CK side.
    pub ck: Vec<(&'static str, Array2<f64>)>,
    /// The NTK side.
    pub ntk: Vec<(&'static str, Array2<f64>)>,
    /// How everything was computed.
    pub report: ComparisonReport,
}

/// What [`compare`] computed besides the matrices.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ComparisonReport {
    /// Samples.
    pub n: usize,
    /// Dimension.
    pub p: usize,
    /// The input scale τ₀ = √(‖X‖_F²/n) (or the DEQ's own).
    pub tau0: f64,
    /// The exact kernels' fixed points.
    pub deq: ImplicitReport,
    /// The four equations' solution and coefficients.
    pub equivalent: DeqEquivalent,
    /// The twin searches for the CK and the NTK.
    pub design: DesignReports,
    /// The finite-width DEQ, when computed.
    pub finite_width: Option<EmpiricalReport>,
    /// Seconds per step: `deq_kernels`, `equivalents`, `design`, `explicit_kernels`, `finite_width`.
    pub timings: Vec<(&'static str, f64)>,
}

/// The design's results for both kernels.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DesignReports {
    /// The CK's twin.
    pub ck: MatchResult,
    /// The NTK's twin.
    pub ntk: MatchResult,
}

/// The DEQ `deq` on data `x` with class `labels` against its equivalent (statistics from the `mixture`'s
/// population when given, else estimated from the labelled data), its designed twins ([`crate::design::twin`]),
/// the unmatched network and, when the settings ask, a finite-width DEQ. τ₀ is the DEQ's own or the data's
/// ([`DeqParams::with_tau0_from`]). Progress is reported in steps (six with the finite-width DEQ, five without).
pub fn compare(
    deq: &DeqParams,
    x: ArrayView2<f64>,
    labels: ArrayView1<i64>,
    mixture: Option<&GaussianMixture>,
    settings: &ComparisonSettings,
    progress: &dyn Progress,
) -> Result<Comparison> {
    let deq = deq.clone().with_tau0_from(x)?;
    let tau0 = deq.input_scale(None)?;
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, t: &mut Instant| {
        timings.push((name, t.elapsed().as_secs_f64()));
        *t = Instant::now();
        progress.advance(1);
    };
    progress.start(5 + u64::from(settings.finite_width.is_some()));
    let ([g_star, k_star], exact) =
        deq_kernels::<f64, 2>(&deq, x, [Kernel::Ck, Kernel::Ntk], &NoProgress)?;
    lap("deq_kernels", &mut t);
    let eq = deq_equivalent(&deq)?;
    let stats = match mixture {
        Some(m) => MixtureStatistics::from_population(m, x, labels)?,
        None => MixtureStatistics::from_data(x, labels)?,
    };
    let gbar = equivalent_matrix(x, &stats, &eq.coefficients(Kernel::Ck)?)?;
    let kbar = equivalent_matrix(x, &stats, &eq.coefficients(Kernel::Ntk)?)?;
    lap("equivalents", &mut t);
    let ck_twin = twin(&deq, Kernel::Ck, &settings.search)?;
    let ntk_twin = twin(&deq, Kernel::Ntk, &settings.search)?;
    lap("design", &mut t);
    let mut ck = vec![("deq", g_star), ("equivalent", gbar)];
    let mut ntk = vec![("deq", k_star), ("equivalent", kbar)];
    let one = |net: &MlpParams, kind: Kernel| -> Result<Array2<f64>> {
        let ([k], _) =
            mlp_kernels::<f64, 1>(&net.clone().with_tau0(tau0)?, x, [kind], &NoProgress)?;
        Ok(k)
    };
    if let Some(net) = &ck_twin.network {
        ck.push(("designed", one(net, Kernel::Ck)?));
    }
    if let Some(net) = &ntk_twin.network {
        ntk.push(("designed", one(net, Kernel::Ntk)?));
    }
    ck.push(("unmatched", one(&settings.unmatched, Kernel::Ck)?));
    ntk.push(("unmatched", one(&settings.unmatched, Kernel::Ntk)?));
    lap("explicit_kernels", &mut t);
    let mut finite = None;
    if let Some(emp) = &settings.finite_width {
        let (k, report) = deq_empirical::<f64>(&deq, x, Kernel::Ck, emp, &NoProgress)?;
        finite = Some(report);
        ck.push(("finite_width", k));
        lap("finite_width", &mut t);
    }
    progress.finish();
    Ok(Comparison {
        ck,
        ntk,
        report: ComparisonReport {
            n: x.nrows(),
            p: x.ncols(),
            tau0,
            deq: exact,
            equivalent: eq,
            design: DesignReports {
                ck: ck_twin.result,
                ntk: ntk_twin.result,
            },
            finite_width: finite,
            timings,
        },
    })
}

/// The spectra of a set of kernels and the distances of each to the first (the reference).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SpectralDistances {
    /// Every matrix's eigenvalues, ascending, in the set's order.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub spectra: Vec<Vec<f64>>,
    /// ‖A − B‖₂/‖B‖₂ for every A after the reference B.
    pub relative_operator_norm: Vec<(&'static str, f64)>,
    /// W₁ between the spectra of every pair, named `a|b`.
    pub wasserstein1: Vec<(String, f64)>,
    /// ‖B‖₂ = max|λ(B)|.
    pub norm: f64,
}

impl SpectralDistances {
    /// The relative operator-norm distance of the matrix `name` to the reference.
    pub fn relative_operator_norm(&self, name: &str) -> Option<f64> {
        self.relative_operator_norm
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// All eigenvalues of every matrix of `set` (pure-Rust backend), ‖A − B‖₂/‖B‖₂ of each to the first B
/// ([`operator_norm_distance`], by Lanczos on A − B without forming it) and W₁ between all spectra.
pub fn spectral_distances(set: &[(&'static str, Array2<f64>)]) -> Result<SpectralDistances> {
    let base = &set
        .first()
        .ok_or(Error::Missing {
            name: "a reference matrix",
            why: "the set of kernels to compare is empty",
        })?
        .1;
    let spectra: Vec<Vec<f64>> = set
        .iter()
        .map(|(_, m)| FaerEigen::default().eigenvalues(m.view()))
        .collect::<std::result::Result<_, _>>()?;
    let norm = spectra[0].iter().fold(0f64, |m, v| m.max(v.abs()));
    let relative_operator_norm = set[1..]
        .iter()
        .map(|(name, m)| Ok((*name, operator_norm_distance(m.view(), base.view())? / norm)))
        .collect::<Result<_>>()?;
    let mut w1 = Vec::new();
    for i in 0..set.len() {
        for j in i + 1..set.len() {
            w1.push((
                format!("{}|{}", set[i].0, set[j].0),
                wasserstein1(&spectra[i], &spectra[j])?,
            ));
        }
    }
    Ok(SpectralDistances {
        spectra,
        relative_operator_norm,
        wasserstein1: w1,
        norm,
    })
}

/// The relative operator-norm errors at one p of [`error_sweep`].
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SweepPoint {
    /// Dimension.
    pub p: usize,
    /// Samples (⌊0.8p⌋).
    pub n: usize,
    /// ‖A − G*‖₂/‖G*‖₂ for the CK side's matrices.
    pub ck: Vec<(&'static str, f64)>,
    /// ‖A − K*‖₂/‖K*‖₂ for the NTK side's matrices.
    pub ntk: Vec<(&'static str, f64)>,
}

/// The comparison without the finite-width DEQ on the paper's mixture at each p of `ps` (n = ⌊0.8p⌋, drawn with
/// `seed`): how the equivalents' errors fall with p (like p^(−1/2)) while the twins' stay small. Progress in sizes.
pub fn error_sweep(
    deq: &DeqParams,
    ps: &[usize],
    seed: u64,
    settings: &ComparisonSettings,
    progress: &dyn Progress,
) -> Result<Vec<SweepPoint>> {
    let settings = settings.clone().with_finite_width(None);
    progress.start(ps.len() as u64);
    let mut points = Vec::with_capacity(ps.len());
    for &p in ps {
        let mixture = GaussianMixture::paper(p)?;
        let (x, y) = mixture.sample(seed)?;
        let c = compare(
            deq,
            x.view(),
            y.view(),
            Some(&mixture),
            &settings,
            &NoProgress,
        )?;
        let side = |set: &[(&'static str, Array2<f64>)]| -> Result<Vec<(&'static str, f64)>> {
            let base = &set[0].1;
            let norm = crate::eigen::spectrum::operator_norm(base.view())?;
            set[1..]
                .iter()
                .map(|(name, m)| Ok((*name, operator_norm_distance(m.view(), base.view())? / norm)))
                .collect()
        };
        points.push(SweepPoint {
            p,
            n: x.nrows(),
            ck: side(&c.ck)?,
            ntk: side(&c.ntk)?,
        });
        progress.advance(1);
    }
    progress.finish();
    Ok(points)
}

/// The test matrix of the eigensolver benchmarks (`deqk bench-eig`, benches/eigen.rs): the one-layer ReLU CK of
/// the paper's mixture with p = n/2 — a kernel spectrum with a bulk and outliers.
pub fn benchmark_matrix(n: usize, seed: u64) -> Result<Array2<f64>> {
    let p = (n / 2).max(9);
    let (x, _): (Array2<f64>, Array1<i64>) = GaussianMixture::paper_with_n(p, n)?.sample(seed)?;
    let net = MlpParams::new(Builtin::Relu, 1, 1.0, 0.0)?;
    let ([k], _) = mlp_kernels::<f64, 1>(&net, x.view(), [Kernel::Ck], &NoProgress)?;
    Ok(k)
}

/// Test accuracies of random-feature classifiers at one width: the readout alone trained by ridge regression
/// on the features of a random network ([`RidgeReadout`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FeatureAccuracy {
    /// The width m.
    pub width: usize,
    /// The DEQ's fixed point Z as features.
    pub deq: f64,
    /// The last layer of the DEQ's designed CK twin, when the design is feasible.
    pub designed: Option<f64>,
    /// The last layer of the unmatched network.
    pub unmatched: f64,
}

/// The paper's accuracy experiment: at each width, a DEQ, its designed CK twin ([`crate::design::twin`]) and the
/// unmatched network of `settings`, each drawn once with `weights` and `seed`, give features of the training and
/// test samples; a ridge readout (λ = `lambda`) fitted on the training features is scored on the test features.
/// τ₀ is the DEQ's own or the training data's, for both splits. Returns the twin's design with the accuracies.
/// Progress in widths.
#[allow(clippy::too_many_arguments)]
pub fn random_feature_accuracy(
    deq: &DeqParams,
    train: &crate::data::Dataset,
    test: &crate::data::Dataset,
    widths: &[usize],
    lambda: f64,
    weights: Weights,
    seed: u64,
    settings: &ComparisonSettings,
    progress: &dyn Progress,
) -> Result<(Twin, Vec<FeatureAccuracy>)> {
    let deq = deq.clone().with_tau0_from(train.x.view())?;
    let tau0 = deq.input_scale(None)?;
    let designed = twin(&deq, Kernel::Ck, &settings.search)?;
    let unmatched = settings.unmatched.clone().with_tau0(tau0)?;
    let anderson = AndersonParams::new(5, 1.0, 1e-8, 500)?;
    let readout = |ftr: &Array2<f64>, fte: &Array2<f64>| -> Result<f64> {
        RidgeReadout::fit(ftr.view(), train.labels.view(), lambda)?
            .accuracy(fte.view(), test.labels.view())
    };
    let explicit = |net: &MlpParams, m: usize| -> Result<f64> {
        let network = MlpNetwork::sample(net, train.x.view(), m, weights, seed)?;
        let last = |x: ArrayView2<f64>| -> Result<Array2<f64>> {
            Ok(network.forward(x)?.y.pop().expect("the last layer"))
        };
        readout(&last(train.x.view())?, &last(test.x.view())?)
    };
    progress.start(widths.len() as u64);
    let mut rows = Vec::with_capacity(widths.len());
    for &m in widths {
        let net = DeqNetwork::sample(&deq, train.x.view(), m, weights, seed)?;
        let deq_accuracy = readout(
            &net.forward(train.x.view(), &anderson)?.z,
            &net.forward(test.x.view(), &anderson)?.z,
        )?;
        rows.push(FeatureAccuracy {
            width: m,
            deq: deq_accuracy,
            designed: designed
                .network
                .as_ref()
                .map(|d| explicit(d, m))
                .transpose()?,
            unmatched: explicit(&unmatched, m)?,
        });
        progress.advance(1);
    }
    progress.finish();
    Ok((designed, rows))
}
