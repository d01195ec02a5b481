//! The stable invariant model (math §10): back-propagation against finite differences, the random Fourier layer
//! against its kernel and the Monte-Carlo error formula, training, reduced-rank ridge regression against a
//! direct minimization, the closed-form SIM, f32 against f64, and bad input.

use deq_kernels::delm::Loss;
use deq_kernels::progress::NoProgress;
use deq_kernels::sim::closed_form::{reduced_rank_ridge, ridge, ridge_objective, ClosedFormSim};
use deq_kernels::sim::layers::Stage;
use deq_kernels::sim::train::{accuracy, loss_and_gradient, predict, train, TrainParams};
use deq_kernels::sim::{
    Basis, FourierFeatures, FrequencyLaw, RandomFourier, RffParams, Sim, SimParams, Tier,
};
use deq_kernels::testing::gaussian_matrix;
use deq_kernels::Error;
use ndarray::{Array1, Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Three classes in p dimensions: means 4·e_c, unit Gaussian noise (Bayes accuracy ≈ 99.5%).
fn mixture(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<i64>) {
    let mut x = gaussian_matrix(n, p, 1.0, seed);
    let labels = Array1::from_shape_fn(n, |i| (i % 3) as i64);
    for (i, &c) in labels.iter().enumerate() {
        x[[i, c as usize]] += 4.0;
    }
    (x, labels)
}

fn rff(dim: usize, bw: f64, law: FrequencyLaw, features: FourierFeatures) -> RffParams {
    RffParams::new(dim, bw, law, features).unwrap()
}

/// Small SIMs of every shape: one tier on an MLP basis, two tiers (cos/sin Gaussian, cos-with-phase Cauchy), and
/// the Fourier SIM (identity basis under a Fourier tier). Fourier tiers of about `d` features with bandwidth
/// `bw`, and hidden layers of `width`.
fn small_sims(p: usize, d: usize, bw: f64, width: usize) -> Vec<(&'static str, SimParams)> {
    let base = SimParams::single(p, 3)
        .with_basis(Basis::Mlp { width })
        .with_basis_dim(6)
        .with_rev_dim(width);
    vec![
        ("single", base),
        (
            "two, cos/sin, Gaussian",
            base.with_tier(Tier::Two(rff(
                d,
                bw,
                FrequencyLaw::Gaussian,
                FourierFeatures::CosSin,
            ))),
        ),
        (
            "two, cos with phase, Cauchy",
            base.with_tier(Tier::Two(rff(
                d + 1,
                bw,
                FrequencyLaw::Cauchy,
                FourierFeatures::CosPhase,
            )))
            .with_rank(3),
        ),
        (
            "Fourier",
            base.with_basis(Basis::Identity).with_tier(Tier::Two(rff(
                d + 2,
                bw,
                FrequencyLaw::Gaussian,
                FourierFeatures::CosSin,
            ))),
        ),
    ]
}

/// Fourier tiers wide enough, bandwidths near the data's scale, and hidden layers wide enough that ReLU units
/// do not all die, for the mixtures below to be learnable.
fn trainable_sims(p: usize) -> Vec<(&'static str, SimParams)> {
    small_sims(p, 48, 4.0, 16)
}

/// Every weight's gradient against a central difference (h = 1e-6, f64): |g − fd| ≤ 1e-6·(1 + |g|), for both
/// losses and every SIM shape. ReLU kinks are measure-zero for these random inputs.
#[test]
fn gradients_equal_finite_differences() {
    let (x, labels) = mixture(9, 4, 1);
    let y: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    for (name, params) in small_sims(4, 8, 1.5, 5) {
        for loss in [Loss::CrossEntropy, Loss::Square] {
            let sim = Sim::<f64>::new(params, 3).unwrap();
            let (_, grads) = loss_and_gradient(&sim.stack, x.view(), &y, loss);
            let mut checked = 0;
            for (s, g) in grads.iter().enumerate() {
                let Some(g) = g else {
                    assert!(!matches!(sim.stack.stages[s], Stage::Dense(_)));
                    continue;
                };
                let Stage::Dense(layer) = &sim.stack.stages[s] else {
                    panic!("a gradient for a stage without weights")
                };
                let mut entries: Vec<(usize, usize, f64)> = Vec::new();
                for ((i, j), &gij) in g.weight.indexed_iter() {
                    entries.push((i, j, gij));
                }
                if let Some(gb) = &g.bias {
                    for (i, &gi) in gb.iter().enumerate() {
                        entries.push((i, usize::MAX, gi));
                    }
                }
                for (i, j, analytic) in entries {
                    let at = |delta: f64| {
                        let mut moved = sim.clone();
                        let Stage::Dense(l) = &mut moved.stack.stages[s] else {
                            unreachable!()
                        };
                        if j == usize::MAX {
                            l.bias.as_mut().unwrap()[i] += delta;
                        } else {
                            l.weight[[i, j]] += delta;
                        }
                        loss_and_gradient(&moved.stack, x.view(), &y, loss).0
                    };
                    let h = 1e-6;
                    let fd = (at(h) - at(-h)) / (2.0 * h);
                    assert!(
                        (analytic - fd).abs() <= 1e-6 * (1.0 + analytic.abs()),
                        "{name}, {loss:?}, stage {s} ({}×{}), entry ({i}, {j}): {analytic} vs {fd}",
                        layer.outputs(),
                        layer.inputs()
                    );
                    checked += 1;
                }
            }
            assert_eq!(checked, sim.parameter_count(), "{name}");
        }
    }
}

/// The Fourier layer's inner products estimate its kernel: the mean over 40 draws of z(h)·z(h′) is within 5
/// standard errors of exp(−‖δ‖²/(2bw²)) (Gaussian) or exp(−‖δ‖₁/bw) (Cauchy), with the per-draw standard
/// deviation √(((1 + k(2δ))/2 − k²)/(D/2)) for cos/sin and √(((1 + k(2δ))/2 − k² + ½)/D) for cos with phase.
#[test]
fn fourier_features_estimate_their_kernel() {
    let h = ndarray::array![[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]];
    let delta: Vec<f64> = (0..3).map(|j| h[[0, j]] - h[[1, j]]).collect();
    let bw = 0.8;
    for law in [FrequencyLaw::Gaussian, FrequencyLaw::Cauchy] {
        let kernel = |scale: f64| match law {
            FrequencyLaw::Gaussian => (-(scale * scale) * delta.iter().map(|d| d * d).sum::<f64>()
                / (2.0 * bw * bw))
                .exp(),
            FrequencyLaw::Cauchy => {
                (-scale * delta.iter().map(|d| d.abs()).sum::<f64>() / bw).exp()
            }
        };
        let (k, k2) = (kernel(1.0), kernel(2.0));
        for features in [FourierFeatures::CosSin, FourierFeatures::CosPhase] {
            let d = 512;
            let sd = match features {
                FourierFeatures::CosSin => (((1.0 + k2) / 2.0 - k * k) / (d as f64 / 2.0)).sqrt(),
                FourierFeatures::CosPhase => (((1.0 + k2) / 2.0 - k * k + 0.5) / d as f64).sqrt(),
            };
            let draws = 40;
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let mean = (0..draws)
                .map(|_| {
                    let layer = RandomFourier::<f64>::draw(rff(d, bw, law, features), 3, &mut rng);
                    let z = layer.forward(h.view());
                    z.row(0).dot(&z.row(1))
                })
                .sum::<f64>()
                / draws as f64;
            let se = sd / (draws as f64).sqrt();
            assert!(
                (mean - k).abs() < 5.0 * se,
                "{law:?} {features:?}: {mean} vs {k} (standard error {se:e})"
            );
        }
    }
}

/// The root-mean-square error of one draw's estimate falls like D^(−1/2): the measured RMS over 400 draws at
/// D = 32, 128, 512 matches the formula within 15% (the sampling error of an RMS over 400 draws is ~3.5%), so
/// the log-log slope is −½.
#[test]
fn fourier_error_falls_like_the_inverse_square_root_of_the_dimension() {
    let h: Array2<f64> = ndarray::array![[0.2, 0.7], [-0.4, 0.1]];
    let bw = 1.0;
    let s2: f64 = (0..2).map(|j| (h[[0, j]] - h[[1, j]]).powi(2)).sum::<f64>();
    let (k, k2) = ((-s2 / 2.0).exp(), (-4.0 * s2 / 2.0).exp());
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut rms = Vec::new();
    for d in [32usize, 128, 512] {
        let params = rff(d, bw, FrequencyLaw::Gaussian, FourierFeatures::CosSin);
        let draws = 400;
        let mse = (0..draws)
            .map(|_| {
                let z = RandomFourier::<f64>::draw(params, 2, &mut rng).forward(h.view());
                (z.row(0).dot(&z.row(1)) - k).powi(2)
            })
            .sum::<f64>()
            / draws as f64;
        let formula = (((1.0 + k2) / 2.0 - k * k) / (d as f64 / 2.0)).sqrt();
        assert!(
            (mse.sqrt() / formula - 1.0).abs() < 0.15,
            "D = {d}: RMS {} vs formula {formula}",
            mse.sqrt()
        );
        rms.push(mse.sqrt());
    }
    let slope = (rms[2] / rms[0]).ln() / (512f64 / 32.0).ln();
    assert!((slope + 0.5).abs() < 0.08, "slope {slope}");
}

/// Adam on a three-class mixture: the loss falls, accuracy on fresh data beats 95%, and the same seed gives the
/// same weights bit for bit (a different seed does not).
#[test]
fn training_learns_and_is_reproducible() {
    let (x, labels) = mixture(600, 8, 2);
    let (xt, lt) = mixture(300, 8, 3);
    let yt: Vec<usize> = lt.iter().map(|&l| l as usize).collect();
    for (name, params) in trainable_sims(8) {
        for loss in [Loss::CrossEntropy, Loss::Square] {
            let tp = TrainParams::new(loss, 15, 32, 1e-2, 4).unwrap();
            let mut a = Sim::<f64>::new(params, 9).unwrap();
            let report = train(&mut a.stack, x.view(), labels.view(), &tp, &NoProgress).unwrap();
            let first = report.epoch_loss[0];
            let last = *report.epoch_loss.last().unwrap();
            let acc = accuracy(predict(&a.stack, xt.view(), 64).view(), &yt);
            assert!(last < 0.5 * first, "{name} {loss:?}: loss {first} → {last}");
            assert!(acc > 0.95, "{name} {loss:?}: test accuracy {acc}");
            let mut b = Sim::<f64>::new(params, 9).unwrap();
            train(&mut b.stack, x.view(), labels.view(), &tp, &NoProgress).unwrap();
            assert_eq!(
                a.stack.forward(xt.view()),
                b.stack.forward(xt.view()),
                "{name}: not reproducible"
            );
            let other = TrainParams::new(loss, 15, 32, 1e-2, 5).unwrap();
            let mut c = Sim::<f64>::new(params, 9).unwrap();
            train(&mut c.stack, x.view(), labels.view(), &other, &NoProgress).unwrap();
            assert_ne!(a.stack.forward(xt.view()), c.stack.forward(xt.view()));
        }
    }
}

/// f32 and f64 SIMs drawn from one seed hold the same weights up to rounding, and their outputs agree to
/// 1e-5 relative; training in f32 learns as well.
#[test]
fn single_precision_matches_double() {
    let (x, labels) = mixture(600, 8, 6);
    let x32 = x.mapv(|v| v as f32);
    for (name, params) in trainable_sims(8) {
        let a = Sim::<f64>::new(params, 1).unwrap();
        let b = Sim::<f32>::new(params, 1).unwrap();
        let (ya, yb) = (a.forward(x.view()).unwrap(), b.forward(x32.view()).unwrap());
        let scale = ya.iter().fold(0f64, |m, v| m.max(v.abs()));
        let worst = ya
            .iter()
            .zip(yb.iter())
            .fold(0f64, |m, (p, q)| m.max((p - *q as f64).abs()));
        assert!(worst <= 1e-5 * scale, "{name}: {worst} against {scale}");
        let mut c = Sim::<f32>::new(params, 1).unwrap();
        let tp = TrainParams::new(Loss::CrossEntropy, 15, 32, 1e-2, 2).unwrap();
        let r = train(&mut c.stack, x32.view(), labels.view(), &tp, &NoProgress).unwrap();
        let (first, last) = (r.epoch_loss[0], *r.epoch_loss.last().unwrap());
        assert!(last < 0.5 * first, "{name}: f32 loss {first} → {last}");
    }
}

/// J(B) of a rank-1 coefficient matrix B = c·uᵀ with u = (cos θ, sin θ), minimized over c in closed form (ridge
/// on the targets' projection) and over θ by a grid then golden-section search: an independent minimization.
fn brute_force_rank_one(phi: ArrayView2<f64>, t: ArrayView2<f64>, lambda: f64) -> f64 {
    let j = |theta: f64| {
        let u = ndarray::array![theta.cos(), theta.sin()];
        let tu = t.dot(&u).insert_axis(ndarray::Axis(1));
        let (c, _) = ridge(phi, tu.view(), lambda).unwrap();
        let b = c.dot(&u.insert_axis(ndarray::Axis(0)));
        ridge_objective(phi, t, b.view(), lambda)
    };
    let grid = 2000;
    let (mut best, mut at) = (f64::INFINITY, 0.0);
    for g in 0..grid {
        let theta = std::f64::consts::PI * g as f64 / grid as f64;
        let v = j(theta);
        if v < best {
            (best, at) = (v, theta);
        }
    }
    let (mut a, mut b) = (
        at - std::f64::consts::PI / grid as f64,
        at + std::f64::consts::PI / grid as f64,
    );
    let phi_g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let (c, d) = (b - phi_g * (b - a), a + phi_g * (b - a));
        if j(c) < j(d) {
            b = d;
        } else {
            a = c;
        }
    }
    j(0.5 * (a + b)).min(best)
}

