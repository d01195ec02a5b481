//! The deep equilibrium linear model (math §9): implicit gradients, convergence to the shallow optimum at a
//! linear rate (also when the width is below the output dimension and the sample size), the preconditioner
//! P_t, and bad input.

use deq_kernels::delm::train::{shallow_optimum, train, StepRule, TrainParams};
use deq_kernels::delm::{features, trust_region_newton_step, Delm, Loss};
use deq_kernels::testing::gaussian_matrix;
use deq_kernels::testing::matrices::uniform_stream;
use ndarray::{Array1, Array2};

/// Features m×n and random labels in 0..d (not separable for n ≫ m·d).
fn problem(m: usize, n: usize, d: usize, seed: u64) -> (Array2<f64>, Array1<i64>) {
    let phi = gaussian_matrix(m, n, 1.0 / (m as f64).sqrt(), seed);
    let mut u = uniform_stream(seed);
    let labels = Array1::from_shape_fn(n, |_| ((u() + 0.5) * d as f64) as i64 % d as i64);
    (phi, labels)
}

fn model(m: usize, d: usize, gamma: f64, seed: u64) -> Delm {
    Delm::new(
        gaussian_matrix(m, m, 1.0, 1000 + 2 * seed),
        gaussian_matrix(d, m, 0.1, 1001 + 2 * seed),
        gamma,
    )
    .unwrap()
}

#[test]
fn implicit_gradients_equal_finite_differences() {
    let (phi, labels) = problem(6, 15, 3, 1);
    for loss in [Loss::Square, Loss::CrossEntropy] {
        let mdl = model(6, 3, 0.7, 2);
        let g = mdl.gradients(phi.view(), labels.view(), loss).unwrap();
        let h = 1e-6;
        let at = |a: &Array2<f64>, b: &Array2<f64>| {
            Delm::new(a.clone(), b.clone(), 0.7)
                .unwrap()
                .loss(phi.view(), labels.view(), loss)
                .unwrap()
        };
        for (i, j) in [(0, 0), (2, 5), (5, 1), (3, 3)] {
            let (mut ap, mut am) = (mdl.a.clone(), mdl.a.clone());
            ap[[i, j]] += h;
            am[[i, j]] -= h;
            let fd = (at(&ap, &mdl.b) - at(&am, &mdl.b)) / (2.0 * h);
            assert!(
                (fd - g.a[[i, j]]).abs() < 1e-7 * (1.0 + fd.abs()),
                "{loss:?} ∂L/∂A[{i},{j}]: {fd} vs {}",
                g.a[[i, j]]
            );
        }
        for (i, j) in [(0, 0), (2, 4), (1, 5)] {
            let (mut bp, mut bm) = (mdl.b.clone(), mdl.b.clone());
            bp[[i, j]] += h;
            bm[[i, j]] -= h;
            let fd = (at(&mdl.a, &bp) - at(&mdl.a, &bm)) / (2.0 * h);
            assert!(
                (fd - g.b[[i, j]]).abs() < 1e-7 * (1.0 + fd.abs()),
                "{loss:?} ∂L/∂B[{i},{j}]: {fd} vs {}",
                g.b[[i, j]]
            );
        }
    }
}

#[test]
fn the_deq_represents_the_shallow_model_w_equals_b_u_inverse() {
    let (phi, labels) = problem(5, 12, 4, 3);
    let mdl = model(5, 4, 0.9, 4);
    let w = mdl.shallow_weights().unwrap();
    let f_deq = mdl.forward(phi.view()).unwrap().f;
    let f_shallow = w.dot(&phi);
    let diff = f_deq
        .iter()
        .zip(f_shallow.iter())
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff < 1e-12, "{diff}");
    let _ = labels;
}

