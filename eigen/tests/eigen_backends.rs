//! Eigensolver backends against each other and against constructed spectra; Lanczos against dense; stochastic
//! Lanczos quadrature against the exact spectral measure; spectrum tools; input checks.

use deq_eigen::lanczos::{lanczos, Extreme, FnOperator, LanczosParams};
use deq_eigen::slq::SlqParams;
use deq_eigen::spectrum::{
    histogram, operator_norm_distance, outliers, relative_frobenius, wasserstein1,
};
use deq_eigen::testing::{
    check_backend, check_backends_agree, check_lanczos_extremes, check_orthogonality,
    check_residual, check_slq_density, kernel_like, sizes, symmetric_matrices, with_spectrum,
    MatrixFamily, MatrixSpec, Scale, Spectrum, TestMatrix, BLOCKED_FROM, TWO_STAGE_FROM,
};
use deq_eigen::{
    EigenRequest, EigenScalar, Error, FaerEigen, LanczosEigen, Reduction, Subset,
    SymmetricEigensolver,
};
use ndarray::{array, Array2, ArrayView2, ArrayViewMut2};
use proptest::prelude::*;

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0f64, |m, x| m.max(x.abs()))
}

/// The faer backend through the two-stage reduction at every size, for values and pairs.
fn two_stage() -> FaerEigen {
    FaerEigen::default().with_reduction(Reduction::TwoStage)
}

/// Every available dense backend (the faer backend through either reduction), with the constant c of its orthogonality bound |VᵀV − I| ≤ c·n·ε (largest
/// entry). Householder tridiagonalization with divide and conquer (faer, `?syevd`) stays below 50; MRRR
/// (`?syevr`) guarantees O(nε) with a larger constant (Dhillon, Parlett & Vömel 2006): over 158 000 matrices
/// of this test's kind (n < 40, clusters, zeros, scales 1e-6…1e6) its worst was 234·n·ε, so it gets 1000.
fn dense_backends() -> Vec<(Box<dyn SymmetricEigensolver<f64>>, f64)> {
    #[allow(unused_mut)]
    let mut v: Vec<(Box<dyn SymmetricEigensolver<f64>>, f64)> = vec![
        (Box::new(FaerEigen::default()), 50.0),
        (Box::new(two_stage()), 50.0),
    ];
    #[cfg(feature = "openblas")]
    {
        use deq_eigen::{LapackDriver, LapackEigen};
        for (d, c) in [
            (LapackDriver::Auto, 50.0),
            (LapackDriver::Syevd, 50.0),
            (LapackDriver::Syevd2Stage, 50.0),
            (LapackDriver::Syevr, 1000.0),
        ] {
            v.push((Box::new(LapackEigen::with_driver(d)), c));
        }
    }
    v
}

/// The eigenvalues match `want` (ascending) to c·n·ε·‖K‖, and the vectors (when computed) satisfy
/// ‖Kv − λv‖ ≤ c·n·ε·‖K‖ and |VᵀV − I| ≤ c·n·ε.
fn check_values(got: &[f64], want: &[f64], n: usize, norm: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: count");
    let tol = 20.0 * n as f64 * f64::EPSILON * norm.max(f64::MIN_POSITIVE);
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "{what}: {g} vs {w} (tol {tol:e})");
    }
}