/// Reduced-rank ridge regression: J(B_r) computed directly equals J(B̂) + Σ_{i>r}σᵢ², the rank-1 optimum equals
/// an independent minimization over all rank-1 matrices, B_r has rank r, and r ≥ rank(T) gives B̂ itself.
#[test]
fn reduced_rank_ridge_is_the_constrained_optimum() {
    for (seed, lambda) in [(1u64, 0.0), (2, 0.3), (3, 5.0)] {
        let phi = gaussian_matrix(40, 6, 1.0, seed);
        let t = gaussian_matrix(40, 2, 1.0, seed + 10)
            + phi.dot(&gaussian_matrix(6, 2, 1.0, seed + 20));
        let fit = reduced_rank_ridge(phi.view(), t.view(), lambda, 1).unwrap();
        let direct = ridge_objective(phi.view(), t.view(), fit.coefficients.view(), lambda);
        assert!(
            (direct - fit.objective).abs() <= 1e-10 * direct,
            "λ = {lambda}: {direct} vs {}",
            fit.objective
        );
        let brute = brute_force_rank_one(phi.view(), t.view(), lambda);
        assert!(
            (brute - fit.objective).abs() <= 1e-9 * brute,
            "λ = {lambda}: brute force {brute} vs {}",
            fit.objective
        );
        assert!(fit.objective > fit.ridge_objective);
        let full = reduced_rank_ridge(phi.view(), t.view(), lambda, 2).unwrap();
        let diff = (&full.coefficients - &full.ridge)
            .iter()
            .fold(0f64, |m, v| m.max(v.abs()));
        assert!(diff < 1e-12, "r ≥ rank(T): {diff}");
        assert!((full.objective - full.ridge_objective).abs() < 1e-12 * full.objective);
    }
    // Targets of rank 2 in k = 4 columns: rank 2 already reaches the ridge optimum, rank 1 does not.
    let phi = gaussian_matrix(50, 5, 1.0, 7);
    let t = gaussian_matrix(50, 2, 1.0, 8).dot(&gaussian_matrix(2, 4, 1.0, 9));
    let r2 = reduced_rank_ridge(phi.view(), t.view(), 0.1, 2).unwrap();
    assert!((r2.objective - r2.ridge_objective).abs() < 1e-9 * r2.objective);
    assert!(r2.singular_values[2] < 1e-6 * r2.singular_values[0]);
    let r1 = reduced_rank_ridge(phi.view(), t.view(), 0.1, 1).unwrap();
    assert!(r1.objective > r2.objective * (1.0 + 1e-6));
}

