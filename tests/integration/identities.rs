//! Property tests of the Gaussian calculus (math §2–3): each identity checks one computation against an
//! independent one.

use deq_kernels::activation::{
    dual_kernel, dual_kernel_derivative, hermite_coefficients, Activation, Builtin, Centered, Cov2,
    Custom, ScaleMoments,
};
use deq_kernels::kernel::explicit::mlp_kernels;
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::testing::{
    activations, builtin_activations, check_cauchy_schwarz, check_closed_forms,
    check_hermite_coefficients, check_kernel_matrix, check_mehler_series, check_price,
    check_stein_moments, covariances, covariances_within, mlp_params, quadrature_twin, samples,
    scales, Check,
};
use deq_kernels::Error;
use proptest::prelude::*;

/// `cases` per property unless PROPTEST_CASES asks for more (or fewer).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn all_hold(checks: Vec<Check>) -> std::result::Result<(), TestCaseError> {
    for check in checks {
        prop_assert!(check.holds(), "{}", check);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// m₁, m₂ and q by the Stein forms (no derivative) equal the forms that use σ′.
    #[test]
    fn stein_forms_equal_derivative_forms(act in activations(), tau in scales()) {
        all_hold(check_stein_moments(&act, tau).unwrap())?;
    }

    /// Closed-form moments and dual kernels equal quadrature of the same function, correlations up to ±1.
    #[test]
    fn closed_forms_equal_quadrature(act in builtin_activations(), tau in scales(), c in covariances()) {
        all_hold(check_closed_forms(&act, tau, &c).unwrap())?;
    }

    /// The exact GELU's closed forms (math §3) equal 2-D quadrature of xΦ(x) and Φ(x) + xφ(x) to 1e-12 of
    /// √(k(a,a)·k(b,b)), correlations up to ±1, and its closed moments equal quadrature to 1e-12.
    #[test]
    fn gelu_closed_forms_equal_quadrature(c in covariances(), tau in scales()) {
        let twin = quadrature_twin(&Builtin::Gelu);
        let diag = |s: f64| Cov2::new(s, s, s).unwrap();
        let scale = |f: &dyn Fn(&Cov2) -> f64| (f(&diag(c.s11)) * f(&diag(c.s22))).sqrt();
        let k = |c: &Cov2| dual_kernel(&Builtin::Gelu, c);
        let kd = |c: &Cov2| dual_kernel_derivative(&Builtin::Gelu, c).unwrap();
        let err = (k(&c) - dual_kernel(&twin, &c)).abs() / scale(&k);
        prop_assert!(err < 1e-12, "E[σσ] at {:?}: relative error {:e}", c, err);
        let err = (kd(&c) - dual_kernel_derivative(&twin, &c).unwrap()).abs() / scale(&kd);
        prop_assert!(err < 1e-12, "E[σ′σ′] at {:?}: relative error {:e}", c, err);
        let (m, mq) = (ScaleMoments::compute(&Builtin::Gelu, tau).unwrap(), ScaleMoments::by_quadrature(&twin, tau).unwrap());
        let t2 = tau * tau;
        for (name, x, y, unit) in [("m₀", m.m0, mq.m0, t2), ("m₁", m.m1, mq.m1, 1.0), ("m₂", m.m2, mq.m2, 1.0),
                                   ("v", m.v, mq.v, t2), ("q", m.q, mq.q, 1.0), ("d", m.d.unwrap(), mq.d.unwrap(), 1.0)] {
            prop_assert!((x - y).abs() < 1e-12 * unit.max(1.0), "{} at τ = {}: {} vs {}", name, tau, x, y);
        }
    }

    /// Mehler: the Hermite series of E[σ(u)σ(v)] and E[σ′(u)σ′(v)] equal 2-D quadrature within the series'
    /// Parseval tail bound (closed forms hidden, so both sides are computed from σ alone).
    #[test]
    fn hermite_series_equals_quadrature(act in activations(), c in covariances_within(0.95)) {
        all_hold(check_mehler_series(&quadrature_twin(&act), &c, 200).unwrap())?;
    }

    /// Price: ∂E[σ(u)σ(v)]/∂Σ₁₂ = E[σ′(u)σ′(v)], by a central difference.
    #[test]
    fn price_identity(act in activations(), c in covariances()) {
        all_hold(vec![check_price(&act, &c).unwrap()])?;
    }

    /// Cauchy–Schwarz: |E[σ(u)σ(v)]| ≤ √(E[σ(u)²]E[σ(v)²]).
    #[test]
    fn cauchy_schwarz(act in activations(), c in covariances()) {
        all_hold(vec![check_cauchy_schwarz(&act, &c).unwrap()])?;
    }

    /// a₀ = m₀, a₁ = τm₁, a₂ = τ²m₂/√2 and Parseval (math §2).
    #[test]
    fn low_hermite_coefficients_are_moments(act in activations(), tau in scales()) {
        all_hold(check_hermite_coefficients(&act, tau, 40).unwrap())?;
    }

    /// Positive homogeneity of the piecewise-linear family: m₀, √v scale with c; m₁, q do not; m₂ ∝ 1/c;
    /// E[σσ] scales with c² and E[σ′σ′] not at all.
    #[test]
    fn lrelu_positive_homogeneity(a in -2.0f64..2.0, b in -2.0f64..2.0, tau in 0.3f64..2.0, c in 0.2f64..5.0, rho in -0.99f64..0.99) {
        let act = quadrature_twin(&Builtin::LRelu { a, b });
        let (m, mc) = (ScaleMoments::compute(&act, tau).unwrap(), ScaleMoments::compute(&act, c * tau).unwrap());
        let tol = 1e-12 * (1.0 + a.abs() + b.abs()).powi(2) * (1.0 + c);
        prop_assert!((mc.m0 - c * m.m0).abs() < tol * tau);
        prop_assert!((mc.m1 - m.m1).abs() < tol);
        prop_assert!((mc.m2 * c - m.m2).abs() < tol / tau);
        prop_assert!((mc.v - c * c * m.v).abs() < tol * tau * tau * c);
        prop_assert!((mc.q - m.q).abs() < tol / tau);
        let cov = Cov2::new(1.0, 1.3, rho * 1.3f64.sqrt()).unwrap();
        let cov_c = Cov2::new(c * c, 1.3 * c * c, c * c * rho * 1.3f64.sqrt()).unwrap();
        prop_assert!((dual_kernel(&act, &cov_c) - c * c * dual_kernel(&act, &cov)).abs() < tol * c);
        prop_assert!((dual_kernel_derivative(&act, &cov_c).unwrap() - dual_kernel_derivative(&act, &cov).unwrap()).abs() < tol);
    }

    /// An odd σ (declared as nothing) has m₀ = m₂ = 0 and vanishing even Hermite coefficients.
    #[test]
    fn odd_activation_moments_vanish(tau in 0.2f64..3.0, c in 0.1f64..2.0) {
        let odd = Custom::new("odd", move |x: f64| x * x * x / (1.0 + c * x * x) + (x / (1.0 + x.abs())))
            .with_kinks(&[0.0]);
        let m = ScaleMoments::by_quadrature(&odd, tau).unwrap();
        let scale = 1.0 + tau.powi(3) / c;
        prop_assert!(m.m0.abs() < 1e-14 * scale);
        prop_assert!((m.m2 * tau * tau).abs() < 1e-13 * scale);
        let h = hermite_coefficients(&odd, tau, 12).unwrap();
        for k in (0..12).step_by(2) {
            prop_assert!(h[k].abs() < 1e-13 * scale, "a_{} = {}", k, h[k]);
        }
    }

    /// The slice form of every built-in (and of its centered version) is the scalar form, entry by entry.
    #[test]
    fn value_slice_equals_value(act in builtin_activations(), xs in prop::collection::vec(-6.0f64..6.0, 0..40), tau in scales()) {
        let centered = Centered::at_scale(act, tau).unwrap();
        let mut out = vec![f64::NAN; xs.len()];
        act.value_slice(&xs, &mut out);
        for (o, &x) in out.iter().zip(&xs) {
            prop_assert_eq!(o.to_bits(), act.value(x).to_bits(), "{:?} at {}", act, x);
        }
        centered.value_slice(&xs, &mut out);
        for (o, &x) in out.iter().zip(&xs) {
            prop_assert_eq!(o.to_bits(), centered.value(x).to_bits(), "centered {:?} at {}", act, x);
        }
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// Kernel matrices of fully connected networks are exactly symmetric, satisfy Cauchy–Schwarz entrywise and
    /// are positive semi-definite.
    #[test]
    fn kernel_matrices_symmetric_psd(params in mlp_params(), x in samples(2usize..30, 4usize..16)) {
        let (k, _) = mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress).unwrap();
        for m in k {
            all_hold(check_kernel_matrix(m.view(), 4.0).unwrap())?;
        }
    }
}