/// Every check of the kit's backend suite holds for `solver` on `a`.
fn assert_backend<T: EigenScalar>(solver: &dyn SymmetricEigensolver<T>, a: &TestMatrix<T>, c: f64) {
    for check in
        check_backend(solver, a, c).unwrap_or_else(|e| panic!("{}: {a:?}: {e}", solver.name()))
    {
        assert!(check.holds(), "{} on {a:?}: {check}", solver.name());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every matrix family of the kit (constructed spectra: uniform, clustered, graded over 24 decades, repeated,
    /// negative, rank-deficient; Wilkinson, glued Wilkinson, Clement, nearly diagonal, zero, diagonal) at orders
    /// 0, 1, 2, up to 60 and past the blocked path's threshold, in f64 and f32: eigenvalues against the known
    /// spectrum, residuals and orthogonality to c·n·ε·‖A‖ for every dense backend, and the backends against faer.
    #[test]
    fn dense_backends_pass_the_kit(a in symmetric_matrices::<f64>(sizes(), &[Scale::Unit])) {
        for (b, c) in dense_backends() {
            assert_backend(b.as_ref(), &a, c);
            let agree = check_backends_agree(b.as_ref(), &FaerEigen::default(), &a, 50.0).unwrap();
            prop_assert!(agree.holds(), "{} on {a:?}: {agree}", b.name());
        }
    }

    #[test]
    fn single_precision_passes_the_kit(a in symmetric_matrices::<f32>(sizes(), &[Scale::Unit])) {
        assert_backend(&FaerEigen::default(), &a, 50.0);
        assert_backend(&two_stage(), &a, 50.0);
    }

    /// The same families with the largest entry near 2⁻²⁰ of the largest finite value or 2²⁰ times the smallest
    /// normal one: solved as accurately as at scale one (the solvers scale into range first, as LAPACK's
    /// ?syevd does).
    #[test]
    fn dense_backends_pass_the_kit_near_overflow_and_underflow(
        a in symmetric_matrices::<f64>(sizes(), &[Scale::NearOverflow, Scale::NearUnderflow])
    ) {
        for (b, c) in dense_backends() {
            assert_backend(b.as_ref(), &a, c);
        }
    }

    #[test]
    fn single_precision_passes_the_kit_near_overflow_and_underflow(
        a in symmetric_matrices::<f32>(sizes(), &[Scale::NearOverflow, Scale::NearUnderflow])
    ) {
        assert_backend(&FaerEigen::default(), &a, 50.0);
        assert_backend(&two_stage(), &a, 50.0);
    }
}

#[test]
fn one_by_one_and_two_by_two() {
    for (a, want) in [
        (array![[-3.5]], vec![-3.5]),
        (array![[2.0, 1.0], [1.0, 2.0]], vec![1.0, 3.0]),
        (array![[0.0, 0.0], [0.0, 0.0]], vec![0.0, 0.0]),
    ] {
        for (b, _) in dense_backends() {
            check_values(&b.eigenvalues(a.view()).unwrap(), &want, 2, 3.0, b.name());
        }
    }
}

#[test]
fn subsets_are_the_right_slices() {
    let lambda: Vec<f64> = (0..30).map(|k| (k as f64 - 10.0) * 0.37).collect();
    let a = with_spectrum(&lambda, 3);
    let all = sorted(lambda);
    let norm = max_abs(&all);
    let cases: Vec<(Subset, Vec<f64>)> = vec![
        (Subset::Largest(5), all[25..].to_vec()),
        (Subset::Smallest(4), all[..4].to_vec()),
        (Subset::Index { first: 3, last: 9 }, all[3..=9].to_vec()),
        (
            Subset::Values {
                lower: -1.0,
                upper: 2.0,
            },
            all.iter()
                .copied()
                .filter(|&v| v > -1.0 && v <= 2.0)
                .collect(),
        ),
        (Subset::Largest(0), vec![]),
    ];
    for (b, _) in dense_backends() {
        for (subset, want) in &cases {
            for vectors in [false, true] {
                let mut req = EigenRequest::subset(*subset);
                if vectors {
                    req = req.with_vectors();
                }
                match b.solve(a.view(), &req) {
                    Ok(d) => {
                        check_values(&d.values, want, 30, norm, b.name());
                        if vectors {
                            assert_eq!(d.vectors.as_ref().unwrap().ncols(), want.len());
                            if !want.is_empty() {
                                assert!(d.residual(a.view()).unwrap() < 1e-12 * norm);
                            }
                        }
                    }
                    // The values-only two-stage driver refuses vectors; nothing else may fail.
                    Err(e) => assert!(vectors && b.name() == "lapack", "{}: {e}", b.name()),
                }
            }
        }
    }
    assert!(FaerEigen::default()
        .solve(a.view(), &EigenRequest::subset(Subset::Largest(31)))
        .is_err());
    assert!(FaerEigen::default()
        .solve(
            a.view(),
            &EigenRequest::subset(Subset::Index { first: 5, last: 2 })
        )
        .is_err());
}

#[test]
fn single_precision_matches_double() {
    let k = kernel_like(120, 4);
    let k32 = k.mapv(|v| v as f32);
    let w64 = FaerEigen::default().eigenvalues(k.view()).unwrap();
    let norm = max_abs(&w64);
    let w32: Vec<f32> = FaerEigen::default().eigenvalues(k32.view()).unwrap();
    for (a, b) in w64.iter().zip(&w32) {
        // f32 rounding of the entries moves eigenvalues by up to n·ε₃₂·‖K‖.
        assert!(
            (a - *b as f64).abs() <= 120.0 * f32::EPSILON as f64 * norm,
            "{a} vs {b}"
        );
    }
}

/// The default backend where users solve, past its blocked threshold (the blocked tridiagonalization, the
/// crate's divide and conquer, the blocked back-transformation; at 1000 and 2000 many panels and products split
/// over the threads): every family of the kit at n = 400 (the threshold itself) in f64 and f32 and at n = 1000 in
/// f64, each at scale one, near overflow and near underflow, values and pairs, residual and orthogonality to
/// 50·n·ε·‖A‖ and 50·n·ε; every LAPACK driver on the same matrices at scale one under `--features openblas`,
/// with its eigenvalues equal to faer's to 50·n·ε·‖A‖; the hardest constructed spectra at 2000.
#[test]
fn blocked_path_passes_the_kit_at_scale() {
    let spec = |family, n, scale| MatrixSpec {
        family,
        n,
        scale,
        seed: 17,
    };
    let scales = [Scale::Unit, Scale::NearOverflow, Scale::NearUnderflow];
    for family in deq_eigen::testing::families() {
        for scale in scales {
            let a = TestMatrix::<f32>::new(spec(family, BLOCKED_FROM, scale));
            assert_backend(&FaerEigen::default(), &a, 50.0);
            for n in [BLOCKED_FROM, 1000] {
                let a = TestMatrix::<f64>::new(spec(family, n, scale));
                if scale != Scale::Unit {
                    assert_backend(&FaerEigen::default(), &a, 50.0);
                    continue;
                }
                for (b, c) in dense_backends() {
                    assert_backend(b.as_ref(), &a, c);
                    let agree =
                        check_backends_agree(b.as_ref(), &FaerEigen::default(), &a, 50.0).unwrap();
                    assert!(agree.holds(), "{} on {a:?}: {agree}", b.name());
                }
            }
        }
    }
    for family in [
        MatrixFamily::KnownSpectrum(Spectrum::Clustered),
        MatrixFamily::KnownSpectrum(Spectrum::Graded),
        MatrixFamily::KnownSpectrum(Spectrum::RankDeficient),
        MatrixFamily::GluedWilkinson,
    ] {
        assert_backend(
            &FaerEigen::default(),
            &TestMatrix::<f64>::new(spec(family, 2000, Scale::Unit)),
            50.0,
        );
    }
}

/// The two-stage path (eigenvalues alone, from TWO_STAGE_FROM) on the hardest families of the kit, in f64
/// and f32, at scale one and (graded, over 24 decades) near overflow: eigenvalues within 50·n·ε·‖A‖ of the known spectrum, or (glued
/// Wilkinson, whose spectrum is not constructed) of the one-stage reduction's.
#[test]
fn two_stage_path_passes_the_kit_at_scale() {
    fn run<T: EigenScalar>(family: MatrixFamily, scale: Scale) {
        let spec = MatrixSpec {
            family,
            n: TWO_STAGE_FROM,
            scale,
            seed: 23,
        };
        let a = TestMatrix::<T>::new(spec);
        let values = FaerEigen::default()
            .solve(a.matrix.view(), &EigenRequest::values())
            .unwrap()
            .values;
        if let Some(check) = deq_eigen::testing::check_eigenvalues(&a, &values, 50.0) {
            assert!(check.holds(), "{spec:?}: {check}");
            return;
        }
        let t =
            deq_eigen::tridiagonal::tridiagonalize(a.matrix.view(), deq_eigen::Par::Pool).unwrap();
        let one_stage =
            deq_eigen::divide_and_conquer::eigenvalues(&t, deq_eigen::Par::Pool).unwrap();
        let tol = 50.0 * spec.n as f64 * T::EPSILON * a.norm;
        for (x, y) in values.iter().zip(&one_stage) {
            assert!(
                (x.to_f64() - y.to_f64()).abs() <= tol,
                "{spec:?}: {x:?} vs {y:?}"
            );
        }
    }
    run::<f64>(
        MatrixFamily::KnownSpectrum(Spectrum::Graded),
        Scale::NearOverflow,
    );
    run::<f64>(MatrixFamily::GluedWilkinson, Scale::Unit);
    run::<f32>(
        MatrixFamily::KnownSpectrum(Spectrum::Clustered),
        Scale::Unit,
    );
}

/// f32 entries of magnitude 1e35 (beyond √(ε/s) ≈ 3e15, where the solver scales by a power of two first, as
/// ?syevd does): eigenvalues within 50·n·ε·‖A‖ of the exact spectrum scaled alike, residual and orthogonality as
/// at scale one, nothing turned into NaN.
#[test]
fn single_precision_near_1e35_is_solved() {
    let n = 1000;
    let (unit, lambda) = deq_eigen::testing::test_matrix(MatrixSpec {
        family: MatrixFamily::KnownSpectrum(Spectrum::Uniform),
        n,
        scale: Scale::Unit,
        seed: 23,
    });
    let lambda = lambda.expect("a known spectrum");
    let largest = unit.iter().fold(0f64, |m, x| m.max(x.abs()));
    let factor = 1e35 / largest;
    let a = TestMatrix::<f32>::from_matrix(unit.mapv(|x| (x * factor) as f32));
    assert!(a.matrix.iter().all(|x| x.is_finite()));
    let d = FaerEigen::default()
        .solve(a.matrix.view(), &EigenRequest::pairs())
        .unwrap();
    let tol = 50.0 * n as f64 * f32::EPSILON as f64 * a.norm;
    for (got, want) in d.values.iter().zip(&lambda) {
        assert!(got.is_finite());
        assert!(
            (f64::from(*got) - want * factor).abs() <= tol,
            "{got} vs {}",
            want * factor
        );
    }
    assert!(check_residual(&a, &d, 50.0).holds());
    assert!(check_orthogonality(&d, 50.0).holds());
}

fn kernel_matrix(n: usize, seed: u64) -> Array2<f64> {
    kernel_like(n, seed)
}

#[test]
fn lanczos_top_and_bottom_k_equal_dense() {
    let a = kernel_matrix(400, 5);
    let all = FaerEigen::default().eigenvalues(a.view()).unwrap();
    let norm = max_abs(&all);
    for (k, block) in [(1, 1), (5, 1), (20, 8), (20, 3)] {
        for extreme in [Extreme::Largest, Extreme::Smallest] {
            let params = LanczosParams::new(k, extreme)
                .unwrap()
                .with_block(block)
                .unwrap()
                .with_tol(1e-12)
                .unwrap();
            let (d, rep) = lanczos(&a.view(), &params).unwrap();
            let want = match extreme {
                Extreme::Largest => &all[400 - k..],
                Extreme::Smallest => &all[..k],
            };
            for (g, w) in d.values.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-10 * norm,
                    "k {k} block {block} {extreme:?}: {g} vs {w}"
                );
            }
            let acc = d.accuracy(a.view()).unwrap();
            assert!(acc.residual <= 1e-10 * norm, "{acc:?}");
            assert!(acc.orthogonality <= 1e-10, "{acc:?}");
            assert!(rep.max_relative_residual <= 1e-12);
        }
    }
    // As a backend of the common interface.
    let d = LanczosEigen::default()
        .solve(a.view(), &EigenRequest::subset(Subset::Largest(3)))
        .unwrap();
    check_values(&d.values, &all[397..], 400, norm, "LanczosEigen");
    assert!(LanczosEigen::default()
        .solve(a.view(), &EigenRequest::values())
        .is_err());
}

