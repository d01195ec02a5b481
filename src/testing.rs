//! A kit for property tests of kernel identities (feature `testing`): proptest strategies for activations,
//! scales, covariances, DEQ and MLP parameters, Gaussian mixtures and data, and checkers that measure one
//! identity against its tolerance and return a [`Check`] (the identity, the measured deviation, the tolerance,
//! where it is largest) instead of panicking. The eigensolver half of the kit is [`matrices`] (the `deq-eigen`
//! crate's `testing` module). docs/testing.md shows how to test a new activation, kernel map or backend with it.
//!
//! ```
//! use deq_kernels::testing::{activations, check_gaussian_calculus, covariances, scales};
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(8), |(act in activations(), tau in scales(), c in covariances())| {
//!     for check in check_gaussian_calculus(&act, tau, &c).unwrap() {
//!         prop_assert!(check.holds(), "{act:?}: {check}");
//!     }
//! });
//! ```

use ndarray::{Array1, Array2, ArrayView2};
use proptest::prelude::*;

pub use crate::eigen::testing as matrices;
pub use crate::eigen::testing::Check;

use crate::activation::gauss::expect;
use crate::activation::{
    dual_kernel, dual_kernel_derivative, hermite_coefficients, hermite_coefficients_derivative,
    Activation, ActivationRef, Builtin, Centered, Cov2, Custom, Derivative, ScaleMoments,
};
use crate::eigen::{FaerEigen, SymmetricEigensolver};
use crate::kernel::explicit::{DenseLayer, FirstLayer, MlpParams};
use crate::kernel::implicit::{deq_kernels, tau_star, DeqParams};
use crate::kernel::Kernel;
use crate::progress::NoProgress;
use crate::rmt::equivalent::deq_equivalent;
use crate::rmt::gmm::{Covariance, GaussianMixture, MixtureClass};
use crate::rmt::matrix::equivalent_matrix;
use crate::rmt::statistics::MixtureStatistics;
use crate::{Real, Result};

// ---------------------------------------------------------------------------------------------------------------
// Data

/// A rows×cols matrix of independent N(0, std²) entries from [`matrices::normal_stream`] (ChaCha8, the same on
/// every platform): the Gaussian data of the crate's tests.
pub fn gaussian_matrix(rows: usize, cols: usize, std: f64, seed: u64) -> Array2<f64> {
    let mut draw = matrices::normal_stream(seed);
    Array2::from_shape_simple_fn((rows, cols), || std * draw())
}

/// n×p samples (rows) of independent normal entries scaled so that every squared norm is near `norm2`.
pub fn gaussian_samples(n: usize, p: usize, norm2: f64, seed: u64) -> Array2<f64> {
    gaussian_matrix(n, p, (norm2 / p.max(1) as f64).sqrt(), seed)
}

/// Data sets of `n` samples in dimension `p` with squared norms near one.
pub fn samples(
    n: impl Strategy<Value = usize>,
    p: impl Strategy<Value = usize>,
) -> impl Strategy<Value = Array2<f64>> {
    (n, p, any::<u64>()).prop_map(|(n, p, seed)| gaussian_samples(n, p, 1.0, seed))
}

// ---------------------------------------------------------------------------------------------------------------
// Activations, scales, covariances

/// Every built-in activation with valid parameters: the slopes of the piecewise-linear ones in [−2, 2], elu's α
/// in (0, 2], hard-tanh's a in [0.2, 2] and c in [0.2, 3], a quadratic's coefficients in [−1, 1].
pub fn builtin_activations() -> impl Strategy<Value = Builtin> {
    prop_oneof![
        Just(Builtin::Relu),
        (-1.0f64..1.0).prop_map(|s| Builtin::LeakyRelu { s }),
        (-2.0f64..2.0, -2.0f64..2.0).prop_map(|(a, b)| Builtin::LRelu { a, b }),
        Just(Builtin::Tanh),
        Just(Builtin::Erf),
        Just(Builtin::Sigmoid),
        Just(Builtin::Gelu),
        Just(Builtin::Silu),
        Just(Builtin::Softplus),
        (0.05f64..2.0).prop_map(|alpha| Builtin::Elu { alpha }),
        Just(Builtin::Sin),
        Just(Builtin::Cos),
        (0.2f64..2.0, 0.2f64..3.0).prop_map(|(a, c)| Builtin::HardTanh { a, c }),
        (-1.0f64..1.0, -1.0f64..1.0, -1.0f64..1.0).prop_map(|(c0, c1, c2)| Builtin::Quadratic {
            c0,
            c1,
            c2
        }),
    ]
}

/// The polynomial c₀ + c₁x + c₂x² + c₃x³ as a user closure with its derivative (no closed forms: the crate
/// integrates it).
pub fn polynomial(c: [f64; 4]) -> ActivationRef {
    Custom::new(format!("polynomial{c:?}"), move |x: f64| {
        c[0] + x * (c[1] + x * (c[2] + x * c[3]))
    })
    .with_derivative(move |x: f64| c[1] + x * (2.0 * c[2] + x * 3.0 * c[3]))
    .into()
}

/// Σ_i a_i·tanh(x − b_i) as a user closure with its derivative: smooth, bounded, neither odd nor even.
pub fn tanh_sum(terms: Vec<(f64, f64)>) -> ActivationRef {
    let name = format!("tanh_sum{terms:?}");
    let t = terms.clone();
    Custom::new(name, move |x: f64| {
        t.iter().map(|&(a, b)| a * (x - b).tanh()).sum()
    })
    .with_derivative(move |x: f64| {
        terms
            .iter()
            .map(|&(a, b)| a * (1.0 - (x - b).tanh().powi(2)))
            .sum()
    })
    .into()
}

/// Smooth user closures: polynomials of degree up to three (coefficients in [−1, 1]) and sums of one to three
/// shifted tanh (weights in [−1.5, 1.5], shifts in [−1, 1]).
pub fn smooth_closures() -> impl Strategy<Value = ActivationRef> {
    prop_oneof![
        prop::array::uniform4(-1.0f64..1.0).prop_map(polynomial),
        prop::collection::vec((-1.5f64..1.5, -1.0f64..1.0), 1..=3).prop_map(tanh_sum),
    ]
}

/// Built-ins and smooth closures.
pub fn activations() -> impl Strategy<Value = ActivationRef> {
    prop_oneof![
        builtin_activations().prop_map(ActivationRef::from),
        smooth_closures(),
    ]
}

/// Scales τ log-uniform in [0.1, 5].
pub fn scales() -> impl Strategy<Value = f64> {
    ((0.1f64).ln()..(5.0f64).ln()).prop_map(f64::exp)
}

/// 2×2 covariances: standard deviations in [0.2, 2.5] and correlations uniform in [−1, 1], exactly ±1, or within
/// 10⁻ᵏ of ±1 for k from 3 to 15 (where series and quadratures are hardest).
pub fn covariances() -> impl Strategy<Value = Cov2> {
    covariances_within(1.0)
}

/// As [`covariances`] with every correlation multiplied by `max_abs_rho` (in (0, 1]), so |ρ| ≤ `max_abs_rho`
/// without rejecting cases: for identities that hold only away from ρ = ±1, such as a truncated Mehler series.
pub fn covariances_within(max_abs_rho: f64) -> impl Strategy<Value = Cov2> {
    let rho = prop_oneof![
        4 => -1.0f64..=1.0,
        1 => Just(1.0f64),
        1 => Just(-1.0f64),
        2 => (3i32..=15, any::<bool>()).prop_map(|(k, up)| {
            let r = 1.0 - 10f64.powi(-k);
            if up { r } else { -r }
        }),
    ];
    let max_abs_rho = max_abs_rho.clamp(0.0, 1.0);
    (0.2f64..2.5, 0.2f64..2.5, rho).prop_map(move |(s1, s2, r)| {
        Cov2::new(s1 * s1, s2 * s2, max_abs_rho * r * s1 * s2).expect("a valid covariance")
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Models

/// Activations a DEQ can use at any σ_a² below its contraction bound: built-ins whose derivative is bounded
/// (no quadratic, whose slope grows without bound).
pub fn deq_activations() -> impl Strategy<Value = ActivationRef> {
    builtin_activations()
        .prop_filter("bounded slope", |b| !matches!(b, Builtin::Quadratic { .. }))
        .prop_map(ActivationRef::from)
}

/// DEQs well inside the contraction region: σ_a² in [0.05, 0.5], σ_b² in [0.2, 1], τ₀ in [0.5, 2], φ centered at
/// τ*, and for those whose kernel map would still not contract (σ_a²·max(½|q|, d) ≥ 0.9) σ_a² lowered until it
/// does.
pub fn deq_params() -> impl Strategy<Value = DeqParams> {
    (deq_activations(), 0.05f64..0.5, 0.2f64..1.0, 0.5f64..2.0).prop_map(|(act, a2, b2, tau0)| {
        let a2 = match contraction_bound(&act, a2, b2, tau0) {
            Some(max_safe) => a2.min(0.9 * max_safe),
            None => a2,
        };
        deq(act, a2, b2, tau0)
    })
}

/// DEQs at the edge of the contraction region: σ_a² such that the kernel map's contraction factor
/// σ_a²·max(½|q(τ*)|, d(τ*)) is 1 − δ with δ in [10⁻³, 0.05] (the moments taken at the τ* of that σ_a²).
pub fn deq_params_near_edge() -> impl Strategy<Value = DeqParams> {
    (deq_activations(), 0.2f64..1.0, 0.5f64..2.0, 1e-3f64..0.05).prop_map(
        |(act, b2, tau0, delta)| {
            let mut a2 = 0.5;
            for _ in 0..30 {
                match contraction_bound(&act, a2, b2, tau0) {
                    Some(max_safe) => a2 = (1.0 - delta) * max_safe,
                    None => break,
                }
            }
            deq(act, a2, b2, tau0)
        },
    )
}

fn deq(act: ActivationRef, a2: f64, b2: f64, tau0: f64) -> DeqParams {
    DeqParams::with_variances(act, a2, b2)
        .and_then(|p| p.with_tau0(tau0))
        .expect("valid variances")
}

/// The σ_a² at which the kernel map's contraction factor σ_a²·max(½|q|, d), with the moments at the τ* of the
/// given σ_a², would reach 1.
fn contraction_bound(act: &ActivationRef, a2: f64, b2: f64, tau0: f64) -> Option<f64> {
    let (tau, _) = tau_star(act, a2, b2, tau0).ok()?;
    let m = ScaleMoments::compute(act, tau).ok()?;
    let worst = (0.5 * m.q.abs()).max(m.d?);
    (worst > 0.0).then(|| 1.0 / worst)
}

/// Fully connected networks: one to four layers of built-ins (no quadratic), σ_w² in [0.3, 2], σ_b² in [0, 0.5],
/// the input layer trained or frozen for the NTK.
pub fn mlp_params() -> impl Strategy<Value = MlpParams> {
    (
        prop::collection::vec((deq_activations(), 0.3f64..2.0, 0.0f64..0.5), 1..=4),
        any::<bool>(),
    )
        .prop_map(|(layers, frozen)| {
            let first = if frozen {
                FirstLayer::Frozen
            } else {
                FirstLayer::Trained
            };
            MlpParams::from_layers(
                layers
                    .into_iter()
                    .map(|(a, w2, b2)| DenseLayer::new(a, w2, b2))
                    .collect(),
            )
            .expect("valid layers")
            .with_first_layer(first)
        })
}

/// Gaussian mixtures: two or three classes of 5 to 30 samples in dimension 16 to 64, means of norm up to 3,
/// covariances c·I, diagonal (entries in [0.5, 1.5]) or full (I + GGᵀ/(2p), G Gaussian).
pub fn mixtures() -> impl Strategy<Value = GaussianMixture> {
    (
        16usize..64,
        prop::collection::vec((5usize..30, 0u8..3), 2..=3),
        any::<u64>(),
    )
        .prop_map(|(p, classes, seed)| {
            let mut normal = matrices::normal_stream(seed);
            let classes = classes
                .into_iter()
                .map(|(size, kind)| {
                    let mean = Array1::from_shape_fn(p, |_| normal() * 3.0 / (p as f64).sqrt());
                    let covariance = match kind {
                        0 => Covariance::ScaledIdentity(0.5 + normal().abs().min(2.0) / 2.0),
                        1 => Covariance::Diagonal(Array1::from_shape_fn(p, |_| {
                            1.0 + 0.5 * normal().clamp(-1.0, 1.0)
                        })),
                        _ => {
                            let g = Array2::from_shape_fn((p, p), |_| normal());
                            let full = Array2::eye(p) + g.dot(&g.t()) / (2.0 * p as f64);
                            Covariance::Full(full)
                        }
                    };
                    MixtureClass {
                        size,
                        mean,
                        covariance,
                    }
                })
                .collect();
            GaussianMixture::new(p, classes).expect("a valid mixture")
        })
}

// ---------------------------------------------------------------------------------------------------------------
// Checkers: the Gaussian calculus (math §2–3)

/// The same function with its closed forms hidden, so that the crate integrates it: the independent side of
/// every closed-form check. Derivative, kinks, parity and discontinuity carry over.
pub fn quadrature_twin<A: Activation + Clone + 'static>(act: &A) -> Custom {
    let v = act.clone();
    let twin = Custom::new(format!("{}(quadrature)", act.name()), move |x| v.value(x))
        .with_kinks(&act.kinks())
        .with_parity(act.parity());
    match act.derivative_kind() {
        Derivative::Available => {
            let d = act.clone();
            twin.with_derivative(move |x| d.derivative(x))
        }
        Derivative::Discontinuous => twin.discontinuous(),
        _ => twin,
    }
}

/// Closed forms against quadrature of the same function ([`quadrature_twin`]; math §2–3): the moments at τ to
/// 1e-11·(1 + τ²) (m₂ and q times τ), E[σ(u)σ(v)] to 1e-11·max(1, √(E[σ(u)²]E[σ(v)²])) and, where σ′ exists and
/// |ρ| < 0.999 (the derivative kernel of a kinked σ jumps at ρ = ±1), E[σ′(u)σ′(v)] to the same relative bound.
/// Activations without closed forms compare quadrature with itself.
pub fn check_closed_forms<A: Activation + Clone + 'static>(
    act: &A,
    tau: f64,
    c: &Cov2,
) -> Result<Vec<Check>> {
    let twin = quadrature_twin(act);
    let (m, mq) = (
        ScaleMoments::compute(act, tau)?,
        ScaleMoments::by_quadrature(&twin, tau)?,
    );
    let at = format!("{} at τ = {tau}", act.name());
    let mut worst = (0f64, "m₀");
    let pairs = [
        ("m₀", m.m0, mq.m0),
        ("m₁", m.m1, mq.m1),
        ("m₂", m.m2 * tau, mq.m2 * tau),
        ("v", m.v, mq.v),
        ("q", m.q * tau, mq.q * tau),
        ("d", m.d.unwrap_or(0.0), mq.d.unwrap_or(0.0)),
    ];
    for (name, x, y) in pairs {
        if (x - y).abs() > worst.0 || x.is_nan() != y.is_nan() {
            worst = ((x - y).abs(), name);
        }
    }
    let mut checks = vec![Check::new(
        "closed-form moments = quadrature",
        worst.0,
        1e-11 * (1.0 + tau * tau),
        format!("{} ({at})", worst.1),
    )];
    let diagonal = |s: f64| Cov2::new(s, s, s);
    let bound = |f: &dyn Fn(&Cov2) -> Result<f64>| -> Result<f64> {
        Ok((f(&diagonal(c.s11)?)? * f(&diagonal(c.s22)?)?)
            .abs()
            .sqrt()
            .max(1.0))
    };
    let at = format!("{} at {c:?}", act.name());
    let value = |c: &Cov2| Ok(dual_kernel(act, c));
    checks.push(Check::new(
        "closed-form E[σ(u)σ(v)] = quadrature",
        (dual_kernel(act, c) - dual_kernel(&twin, c)).abs(),
        1e-11 * bound(&value)?,
        at.clone(),
    ));
    if act.derivative_kind() == Derivative::Available && c.rho().abs() < 0.999 {
        let slope = |c: &Cov2| dual_kernel_derivative(act, c);
        checks.push(Check::new(
            "closed-form E[σ′(u)σ′(v)] = quadrature",
            (dual_kernel_derivative(act, c)? - dual_kernel_derivative(&twin, c)?).abs(),
            1e-11 * bound(&slope)?,
            at,
        ));
    }
    Ok(checks)
}

/// The Stein forms of the moments against the forms that use σ′ (math §2; Stein's lemma E[ξf(ξ)] = E[f′(ξ)]):
/// m₁ = E[σ′(τξ)], m₂ = E[ξσ′(τξ)]/τ, q = 2E[ξσ̄(τξ)σ′(τξ)]/τ, each to 1e-11·(1 + τ²)/min(τ, 1).
pub fn check_stein_moments<A: Activation + ?Sized>(act: &A, tau: f64) -> Result<Vec<Check>> {
    let m = ScaleMoments::compute(act, tau)?;
    let kinks: Vec<f64> = act.kinks().iter().map(|k| k / tau).collect();
    let m1 = expect(|x| act.derivative(tau * x), &kinks);
    let m2 = expect(|x| x * act.derivative(tau * x), &kinks) / tau;
    let q =
        2.0 * expect(
            |x| x * (act.value(tau * x) - m.m0) * act.derivative(tau * x),
            &kinks,
        ) / tau;
    let tol = 1e-11 * (1.0 + tau * tau) / tau.min(1.0);
    let at = format!("{} at τ = {tau}", act.name());
    Ok(vec![
        Check::new(
            "m₁ = E[ξσ(τξ)]/τ = E[σ′(τξ)]",
            (m.m1 - m1).abs(),
            tol,
            at.clone(),
        ),
        Check::new(
            "m₂ = E[(ξ²−1)σ(τξ)]/τ² = E[ξσ′(τξ)]/τ",
            (m.m2 - m2).abs(),
            tol,
            at.clone(),
        ),
        Check::new(
            "q = E[(ξ²−1)σ̄²]/τ² = 2E[ξσ̄σ′(τξ)]/τ",
            (m.q - q).abs(),
            tol,
            at,
        ),
    ])
}

/// Hermite coefficients against moments and Parseval (math §2): a₀ = m₀, a₁ = τm₁, a₂ = τ²m₂/√2, and Bessel's
/// inequality Σ_{k<K} a_k² ≤ E[σ(τξ)²] for the first `terms` coefficients.
pub fn check_hermite_coefficients<A: Activation + ?Sized>(
    act: &A,
    tau: f64,
    terms: usize,
) -> Result<Vec<Check>> {
    let m = ScaleMoments::compute(act, tau)?;
    let a = hermite_coefficients(act, tau, terms.max(3))?;
    let second = m.second_moment();
    let scale = 1e-12 * (1.0 + second.sqrt());
    let at = format!("{} at τ = {tau}", act.name());
    let partial: f64 = a.iter().map(|v| v * v).sum();
    Ok(vec![
        Check::new("a₀ = m₀", (a[0] - m.m0).abs(), 10.0 * scale, at.clone()),
        Check::new(
            "a₁ = τm₁",
            (a[1] - tau * m.m1).abs(),
            10.0 * scale,
            at.clone(),
        ),
        Check::new(
            "a₂ = τ²m₂/√2",
            (a[2] - tau * tau * m.m2 / 2f64.sqrt()).abs(),
            100.0 * scale,
            at.clone(),
        ),
        Check::new(
            "Σ_{k<K} a_k² ≤ E[σ(τξ)²] (Parseval)",
            partial - second,
            1e-12 * second.max(1e-300),
            at,
        ),
    ])
}

/// Mehler's series against 2-D quadrature (math §2–3): |Σ_{k<K} a_k(s₁)a_k(s₂)ρ^k − E[σ(u)σ(v)]| is at most the
/// series' tail, bounded by Cauchy–Schwarz and Parseval as |ρ|^K·√(T₁T₂) with T_i = E[σ(s_iξ)²] − Σ_{k<K} a_k(s_i)²,
/// plus 1e-11·max(1, √(E₁E₂)) for the quadratures; where σ′ exists, the same for the derivative kernel
/// E[σ′(u)σ′(v)] with the coefficients of σ′ and E[σ′(s_iξ)²].
pub fn check_mehler_series<A: Activation + ?Sized>(
    act: &A,
    c: &Cov2,
    terms: usize,
) -> Result<Vec<Check>> {
    let (s1, s2, rho) = (c.s11.sqrt(), c.s22.sqrt(), c.rho());
    let at = format!("{} at {c:?}, {terms} terms", act.name());
    let series = |a1: &[f64], a2: &[f64], e1: f64, e2: f64, exact: f64| {
        let sum: f64 = (0..terms).map(|k| a1[k] * a2[k] * rho.powi(k as i32)).sum();
        let tail = |a: &[f64], e: f64| (e - a.iter().map(|v| v * v).sum::<f64>()).max(0.0);
        let bound = rho.abs().powi(terms as i32) * (tail(a1, e1) * tail(a2, e2)).sqrt()
            + 1e-11 * (e1 * e2).sqrt().max(1.0);
        ((sum - exact).abs(), bound)
    };
    let (m1, m2) = (
        ScaleMoments::compute(act, s1)?,
        ScaleMoments::compute(act, s2)?,
    );
    let (dev, bound) = series(
        &hermite_coefficients(act, s1, terms)?,
        &hermite_coefficients(act, s2, terms)?,
        m1.second_moment(),
        m2.second_moment(),
        dual_kernel(act, c),
    );
    let mut checks = vec![Check::new(
        "Mehler: Σ_k a_k(s₁)a_k(s₂)ρ^k = E[σ(u)σ(v)]",
        dev,
        bound,
        at.clone(),
    )];
    if let (Some(d1), Some(d2)) = (m1.d, m2.d) {
        let (dev, bound) = series(
            &hermite_coefficients_derivative(act, s1, terms)?,
            &hermite_coefficients_derivative(act, s2, terms)?,
            d1,
            d2,
            dual_kernel_derivative(act, c)?,
        );
        checks.push(Check::new(
            "Mehler: Σ_k a′_k(s₁)a′_k(s₂)ρ^k = E[σ′(u)σ′(v)]",
            dev,
            bound,
            at,
        ));
    }
    Ok(checks)
}

/// Price's identity (math §2): ∂E[σ(u)σ(v)]/∂Σ₁₂ = E[σ′(u)σ′(v)], by a central difference with step
/// h = 1e-4·√(Σ₁₁Σ₂₂) (error O(h²) plus the quadrature's 1e-13/h), to 1e-6·max(1, |E[σ′σ′]|). Correlations beyond
/// ±0.99 are moved to ±0.99: at ±1 the difference is undefined, and for a kinked σ the derivative kernel's slope
/// grows like (1 − ρ²)^(−1/2) there, so the O(h²) error would outgrow any fixed tolerance.
pub fn check_price<A: Activation + ?Sized>(act: &A, c: &Cov2) -> Result<Check> {
    let s = (c.s11 * c.s22).sqrt();
    let h = 1e-4 * s;
    let s12 = c.s12.clamp(-0.99 * s, 0.99 * s);
    let k = |x: f64| -> Result<f64> { Ok(dual_kernel(act, &Cov2::new(c.s11, c.s22, x)?)) };
    let slope = (k(s12 + h)? - k(s12 - h)?) / (2.0 * h);
    let kdot = dual_kernel_derivative(act, &Cov2::new(c.s11, c.s22, s12)?)?;
    Ok(Check::new(
        "Price: ∂E[σσ]/∂Σ₁₂ = E[σ′σ′]",
        (slope - kdot).abs(),
        1e-6 * kdot.abs().max(1.0),
        format!("{} at Σ = ({}, {}, {s12})", act.name(), c.s11, c.s22),
    ))
}

/// Cauchy–Schwarz for the dual kernel: |E[σ(u)σ(v)]| ≤ √(E[σ(u)²]E[σ(v)²]) (to 1e-12 relative).
pub fn check_cauchy_schwarz<A: Activation + ?Sized>(act: &A, c: &Cov2) -> Result<Check> {
    let k = dual_kernel(act, c);
    let k1 = dual_kernel(act, &Cov2::new(c.s11, c.s11, c.s11)?);
    let k2 = dual_kernel(act, &Cov2::new(c.s22, c.s22, c.s22)?);
    let bound = (k1 * k2).sqrt();
    Ok(Check::new(
        "|E[σ(u)σ(v)]| ≤ √(E[σ(u)²]E[σ(v)²])",
        (k.abs() - bound).max(0.0),
        1e-12 * bound + 1e-15,
        format!("{} at {c:?}", act.name()),
    ))
}

/// The Gaussian calculus of one activation at one scale and one covariance: [`check_closed_forms`],
/// [`check_stein_moments`], [`check_hermite_coefficients`] (40 terms), [`check_mehler_series`] (200 terms;
/// skipped at |ρ| > 0.95, where the tail bound |ρ|^200 stops being useful), [`check_price`] and
/// [`check_cauchy_schwarz`]. Stein, Price and the derivative kernels need σ′ and are skipped without it.
pub fn check_gaussian_calculus<A: Activation + Clone + 'static>(
    act: &A,
    tau: f64,
    c: &Cov2,
) -> Result<Vec<Check>> {
    let smooth = act.derivative_kind() == Derivative::Available;
    let mut checks = check_closed_forms(act, tau, c)?;
    if smooth {
        checks.extend(check_stein_moments(act, tau)?);
    }
    checks.extend(check_hermite_coefficients(act, tau, 40)?);
    if c.rho().abs() <= 0.95 {
        checks.extend(check_mehler_series(act, c, 200)?);
    }
    if smooth {
        checks.push(check_price(act, c)?);
    }
    checks.push(check_price(act, c)?);
    checks.push(check_cauchy_schwarz(act, c)?);
    Ok(checks)
}

// ---------------------------------------------------------------------------------------------------------------
// Checkers: kernel matrices (math §4–6)

/// A kernel matrix is exactly symmetric, satisfies Cauchy–Schwarz |K_ij| ≤ √(K_iiK_jj) (to 1e-12 relative) and is
/// positive semi-definite: λ_min ≥ −c·n·ε·‖K‖_F (ε of T, computed by the pure-Rust eigensolver).
pub fn check_kernel_matrix<T: crate::eigen::EigenScalar>(
    k: ArrayView2<T>,
    c: f64,
) -> Result<Vec<Check>> {
    let n = k.nrows();
    let (mut asym, mut asym_at) = (0f64, (0, 0));
    let (mut cs, mut cs_at) = (0f64, (0, 0));
    for i in 0..n {
        for j in 0..i {
            let (x, y) = (k[[i, j]].to_f64(), k[[j, i]].to_f64());
            if (x - y).abs() > asym {
                (asym, asym_at) = ((x - y).abs(), (i, j));
            }
            let bound = (k[[i, i]].to_f64() * k[[j, j]].to_f64()).max(0.0).sqrt();
            let excess = (x.abs() - bound * (1.0 + 1e-12)).max(0.0);
            if excess > cs {
                (cs, cs_at) = (excess, (i, j));
            }
        }
    }
    let norm = matrices::euclidean_norm(k.iter().map(|v| v.to_f64()));
    let w = FaerEigen::default().eigenvalues(k)?;
    let lmin = w.first().map_or(0.0, |v| v.to_f64());
    Ok(vec![
        Check::new("K = Kᵀ", asym, 0.0, format!("entry {asym_at:?}")),
        Check::new("|K_ij| ≤ √(K_iiK_jj)", cs, 0.0, format!("entry {cs_at:?}")),
        Check::new(
            "λ_min(K) ≥ −c·n·ε·‖K‖",
            (-lmin).max(0.0),
            c * n.max(1) as f64 * T::EPSILON * norm,
            format!("λ_min = {lmin:e}"),
        ),
    ])
}

/// The DEQ's kernels are the fixed points they claim to be (math §5): every entry of Σ* satisfies
/// Σ*_ij = σ_a²·E[φ(u)φ(v)] + σ_b²x_iᵀx_j and G*_ij = E[φ(u)φ(v)] under the 2×2 covariance of Σ* — the dual
/// kernel computed independently (closed form or 2-D quadrature, not the Hermite tables of the kernel code) —
/// to 1e-10·(1 + |Σ*_ij|); and τ*² = σ_a²v(τ*) + σ_b²τ₀² to 1e-13·(1 + τ*²).
pub fn check_deq_fixed_point(deq: &DeqParams, x: ArrayView2<f64>) -> Result<Vec<Check>> {
    let ([sigma, g], report) =
        deq_kernels::<f64, 2>(deq, x, [Kernel::Nngp, Kernel::Ck], &NoProgress)?;
    let phi: ActivationRef = Centered::new(deq.activation().clone(), report.centering).into();
    let gram = x.dot(&x.t());
    let (a2, b2) = (deq.sigma_a2(), deq.sigma_b2());
    let (mut worst_s, mut at_s) = (0f64, (0, 0));
    let (mut worst_g, mut at_g) = (0f64, (0, 0));
    let n = x.nrows();
    for i in 0..n {
        for j in 0..=i {
            let c = Cov2::new(sigma[[i, i]], sigma[[j, j]], sigma[[i, j]])?;
            let f = dual_kernel(&phi, &c);
            let rs =
                (sigma[[i, j]] - a2 * f - b2 * gram[[i, j]]).abs() / (1.0 + sigma[[i, j]].abs());
            let rg = (g[[i, j]] - f).abs() / (1.0 + f.abs());
            if rs > worst_s {
                (worst_s, at_s) = (rs, (i, j));
            }
            if rg > worst_g {
                (worst_g, at_g) = (rg, (i, j));
            }
        }
    }
    let mut checks = vec![
        Check::new(
            "Σ* = σ_a²E[φφ](Σ*) + σ_b²XXᵀ",
            worst_s,
            1e-10,
            format!("entry {at_s:?}"),
        ),
        Check::new("G* = E[φφ](Σ*)", worst_g, 1e-10, format!("entry {at_g:?}")),
    ];
    if let (Some(tau), Some(tau0)) = (report.tau_star, report.tau0) {
        let v = ScaleMoments::compute(deq.activation(), tau)?.v;
        let r = (tau * tau - a2 * v - b2 * tau0 * tau0).abs();
        checks.push(Check::new(
            "τ*² = σ_a²v(τ*) + σ_b²τ₀²",
            r,
            1e-13 * (1.0 + tau * tau),
            format!("τ* = {tau}"),
        ));
    }
    Ok(checks)
}

/// The Implicit-NTK's identities (math §5): its diagonal K*_ii = G*_ii/(1 − σ_a²E[φ′(u)²]) with u ~ N(0, Σ*_ii),
/// and K* as the limit of the layer recursion Θ^{(ℓ)} = G^{(ℓ)} + σ_a²Ġ^{(ℓ)}∘Θ^{(ℓ−1)}, Σ^{(ℓ)} = σ_a²G^{(ℓ−1)} +
/// σ_b²XXᵀ, G^{(0)} = Θ^{(0)} = 0, run for `layers` layers with independently computed dual kernels (each layer
/// contracts by at most the map's factor, so `layers` should make factor^layers negligible), both to 1e-10
/// relative.
pub fn check_implicit_ntk(
    deq: &DeqParams,
    x: ArrayView2<f64>,
    layers: usize,
) -> Result<Vec<Check>> {
    let ([sigma, g, k], report) =
        deq_kernels::<f64, 3>(deq, x, [Kernel::Nngp, Kernel::Ck, Kernel::Ntk], &NoProgress)?;
    let phi: ActivationRef = Centered::new(deq.activation().clone(), report.centering).into();
    let (a2, b2) = (deq.sigma_a2(), deq.sigma_b2());
    let n = x.nrows();
    let scale = k
        .iter()
        .fold(0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let mut diag = (0f64, 0);
    for i in 0..n {
        let v = sigma[[i, i]];
        let gdot = dual_kernel_derivative(&phi, &Cov2::new(v, v, v)?)?;
        let want = g[[i, i]] / (1.0 - a2 * gdot);
        let dev = (k[[i, i]] - want).abs() / scale;
        if dev > diag.0 {
            diag = (dev, i);
        }
    }
    let gram = x.dot(&x.t());
    let (mut gl, mut theta) = (Array2::<f64>::zeros((n, n)), Array2::<f64>::zeros((n, n)));
    for _ in 0..layers {
        let s = &gl * a2 + &gram * b2;
        let mut gn = Array2::<f64>::zeros((n, n));
        let mut tn = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..n {
                let c = Cov2::new(s[[i, i]], s[[j, j]], s[[i, j]])?;
                gn[[i, j]] = dual_kernel(&phi, &c);
                tn[[i, j]] = gn[[i, j]] + a2 * dual_kernel_derivative(&phi, &c)? * theta[[i, j]];
            }
        }
        gl = gn;
        theta = tn;
    }
    let (mut lim, mut lim_at) = (0f64, (0, 0));
    for ((i, j), v) in theta.indexed_iter() {
        let dev = (v - k[[i, j]]).abs() / scale;
        if dev > lim {
            (lim, lim_at) = (dev, (i, j));
        }
    }
    Ok(vec![
        Check::new(
            "K*_ii = G*_ii/(1 − σ_a²E[φ′²](Σ*_ii))",
            diag.0,
            1e-10,
            format!("sample {}", diag.1),
        ),
        Check::new(
            "K* = lim Θ^{(ℓ)} of the layer recursion",
            lim,
            1e-10,
            format!("entry {lim_at:?} after {layers} layers"),
        ),
    ])
}

/// The DEQ's equivalent gets better with p (math §6): on the paper's mixture at each p of `ps` (n = ⌊0.8p⌋,
/// drawn with `seed`), ‖K − K̃‖₂ for the kernel `kind`; the check is the largest ratio of successive errors,
/// which must stay below 0.8 per step (the errors fall like p^(−1/2), a factor 0.71 per doubling).
pub fn check_equivalent_convergence(
    deq: &DeqParams,
    kind: Kernel,
    ps: &[usize],
    seed: u64,
) -> Result<Check> {
    let mut errors = Vec::with_capacity(ps.len());
    for &p in ps {
        let mixture = GaussianMixture::paper(p)?;
        let (x, y) = mixture.sample(seed)?;
        let d = deq.clone().with_tau0_from(x.view())?;
        let ([k], _) = deq_kernels::<f64, 1>(&d, x.view(), [kind], &NoProgress)?;
        let stats = MixtureStatistics::from_population(&mixture, x.view(), y.view())?;
        let kbar = equivalent_matrix(x.view(), &stats, &deq_equivalent(&d)?.coefficients(kind)?)?;
        errors.push(crate::eigen::spectrum::operator_norm_distance(
            k.view(),
            kbar.view(),
        )?);
    }
    let worst = errors.windows(2).map(|w| w[1] / w[0]).fold(0f64, f64::max);
    Ok(Check::new(
        "‖K − K̃‖₂ falls with p",
        worst,
        0.8,
        format!("p = {ps:?}: errors {errors:.3?}"),
    ))
}

/// A kernel matrix in the caller's precision as a [`matrices::TestMatrix`], for the eigensolver checkers.
pub fn as_test_matrix<T: Real + crate::eigen::EigenScalar>(
    k: Array2<T>,
) -> matrices::TestMatrix<T> {
    matrices::TestMatrix::from_matrix(k)
}
