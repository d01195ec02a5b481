//! The reusable solvers: known fixed points and roots, contraction estimates, typed failures.

use deq_kernels::solve::{
    anderson, fixed_point, newton_bracketed, AndersonParams, FixedPointParams, NewtonParams,
};
use deq_kernels::Error;
use proptest::prelude::*;

/// The Dottie number, cos x = x.
const DOTTIE: f64 = 0.739_085_133_215_160_6;

#[test]
fn fixed_point_of_cosine_with_its_contraction_factor() {
    let mut x = [1.0];
    let r = fixed_point(
        &mut x,
        |x, out| out[0] = x[0].cos(),
        &FixedPointParams::default(),
    )
    .unwrap();
    assert!((x[0] - DOTTIE).abs() < 1e-13);
    assert!(r.residual <= 1e-13);
    // The error contracts by |g′(x*)| = sin x* per step.
    let c = r.contraction.unwrap();
    assert!(
        (c - DOTTIE.sin()).abs() < 0.02,
        "observed {c}, expected {}",
        DOTTIE.sin()
    );
}

#[test]
fn divergence_and_budget_are_typed_errors() {
    let mut x = [1.0];
    match fixed_point(
        &mut x,
        |x, out| out[0] = 2.0 * x[0] + 1.0,
        &FixedPointParams::default(),
    ) {
        Err(Error::Diverged {
            contraction: Some(c),
            ..
        }) => assert!((c - 2.0).abs() < 1e-6, "{c}"),
        other => panic!("expected divergence, got {other:?}"),
    }
    let mut x = [1.0];
    let few = FixedPointParams::new(1e-15, 5).unwrap();
    assert!(matches!(
        fixed_point(&mut x, |x, out| out[0] = x[0].cos(), &few),
        Err(Error::NotConverged { iterations: 5, .. })
    ));
    assert!(FixedPointParams::new(0.0, 10).is_err());
    assert!(FixedPointParams::new(1e-12, 0).is_err());
    assert!(AndersonParams::new(0, 1.0, 1e-12, 10).is_err());
    assert!(AndersonParams::new(3, 1.5, 1e-12, 10).is_err());
}

/// x = Ax + b with ‖A‖ < 1: the solution is (I − A)⁻¹b (faer LU, independent of the solvers).
fn linear_problem(d: usize, radius: f64) -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    let a: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let v = ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5;
                    radius * (if i == j { 1.0 } else { 0.0 } + 0.2 * v / d as f64)
                })
                .collect()
        })
        .collect();
    let b: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
    let m = faer::Mat::<f64>::from_fn(d, d, |i, j| if i == j { 1.0 } else { 0.0 } - a[i][j]);
    let rhs = faer::Mat::<f64>::from_fn(d, 1, |i, _| b[i]);
    use faer::linalg::solvers::Solve;
    let sol = m.partial_piv_lu().solve(&rhs);
    (a, b, (0..d).map(|i| sol[(i, 0)]).collect())
}

#[test]
fn anderson_beats_plain_iteration_and_finds_the_same_point() {
    let d = 40;
    let (a, b, exact) = linear_problem(d, 0.97);
    let map = |x: &[f64], out: &mut [f64]| {
        for i in 0..d {
            out[i] = b[i] + a[i].iter().zip(x).map(|(p, q)| p * q).sum::<f64>();
        }
    };
    let mut plain = vec![0.0; d];
    let rp = fixed_point(
        &mut plain,
        map,
        &FixedPointParams::new(1e-12, 100_000).unwrap(),
    )
    .unwrap();
    let mut acc = vec![0.0; d];
    let ra = anderson(
        &mut acc,
        map,
        &AndersonParams::new(6, 1.0, 1e-12, 1000).unwrap(),
    )
    .unwrap();
    for i in 0..d {
        assert!((plain[i] - exact[i]).abs() < 1e-9);
        assert!((acc[i] - exact[i]).abs() < 1e-9);
    }
    assert!(
        ra.iterations * 5 < rp.iterations,
        "Anderson {} vs plain {}",
        ra.iterations,
        rp.iterations
    );
}

/// A long vector (the parallel, chunked path) made of scaled copies s_k·y of a small linear problem: for a
/// linear map the Anderson iterates are the scaled copies of the small run's (every inner product scales by
/// Σs_k²), so the solution and the iteration count must be the small run's.
#[test]
fn anderson_on_long_vectors_matches_the_small_run() {
    let d = 40;
    let (a, b, exact) = linear_problem(d, 0.9);
    let params = AndersonParams::new(5, 1.0, 1e-11, 1000).unwrap();
    let block_map = |x: &[f64], out: &mut [f64], s: f64| {
        for i in 0..d {
            out[i] = s * b[i] + a[i].iter().zip(x).map(|(p, q)| p * q).sum::<f64>();
        }
    };
    let mut small = vec![0.0; d];
    let rs = anderson(&mut small, |x, out| block_map(x, out, 1.0), &params).unwrap();
    let blocks = 2500; // 100 000 entries, not a multiple of any power of two
    let scale = |k: usize| 1.0 + (k % 7) as f64 / 7.0;
    let mut long = vec![0.0; d * blocks];
    let rl = anderson(
        &mut long,
        |x, out| {
            for k in 0..blocks {
                let r = k * d..(k + 1) * d;
                block_map(&x[r.clone()], &mut out[r], scale(k));
            }
        },
        &params,
    )
    .unwrap();
    assert!(
        rl.iterations.abs_diff(rs.iterations) <= 1,
        "long {} vs small {}",
        rl.iterations,
        rs.iterations
    );
    for k in 0..blocks {
        for i in 0..d {
            assert!((long[k * d + i] - scale(k) * exact[i]).abs() < 1e-9);
        }
    }
}

