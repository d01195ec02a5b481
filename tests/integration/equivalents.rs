//! High-dimensional equivalents (math §4, §6): the coefficient table, limits and identities of the recursions,
//! the mixture statistics, the structured spectrum, and the convergence of the exact kernels to their
//! equivalents as p grows (p = 128 … 2048; a few seconds).

use deq_kernels::activation::{parse_activation, ActivationRef, ScaleMoments};
use deq_kernels::eigen::spectrum::operator_norm_distance;
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, FirstLayer, MlpParams};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::equivalent::{
    deq_equivalent, explicit_equivalent, Coefficients, DeqEquivalent, ExplicitEquivalent,
    LayerMoments,
};
use deq_kernels::rmt::gmm::{Covariance, GaussianMixture, MixtureClass};
use deq_kernels::rmt::matrix::{equivalent_matrix, equivalent_spectrum};
use deq_kernels::rmt::statistics::MixtureStatistics;
use ndarray::{Array1, Array2};

fn act(s: &str) -> ActivationRef {
    parse_activation(s).unwrap().into()
}

/// The DEQ's four equations for φ₀ = `a` on data of scale τ₀.
fn deq_eq(a: &ActivationRef, sa2: f64, sb2: f64, tau0: f64) -> DeqEquivalent {
    deq_equivalent(&deq(a, sa2, sb2, tau0)).unwrap()
}

fn deq(a: &ActivationRef, sa2: f64, sb2: f64, tau0: f64) -> DeqParams {
    DeqParams::with_variances(a.clone(), sa2, sb2)
        .unwrap()
        .with_tau0(tau0)
        .unwrap()
}

/// The explicit network of `layers`, each centered at its input scale, on data of scale τ₀.
fn centered_network(layers: &[ActivationRef], tau0: f64, first: FirstLayer) -> MlpParams {
    MlpParams::unit_variance(layers.to_vec())
        .unwrap()
        .centered_at_input_scale()
        .with_first_layer(first)
        .with_tau0(tau0)
        .unwrap()
}

fn mlp_eq(layers: &[ActivationRef], tau0: f64, first: FirstLayer) -> ExplicitEquivalent {
    explicit_equivalent(&centered_network(layers, tau0, first)).unwrap()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: {got} vs {want}");
}

#[test]
fn spec_coefficient_table() {
    // math §6, τ₀ = 1, σ_b² = 1 − σ_a².
    let rows: [(&str, f64, [f64; 14]); 3] = [
        (
            "relu",
            0.1,
            [
                0.965276, 0.25, 0.170811, 0.681690, 0.923077, 0.003802, 0.007464, 0.931759,
                0.230769, 0.038024, 0.074638, 0.086816, 0.0, 0.0,
            ],
        ),
        (
            "relu",
            0.2,
            [
                0.926566, 0.25, 0.185382, 0.681690, 0.842105, 0.007191, 0.013838, 0.858525,
                0.210526, 0.035957, 0.069190, 0.082098, 0.0, 0.0,
            ],
        ),
        (
            "tanh",
            0.2,
            [
                0.934872, 0.396995, 0.0, 0.411683, 0.868998, 0.0, 0.0, 0.834349, 0.344988, 0.0,
                0.0, 0.024937, 0.0, 0.0,
            ],
        ),
    ];
    for (name, sa2, w) in rows {
        let e = deq_eq(&act(name), sa2, 1.0 - sa2, 1.0);
        let m = e.moments;
        let got = [
            e.tau_star, m.g1, m.g2, m.g4, e.alpha[0], e.alpha[1], e.alpha[2], e.alpha[3], e.ck.c1,
            e.ck.c2, e.ck.c3, e.ck.c0,
        ];
        let names = [
            "τ*", "g1", "g2", "g4", "α1", "α2", "α3", "α4", "ĝ1", "ĝ2", "ĝ3", "ĝ0",
        ];
        for k in 0..12 {
            close(
                got[k],
                w[k],
                1e-6,
                &format!("{name} σ_a² = {sa2}: {}", names[k]),
            );
        }
        assert!(e.residuals.iter().all(|r| *r < 1e-15), "{:?}", e.residuals);
        assert!(e.tau_solve.residual < 1e-14);
    }
    let e = deq_eq(&act("relu"), 0.2, 0.8, 1.0);
    let (b, k2) = (e.beta.unwrap(), e.kappa2.unwrap());
    close(b[0], 0.221607, 1e-6, "β1");
    close(b[1], 0.037850, 1e-6, "β2");
    close(b[2], 0.080115, 1e-6, "β3");
    close(k2, 0.325138, 1e-6, "κ²");
    let e = deq_eq(&act("tanh"), 0.2, 0.8, 1.0);
    close(e.beta.unwrap()[0], 0.374742, 1e-6, "tanh β1");
    close(e.kappa2.unwrap(), 0.409995, 1e-6, "tanh κ²");
}