/// The closed-form SIM: with r ≥ k and λ → 0 its predictions are the least-squares fit of the one-hot labels on
/// the tier features (to 1e-6; λ = 1e-13 shrinks by λ/λ_min(ΦᵀΦ) ≈ 1e-9 here); on random bases it classifies
/// the mixture far above chance.
#[test]
fn closed_form_sim_fits_the_mixture() {
    let (x, labels) = mixture(300, 8, 12);
    let (xt, lt) = mixture(300, 8, 13);
    let yt: Vec<usize> = lt.iter().map(|&l| l as usize).collect();
    // Few Fourier features keep ΦᵀΦ well conditioned, so λ → 0 is meaningful.
    for (name, params) in small_sims(8, 8, 1.5, 7) {
        let sim = Sim::<f64>::new(params, 2).unwrap();
        let fitted = ClosedFormSim::fit(&sim, x.view(), labels.view(), 1e-13).unwrap();
        assert_eq!(fitted.rank(), params.rank().min(3));
        let pred = fitted.predict(&sim, x.view()).unwrap();
        // Least squares with an intercept on the tier features.
        let phi = sim.tier_features(x.view()).unwrap();
        let mut design = Array2::ones((phi.nrows(), phi.ncols() + 1));
        design.slice_mut(ndarray::s![.., 1..]).assign(&phi);
        let mut onehot = Array2::<f64>::zeros((300, 3));
        for (i, &l) in labels.iter().enumerate() {
            onehot[[i, l as usize]] = 1.0;
        }
        let (b, _) = ridge(design.view(), onehot.view(), 1e-13).unwrap();
        let ls = design.dot(&b);
        let diff = (&pred - &ls).iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(diff < 1e-6, "{name}: {diff}");
    }
    for (name, params) in trainable_sims(8) {
        let sim = Sim::<f64>::new(params, 2).unwrap();
        let fitted = ClosedFormSim::fit(&sim, x.view(), labels.view(), 1e-3).unwrap();
        let acc = accuracy(fitted.predict(&sim, xt.view()).unwrap().view(), &yt);
        // An untrained basis keeps only part of the classes' separation (6 random ReLU features of 8
        // inputs); far above chance (1/3) is what the fit can promise.
        assert!(acc > 0.8, "{name}: {acc}");
    }
}