#[test]
fn anderson_refuses_non_finite_maps() {
    for d in [3, 100_000] {
        let mut x = vec![0.5; d];
        let r = anderson(
            &mut x,
            |x, out| {
                out.copy_from_slice(x);
                out[d / 2] = f64::NAN;
            },
            &AndersonParams::default(),
        );
        assert!(matches!(r, Err(Error::Diverged { .. })), "{r:?}");
    }
}

#[test]
fn anderson_reports_non_convergence() {
    // g(x) = x + 1 + 0.1·sin x has no fixed point (g(x) − x ≥ 0.9).
    let mut x = vec![1.0, 2.0];
    let r = anderson(
        &mut x,
        |x, out| {
            for i in 0..2 {
                out[i] = x[i] + 1.0 + 0.1 * x[i].sin();
            }
        },
        &AndersonParams::new(2, 1.0, 1e-12, 30).unwrap(),
    );
    assert!(
        matches!(
            r,
            Err(Error::NotConverged { iterations: 30, .. }) | Err(Error::Diverged { .. })
        ),
        "{r:?}"
    );
}

#[test]
fn bracketed_newton_survives_where_plain_newton_diverges() {
    // Newton on atan from x0 = 3 overshoots to ever larger |x|; the bracket keeps it safe.
    let (x, r) = newton_bracketed(
        |x| (x.atan(), 1.0 / (1.0 + x * x)),
        -5.0,
        10.0,
        3.0,
        &NewtonParams::default(),
    )
    .unwrap();
    assert!(x.abs() < 1e-14, "{x}");
    assert!(r.residual <= 1e-14);
    // No sign change: refused.
    assert!(newton_bracketed(
        |x| (x * x + 1.0, 2.0 * x),
        -1.0,
        1.0,
        0.0,
        &NewtonParams::default()
    )
    .is_err());
}

proptest! {
    #[test]
    fn newton_cube_roots(c in 1e-3f64..1e3, x0 in 0.0f64..10.0) {
        let hi = c.max(1.0);
        let (x, r) = newton_bracketed(|x| (x * x * x - c, 3.0 * x * x), 0.0, hi, x0, &NewtonParams::new(1e-13 * c, 1e-15, 200).unwrap()).unwrap();
        prop_assert!((x - c.cbrt()).abs() <= 1e-12 * c.cbrt(), "{} vs {}", x, c.cbrt());
        prop_assert!(r.iterations < 100);
    }
}

proptest! {
    /// Eight cube roots at once, each in its own bracket, equal the scalar solver's.
    #[test]
    fn newton_lanes_equal_scalar_newton(cs in proptest::array::uniform8(1e-3f64..1e3)) {
        use deq_kernels::solve::{newton_in_bracket, newton_lanes};
        let params = NewtonParams::new(1e-12, 1e-15, 200).unwrap();
        let lo = [0.0; 8];
        let hi = cs.map(|c| c.max(1.0));
        let (x, _) = newton_lanes(
            |x: &[f64; 8]| {
                let f: [f64; 8] = std::array::from_fn(|l| x[l] * x[l] * x[l] - cs[l]);
                let df: [f64; 8] = std::array::from_fn(|l| 3.0 * x[l] * x[l]);
                (f, df)
            },
            &lo, &hi, true, &hi, &params,
        ).unwrap();
        for l in 0..8 {
            let c = cs[l];
            let (s, _) = newton_in_bracket(|x| (x * x * x - c, 3.0 * x * x), 0.0, hi[l], true, hi[l], &params).unwrap();
            // Both stop once |x³ − c| ≤ 1e-12, which leaves |x − ∛c| up to 1e-12/(3∛c²) to first order
            // (4.4e-12 at c = 0.02); beyond that, 1e-12 relative.
            let r = c.cbrt();
            let stop = 1e-12 / (3.0 * r * r);
            prop_assert!((x[l] - r).abs() <= stop + 1e-12 * r.max(1.0), "{} vs {}", x[l], r);
            prop_assert!((x[l] - s).abs() <= 2.0 * stop + 1e-12 * s.max(1.0));
        }
    }
}