/// A backend answers exactly the requests it claims to support, and refuses the others with
/// `Error::Unsupported` (at n = 0 too, where nothing would need computing).
#[test]
fn backends_answer_what_they_support() {
    let mut backends: Vec<Box<dyn SymmetricEigensolver<f64>>> =
        dense_backends().into_iter().map(|(b, _)| b).collect();
    backends.push(Box::new(LanczosEigen::default()));
    let mut requests = Vec::new();
    for subset in [
        Subset::All,
        Subset::Largest(2),
        Subset::Smallest(1),
        Subset::Index { first: 1, last: 3 },
        Subset::Values {
            lower: -1.0,
            upper: 1.0,
        },
    ] {
        requests.push(EigenRequest::subset(subset));
        requests.push(EigenRequest::subset(subset).with_vectors());
    }
    let a = with_spectrum(&[-2.0, -0.5, 0.25, 1.0, 3.0, 4.0], 5);
    let empty = Array2::<f64>::zeros((0, 0));
    for b in &backends {
        for r in &requests {
            for m in [a.view(), empty.view()] {
                if m.nrows() == 0 && !matches!(r.subset, Subset::All | Subset::Values { .. }) {
                    continue;
                }
                let got = b.solve(m, r);
                if b.supports(r) {
                    assert!(
                        got.is_ok(),
                        "{} on {r:?} at n = {}: {got:?}",
                        b.name(),
                        m.nrows()
                    );
                } else {
                    assert!(
                        matches!(got, Err(Error::Unsupported { .. })),
                        "{} on {r:?} at n = {}: {got:?}",
                        b.name(),
                        m.nrows()
                    );
                }
            }
        }
    }
}