#[test]
fn odd_activations_have_no_quadratic_terms() {
    for name in ["tanh", "erf", "sin", "hardtanh:0.7,1.1"] {
        let e = deq_eq(&act(name), 0.3, 0.7, 1.1);
        assert_eq!((e.ck.c2, e.ck.c3), (0.0, 0.0), "{name}");
        let b = e.beta.unwrap();
        assert_eq!((b[1], b[2]), (0.0, 0.0), "{name}");
        let x = mlp_eq(&[act(name), act(name)], 0.9, FirstLayer::Trained);
        assert_eq!((x.ck.c2, x.ck.c3), (0.0, 0.0), "{name} explicit");
    }
}

#[test]
fn small_sigma_a_gives_the_one_layer_network_at_input_scale_sigma_b_tau0() {
    // As σ_a² → 0: ĝ₁ → σ_b²g1, ĝ₂ → ¼g2σ_b⁴, ĝ₃ → ½g2σ_b⁴, ĝ₀ → v − g1σ_b²τ₀², moments at σ_bτ₀ — the
    // one-layer explicit coefficients for the input σ_bX (whose u and T scale by σ_b²). The error is O(σ_a²).
    for name in ["relu", "tanh", "gelu", "lrelu:1.3,-0.4"] {
        let (sa2, sb2, tau0) = (1e-7, 0.6, 1.2);
        let d = deq_eq(&act(name), sa2, sb2, tau0);
        let x = mlp_eq(&[act(name)], sb2.sqrt() * tau0, FirstLayer::Trained);
        let want = [
            x.ck.c1 * sb2,
            x.ck.c2 * sb2 * sb2,
            x.ck.c3 * sb2 * sb2,
            x.ck.c0,
        ];
        for (k, (g, w)) in d.ck.as_array().iter().zip(want).enumerate() {
            close(*g, w, 1e-5 * w.abs().max(1e-3), &format!("{name} c{k}"));
        }
    }
}

#[test]
fn iterating_the_layer_map_converges_to_the_four_equations() {
    // Σ^{(ℓ+1)} = σ_a²G^{(ℓ)} + σ_b²XXᵀ: per layer, τ² ← σ_a²v(τ) + σ_b²τ₀² and
    // α ← σ_a²(g1α₁, g1α₂ + ¼g2α₄², g1α₃ + ½g2α₁², ½g4α₄) + (σ_b², 0, 0, σ_b²), moments at the current τ.
    for (name, sa2, sb2, tau0) in [
        ("relu", 0.3, 0.7, 1.0),
        ("gelu", 0.5, 0.4, 0.8),
        ("elu:1.0", 0.2, 0.8, 1.3),
    ] {
        let a = act(name);
        let mut tau2: f64 = sb2 * tau0 * tau0;
        let mut alpha = [sb2, 0.0, 0.0, sb2];
        for _ in 0..200 {
            let m = LayerMoments::at(&a, tau2.sqrt()).unwrap();
            alpha = [
                sa2 * m.g1 * alpha[0] + sb2,
                sa2 * (m.g1 * alpha[1] + 0.25 * m.g2 * alpha[3] * alpha[3]),
                sa2 * (m.g1 * alpha[2] + 0.5 * m.g2 * alpha[0] * alpha[0]),
                0.5 * sa2 * m.g4 * alpha[3] + sb2,
            ];
            tau2 = sa2 * m.v + sb2 * tau0 * tau0;
        }
        let e = deq_eq(&a, sa2, sb2, tau0);
        close(tau2.sqrt(), e.tau_star, 1e-13, &format!("{name} τ*"));
        for (k, (got, want)) in alpha.iter().zip(e.alpha).enumerate() {
            close(*got, want, 1e-13, &format!("{name} α{}", k + 1));
        }
    }
}