#[test]
fn loss_gap_falls_geometrically_to_the_shallow_optimum() {
    // (m, n, d): wide, narrower than n, and narrower than the output dimension.
    for (m, n, d) in [(20, 60, 3), (8, 80, 3), (4, 60, 10)] {
        let (phi, labels) = problem(m, n, d, 7);
        // Square loss: Armijo steps; the observed rate beats the gradient-flow bound.
        let mut mdl = model(m, d, 0.6, 8);
        let p = TrainParams::new(Loss::Square, 400, StepRule::Armijo { initial: 1.0 }).unwrap();
        let r = train(&mut mdl, phi.view(), labels.view(), &p).unwrap();
        let (g0, g_end) = (r.loss_gap[0], *r.loss_gap.last().unwrap());
        eprintln!(
            "square m={m} n={n} d={d}: gap {g0:.3e} → {g_end:.3e}, rate {:.4}, bound {:?}",
            r.observed_rate, r.bound_rate
        );
        assert!(g_end < 1e-6 * g0, "m={m}: gap {g0} → {g_end}");
        assert!(r.observed_rate < 1.0 && r.observed_rate <= r.bound_rate.unwrap() + 1e-12);
        assert!(
            r.loss.windows(2).all(|w| w[1] <= w[0] + 1e-12),
            "the loss rose"
        );
        // Cross-entropy needs data that no linear map separates, or the optimum is at infinity: random labels
        // on 10·m·d Gaussian samples are separable with negligible probability (Cover's count), while at n ≈ m·d
        // they often are. A finite optimum, reached to 1e-6 relative.
        let (phi, labels) = problem(m, 10 * m * d, d, 17);
        let mut mdl = model(m, d, 0.6, 9);
        let p =
            TrainParams::new(Loss::CrossEntropy, 600, StepRule::Armijo { initial: 1.0 }).unwrap();
        let r = train(&mut mdl, phi.view(), labels.view(), &p).unwrap();
        let g_end = *r.loss_gap.last().unwrap();
        eprintln!(
            "cross-entropy m={m}: gap {:.3e} → {g_end:.3e}, rate {:.4}",
            r.loss_gap[0], r.observed_rate
        );
        assert!(g_end < 1e-6 * r.l_star.max(1.0), "m={m}: final gap {g_end}");
    }
}

#[test]
fn shallow_optimum_is_the_least_squares_solution() {
    let (phi, labels) = problem(6, 30, 3, 11);
    let (l_star, w) = shallow_optimum(phi.view(), labels.view(), 3, Loss::Square).unwrap();
    // The normal equations WΦΦᵀ = YΦᵀ.
    let y = deq_kernels::delm::one_hot_targets(labels.view(), 3).unwrap();
    let lhs = w.dot(&phi).dot(&phi.t());
    let rhs = y.dot(&phi.t());
    assert!(lhs
        .iter()
        .zip(rhs.iter())
        .all(|(a, b)| (a - b).abs() < 1e-10));
    let resid = &w.dot(&phi) - &y;
    assert!((0.5 * resid.iter().map(|v| v * v).sum::<f64>() - l_star).abs() < 1e-10);
}

#[test]
fn induced_update_of_w_is_the_preconditioned_gradient() {
    // W_{k+1} − W_k = −ηP_t(∇_W L) + O(η²): (W_{k+1} − W_k)/η + P_t(∇_W L) falls like η.
    let (phi, labels) = problem(6, 20, 3, 13);
    let mdl = model(6, 3, 0.8, 14);
    let g = mdl
        .gradients(phi.view(), labels.view(), Loss::Square)
        .unwrap();
    let predicted = mdl.preconditioner(&g.w).unwrap();
    let w0 = mdl.shallow_weights().unwrap();
    let mut errors = Vec::new();
    for eta in [1e-3, 1e-4] {
        let next = Delm::new(&mdl.a - &(&g.a * eta), &mdl.b - &(&g.b * eta), 0.8).unwrap();
        let dw = (&next.shallow_weights().unwrap() - &w0) / eta;
        let err = dw
            .iter()
            .zip(predicted.iter())
            .fold(0f64, |m, (a, b)| m.max((a + b).abs()));
        errors.push(err);
    }
    let scale = predicted.iter().fold(0f64, |m, v| m.max(v.abs()));
    eprintln!("‖ΔW/η + P(G)‖∞ = {errors:?}, scale {scale:.3e}");
    assert!(
        errors[1] < 0.2 * errors[0] && errors[1] < 1e-3 * scale,
        "{errors:?}"
    );
    // P_t is positive definite: ⟨G, P(G)⟩ ≥ ‖G‖²/‖U‖₂² > 0.
    let inner: f64 = g.w.iter().zip(predicted.iter()).map(|(a, b)| a * b).sum();
    assert!(inner > 0.0);
    // The trust-region Newton step of the shallow model is a descent direction too; report how aligned.
    let norm = |x: &Array2<f64>| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let tr = trust_region_newton_step(phi.view(), &g.w, norm(&predicted)).unwrap();
    let cos = -tr
        .iter()
        .zip(predicted.iter())
        .map(|(a, b)| a * b)
        .sum::<f64>()
        / (norm(&tr) * norm(&predicted));
    let descent: f64 = tr.iter().zip(g.w.iter()).map(|(a, b)| a * b).sum();
    eprintln!("cos(−P(G), trust-region Newton step) = {cos:.3}");
    assert!(descent < 0.0 && cos > 0.0);
}

