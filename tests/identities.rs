//! Property tests of the Gaussian calculus (math §2–3): each identity checks one computation against an
//! independent one.

mod common;

use deq_kernels::activation::gauss::expect;
use deq_kernels::activation::{
    dual_kernel, dual_kernel_derivative, hermite_coefficients, hermite_coefficients_derivative,
    parse_activation, Activation, Builtin, Centered, Cov2, Custom, ScaleMoments,
};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::Error;
use proptest::prelude::*;

/// The same function with every closed form hidden, so the crate must integrate numerically.
fn without_closed_forms(b: Builtin) -> Custom {
    Custom::new(format!("{}(quadrature)", b.name()), move |x| b.value(x))
        .with_derivative(move |x| b.derivative(x))
        .with_kinks(&b.kinks())
}

const SMOOTH: [&str; 8] = [
    "tanh", "erf", "gelu", "silu", "softplus", "sigmoid", "sin", "cos",
];
const CLOSED: [&str; 9] = [
    "relu",
    "leaky_relu:0.2",
    "lrelu:1.3,-0.4",
    "erf",
    "sin",
    "cos",
    "hardtanh:0.7,1.1",
    "quadratic:0.3,-0.8,0.45",
    "lrelu:-0.5,0.9",
];

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// m₁, m₂ and q by the Stein forms (no derivative) equal the forms that use σ′:
    /// m₁ = E[σ′], m₂ = E[ξσ′(τξ)]/τ, q = 2E[ξσ̄σ′(τξ)]/τ.
    #[test]
    fn stein_forms_equal_derivative_forms(idx in 0usize..10, tau in 0.2f64..3.0) {
        let names = ["tanh", "erf", "gelu", "silu", "softplus", "sigmoid", "sin", "elu:0.7", "lrelu:1.3,-0.4", "hardtanh:0.7,1.1"];
        let act = parse_activation(names[idx]).unwrap();
        let m = ScaleMoments::by_quadrature(&act, tau).unwrap();
        let kinks: Vec<f64> = act.kinks().iter().map(|k| k / tau).collect();
        let m1 = expect(|x| act.derivative(tau * x), &kinks);
        let m2 = expect(|x| x * act.derivative(tau * x), &kinks) / tau;
        let q = 2.0 * expect(|x| x * (act.value(tau * x) - m.m0) * act.derivative(tau * x), &kinks) / tau;
        prop_assert!((m.m1 - m1).abs() < 1e-12, "{}: m1 {} vs {}", names[idx], m.m1, m1);
        prop_assert!((m.m2 - m2).abs() < 1e-11 / tau, "{}: m2 {} vs {}", names[idx], m.m2, m2);
        prop_assert!((m.q - q).abs() < 1e-11 / tau, "{}: q {} vs {}", names[idx], m.q, q);
    }

    /// Closed-form moments equal quadrature of the same function.
    #[test]
    fn closed_moments_equal_quadrature(idx in 0usize..9, tau in 0.2f64..3.0) {
        let b = parse_activation(CLOSED[idx]).unwrap();
        let c = ScaleMoments::compute(&b, tau).unwrap();
        let q = ScaleMoments::by_quadrature(&without_closed_forms(b), tau).unwrap();
        let scale = 1.0 + tau * tau;
        for (name, x, y) in [("m0", c.m0, q.m0), ("m1", c.m1, q.m1), ("m2", c.m2 * tau, q.m2 * tau),
                             ("v", c.v, q.v), ("q", c.q, q.q), ("d", c.d.unwrap(), q.d.unwrap())] {
            prop_assert!((x - y).abs() < 1e-11 * scale, "{} {}: closed {} vs quadrature {}", CLOSED[idx], name, x, y);
        }
    }

    /// Closed-form dual kernels equal 2-D quadrature, correlations up to ±1.
    #[test]
    fn closed_duals_equal_quadrature(idx in 0usize..9, s1 in 0.3f64..1.8, s2 in 0.3f64..1.8, rho in -1.0f64..=1.0) {
        let b = parse_activation(CLOSED[idx]).unwrap();
        if b.closed_dual(&Cov2::new(1.0, 1.0, 0.5).unwrap()).is_none() {
            return Ok(());
        }
        let c = Cov2::new(s1 * s1, s2 * s2, rho * s1 * s2).unwrap();
        let quad = without_closed_forms(b);
        let (k, kq) = (dual_kernel(&b, &c), dual_kernel(&quad, &c));
        prop_assert!((k - kq).abs() < 1e-11, "{}: k closed {} vs quadrature {}", CLOSED[idx], k, kq);
        // The derivative kernel of a kinked σ jumps in ρ at ±1 (ρ = ±1 is a measure-zero limit): test inside.
        if rho.abs() < 0.999 {
            let (d, dq) = (dual_kernel_derivative(&b, &c).unwrap(), dual_kernel_derivative(&quad, &c).unwrap());
            prop_assert!((d - dq).abs() < 1e-11, "{}: kdot closed {} vs quadrature {}", CLOSED[idx], d, dq);
        }
    }

    /// Mehler: Σ_k a_k(σ; s₁)a_k(σ; s₂)ρ^k equals 2-D quadrature of E[σ(u)σ(v)], and the same for σ′.
    #[test]
    fn hermite_series_equals_quadrature(idx in 0usize..8, s1 in 0.3f64..1.6, s2 in 0.3f64..1.6, rho in -0.95f64..0.95) {
        let act = without_closed_forms(parse_activation(SMOOTH[idx]).unwrap());
        let c = Cov2::new(s1 * s1, s2 * s2, rho * s1 * s2).unwrap();
        let terms = 200;
        let (a1, a2) = (hermite_coefficients(&act, s1, terms).unwrap(), hermite_coefficients(&act, s2, terms).unwrap());
        let series: f64 = (0..terms).map(|k| a1[k] * a2[k] * rho.powi(k as i32)).sum();
        let quad = dual_kernel(&act, &c);
        prop_assert!((series - quad).abs() < 1e-11, "{}: series {} vs quadrature {}", SMOOTH[idx], series, quad);
        let (d1, d2) = (hermite_coefficients_derivative(&act, s1, terms).unwrap(), hermite_coefficients_derivative(&act, s2, terms).unwrap());
        let dseries: f64 = (0..terms).map(|k| d1[k] * d2[k] * rho.powi(k as i32)).sum();
        let dquad = dual_kernel_derivative(&act, &c).unwrap();
        prop_assert!((dseries - dquad).abs() < 1e-11, "{}: derivative series {} vs quadrature {}", SMOOTH[idx], dseries, dquad);
    }

    /// Price: ∂E[σ(u)σ(v)]/∂Σ₁₂ = E[σ′(u)σ′(v)], by a central difference (step h = 1e-4, error O(h²)).
    #[test]
    fn price_identity(idx in 0usize..9, s1 in 0.5f64..1.5, s2 in 0.5f64..1.5, rho in -0.9f64..0.9) {
        let names = ["relu", "tanh", "erf", "gelu", "sin", "lrelu:1.3,-0.4", "softplus", "elu:0.7", "hardtanh:0.7,1.1"];
        let act = parse_activation(names[idx]).unwrap();
        let c12 = rho * s1 * s2;
        let h = 1e-4;
        let k = |c: f64| dual_kernel(&act, &Cov2::new(s1 * s1, s2 * s2, c).unwrap());
        let fd = (k(c12 + h) - k(c12 - h)) / (2.0 * h);
        let kd = dual_kernel_derivative(&act, &Cov2::new(s1 * s1, s2 * s2, c12).unwrap()).unwrap();
        prop_assert!((fd - kd).abs() < 1e-6, "{}: finite difference {} vs E[σ′σ′] {}", names[idx], fd, kd);
    }

    /// Cauchy–Schwarz: |E[σ(u)σ(v)]| ≤ √(E[σ(u)²]E[σ(v)²]).
    #[test]
    fn cauchy_schwarz(idx in 0usize..8, s1 in 0.2f64..2.5, s2 in 0.2f64..2.5, rho in -1.0f64..=1.0) {
        let act = parse_activation(SMOOTH[idx]).unwrap();
        let k = dual_kernel(&act, &Cov2::new(s1 * s1, s2 * s2, rho * s1 * s2).unwrap());
        let k1 = dual_kernel(&act, &Cov2::new(s1 * s1, s1 * s1, s1 * s1).unwrap());
        let k2 = dual_kernel(&act, &Cov2::new(s2 * s2, s2 * s2, s2 * s2).unwrap());
        prop_assert!(k.abs() <= (k1 * k2).sqrt() * (1.0 + 1e-12) + 1e-15);
    }

    /// Positive homogeneity of the piecewise-linear family: m₀, √v scale with c; m₁, q do not; m₂ ∝ 1/c;
    /// E[σσ] scales with c² and E[σ′σ′] not at all.
    #[test]
    fn lrelu_positive_homogeneity(a in -2.0f64..2.0, b in -2.0f64..2.0, tau in 0.3f64..2.0, c in 0.2f64..5.0, rho in -0.99f64..0.99) {
        let act = without_closed_forms(Builtin::LRelu { a, b });
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
    fn value_slice_equals_value(idx in 0usize..17, xs in prop::collection::vec(-6.0f64..6.0, 0..40), tau in 0.3f64..2.0) {
        let name = if idx < 8 { SMOOTH[idx] } else { CLOSED[idx - 8] };
        let act = parse_activation(name).unwrap();
        let centered = Centered::at_scale(act, tau).unwrap();
        let mut out = vec![f64::NAN; xs.len()];
        act.value_slice(&xs, &mut out);
        for (o, &x) in out.iter().zip(&xs) {
            prop_assert_eq!(o.to_bits(), act.value(x).to_bits(), "{} at {}", name, x);
        }
        centered.value_slice(&xs, &mut out);
        for (o, &x) in out.iter().zip(&xs) {
            prop_assert_eq!(o.to_bits(), centered.value(x).to_bits(), "centered {} at {}", name, x);
        }
    }

    /// a₀ = m₀, a₁ = τm₁, a₂ = τ²m₂/√2 (math §2).
    #[test]
    fn low_hermite_coefficients_are_moments(idx in 0usize..8, tau in 0.2f64..2.5) {
        let act = parse_activation(SMOOTH[idx]).unwrap();
        let m = ScaleMoments::compute(&act, tau).unwrap();
        let h = hermite_coefficients(&act, tau, 3).unwrap();
        prop_assert!((h[0] - m.m0).abs() < 1e-13);
        prop_assert!((h[1] - tau * m.m1).abs() < 1e-13);
        prop_assert!((h[2] - tau * tau * m.m2 / 2f64.sqrt()).abs() < 1e-12);
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// Kernel matrices are exactly symmetric and positive semi-definite.
    #[test]
    fn kernel_matrices_symmetric_psd(idx in 0usize..6, depth in 1usize..4, w2 in 0.3f64..2.0, b2 in 0.0f64..0.5, seed in 0u64..1000) {
        let names = ["relu", "tanh", "erf", "gelu", "lrelu:1.3,-0.4", "softplus"];
        let x = common::gaussian_data(24, 10, 1.0, seed);
        let params = MlpParams::new(parse_activation(names[idx]).unwrap(), depth, w2, b2).unwrap();
        let (k, _) = mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress).unwrap();
        for m in k {
            for i in 0..24 {
                for j in 0..i {
                    prop_assert_eq!(m[[i, j]], m[[j, i]]);
                }
            }
            let ev = common::eigenvalues(&m);
            prop_assert!(ev[0] >= -1e-12 * ev[23].abs() * 24.0, "{}: λ_min = {}", names[idx], ev[0]);
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