#[test]
fn bad_settings_and_data_are_refused() {
    let bad_rff = [
        RffParams::new(7, 1.0, FrequencyLaw::Gaussian, FourierFeatures::CosSin),
        RffParams::new(0, 1.0, FrequencyLaw::Gaussian, FourierFeatures::CosPhase),
        RffParams::new(8, 0.0, FrequencyLaw::Gaussian, FourierFeatures::CosSin),
        RffParams::new(8, -1.0, FrequencyLaw::Cauchy, FourierFeatures::CosSin),
        RffParams::new(8, f64::NAN, FrequencyLaw::Cauchy, FourierFeatures::CosSin),
    ];
    for r in bad_rff {
        assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{r:?}");
    }
    assert!(RffParams::new(7, 1.0, FrequencyLaw::Gaussian, FourierFeatures::CosPhase).is_ok());
    assert!(SimParams::single(4, 3).with_bandwidth(1.0).is_err());
    assert!(SimParams::two(4, 3).with_bandwidth(0.0).is_err());
    match SimParams::two(4, 3).with_bandwidth(3.0).unwrap().tier {
        Tier::Two(r) => assert_eq!((r.bandwidth(), r.dim()), (3.0, 104)),
        Tier::Single => panic!("the tier changed"),
    }
    let base = SimParams::single(4, 3);
    for p in [
        base.with_rank(51),
        base.with_rank(0),
        base.with_basis_dim(0),
        base.with_rev_dim(0),
        base.with_basis(Basis::Mlp { width: 0 }),
        base.with_basis(Basis::Identity).with_basis_dim(5),
        SimParams::two(4, 3).with_rank(105),
    ] {
        assert!(Sim::<f64>::new(p, 0).is_err(), "{p:?}");
    }
    let sim = Sim::<f64>::new(base, 0).unwrap();
    let (x, _) = mixture(6, 4, 1);
    let tp = TrainParams::paper(1, 0).unwrap();
    let mut s = sim.clone();
    let out_of_range = Array1::from(vec![0i64, 1, 2, 3, 0, 1]);
    assert!(matches!(
        train(
            &mut s.stack,
            x.view(),
            out_of_range.view(),
            &tp,
            &NoProgress
        ),
        Err(Error::Shape { .. })
    ));
    let negative = Array1::from(vec![0i64, 1, -1, 2, 0, 1]);
    assert!(train(&mut s.stack, x.view(), negative.view(), &tp, &NoProgress).is_err());
    let short = Array1::from(vec![0i64, 1]);
    assert!(train(&mut s.stack, x.view(), short.view(), &tp, &NoProgress).is_err());
    let mut nan = x.clone();
    nan[[2, 1]] = f64::NAN;
    let labels = Array1::from(vec![0i64, 1, 2, 0, 1, 2]);
    assert!(matches!(
        train(&mut s.stack, nan.view(), labels.view(), &tp, &NoProgress),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        sim.forward(nan.view()),
        Err(Error::NonFinite { .. })
    ));
    let wide = gaussian_matrix(3, 5, 1.0, 1);
    assert!(matches!(sim.forward(wide.view()), Err(Error::Shape { .. })));
    assert!(ClosedFormSim::fit(&sim, x.view(), out_of_range.view(), 0.1).is_err());
    assert!(TrainParams::new(Loss::Square, 0, 8, 1e-3, 0).is_err());
    assert!(TrainParams::new(Loss::Square, 1, 0, 1e-3, 0).is_err());
    assert!(TrainParams::new(Loss::Square, 1, 8, -1e-3, 0).is_err());
    assert!(reduced_rank_ridge(x.view(), x.view(), -1.0, 1).is_err());
    assert!(reduced_rank_ridge(x.view(), x.view(), 0.1, 0).is_err());
}