#[test]
fn lanczos_handles_invariant_subspaces_and_clusters() {
    // Rank 3 plus a cluster of 50 equal eigenvalues: the Krylov space of a block of 4 becomes invariant.
    let mut lambda = vec![0.0; 200];
    lambda[0] = 5.0;
    lambda[1] = 4.0;
    lambda[2] = 3.0;
    for v in lambda.iter_mut().skip(100).take(50) {
        *v = 1.0;
    }
    let a = with_spectrum(&lambda, 9);
    let params = LanczosParams::new(6, Extreme::Largest)
        .unwrap()
        .with_block(4)
        .unwrap();
    let (d, _) = lanczos(&a.view(), &params).unwrap();
    check_values(
        &d.values,
        &[1.0, 1.0, 1.0, 3.0, 4.0, 5.0],
        200,
        5.0,
        "clustered",
    );
}

#[test]
fn lanczos_through_a_closure() {
    // The 1-D Laplacian tridiag(−1, 2, −1), n = 300: λ_k = 2 − 2cos(kπ/(n+1)).
    let n = 300;
    let op = FnOperator::new(n, |x: ArrayView2<f64>, mut y: ArrayViewMut2<f64>| {
        for c in 0..x.ncols() {
            for i in 0..n {
                let left = if i > 0 { x[[i - 1, c]] } else { 0.0 };
                let right = if i + 1 < n { x[[i + 1, c]] } else { 0.0 };
                y[[i, c]] = 2.0 * x[[i, c]] - left - right;
            }
        }
    });
    let params = LanczosParams::new(4, Extreme::Largest).unwrap();
    let (d, _) = lanczos(&op, &params).unwrap();
    let exact: Vec<f64> = (n - 3..=n)
        .map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n + 1) as f64).cos())
        .collect();
    check_values(&d.values, &exact, n, 4.0, "laplacian");
}

