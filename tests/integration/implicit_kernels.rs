//! DEQ and Feng–Kolter kernels (math §5) against reference values and independent computations.

use crate::common::{eigenvalues, gaussian_data};
use deq_kernels::activation::{parse_activation, ActivationRef, Centered, Custom, ScaleMoments};
use deq_kernels::kernel::implicit::{
    deq_kernels, deq_kernels_reference, fk_kernels, tau_star, DeqParams, FengKolterParams,
    ImplicitReport,
};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::{Error, Result};
use ndarray::{array, Array2};

fn act(s: &str) -> ActivationRef {
    parse_activation(s).unwrap().into()
}

const ALL: [Kernel; 3] = [Kernel::Nngp, Kernel::Ck, Kernel::Ntk];

/// [Σ*, G*, K*] of the DEQ and the report.
fn deq_all(p: &DeqParams, x: &Array2<f64>) -> Result<([Array2<f64>; 3], ImplicitReport)> {
    deq_kernels::<f64, 3>(p, x.view(), ALL, &NoProgress)
}

#[test]
fn tau_star_and_centering_constants() {
    // math §5, τ₀ = 1, σ_b² = 1 − σ_a².
    for (s, tau, c) in [
        (0.1, 0.965276, 0.385090),
        (0.2, 0.926566, 0.369646),
        (0.3, 0.883023, 0.352275),
    ] {
        let relu = parse_activation("relu").unwrap();
        let (t, rep) = tau_star(&relu, s, 1.0 - s, 1.0).unwrap();
        assert!((t - tau).abs() < 5e-7, "ReLU σ_a² = {s}: τ* = {t}");
        // Closed form for ReLU: τ*² = σ_b²τ₀²/(1 − σ_a²(½ − 1/(2π))).
        let exact = ((1.0 - s) / (1.0 - s * (0.5 - 0.5 / std::f64::consts::PI))).sqrt();
        assert!((t - exact).abs() < 1e-14);
        assert!(rep.residual < 1e-14);
        let m0 = ScaleMoments::compute(&relu, t).unwrap().m0;
        assert!((m0 - c).abs() < 5e-7, "centering {m0}");
    }
    for (s, tau) in [(0.1, 0.968645), (0.2, 0.934872), (0.3, 0.898148)] {
        let (t, _) = tau_star(&parse_activation("tanh").unwrap(), s, 1.0 - s, 1.0).unwrap();
        assert!((t - tau).abs() < 5e-7, "tanh σ_a² = {s}: τ* = {t}");
    }
}

#[test]
fn feng_kolter_reference_table() {
    // σ(x) = √2·max(0, x), unit vectors, xᵀy without /d (input_dim = 1).
    let sqrt2 = 2f64.sqrt();
    let relu2 = act(&format!("lrelu:{sqrt2},0"));
    for ((w, u, b), xy, (sigma, sigma_dot, theta, theta_xx)) in [
        ((0.5, 0.4, 0.1), 0.3, (0.536938, 0.340210, 0.813801, 2.0)),
        ((0.8, 0.15, 0.05), 0.3, (0.687824, 0.593147, 1.690597, 5.0)),
        (
            (0.2, 0.7, 0.1),
            -0.5,
            (-0.205543, 0.086821, -0.225085, 1.25),
        ),
    ] {
        let x = array![[1.0, 0.0], [xy, (1.0f64 - xy * xy).sqrt()]];
        let p = FengKolterParams::new(relu2.clone(), w, u, b)
            .unwrap()
            .with_input_dim(1.0)
            .unwrap();
        let ([s, t], report) =
            fk_kernels::<f64, 2>(&p, x.view(), [Kernel::Nngp, Kernel::Ntk], &NoProgress).unwrap();
        assert!((s[[0, 1]] - sigma).abs() < 5e-7, "Σ* {}", s[[0, 1]]);
        assert!((t[[0, 1]] - theta).abs() < 5e-7, "Θ* {}", t[[0, 1]]);
        assert!((1.0 - s[[0, 1]] / t[[0, 1]] - sigma_dot).abs() < 5e-7, "Σ̇*");
        assert!(
            (t[[0, 0]] - theta_xx).abs() < 1e-12,
            "Θ*(x,x) {}",
            t[[0, 0]]
        );
        assert!(report.max_residual < 1e-12);
    }
}