/// The DEQ of the comparison: gradients by implicit differentiation (forward and adjoint fixed points by
/// Anderson to 1e-13) against central differences of the loss at the fixed point, |g − fd| ≤ 1e-6(1 + |g|), for
/// every weight of U, b, W, W_out and c, both losses.
#[test]
fn deq_gradients_by_implicit_differentiation_equal_finite_differences() {
    use deq_kernels::sim::compare::{ImplicitClassifier, SolveCounts};
    let (x, labels) = mixture(10, 4, 21);
    let y: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    for loss in [Loss::CrossEntropy, Loss::Square] {
        let deq = ImplicitClassifier::new(4, 6, 3, 1e-13, 500, 3).unwrap();
        let mut counts = SolveCounts::default();
        let (_, grads) = deq
            .loss_and_gradients(x.view(), &y, loss, &mut counts)
            .unwrap();
        assert_eq!(counts.unconverged, 0);
        let value = |m: &ImplicitClassifier| {
            let out = m.predict(x.view()).unwrap();
            deq_kernels::sim::train::loss_and_output_gradient(out.view(), &y, loss).0
        };
        let mut checked = 0;
        for (layer, g) in grads.iter().enumerate() {
            let mut entries: Vec<(usize, usize, f64)> = g
                .weight
                .indexed_iter()
                .map(|((i, j), &v)| (i, j, v))
                .collect();
            if let Some(b) = &g.bias {
                entries.extend(b.iter().enumerate().map(|(i, &v)| (i, usize::MAX, v)));
            }
            for (i, j, analytic) in entries {
                let at = |delta: f64| {
                    let mut m = deq.clone();
                    let d = match layer {
                        0 => &mut m.input,
                        1 => &mut m.recurrent,
                        _ => &mut m.readout,
                    };
                    if j == usize::MAX {
                        d.bias.as_mut().unwrap()[i] += delta;
                    } else {
                        d.weight[[i, j]] += delta;
                    }
                    value(&m)
                };
                let h = 1e-6;
                let fd = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (analytic - fd).abs() <= 1e-6 * (1.0 + analytic.abs()),
                    "{loss:?}, layer {layer}, entry ({i}, {j}): {analytic} vs {fd}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, deq.parameter_count());
    }
}

/// The comparison runs every model on a small mixture: parameter counts of the DEQ and the MLP within 2% of the
/// single-tier SIM's, every model above 90% test accuracy, the DEQ's iteration counts reported.
#[test]
fn comparison_of_matched_models_runs() {
    use deq_kernels::sim::compare::{compare, CompareParams, ComparedModel};
    let (x, labels) = mixture(600, 8, 31);
    let (xt, lt) = mixture(300, 8, 32);
    let params = CompareParams {
        train: TrainParams::new(Loss::CrossEntropy, 4, 32, 3e-3, 0).unwrap(),
        runs: 2,
        bandwidth: 4.0,
        deq_tol: 1e-8,
        deq_max_iter: 100,
    };
    let models = [
        ComparedModel::SimSingle,
        ComparedModel::SimTwo,
        ComparedModel::Deq,
        ComparedModel::Mlp,
    ];
    let rows = compare(
        &models,
        x.view(),
        labels.view(),
        xt.view(),
        lt.view(),
        3,
        &params,
        &NoProgress,
    )
    .unwrap();
    let sim = rows[0].params as f64;
    for row in &rows {
        assert!(row.test_accuracy_mean > 0.9, "{row:?}");
        if row.model == "deq" || row.model == "mlp" {
            assert!(
                (row.params as f64 / sim - 1.0).abs() < 0.02,
                "{row:?} against {sim}"
            );
        }
    }
    let deq = &rows[2];
    assert!(deq.forward_iterations.unwrap() >= 1.0 && deq.backward_iterations.unwrap() >= 1.0);
    assert!(rows[0].forward_iterations.is_none());
}