#[test]
fn slq_density_is_within_its_wasserstein_bound() {
    // The kit's bound πw/(4m) + 3w/√(nP) on a kernel spectrum; and tr(A) from Rademacher probes is unbiased with
    // standard deviation √(2Σ_{i≠j}A_ij²/P): within 4 of them.
    let n = 600;
    let a = TestMatrix::<f64>::from_matrix(kernel_matrix(n, 6));
    let exact = FaerEigen::default().eigenvalues(a.matrix.view()).unwrap();
    for (probes, steps) in [(10, 30), (20, 60)] {
        let check = check_slq_density(&a, probes, steps, 3).unwrap();
        assert!(check.holds(), "{check}");
        let q = deq_eigen::slq::slq(
            &a.matrix.view(),
            &SlqParams::new(probes, steps).unwrap().with_seed(3),
        )
        .unwrap();
        let total: f64 = q.weights.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "weights sum to {total}");
        let trace: f64 = exact.iter().sum();
        let off: f64 = a
            .matrix
            .indexed_iter()
            .filter(|((i, j), _)| i != j)
            .map(|(_, v)| v * v)
            .sum();
        let sd = (2.0 * off / probes as f64).sqrt();
        let est = q.trace(|x| x);
        assert!(
            (est - trace).abs() <= 4.0 * sd,
            "trace {est} vs {trace} (sd {sd:e})"
        );
    }
    // Lanczos' five extreme eigenvalues at both ends against the dense solver's.
    for check in check_lanczos_extremes(&a, 5, 1e-9).unwrap() {
        assert!(check.holds(), "{check}");
    }
}