#[test]
fn one_layer_of_the_recursion_is_the_single_layer_formula() {
    for name in ["relu", "tanh", "softplus"] {
        let tau0 = 0.9;
        let m = ScaleMoments::compute(&act(name), tau0).unwrap();
        let (g1, g2, g4, d) = (m.m1 * m.m1, m.m2 * m.m2, m.q, m.d.unwrap());
        let x = mlp_eq(&[act(name)], tau0, FirstLayer::Trained);
        let t02 = tau0 * tau0;
        let want_ck = [g1, 0.25 * g2, 0.5 * g2, m.v - t02 * g1];
        let want_ntk = [
            2.0 * g1,
            0.25 * g2,
            1.5 * g2,
            m.v + d * t02 - t02 * 2.0 * g1,
        ];
        for k in 0..4 {
            close(
                x.ck.as_array()[k],
                want_ck[k],
                1e-14,
                &format!("{name} CK c{k}"),
            );
            close(
                x.ntk.unwrap().as_array()[k],
                want_ntk[k],
                1e-14,
                &format!("{name} NTK c{k}"),
            );
        }
        close(x.alpha[3], 0.5 * g4, 1e-15, "α4");
        let f = mlp_eq(&[act(name)], tau0, FirstLayer::Frozen);
        let want_frozen = [g1, 0.25 * g2, 0.5 * g2, m.v - t02 * g1];
        for (k, (got, want)) in f
            .ntk
            .unwrap()
            .as_array()
            .iter()
            .zip(want_frozen)
            .enumerate()
        {
            close(*got, want, 1e-14, &format!("{name} frozen c{k}"));
        }
    }
}

/// A three-class mixture with diagonal and full covariances.
fn three_classes(p: usize) -> GaussianMixture {
    let mut m0 = Array1::zeros(p);
    m0[0] = 3.0;
    let mut m1 = Array1::zeros(p);
    m1[1] = -2.0;
    let d = Array1::from_shape_fn(p, |i| 0.5 + (i % 3) as f64 * 0.4);
    let full = Array2::from_shape_fn((p, p), |(i, j)| {
        if i == j {
            1.2
        } else if i.abs_diff(j) == 1 {
            0.3
        } else {
            0.0
        }
    });
    GaussianMixture::new(
        p,
        vec![
            MixtureClass {
                size: 300,
                mean: m0,
                covariance: Covariance::ScaledIdentity(0.8),
            },
            MixtureClass {
                size: 250,
                mean: m1,
                covariance: Covariance::Diagonal(d),
            },
            MixtureClass {
                size: 350,
                mean: Array1::zeros(p),
                covariance: Covariance::Full(full),
            },
        ],
    )
    .unwrap()
}

#[test]
fn data_statistics_estimate_the_population_ones() {
    let p = 120;
    let mix = three_classes(p);
    let (x, y) = mix.sample(5).unwrap();
    let pop = MixtureStatistics::from_population(&mix, x.view(), y.view()).unwrap();
    let est = MixtureStatistics::from_data(x.view(), y.view()).unwrap();
    // Population values by hand: tr C_a/p = 0.8, mean of d, 1.2.
    let dmean = (0..p).map(|i| 0.5 + (i % 3) as f64 * 0.4).sum::<f64>() / p as f64;
    close(pop.trace[0], 0.8, 1e-15, "tr C_0/p");
    close(pop.trace[1], dmean, 1e-15, "tr C_1/p");
    close(pop.trace[2], 1.2, 1e-15, "tr C_2/p");
    // Sample estimates: tr C_a/p to O(1/√(n_a p)), T_ab (O(1)) to a few percent of its scale.
    for a in 0..3 {
        close(est.trace[a], pop.trace[a], 0.02, "trace estimate");
    }
    let scale = pop.big_t.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (e, q) in est.big_t.iter().zip(pop.big_t.iter()) {
        close(*e, *q, 0.05 * scale, "T estimate");
    }
    close(est.tau0_sq, pop.tau0_sq, 0.01, "τ₀²");
    // u = Jt/√p + ψ has the class means of ψ near zero.
    let u = pop.u();
    assert_eq!(u.len(), 900);
    let psi_mean = pop.psi.sum() / 900.0;
    assert!(psi_mean.abs() < 0.05, "mean ψ {psi_mean}");
    // Bad labels.
    let bad = Array1::from_elem(900, 5i64);
    assert!(MixtureStatistics::from_data(x.view(), bad.view()).is_err());
    assert!(MixtureStatistics::from_data(x.view(), y.slice(ndarray::s![..10]).view()).is_err());
}