#[test]
fn bad_input_is_refused() {
    for gamma in [0.0, 1.0, -0.2, 1.5, f64::NAN] {
        assert!(
            Delm::new(
                gaussian_matrix(3, 3, 1.0, 1),
                gaussian_matrix(2, 3, 1.0, 2),
                gamma
            )
            .is_err(),
            "γ = {gamma}"
        );
    }
    assert!(Delm::new(
        gaussian_matrix(3, 4, 1.0, 3),
        gaussian_matrix(2, 3, 1.0, 4),
        0.5
    )
    .is_err());
    assert!(Delm::new(
        gaussian_matrix(3, 3, 1.0, 5),
        gaussian_matrix(2, 4, 1.0, 6),
        0.5
    )
    .is_err());
    let mdl = model(3, 2, 0.5, 1);
    let phi = gaussian_matrix(4, 5, 1.0, 7);
    let labels = Array1::from(vec![0i64, 1, 0, 1, 0]);
    assert!(
        mdl.forward(phi.view()).is_err(),
        "features of the wrong width"
    );
    let phi = gaussian_matrix(3, 5, 1.0, 8);
    assert!(mdl
        .loss(
            phi.view(),
            labels.slice(ndarray::s![..4]).view(),
            Loss::Square
        )
        .is_err());
    let bad = Array1::from(vec![0i64, 1, 2, 1, 0]);
    assert!(
        mdl.loss(phi.view(), bad.view(), Loss::Square).is_err(),
        "label beyond the outputs"
    );
    assert!(TrainParams::new(Loss::Square, 10, StepRule::Fixed(-1.0)).is_err());
    let x = Array2::from_elem((4, 3), f64::NAN);
    assert!(features(x.view(), None, 0).is_err());
}

/// Labels outside 0..d−1 (negative, equal to d, or absurdly large) reach none of the public entry points as an
/// index: each refuses them with a typed error naming the label (these indexed out of bounds before).
#[test]
fn labels_out_of_range_are_refused_everywhere() {
    use deq_kernels::delm::{loss_and_residual, one_hot_targets};
    use deq_kernels::Error;
    let (phi, _) = problem(4, 5, 3, 12);
    let f = gaussian_matrix(3, 5, 1.0, 13);
    for bad in [-1i64, 3, i64::MAX] {
        let labels = Array1::from(vec![0i64, 1, bad, 1, 0]);
        let named = |e: Error| {
            let text = e.to_string();
            assert!(text.contains(&format!("label {bad}")), "{text}");
        };
        named(one_hot_targets(labels.view(), 3).unwrap_err());
        for loss in [Loss::Square, Loss::CrossEntropy] {
            named(loss_and_residual(&f, labels.view(), loss).unwrap_err());
            named(shallow_optimum(phi.view(), labels.view(), 3, loss).unwrap_err());
        }
    }
    // The random-feature readout sizes its targets by the largest label: a huge one is an allocation error,
    // not an abort.
    let labels = Array1::from(vec![0i64, 1, i64::MAX / 16, 1, 0]);
    let fit = deq_kernels::network::features::RidgeReadout::fit(phi.t(), labels.view(), 1e-3);
    assert!(fit.is_err());
}