#[test]
fn bad_arguments_give_typed_errors() {
    let relu = Builtin::Relu;
    for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            ScaleMoments::compute(&relu, tau),
            Err(Error::InvalidParameter { name: "tau", .. })
        ));
    }
    assert!(matches!(
        hermite_coefficients(&relu, -0.5, 3),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Cov2::new(1.0, 1.0, 1.5),
        Err(Error::NotPsd { .. })
    ));
    assert!(matches!(
        Cov2::new(-1.0, 1.0, 0.0),
        Err(Error::NotPsd { .. })
    ));
    assert!(matches!(
        Cov2::new(1.0, f64::NAN, 0.0),
        Err(Error::NonFinite { .. })
    ));
    let no_derivative = Custom::new("cube", |x| x * x * x);
    let c = Cov2::new(1.0, 1.0, 0.2).unwrap();
    assert!(matches!(
        dual_kernel_derivative(&no_derivative, &c),
        Err(Error::Undefined { .. })
    ));
    let step = Custom::new("step", |x| if x > 0.0 { 1.0 } else { 0.0 })
        .with_kinks(&[0.0])
        .discontinuous();
    assert!(matches!(
        dual_kernel_derivative(&step, &c),
        Err(Error::Undefined { .. })
    ));
    // The value kernel of a step is fine: E[1{u>0}1{v>0}] = (π − arccos ρ)/(2π).
    let k = dual_kernel(&step, &c);
    assert!(
        (k - (std::f64::consts::PI - 0.2f64.acos()) / (2.0 * std::f64::consts::PI)).abs() < 1e-12
    );
    assert!(ScaleMoments::compute(&step, 1.0).unwrap().d.is_none());
}
