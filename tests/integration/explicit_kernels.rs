//! Exact explicit-network kernels (math §4) against independent computations.

use crate::common::{eigenvalues, gaussian_data, max_abs_diff};
use deq_kernels::activation::{parse_activation, ActivationRef, Centered, Custom};
use deq_kernels::kernel::explicit::{mlp_kernel_pair, mlp_kernels, DenseLayer, MlpParams};
use deq_kernels::kernel::{gram, Kernel};
use deq_kernels::progress::NoProgress;
use deq_kernels::Error;
use ndarray::{array, Array2};

fn act(s: &str) -> ActivationRef {
    parse_activation(s).unwrap().into()
}

/// The CK and NTK of `params` on `x`.
fn ck_ntk<T: deq_kernels::Real>(params: &MlpParams, x: &Array2<f64>) -> [Array2<T>; 2] {
    mlp_kernels::<T, 2>(params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)
        .unwrap()
        .0
}

/// Every matrix entry equals the pair recursion evaluated with direct dual kernels (closed form or 2-D
/// quadrature, no Hermite series).
fn check_against_pairs(params: &MlpParams, x: &Array2<f64>, tol: f64) {
    check_against_pairs_ck_ntk(params, x, tol, tol)
}

fn check_against_pairs_ck_ntk(params: &MlpParams, x: &Array2<f64>, tol: f64, ntk_tol: f64) {
    let name = params
        .layers()
        .iter()
        .map(|l| l.activation.name())
        .collect::<Vec<_>>()
        .join("+");
    let [ck, ntk] = ck_ntk::<f64>(params, x);
    // The same Gram matrix as the library's: near ρ = 1 a derivative kernel with a jump (hard-tanh) has
    // ∂k̇/∂ρ ~ 1/√(1−ρ²), so a last-bit difference in xᵀy would move the NTK by more than the tolerance.
    let g = gram(x.view()).unwrap();
    let n = x.nrows();
    for i in 0..n {
        for j in 0..=i {
            let (_, c, t) = mlp_kernel_pair(params, g[[i, i]], g[[j, j]], g[[i, j]]).unwrap();
            let t = t.unwrap();
            assert!(
                (ck[[i, j]] - c).abs() <= tol * c.abs().max(1.0),
                "{name}: CK ({i},{j}): {} vs {c}",
                ck[[i, j]]
            );
            assert!(
                (ntk[[i, j]] - t).abs() <= ntk_tol * t.abs().max(1.0),
                "{name}: NTK ({i},{j}): {} vs {t}",
                ntk[[i, j]]
            );
        }
    }
}

#[test]
fn matrix_equals_pairwise_recursion() {
    let x = gaussian_data(8, 7, 1.0, 1);
    for name in [
        "relu",
        "erf",
        "tanh",
        "gelu",
        "lrelu:1.3,-0.4",
        "sin",
        "softplus",
        "hardtanh:0.7,1.1",
    ] {
        let params = MlpParams::new(act(name), 3, 1.3, 0.1).unwrap();
        check_against_pairs(&params, &x, 1e-11);
    }
}

#[test]
fn near_duplicate_inputs_stay_accurate() {
    // Correlations within 1e-6 of 1 and exactly −1: the Hermite path must fall back where its bound fails.
    let mut x = gaussian_data(6, 5, 1.0, 2);
    for j in 0..5 {
        x[[1, j]] = x[[0, j]] * (1.0 + 1e-7 * j as f64);
        x[[2, j]] = -x[[0, j]];
    }
    for name in ["tanh", "gelu"] {
        let params = MlpParams::new(act(name), 2, 1.0, 0.05).unwrap();
        check_against_pairs(&params, &x, 1e-11);
    }
    // σ′ jumps for these, so k̇ has ∂k̇/∂ρ ~ 1/√(1−ρ²): at 1 − ρ ≈ 1e-14 (second layer) a rounding
    // difference of 1e-16 in Σ moves k̇ by ~1e-9. The CK stays Lipschitz and is held to 1e-11.
    for name in ["hardtanh:0.7,1.1", "elu:0.8"] {
        let params = MlpParams::new(act(name), 2, 1.0, 0.05).unwrap();
        check_against_pairs_ck_ntk(&params, &x, 1e-11, 1e-8);
    }
}

