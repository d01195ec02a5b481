//! Finite-width networks against their infinite-width kernels (math §8).

use deq_kernels::activation::{ActivationRef, Builtin};
use deq_kernels::eigen::spectrum::operator_norm_distance;
use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, FirstLayer, MlpParams};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::network::empirical::{deq_empirical, mlp_empirical, EmpiricalParams};
use deq_kernels::network::features::RidgeReadout;
use deq_kernels::network::{DeqNetwork, Weights};
use deq_kernels::progress::NoProgress;
use deq_kernels::rmt::gmm::GaussianMixture;
use deq_kernels::solve::AndersonParams;
use deq_kernels::Error;
use ndarray::Array2;

fn relu() -> ActivationRef {
    Builtin::Relu.into()
}

fn data(p: usize) -> Array2<f64> {
    GaussianMixture::paper(p).unwrap().sample(3).unwrap().0
}

fn exact_deq(x: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    let ([g, k], _) = deq_kernels::<f64, 2>(
        &DeqParams::new(relu(), 0.2).unwrap(),
        x.view(),
        [Kernel::Ck, Kernel::Ntk],
        &NoProgress,
    )
    .unwrap();
    (g, k)
}

fn empirical(x: &Array2<f64>, kind: Kernel, emp: &EmpiricalParams) -> Array2<f64> {
    deq_empirical::<f64>(
        &DeqParams::new(relu(), 0.2).unwrap(),
        x.view(),
        kind,
        emp,
        &NoProgress,
    )
    .unwrap()
    .0
}

/// The least-squares slope of log(error) against log(width).
fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let k = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x.ln(), b + y.ln()));
    let (mx, my) = (sx / k, sy / k);
    let (num, den) = points.iter().fold((0.0, 0.0), |(n, d), &(x, y)| {
        (n + (x.ln() - mx) * (y.ln() - my), d + (x.ln() - mx).powi(2))
    });
    num / den
}

#[test]
fn deq_kernels_converge_like_one_over_root_width() {
    // math §8: 1.12, 0.49, 0.33 for m = 500, 2000, 4000 at p = 256 (a log-log slope of −0.59 over that range;
    // the O(1/m) bias steepens it at small m). Here p = 128, 4 draws, m = 500 … 4000.
    let x = data(128);
    let (g, k) = exact_deq(&x);
    for (kind, exact) in [(Kernel::Ck, &g), (Kernel::Ntk, &k)] {
        let errors: Vec<(f64, f64)> = [500, 1000, 2000, 4000]
            .iter()
            .map(|&m| {
                let emp = EmpiricalParams::new(m, 4).unwrap().with_seed(10);
                let e =
                    operator_norm_distance(empirical(&x, kind, &emp).view(), exact.view()).unwrap();
                (m as f64, e)
            })
            .collect();
        let slope = loglog_slope(&errors);
        eprintln!("{kind}: {errors:?}, slope {slope:.2}");
        assert!(
            (-0.8..=-0.4).contains(&slope),
            "{kind}: slope {slope} from {errors:?}"
        );
    }
}

#[test]
fn width_first_or_depth_first_reach_the_same_limit() {
    let x = data(96);
    let (g, _) = exact_deq(&x);
    let params = DeqParams::new(relu(), 0.2).unwrap();
    // Depth to infinity at fixed width: unrolling converges to the width-m fixed point.
    let net = DeqNetwork::sample(&params, x.view(), 300, Weights::Gaussian, 1).unwrap();
    let fixed = net
        .forward(x.view(), &AndersonParams::new(5, 1.0, 1e-12, 500).unwrap())
        .unwrap();
    let mut last = f64::INFINITY;
    for depth in [2, 5, 10, 25] {
        let u = net.unrolled(x.view(), depth).unwrap();
        let d =
            u.z.iter()
                .zip(fixed.z.iter())
                .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(d < last, "unrolled depth {depth}: {d} not below {last}");
        last = d;
    }
    assert!(
        last < 1e-8,
        "25 unrolled iterations are {last} from the fixed point"
    );
    // Then width to infinity: the fixed point's kernel approaches G* …
    let deep = |m, it: Option<usize>| {
        let mut emp = EmpiricalParams::new(m, 2).unwrap().with_seed(5);
        if let Some(it) = it {
            emp = emp.unrolled(it);
        }
        operator_norm_distance(empirical(&x, Kernel::Ck, &emp).view(), g.view()).unwrap()
    };
    let (fp_small, fp_large) = (deep(200, None), deep(1600, None));
    // … and so does a deep unrolled network as its width grows (depth 30: within 0.2^30 of the fixed point).
    let (un_small, un_large) = (deep(200, Some(30)), deep(1600, Some(30)));
    eprintln!("fixed point {fp_small:.3} → {fp_large:.3}; unrolled {un_small:.3} → {un_large:.3}");
    assert!(fp_large < 0.5 * fp_small && un_large < 0.5 * un_small);
    assert!((fp_large - un_large).abs() < 1e-6 * fp_large.max(1.0) + 1e-6);
}