#[test]
fn strict_positivity_with_rank_deficient_inputs() {
    // math §5: 30 random unit vectors in d = 10 (rank 10 < 30), Feng–Kolter ReLU (0.5, 0.4, 0.1).
    let mut x = gaussian_data(30, 10, 1.0, 31);
    for mut r in x.rows_mut() {
        let norm = r.dot(&r).sqrt();
        r /= norm;
    }
    let relu2 = act(&format!("lrelu:{},0", 2f64.sqrt()));
    let p = FengKolterParams::new(relu2, 0.5, 0.4, 0.1)
        .unwrap()
        .with_input_dim(1.0)
        .unwrap();
    let ([sigma, theta], _) =
        fk_kernels::<f64, 2>(&p, x.view(), [Kernel::Nngp, Kernel::Ntk], &NoProgress).unwrap();
    let gram_min = eigenvalues(&x.dot(&x.t()))[0];
    assert!(
        gram_min.abs() < 1e-12,
        "the Gram matrix is rank-deficient ({gram_min})"
    );
    let (ls, lt) = (eigenvalues(&sigma)[0], eigenvalues(&theta)[0]);
    // docs/math.md quotes ≈ 0.018 and ≈ 0.32 for its draw; ours must be of that order and far above rounding.
    assert!(ls > 5e-3 && ls < 0.1, "λ_min(Σ*) = {ls}");
    assert!(lt > 0.1 && lt < 1.0, "λ_min(Θ*) = {lt}");
}

fn relative_max_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn fast_path_equals_the_outer_iteration() {
    let x = gaussian_data(12, 9, 1.0, 41);
    let softsign: ActivationRef = Custom::new("softsign", |x: f64| x / (1.0 + x.abs()))
        .with_derivative(|x: f64| 1.0 / (1.0 + x.abs()).powi(2))
        .with_kinks(&[0.0])
        .into();
    for a in [act("relu"), act("tanh"), act("erf"), act("gelu"), softsign] {
        let p = DeqParams::new(a.clone(), 0.2).unwrap();
        let (fast, report) = deq_all(&p, &x).unwrap();
        let (sigma, g, k) = deq_kernels_reference(&p, x.view(), 1e-15).unwrap();
        let name = a.name();
        for (got, want, what) in [
            (&fast[0], &sigma, "Σ*"),
            (&fast[1], &g, "G*"),
            (&fast[2], &k, "K*"),
        ] {
            assert!(relative_max_diff(got, want) < 1e-10, "{name} {what}");
        }
        assert!(
            report.max_residual <= 1e-12,
            "{name}: residual {}",
            report.max_residual
        );
        for m in fast {
            assert_eq!(m, m.t().to_owned(), "{name}: not symmetric");
            let ev = eigenvalues(&m);
            assert!(ev[0] > -1e-12 * ev[11], "{name}: λ_min {}", ev[0]);
        }
    }
}

#[test]
fn implicit_ntk_is_the_limit_of_the_unrolled_recursion() {
    // Θ^{(ℓ)} = G^{(ℓ)} + σ_a²Ġ^{(ℓ)}∘Θ^{(ℓ−1)}, Σ^{(ℓ)} = σ_a²G^{(ℓ−1)} + σ_b²XXᵀ, G^{(0)} = Θ^{(0)} = 0,
    // with the same centered activation.
    // 0.3·E[φ′φ′] < 0.3 per layer: 40 layers leave < 1e-20 (tanh needs 2-D quadrature per entry, so n = 4).
    let (sa, sb) = (0.3, 0.7);
    for (name, n, layers) in [("relu", 7, 200), ("erf", 7, 200), ("tanh", 4, 40)] {
        unrolled_matches(name, n, layers, sa, sb);
    }
}

fn unrolled_matches(name: &str, n: usize, layers: usize, sa: f64, sb: f64) {
    use deq_kernels::activation::{dual_kernel, dual_kernel_derivative, Cov2};
    let x = gaussian_data(n, 5, 1.0, 51);
    let base = act(name);
    let p = DeqParams::with_variances(base.clone(), sa, sb).unwrap();
    let ([_, fast_g, fast_k], report) = deq_all(&p, &x).unwrap();
    let phi = Centered::new(base, report.centering);
    let gram = x.dot(&x.t());
    let (mut g, mut theta) = (Array2::<f64>::zeros((n, n)), Array2::<f64>::zeros((n, n)));
    for _ in 0..layers {
        let sigma = &g * sa + &gram * sb;
        let mut gn = Array2::<f64>::zeros((n, n));
        let mut tn = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..n {
                let c = Cov2::new(sigma[[i, i]], sigma[[j, j]], sigma[[i, j]]).unwrap();
                gn[[i, j]] = dual_kernel(&phi, &c);
                tn[[i, j]] =
                    gn[[i, j]] + sa * dual_kernel_derivative(&phi, &c).unwrap() * theta[[i, j]];
            }
        }
        g = gn;
        theta = tn;
    }
    assert!(relative_max_diff(&fast_g, &g) < 1e-11, "{name} G*");
    assert!(relative_max_diff(&fast_k, &theta) < 1e-11, "{name} K*");
}