#[test]
fn relu_one_layer_is_the_arccosine_kernel() {
    // Closed form: CK = ‖x‖‖y‖(sin θ + (π−θ)cos θ)/(2π); NTK = CK + xᵀy(π−θ)/(2π).
    let x = gaussian_data(9, 4, 2.0, 3);
    let params = MlpParams::new(act("relu"), 1, 1.0, 0.0).unwrap();
    let [kck, kntk] = ck_ntk::<f64>(&params, &x);
    let g = x.dot(&x.t());
    let pi = std::f64::consts::PI;
    for i in 0..9 {
        for j in 0..9 {
            let (a, b) = (g[[i, i]].sqrt(), g[[j, j]].sqrt());
            // On the diagonal ρ is 1 exactly (ρ = g/√(g·g) may round to 1 − ε, where the step kernel has
            // infinite slope; the library snaps |ρ| within 4ε of 1).
            let rho = if i == j {
                1.0
            } else {
                (g[[i, j]] / (a * b)).clamp(-1.0, 1.0)
            };
            let t = rho.acos();
            let ck = a * b * ((1.0 - rho * rho).sqrt() + (pi - t) * rho) / (2.0 * pi);
            let ntk = ck + g[[i, j]] * (pi - t) / (2.0 * pi);
            assert!((kck[[i, j]] - ck).abs() < 1e-12);
            assert!((kntk[[i, j]] - ntk).abs() < 1e-12);
        }
    }
}

#[test]
fn two_layer_erf_closed_form() {
    // Independent: apply the arcsine formula twice by hand, with σ_w² = 2, σ_b² = 0.3.
    let x = array![[0.3, -0.2, 0.9], [1.1, 0.4, -0.5], [-0.7, 0.8, 0.1]];
    let (w2, b2) = (2.0, 0.3);
    let params = MlpParams::new(act("erf"), 2, w2, b2).unwrap();
    let [kck, kntk] = ck_ntk::<f64>(&params, &x);
    let g = x.dot(&x.t());
    let pi = std::f64::consts::PI;
    let ek = |a: f64, b: f64, c: f64| {
        (2.0 / pi) * (2.0 * c / ((1.0 + 2.0 * a) * (1.0 + 2.0 * b)).sqrt()).asin()
    };
    let ekd = |a: f64, b: f64, c: f64| {
        (4.0 / pi) / ((1.0 + 2.0 * a) * (1.0 + 2.0 * b) - 4.0 * c * c).sqrt()
    };
    for i in 0..3 {
        for j in 0..3 {
            let s = |a: usize, b: usize| w2 * g[[a, b]] + b2;
            let (s11, s22, s12) = (s(i, i), s(j, j), s(i, j));
            let (k11, k22, k12) = (ek(s11, s11, s11), ek(s22, s22, s22), ek(s11, s22, s12));
            let kd1 = ekd(s11, s22, s12);
            let t = |v: f64| w2 * v + b2;
            let (u11, u22, u12) = (t(k11), t(k22), t(k12));
            let ck = ek(u11, u22, u12);
            let theta2 = u12 + w2 * s12 * kd1;
            let ntk = ck + theta2 * ekd(u11, u22, u12);
            assert!((kck[[i, j]] - ck).abs() < 1e-12);
            assert!((kntk[[i, j]] - ntk).abs() < 1e-12);
        }
    }
}

#[test]
fn per_layer_variances_and_activations() {
    let x = gaussian_data(8, 6, 1.0, 4);
    let layers = vec![
        DenseLayer::new(act("lrelu:0.96,0.59"), 1.0, 0.0),
        DenseLayer::new(act("tanh"), 0.7, 0.2),
        DenseLayer::new(act("gelu"), 1.8, 0.05),
    ];
    check_against_pairs(&MlpParams::from_layers(layers).unwrap(), &x, 1e-11);
}

