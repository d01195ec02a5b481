//! Reference values of math §2 (moments, Hermite coefficients) and §3 (dual kernels).

use deq_kernels::activation::{
    dual_kernel, dual_kernel_derivative, hermite_coefficients, parse_activation, Activation,
    Builtin, Cov2, ScaleMoments,
};

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.12}, want {want:.12} (tol {tol:e})"
    );
}

/// docs/math.md values are printed to 6 significant digits: half a unit of the last digit.
const SIX: f64 = 5e-7;

#[test]
fn lrelu_moments_spec_check() {
    // math §2: (a, b, τ) = (1.3, −0.4, 0.8)
    let act = parse_activation("lrelu:1.3,-0.4").unwrap();
    for m in [
        ScaleMoments::compute(&act, 0.8).unwrap(),
        ScaleMoments::by_quadrature(&act, 0.8).unwrap(),
    ] {
        close(m.m1 * m.m1, 0.2025, SIX, "m1²");
        close(m.m2 * m.m2, 0.718684, SIX, "m2²");
        close(m.q, 0.930084, SIX, "q");
        close(m.v.sqrt(), 0.545552, SIX, "√v");
        close(m.m0, 0.542562, SIX, "m0");
    }
}

#[test]
fn hardtanh_moments_spec_check() {
    // math §2: (a, c, τ) = (0.7, 1.1, 0.9)
    let act = parse_activation("hardtanh:0.7,1.1").unwrap();
    for m in [
        ScaleMoments::compute(&act, 0.9).unwrap(),
        ScaleMoments::by_quadrature(&act, 0.9).unwrap(),
    ] {
        close(m.m1 * m.m1, 0.296876, SIX, "m1²");
        close(m.q, 0.309978, SIX, "q");
        close(m.v.sqrt(), 0.506894, SIX, "√v");
        assert_eq!(m.m0, 0.0);
        assert_eq!(m.m2, 0.0);
    }
}

#[test]
fn relu_moments_closed_forms() {
    let pi = std::f64::consts::PI;
    for tau in [0.3, 1.0, 2.7] {
        let m = ScaleMoments::by_quadrature(&Builtin::Relu, tau).unwrap();
        let s = (2.0 * pi).sqrt();
        close(m.m0, tau / s, 1e-14, "m0");
        close(m.m1, 0.5, 1e-14, "m1");
        close(m.m2, 1.0 / (tau * s), 1e-13, "m2");
        close(m.v, tau * tau * (0.5 - 1.0 / (2.0 * pi)), 1e-14, "v");
        close(m.q, 1.0 - 1.0 / pi, 1e-13, "q");
        close(m.d.unwrap(), 0.5, 1e-14, "d");
    }
}

#[test]
fn centered_quadratic_moments() {
    // math §2: c₂x² + c₁x − c₂τ²: m₀ = 0, m₁ = c₁, m₂ = 2c₂, v = 2c₂²τ⁴ + c₁²τ², q = 2(4c₂²τ² + c₁²)
    let (c1, c2, tau) = (0.7, -0.45, 1.3);
    let act = Builtin::Quadratic {
        c0: -c2 * tau * tau,
        c1,
        c2,
    };
    for m in [
        ScaleMoments::compute(&act, tau).unwrap(),
        ScaleMoments::by_quadrature(&act, tau).unwrap(),
    ] {
        close(m.m0, 0.0, 1e-13, "m0");
        close(m.m1, c1, 1e-13, "m1");
        close(m.m2, 2.0 * c2, 1e-13, "m2");
        close(
            m.v,
            2.0 * c2 * c2 * tau.powi(4) + c1 * c1 * tau * tau,
            1e-13,
            "v",
        );
        close(m.q, 2.0 * (4.0 * c2 * c2 * tau * tau + c1 * c1), 1e-12, "q");
    }
}

#[test]
fn tanh_moments_at_unit_scale() {
    // math §2: m₁ = 0.605706, E[tanh²] = 0.394294, d = 0.464403
    let m = ScaleMoments::compute(&Builtin::Tanh, 1.0).unwrap();
    close(m.m1, 0.605706, SIX, "m1");
    close(m.second_moment(), 0.394294, SIX, "E[tanh²]");
    close(m.d.unwrap(), 0.464403, SIX, "d");
    assert_eq!(m.m0, 0.0);
}

#[test]
fn relu_hermite_coefficients() {
    // math §2: unit-variance ReLU coefficients, and a_k(relu; s) = s·c_k.
    let c = [
        0.398942, 0.5, 0.282095, 0.0, -0.081434, 0.0, 0.044603, 0.0, -0.029802, 0.0, 0.021990,
    ];
    for s in [1.0, 0.6, 2.2] {
        let a = hermite_coefficients(&Builtin::Relu, s, c.len()).unwrap();
        for (k, (&ak, &ck)) in a.iter().zip(&c).enumerate() {
            close(ak, s * ck, s * SIX, &format!("a_{k}(relu; {s})"));
        }
    }
}