#[test]
fn structured_spectrum_equals_the_dense_one() {
    let mix = GaussianMixture::paper_with_n(40, 150).unwrap();
    let (x, y) = mix.sample(3).unwrap();
    let stats = MixtureStatistics::from_population(&mix, x.view(), y.view()).unwrap();
    for c in [
        Coefficients {
            c1: 0.21,
            c2: 0.036,
            c3: 0.069,
            c0: 0.082,
        },
        Coefficients {
            c1: 1.0,
            c2: -0.5,
            c3: 2.0,
            c0: 0.0,
        },
    ] {
        let dense = FaerEigen::default()
            .eigenvalues(equivalent_matrix(x.view(), &stats, &c).unwrap().view())
            .unwrap();
        let s = equivalent_spectrum(x.view(), &stats, &c).unwrap();
        assert_eq!(s.multiplicity, 150 - 43);
        let all = s.all();
        let norm = dense.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (a, b) in all.iter().zip(&dense) {
            close(*a, *b, 1e-11 * norm, "eigenvalue");
        }
    }
}

struct Errors {
    full: Vec<f64>,
    reduced: Vec<f64>,
}

/// ‖exact − equivalent‖₂ over p = 128 … 2048 (n = 0.8p, the paper's mixture), with and without the u/T terms.
fn errors(
    exact_and_coefficients: impl Fn(&Array2<f64>, f64) -> (Array2<f64>, Coefficients),
) -> Errors {
    let (mut full, mut reduced) = (Vec::new(), Vec::new());
    for p in [128, 256, 512, 1024, 2048] {
        let mix = GaussianMixture::paper(p).unwrap();
        let (x, y) = mix.sample(1).unwrap();
        let stats = MixtureStatistics::from_population(&mix, x.view(), y.view()).unwrap();
        let tau0 = (x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64).sqrt();
        let (exact, c) = exact_and_coefficients(&x, tau0);
        let kbar = equivalent_matrix(x.view(), &stats, &c).unwrap();
        let krough = equivalent_matrix(x.view(), &stats, &c.without_fluctuations()).unwrap();
        full.push(operator_norm_distance(exact.view(), kbar.view()).unwrap());
        reduced.push(operator_norm_distance(exact.view(), krough.view()).unwrap());
    }
    Errors { full, reduced }
}

fn assert_converges(name: &str, e: &Errors) {
    eprintln!("{name}: with u, T {:?}; without {:?}", e.full, e.reduced);
    for w in e.full.windows(2) {
        assert!(
            w[1] <= 0.8 * w[0],
            "{name}: {:?} does not fall by 0.8 per doubling of p",
            e.full
        );
    }
    // Without the fluctuation terms the error stalls at a non-zero level: by p = 2048 it no longer falls by 0.8.
    let k = e.reduced.len();
    assert!(
        e.reduced[k - 1] > 0.8 * e.reduced[k - 2],
        "{name}: the error without u and T still falls: {:?}",
        e.reduced
    );
}

#[test]
fn deq_kernels_converge_to_their_equivalents() {
    let relu = act("relu");
    let run = |kind: Kernel| {
        errors(|x, tau0| {
            let params = DeqParams::new(relu.clone(), 0.2)
                .unwrap()
                .with_tau0(tau0)
                .unwrap();
            let ([k], _) = deq_kernels::<f64, 1>(&params, x.view(), [kind], &NoProgress).unwrap();
            let e = deq_equivalent(&params).unwrap();
            (k, e.coefficients(kind).unwrap())
        })
    };
    assert_converges("DEQ CK", &run(Kernel::Ck));
    assert_converges("DEQ NTK", &run(Kernel::Ntk));
}

#[test]
fn explicit_kernels_converge_to_their_equivalents() {
    for depth in [1, 3] {
        let layers = vec![act("relu"); depth];
        for kind in [Kernel::Ck, Kernel::Ntk] {
            let e = errors(|x, tau0| {
                let params = centered_network(&layers, tau0, FirstLayer::Trained);
                let ([k], _) =
                    mlp_kernels::<f64, 1>(&params, x.view(), [kind], &NoProgress).unwrap();
                let eq = explicit_equivalent(&params).unwrap();
                (k, eq.coefficients(kind).unwrap())
            });
            assert_converges(&format!("{depth}-layer {kind}"), &e);
        }
    }
}