#[test]
fn f32_output_is_the_rounded_f64() {
    let x = gaussian_data(20, 10, 1.0, 5);
    let params = MlpParams::new(act("tanh"), 3, 1.0, 0.1).unwrap();
    let a = ck_ntk::<f64>(&params, &x);
    let b = ck_ntk::<f32>(&params, &x);
    for (m64, m32) in a.iter().zip(&b) {
        for (x64, x32) in m64.iter().zip(m32.iter()) {
            assert_eq!(*x64 as f32, *x32);
        }
    }
}

#[test]
fn kernels_are_symmetric_and_psd() {
    let x = gaussian_data(60, 20, 1.0, 6);
    for name in ["relu", "tanh", "gelu", "erf"] {
        let params = MlpParams::new(act(name), 3, 1.0, 0.1).unwrap();
        for m in ck_ntk::<f64>(&params, &x) {
            assert_eq!(
                max_abs_diff(&m, &m.t().to_owned()),
                0.0,
                "{name}: not symmetric"
            );
            let ev = eigenvalues(&m);
            let tol = 1e-12 * ev.last().unwrap().abs() * 60.0;
            assert!(ev[0] >= -tol, "{name}: λ_min = {}", ev[0]);
        }
    }
}

#[test]
fn kernels_come_in_the_order_asked_and_each_alone_equals_its_share_of_all() {
    // Σ_L, K_L and the NTK asked in any order and any subset give the same matrices; Σ_L of one layer is
    // σ_w²·XXᵀ + σ_b²; a kernel asked twice is refused.
    let x = gaussian_data(13, 3, 1.0, 7);
    let params = MlpParams::new(act("relu"), 2, 1.3, 0.2).unwrap();
    let run = |kinds: &[Kernel]| -> Vec<Array2<f64>> {
        match kinds {
            [a] => mlp_kernels::<f64, 1>(&params, x.view(), [*a], &NoProgress)
                .unwrap()
                .0
                .to_vec(),
            [a, b] => mlp_kernels::<f64, 2>(&params, x.view(), [*a, *b], &NoProgress)
                .unwrap()
                .0
                .to_vec(),
            [a, b, c] => mlp_kernels::<f64, 3>(&params, x.view(), [*a, *b, *c], &NoProgress)
                .unwrap()
                .0
                .to_vec(),
            _ => unreachable!(),
        }
    };
    let all = run(&[Kernel::Nngp, Kernel::Ck, Kernel::Ntk]);
    let index = |k: Kernel| {
        [Kernel::Nngp, Kernel::Ck, Kernel::Ntk]
            .iter()
            .position(|&q| q == k)
            .unwrap()
    };
    for kinds in [
        vec![Kernel::Ntk, Kernel::Nngp, Kernel::Ck],
        vec![Kernel::Ck, Kernel::Ntk],
        vec![Kernel::Ntk, Kernel::Ck],
        vec![Kernel::Nngp],
        vec![Kernel::Ck],
        vec![Kernel::Ntk],
    ] {
        for (k, m) in kinds.iter().zip(run(&kinds)) {
            assert_eq!(m, all[index(*k)], "{k} in {kinds:?}");
        }
    }
    let one = MlpParams::new(act("tanh"), 1, 1.3, 0.2).unwrap();
    let ([nngp], _) = mlp_kernels::<f64, 1>(&one, x.view(), [Kernel::Nngp], &NoProgress).unwrap();
    let g = x.dot(&x.t());
    assert!(nngp
        .iter()
        .zip(g.iter())
        .all(|(s, g)| (s - (1.3 * g + 0.2)).abs() < 1e-14));
    assert!(matches!(
        mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ck], &NoProgress),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn bad_input_is_refused() {
    let params = MlpParams::new(act("relu"), 2, 1.0, 0.0).unwrap();
    let mut x = gaussian_data(4, 3, 1.0, 8);
    x[[2, 1]] = f64::NAN;
    assert!(matches!(
        mlp_kernels::<f64, 1>(&params, x.view(), [Kernel::Ck], &NoProgress),
        Err(Error::NonFinite { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        mlp_kernels::<f64, 1>(&params, empty.view(), [Kernel::Ck], &NoProgress),
        Err(Error::Shape { .. })
    ));
    assert!(MlpParams::new(act("relu"), 0, 1.0, 0.0).is_err());
    assert!(MlpParams::new(act("relu"), 2, -1.0, 0.0).is_err());
    assert!(MlpParams::new(act("relu"), 2, 1.0, f64::NAN).is_err());
    let params = MlpParams::new(Custom::new("cube", |x| x * x * x), 1, 1.0, 0.0).unwrap();
    let x = gaussian_data(4, 3, 1.0, 9);
    assert!(matches!(
        mlp_kernels::<f64, 1>(&params, x.view(), [Kernel::Ntk], &NoProgress),
        Err(Error::Undefined { .. })
    ));
    assert!(mlp_kernels::<f64, 1>(&params, x.view(), [Kernel::Ck], &NoProgress).is_ok());
}

#[test]
fn blocked_entries_match_pairs_including_near_duplicates() {
    // n = 20 puts entries in full blocks of 8 (rows ≥ 8) and in the scalar remainder; rows 17 and 18 are a
    // near-copy and the negation of row 0 so blocks contain correlations at ±1.
    let mut x = gaussian_data(20, 6, 1.0, 11);
    for j in 0..6 {
        x[[17, j]] = x[[0, j]] * (1.0 + 1e-8 * j as f64);
        x[[18, j]] = -x[[0, j]];
    }
    let params = MlpParams::new(act("tanh"), 2, 1.2, 0.05).unwrap();
    check_against_pairs(&params, &x, 1e-11);
}

#[test]
fn vectorized_closed_forms_match_pairs() {
    // Blocks of 8 use a vectorized arccos/arcsin and per-sample constants; rows ≥ 8 go through them. A zero
    // row with σ_b² = 0 gives zero-variance entries, which sit at the ReLU kink.
    let mut x = gaussian_data(21, 6, 1.0, 12);
    x.row_mut(13).fill(0.0);
    for j in 0..6 {
        x[[19, j]] = -x[[2, j]];
        x[[20, j]] = 2.0 * x[[4, j]];
    }
    let relu = parse_activation("relu").unwrap();
    let erf = parse_activation("erf").unwrap();
    // Rows 19 and 20 are at correlation −1 and +1, where the step kernel (π − arccos ρ)/(2π) has infinite slope:
    // a last-bit difference in ρ moves it by ~√ε ≈ 1e-8, so the NTK of the ReLU family is held to 1e-8 there
    // (erf is smooth and held to 1e-12 everywhere).
    let acts: Vec<(ActivationRef, f64)> = vec![
        (act("relu"), 1e-8),
        (act("lrelu:1.3,-0.4"), 1e-8),
        (act("leaky_relu:0.1"), 1e-8),
        (act("erf"), 1e-12),
        (Centered::new(relu, 0.37).into(), 1e-8),
        (Centered::new(erf, -0.2).into(), 1e-12),
    ];
    for (a, ntk_tol) in acts {
        for (w2, b2) in [(1.0, 0.0), (1.7, 0.2)] {
            let params = MlpParams::new(a.clone(), 3, w2, b2).unwrap();
            check_against_pairs_ck_ntk(&params, &x, 1e-12, ntk_tol);
        }
    }
    // Away from ±1 the ReLU-family NTK is as exact as everything else.
    let y = gaussian_data(21, 6, 1.0, 13);
    for name in ["relu", "lrelu:1.3,-0.4"] {
        check_against_pairs(&MlpParams::new(act(name), 3, 1.3, 0.1).unwrap(), &y, 1e-12);
    }
}