#[test]
fn relu_dual_references() {
    let relu = Builtin::Relu;
    let cases = [
        ((1.0, 1.0, 0.0), 0.159154943, 0.25),
        ((1.0, 1.0, 0.5), 0.304498891, 0.333333333),
        ((1.0, 1.0, 0.99), 0.495150128, 0.477473293),
        ((1.0, 1.0, -0.3), f64::NAN, 0.201506658),
        ((0.8, 1.3, -0.3), 0.095027028, f64::NAN),
    ];
    for ((s1, s2, rho), k, kdot) in cases {
        let c = Cov2::new(s1 * s1, s2 * s2, rho * s1 * s2).unwrap();
        if k.is_finite() {
            close(dual_kernel(&relu, &c), k, 5e-10, "relu k");
        }
        if kdot.is_finite() {
            close(
                dual_kernel_derivative(&relu, &c).unwrap(),
                kdot,
                5e-10,
                "relu kdot",
            );
        }
    }
}

#[test]
fn erf_tanh_sin_gelu_dual_references() {
    let erf = Builtin::Erf;
    for ((s11, s22, s12), k, kd) in [
        ((1.0, 1.0, 0.5), 0.21634690, 0.45015816),
        ((0.5, 2.0, 0.3), 0.12152685, 0.41008284),
        ((2.0, 2.0, -1.2), -0.31872669, 0.29027363),
    ] {
        let c = Cov2::new(s11, s22, s12).unwrap();
        close(dual_kernel(&erf, &c), k, 5e-9, "erf k");
        close(
            dual_kernel_derivative(&erf, &c).unwrap(),
            kd,
            5e-9,
            "erf kdot",
        );
    }
    let tanh = Builtin::Tanh;
    for (rho, k, kd) in [(0.5, 0.18632441, 0.38474703), (1.0, 0.39429449, 0.46440290)] {
        let c = Cov2::new(1.0, 1.0, rho).unwrap();
        close(dual_kernel(&tanh, &c), k, 5e-9, "tanh k");
        close(
            dual_kernel_derivative(&tanh, &c).unwrap(),
            kd,
            5e-9,
            "tanh kdot",
        );
    }
    let c = Cov2::new(1.0, 1.0, 0.6).unwrap();
    close(dual_kernel(&Builtin::Sin, &c), 0.234211764, 5e-10, "sin k");
    // GELU (math §3): values from 200×200-node Gauss–Hermite quadrature of xΦ(x) and Φ(x) + xφ(x).
    for ((s11, s22, s12), k, kd) in [
        ((1.0, 1.0, 0.5), 0.227294915022, 0.342267242459),
        ((0.3, 2.0, -0.6), -0.066643916597, 0.130571882652),
        ((2.0, 2.0, 1.99), 0.917197960656, 0.487474468790),
    ] {
        let c = Cov2::new(s11, s22, s12).unwrap();
        close(dual_kernel(&Builtin::Gelu, &c), k, 1e-11, "gelu k");
        close(
            dual_kernel_derivative(&Builtin::Gelu, &c).unwrap(),
            kd,
            1e-11,
            "gelu kdot",
        );
    }
}

#[test]
fn parse_roundtrip_and_errors() {
    for s in [
        "relu",
        "leaky_relu:0.1",
        "lrelu:1.3,-0.4",
        "tanh",
        "erf",
        "sigmoid",
        "gelu",
        "silu",
        "softplus",
        "elu:0.5",
        "sin",
        "cos",
        "hardtanh:0.7,1.1",
        "quadratic:0.1,0.2,0.3",
    ] {
        let a = parse_activation(s).unwrap();
        assert_eq!(a.name(), s);
        assert_eq!(parse_activation(&a.name()).unwrap(), a);
    }
    assert_eq!(parse_activation("swish").unwrap(), Builtin::Silu);
    assert_eq!(
        parse_activation("elu").unwrap(),
        Builtin::Elu { alpha: 1.0 }
    );
    for bad in [
        "relu6",
        "lrelu:1",
        "lrelu:1,x",
        "hardtanh:1,0",
        "quadratic:1,2",
        "tanh:1",
        "lrelu:1,nan",
    ] {
        let e = parse_activation(bad).unwrap_err();
        assert!(
            matches!(e, deq_kernels::Error::UnknownActivation { .. }),
            "{bad}: {e}"
        );
    }
}