#[test]
fn outside_the_contraction_region_is_an_error() {
    let x = gaussian_data(6, 4, 1.0, 61);
    // Uncentered ReLU: the diagonal map Σ ← σ_a²Σ/2 + σ_b²‖x‖² expands for σ_a² > 2.
    let p = DeqParams::with_variances(act("relu"), 2.5, 0.5)
        .unwrap()
        .with_centering(deq_kernels::kernel::implicit::Centering::None);
    match deq_all(&p, &x) {
        Err(Error::OutsideContraction {
            factor, max_safe, ..
        }) => {
            assert!(
                factor >= 1.0 && (factor - 1.25).abs() < 0.05,
                "factor {factor}"
            );
            assert!((max_safe - 2.0).abs() < 0.1, "max safe σ_a² {max_safe}");
        }
        other => panic!("expected a contraction error, got {other:?}"),
    }
}

#[test]
fn bad_data_is_refused() {
    let p = DeqParams::new(act("relu"), 0.2).unwrap();
    let mut x = gaussian_data(5, 3, 1.0, 71);
    x[[1, 2]] = f64::INFINITY;
    assert!(matches!(deq_all(&p, &x), Err(Error::NonFinite { .. })));
    let empty = Array2::<f64>::zeros((0, 4));
    assert!(matches!(deq_all(&p, &empty), Err(Error::Shape { .. })));
    assert!(DeqParams::new(act("relu"), -0.1).is_err());
    assert!(DeqParams::new(act("relu"), 0.2)
        .unwrap()
        .with_sigma_b2(-1.0)
        .is_err());
    // σ_a² ≥ 1 leaves no default σ_b² = 1 − σ_a²: refused, not silently σ_b² = 0.
    for sa in [1.0, 1.5] {
        assert!(matches!(
            DeqParams::new(act("relu"), sa),
            Err(Error::InvalidParameter {
                name: "sigma_a2",
                ..
            })
        ));
        assert!(DeqParams::with_variances(act("relu"), sa, 0.3).is_ok());
    }
}

/// Says "stop" once `after` rows are done; counts the rows finished.
struct StopAfter {
    after: u64,
    rows: std::sync::atomic::AtomicU64,
}

impl deq_kernels::progress::Progress for StopAfter {
    fn advance(&self, _units: u64) {
        self.rows.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn cancelled(&self) -> bool {
        self.rows.load(std::sync::atomic::Ordering::Relaxed) >= self.after
    }
}

#[test]
fn an_observer_stops_the_kernels() {
    use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
    let n = 300;
    let x = gaussian_data(n, 20, 1.0, 5);
    let deq = DeqParams::new(act("tanh"), 0.3).unwrap();
    let mlp = MlpParams::new(act("relu"), 2, 1.0, 0.1).unwrap();
    let stop = || StopAfter {
        after: 10,
        rows: 0.into(),
    };
    // Rows run in parallel, so a few more than `after` may finish; far fewer than n do.
    let check = |result: Result<()>, observer: &StopAfter| {
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
        let rows = observer.rows.load(std::sync::atomic::Ordering::Relaxed);
        assert!((10..n as u64 / 2).contains(&rows), "{rows} rows done");
    };
    let observer = stop();
    check(
        deq_kernels::<f64, 2>(&deq, x.view(), [Kernel::Ck, Kernel::Ntk], &observer).map(|_| ()),
        &observer,
    );
    let observer = stop();
    check(
        deq_kernels::<f32, 1>(&deq, x.view(), [Kernel::Ck], &observer).map(|_| ()),
        &observer,
    );
    let observer = stop();
    check(
        mlp_kernels::<f64, 2>(&mlp, x.view(), [Kernel::Ck, Kernel::Ntk], &observer).map(|_| ()),
        &observer,
    );
    // An observer that never cancels leaves the result alone.
    let never = StopAfter {
        after: u64::MAX,
        rows: 0.into(),
    };
    let ([ck], _) = deq_kernels::<f64, 1>(&deq, x.view(), [Kernel::Ck], &never).unwrap();
    let ([reference], _) =
        deq_kernels::<f64, 1>(&deq, x.view(), [Kernel::Ck], &NoProgress).unwrap();
    assert_eq!(ck, reference);
}