#[test]
fn empirical_nngp_is_positive_definite_when_wider_than_the_sample() {
    let x = data(64);
    let n = x.nrows();
    for m in [2 * n, 8 * n] {
        let emp = EmpiricalParams::new(m, 1).unwrap();
        let k = empirical(&x, Kernel::Ck, &emp);
        let w = FaerEigen::default().eigenvalues(k.view()).unwrap();
        assert!(w[0] > 1e-6 * w[n - 1], "m = {m}: λ_min {}", w[0]);
    }
}

#[test]
fn weight_distributions_share_the_limit() {
    // Gaussian, Rademacher and sparse ternary weights: the error to the same G* falls with the width for each
    // (their O(1/m) corrections differ through the fourth moments). Universality needs every pre-activation
    // Σ_j B_ij x_j to be nearly Gaussian, which spiked means (the paper's 8e₁) spoil at small p for ±1 weights:
    // the data here have spread-out means.
    use deq_kernels::rmt::gmm::{Covariance, MixtureClass};
    let p = 96;
    let classes = (0..2)
        .map(|a| MixtureClass {
            size: 40,
            mean: ndarray::Array1::from_elem(p, if a == 0 { 0.3 } else { -0.3 }),
            covariance: Covariance::ScaledIdentity(1.0 + 0.5 * a as f64),
        })
        .collect();
    let x = GaussianMixture::new(p, classes)
        .unwrap()
        .sample(2)
        .unwrap()
        .0;
    let (g, _) = exact_deq(&x);
    for w in [
        Weights::Gaussian,
        Weights::Rademacher,
        Weights::SparseTernary { density: 0.3 },
    ] {
        let err = |m: usize| {
            let emp = EmpiricalParams::new(m, 2)
                .unwrap()
                .with_weights(w)
                .unwrap()
                .with_seed(4);
            operator_norm_distance(empirical(&x, Kernel::Ck, &emp).view(), g.view()).unwrap()
        };
        let (e1, e2) = (err(400), err(3200));
        eprintln!("{w:?}: m = 400 → {e1:.3}, m = 3200 → {e2:.3}");
        assert!(e2 < 0.55 * e1, "{w:?}: {e1} → {e2}");
    }
    assert!(Weights::SparseTernary { density: 0.0 }.checked().is_err());
}

#[test]
fn mlp_empirical_kernels_converge_to_the_exact_ones() {
    let x = data(96);
    for first in [FirstLayer::Trained, FirstLayer::Frozen] {
        let p = MlpParams::unit_variance([relu(), relu()])
            .unwrap()
            .centered_at_input_scale()
            .with_first_layer(first);
        let ([ck, ntk], _) =
            mlp_kernels::<f64, 2>(&p, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress).unwrap();
        for (kind, want) in [(Kernel::Ck, &ck), (Kernel::Ntk, &ntk)] {
            let err = |m: usize| {
                let emp = EmpiricalParams::new(m, 4).unwrap().with_seed(2);
                let (k, _) = mlp_empirical::<f64>(&p, x.view(), kind, &emp, &NoProgress).unwrap();
                operator_norm_distance(k.view(), want.view()).unwrap()
            };
            let (e1, e4) = (err(200), err(800));
            eprintln!("mlp {kind} {first:?}: {e1:.3} → {e4:.3}");
            assert!(
                e4 / e1 > 0.3 && e4 / e1 < 0.7,
                "{kind} {first:?}: {e1} → {e4}"
            );
        }
    }
}

#[test]
fn ridge_readout_separates_the_mixture() {
    let mix = GaussianMixture::paper(200).unwrap();
    let (x, y) = mix.sample(1).unwrap();
    let (xt, yt) = mix.sample(2).unwrap();
    let params = DeqParams::new(relu(), 0.2).unwrap();
    let net = DeqNetwork::sample(&params, x.view(), 400, Weights::Gaussian, 0).unwrap();
    let a = AndersonParams::new(5, 1.0, 1e-10, 500).unwrap();
    let (f, ft) = (
        net.forward(x.view(), &a).unwrap().z,
        net.forward(xt.view(), &a).unwrap().z,
    );
    let r = RidgeReadout::fit(f.view(), y.view(), 1e-2).unwrap();
    let acc = r.accuracy(ft.view(), yt.view()).unwrap();
    assert!(acc > 0.9, "test accuracy {acc}");
    assert!(RidgeReadout::fit(f.view(), y.slice(ndarray::s![..3]).view(), 1e-2).is_err());
}

#[test]
fn forward_pass_outside_the_contraction_region_is_an_error() {
    let x = data(32);
    // Uncentered ReLU with σ_a² = 6: ‖A‖/√m → 2, Lip(φ)σ_a·2 ≈ 4.9 > 1, and the iteration blows up.
    let params = DeqParams::with_variances(relu(), 6.0, 0.5)
        .unwrap()
        .with_centering(deq_kernels::kernel::implicit::Centering::None);
    let net = DeqNetwork::sample(&params, x.view(), 200, Weights::Gaussian, 0).unwrap();
    match net.forward(x.view(), &AndersonParams::new(5, 1.0, 1e-10, 200).unwrap()) {
        Err(Error::NotConverged { .. }) | Err(Error::Diverged { .. }) => {}
        other => panic!(
            "expected a non-convergence error, got {:?}",
            other.map(|s| s.report)
        ),
    }
}