#[test]
fn spectrum_tools() {
    // W₁ between point masses at 0 and at 3 is 3; between {0, 1} and {0, 2}, ½.
    assert!((wasserstein1(&[0.0], &[3.0]).unwrap() - 3.0).abs() < 1e-15);
    assert!((wasserstein1(&[0.0, 1.0], &[0.0, 2.0]).unwrap() - 0.5).abs() < 1e-15);
    assert!((wasserstein1(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.0]).unwrap()).abs() < 1e-15);
    // A density histogram integrates to one.
    let v: Vec<f64> = (0..1000).map(|k| (k as f64 * 0.37).sin()).collect();
    let h = histogram(&v, 25, None).unwrap();
    let mass: f64 = h
        .density
        .iter()
        .zip(h.edges.windows(2))
        .map(|(d, e)| d * (e[1] - e[0]))
        .sum();
    assert!((mass - 1.0).abs() < 1e-12);
    // Outliers: a bulk in [0, 1] and two spikes.
    let mut s: Vec<f64> = (0..200).map(|k| k as f64 / 200.0).collect();
    s.push(9.0);
    s.push(-7.0);
    assert_eq!(outliers(&s, 3.0, 20), vec![-7.0, 9.0]);
    // Matrix distances against a dense computation of ‖A − B‖₂.
    let a = kernel_matrix(120, 7);
    let b = kernel_matrix(120, 8);
    let diff = &a - &b;
    let dense = max_abs(&FaerEigen::default().eigenvalues(diff.view()).unwrap());
    let op = operator_norm_distance(a.view(), b.view()).unwrap();
    assert!((op - dense).abs() <= 1e-9 * dense, "{op} vs {dense}");
    let fro = relative_frobenius(a.view(), b.view()).unwrap();
    let want =
        (diff.iter().map(|x| x * x).sum::<f64>() / b.iter().map(|x| x * x).sum::<f64>()).sqrt();
    assert!((fro - want).abs() < 1e-14);
}

#[test]
fn bad_matrices_are_refused() {
    fn refuse<T: EigenScalar>(m: Array2<T>, kind: fn(&Error) -> bool) {
        let e = FaerEigen::default().eigenvalues(m.view()).unwrap_err();
        assert!(kind(&e), "faer: {e:?}");
        let top = EigenRequest::subset(Subset::Largest(1));
        let e = LanczosEigen::default().solve(m.view(), &top).unwrap_err();
        assert!(kind(&e), "lanczos: {e:?}");
    }
    refuse(Array2::<f64>::zeros((2, 3)), |e| {
        matches!(e, Error::Shape { .. })
    });
    refuse(array![[1.0, 2.0], [0.0, 1.0]], |e| {
        matches!(e, Error::NotSymmetric { .. })
    });
    refuse(array![[1.0f32, f32::NAN], [f32::NAN, 1.0]], |e| {
        matches!(e, Error::NonFinite { .. })
    });
    refuse(array![[1.0, f64::INFINITY], [f64::INFINITY, 1.0]], |e| {
        matches!(e, Error::NonFinite { .. })
    });
    // Symmetric to within the tolerance is accepted.
    let nearly = array![[1.0, 0.5], [0.5 + 1e-14, 1.0]];
    assert!(FaerEigen::default().eigenvalues(nearly.view()).is_ok());
    assert!(LanczosParams::new(0, Extreme::Largest).is_err());
    assert!(SlqParams::new(0, 10).is_err());
}
