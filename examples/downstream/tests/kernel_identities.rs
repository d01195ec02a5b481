//! Property tests of kernel identities, written as a user of the crate writes them: a new activation given as a
//! closure, random covariances and DEQ parameters from proptest, checks through the public API only.

use deq_kernels::activation::{dual_kernel, dual_kernel_derivative, ActivationRef, Cov2, Custom};
use deq_kernels::kernel::implicit::{deq_kernels, DeqParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use proptest::prelude::*;

/// f(x) = a·tanh(x) + b·x + c·x², a smooth activation the crate has no closed form for.
fn user_activation(a: f64, b: f64, c: f64) -> ActivationRef {
    Custom::new("user", move |x: f64| a * x.tanh() + b * x + c * x * x)
        .with_derivative(move |x: f64| a * (1.0 - x.tanh().powi(2)) + b + 2.0 * c * x)
        .into()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Price's identity: ∂E[f(u)f(v)]/∂Cov(u, v) = E[f′(u)f′(v)], by a central difference of the dual kernel.
    #[test]
    fn price_identity(a in -1.5f64..1.5, b in -1.0f64..1.0, c in -0.5f64..0.5,
                      s11 in 0.2f64..2.0, s22 in 0.2f64..2.0, r in -0.9f64..0.9) {
        let f = user_activation(a, b, c);
        let s12 = r * (s11 * s22).sqrt();
        let h = 1e-4 * (s11 * s22).sqrt();
        let k = |s12: f64| dual_kernel(&f, &Cov2::new(s11, s22, s12).unwrap());
        let slope = (k(s12 + h) - k(s12 - h)) / (2.0 * h);
        let kdot = dual_kernel_derivative(&f, &Cov2::new(s11, s22, s12).unwrap()).unwrap();
        // The difference quotient's error is O(h²·k‴) plus the quadrature's 1e-13 divided by h.
        prop_assert!((slope - kdot).abs() <= 1e-6 * kdot.abs().max(1.0), "{slope} vs {kdot}");
    }

    /// The Implicit-NTK's diagonal: K*_ii = G*_ii/(1 − σ_a²·E[φ′(u)²]) with u ~ N(0, Σ*_ii), φ the centered
    /// activation the report names; and K* ≥ G* entrywise there.
    #[test]
    fn implicit_ntk_diagonal(a in 0.5f64..1.5, b in -0.5f64..0.5, sa2 in 0.05f64..0.4, seed in 0u64..1000) {
        let f = user_activation(a, b, 0.0);
        let x = ndarray::Array2::from_shape_fn((5, 3), |(i, j)| {
            (((i * 7 + j * 13) as u64 * 2654435761 + seed) % 1000) as f64 / 1000.0 - 0.5
        });
        let deq = DeqParams::new(f.clone(), sa2).unwrap();
        let ([sigma, g, k], report) =
            deq_kernels::<f64, 3>(&deq, x.view(), [Kernel::Nngp, Kernel::Ck, Kernel::Ntk], &NoProgress)
                .unwrap();
        let phi: ActivationRef = deq_kernels::activation::Centered::new(f, report.centering).into();
        for i in 0..5 {
            let v = sigma[[i, i]];
            let gdot = dual_kernel_derivative(&phi, &Cov2::new(v, v, v).unwrap()).unwrap();
            let want = g[[i, i]] / (1.0 - sa2 * gdot);
            prop_assert!((k[[i, i]] - want).abs() <= 1e-10 * want.abs(), "{} vs {want}", k[[i, i]]);
            prop_assert!(k[[i, i]] >= g[[i, i]]);
        }
    }
}
