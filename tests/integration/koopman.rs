//! The Koopman link between DEQs and SIMs (math §10): the λ = 1 spectral projection of a linear DEQ's augmented
//! map against its closed form, the decay of Mᵗ − P₁, the Cesàro mean with a rotation block, and EDMD of a tanh
//! DEQ (exact λ = 1, eigenvalues near the Jacobian's, z* read from P₁, the multiplicity of λ = 1 with (z, x)
//! dictionaries).

use deq_kernels::sim::koopman::{edmd, general_eigenvalues, Dictionary, LinearDeq, TanhDeq};
use deq_kernels::testing::gaussian_matrix;
use deq_kernels::Error;
use ndarray::{s, Array1, Array2};

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0f64, |m, v| m.max(v.abs()))
}

/// P₁ computed from the λ = 1 eigenvectors equals [[0, (I − γA)⁻¹B], [0, I]] to 1e-12, is a projection of
/// rank d_x, and its top block applied to (z₀; x) is the fixed point z* of a direct solve, for random z₀.
#[test]
fn spectral_projection_of_a_linear_deq_is_the_closed_form() {
    for (dz, dx, gamma, seed) in [(5, 2, 0.7, 1u64), (12, 4, 0.9, 2), (3, 1, 0.3, 3)] {
        let deq = LinearDeq::random(dz, dx, gamma, None, seed).unwrap();
        let p = deq.spectral_projection().unwrap();
        let closed = deq.closed_form_projection();
        let scale = 1.0 + max_abs(&closed);
        assert!(
            max_abs(&(&p - &closed)) < 1e-12 * scale,
            "{dz}, {dx}: {}",
            max_abs(&(&p - &closed))
        );
        assert!(max_abs(&(p.dot(&p) - &p)) < 1e-12 * scale * scale);
        let trace: f64 = p.diag().sum();
        assert!((trace - dx as f64).abs() < 1e-10, "rank {trace}");
        let z0x = gaussian_matrix(dz + dx, 1, 1.0, seed + 9)
            .column(0)
            .to_owned();
        let read = p.dot(&z0x);
        let direct = deq.fixed_point(z0x.slice(s![dz..]));
        let err = (&read.slice(s![..dz]) - &direct)
            .iter()
            .fold(0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12 * scale, "z*: {err}");
    }
}

/// ‖Mᵗ − P₁‖ decays like ρ(γA)ᵗ: the ratio from t = 20 to t = 30 is ρ¹⁰ within 10% (the second eigenvalue's
/// modulus is 0.78ρ here, so its share has fallen below 1% by t = 20, and the error is still far above rounding).
#[test]
fn powers_of_the_augmented_map_converge_at_the_spectral_radius() {
    let deq = LinearDeq::random(6, 2, 0.8, None, 4).unwrap();
    let rho = deq.spectral_radius().unwrap();
    let (m, p) = (deq.augmented(), deq.closed_form_projection());
    let mut power = Array2::<f64>::eye(8);
    let mut errors = Vec::new();
    for _ in 0..=30 {
        errors.push(max_abs(&(&power - &p)));
        power = power.dot(&m);
    }
    let observed = errors[30] / errors[20];
    assert!(
        (observed / rho.powi(10) - 1.0).abs() < 0.1,
        "ratio {observed} vs ρ¹⁰ = {}",
        rho.powi(10)
    );
}

/// With a rotation block (eigenvalues e^{±iθ}, |λ| = 1, λ ≠ 1) Mᵗ does not converge, but the Cesàro mean does, to
/// the same P₁, at rate O(1/T): T·‖mean_T − P₁‖ stays bounded (within a factor 1.5 of its value at T = 200 from
/// T = 200 to 3200) while ‖M^{T+1} − M^T‖ does not fall.
#[test]
fn cesaro_mean_converges_at_rate_one_over_t_with_a_rotation() {
    let deq = LinearDeq::random(5, 2, 0.6, Some(0.9), 5).unwrap();
    assert!((deq.spectral_radius().unwrap() - 1.0).abs() < 1e-12);
    let p = deq.closed_form_projection();
    let m = deq.augmented();
    let scaled: Vec<f64> = [200usize, 800, 3200]
        .iter()
        .map(|&t| t as f64 * max_abs(&(&deq.cesaro_mean(t) - &p)))
        .collect();
    for s in &scaled[1..] {
        assert!(
            s / scaled[0] < 1.5 && scaled[0] / s < 1.5,
            "T·error {scaled:?}"
        );
    }
    let mut power = Array2::<f64>::eye(7);
    for _ in 0..3000 {
        power = power.dot(&m);
    }
    let step = max_abs(&(power.dot(&m) - &power));
    assert!(step > 0.1, "Mᵗ converged ({step})");
}

/// EDMD of a tanh DEQ at fixed x: the constant observable gives λ = 1 to 1e-12; the eigenvalues nearest the
/// Jacobian diag(1 − z*²)W's approach them as the monomial dictionary grows from degree 1 to 3 and as the samples
/// localize around z* (spread 0.1 → 0.01), and P₁ of each coordinate approaches z*_i.
#[test]
fn edmd_of_a_tanh_deq_finds_one_and_the_jacobian() {
    let deq = TanhDeq::random(3, 2, 0.7, 6).unwrap();
    let x = Array1::from(vec![0.4, -0.3]);
    let z_star = deq.fixed_point(x.view());
    let jac = general_eigenvalues(deq.jacobian(x.view()).view()).unwrap();
    let mut eig_err = Array2::<f64>::zeros((2, 3));
    let mut z_err = Array2::<f64>::zeros((2, 3));
    for (row, spread) in [0.1, 0.01].into_iter().enumerate() {
        let (before, after) = deq.snapshots(x.view(), 400, spread, 7);
        for degree in 1..=3 {
            let fit = edmd(
                before.view(),
                after.view(),
                &Dictionary::Monomials { degree },
            )
            .unwrap();
            let (re, im) = fit.eigenvalues[0];
            assert!(
                (re - 1.0).abs() < 1e-12 && im.abs() < 1e-12,
                "degree {degree}: λ₁ = {re} + {im}i"
            );
            assert_eq!(fit.multiplicity_of_one(1e-6), 1);
            eig_err[[row, degree - 1]] = jac
                .iter()
                .map(|&(a, b)| {
                    fit.eigenvalues[1..]
                        .iter()
                        .map(|&(c, d)| (a - c).hypot(b - d))
                        .fold(f64::INFINITY, f64::min)
                })
                .fold(0f64, f64::max);
            let m = fit.matrix.nrows();
            for i in 0..3 {
                let mut c = Array1::zeros(m);
                c[1 + i] = 1.0;
                let e = (fit.fixed_point_value(c.view()).unwrap() - z_star[i]).abs();
                z_err[[row, degree - 1]] = z_err[[row, degree - 1]].max(e);
            }
        }
    }
    for row in 0..2 {
        for d in 1..3 {
            assert!(
                eig_err[[row, d]] < eig_err[[row, d - 1]],
                "eigenvalue errors {eig_err}"
            );
        }
    }
    for d in 0..3 {
        assert!(
            eig_err[[1, d]] < eig_err[[0, d]],
            "eigenvalue errors {eig_err}"
        );
    }
    assert!(eig_err[[1, 2]] < 1e-7, "{eig_err}");
    assert!(z_err[[1, 2]] < 1e-8, "z* errors {z_err}");
}

/// Random Fourier dictionaries (constant, coordinates, F cosines) give λ = 1 to 1e-12, and more features bring
/// P₁ of the coordinates closer to z*.
#[test]
fn edmd_with_fourier_features() {
    let deq = TanhDeq::random(2, 2, 0.6, 8).unwrap();
    let x = Array1::from(vec![-0.2, 0.5]);
    let z_star = deq.fixed_point(x.view());
    let (before, after) = deq.snapshots(x.view(), 600, 0.5, 9);
    let mut errs = Vec::new();
    for features in [4, 16, 64] {
        let dict = Dictionary::fourier(2, features, 1.0, 10).unwrap();
        let fit = edmd(before.view(), after.view(), &dict).unwrap();
        let (re, im) = fit.eigenvalues[0];
        assert!(
            (re - 1.0).abs() < 1e-12 && im.abs() < 1e-12,
            "F = {features}: {re} + {im}i"
        );
        let m = fit.matrix.nrows();
        let mut worst = 0f64;
        for i in 0..2 {
            let mut c = Array1::zeros(m);
            c[1 + i] = 1.0;
            worst = worst.max((fit.fixed_point_value(c.view()).unwrap() - z_star[i]).abs());
        }
        errs.push(worst);
    }
    assert!(errs[2] < errs[0], "{errs:?}");
}

/// With the augmented state (z, x) and x held by the map, every x-only monomial is invariant: λ = 1 has
/// multiplicity C(d_x + q, q), the number of monomials of degree ≤ q in x alone.
#[test]
fn augmented_dictionary_multiplicity_counts_the_x_only_functions() {
    let deq = TanhDeq::random(2, 2, 0.5, 11).unwrap();
    let (before, after) = deq.augmented_snapshots(800, 0.4, 12);
    for (degree, x_only) in [(1usize, 3usize), (2, 6), (3, 10)] {
        let fit = edmd(
            before.view(),
            after.view(),
            &Dictionary::Monomials { degree },
        )
        .unwrap();
        assert_eq!(
            fit.multiplicity_of_one(1e-8),
            x_only,
            "degree {degree}: {:?}",
            &fit.eigenvalues[..x_only + 1]
        );
    }
}

#[test]
fn bad_input_is_refused() {
    let a = Array2::<f64>::eye(2) * 2.0;
    let b = Array2::<f64>::ones((2, 1));
    assert!(matches!(
        LinearDeq::new(a, b.clone(), 0.9),
        Err(Error::OutsideContraction { .. })
    ));
    assert!(LinearDeq::new(Array2::eye(3), b.clone(), 0.5).is_err());
    assert!(LinearDeq::random(0, 1, 0.5, None, 0).is_err());
    assert!(LinearDeq::random(1, 1, 0.5, Some(0.3), 0).is_err());
    assert!(TanhDeq::random(2, 2, 1.0, 0).is_err());
    assert!(TanhDeq::random(2, 2, -0.1, 0).is_err());
    let few = Array2::<f64>::zeros((3, 2));
    assert!(edmd(few.view(), few.view(), &Dictionary::Monomials { degree: 3 }).is_err());
    assert!(edmd(
        few.view(),
        Array2::zeros((3, 3)).view(),
        &Dictionary::Monomials { degree: 1 }
    )
    .is_err());
    let mut nan = Array2::<f64>::zeros((20, 2));
    nan[[3, 1]] = f64::NAN;
    assert!(edmd(nan.view(), nan.view(), &Dictionary::Monomials { degree: 1 }).is_err());
    assert!(Dictionary::fourier(2, 4, 0.0, 0).is_err());
    assert!(general_eigenvalues(Array2::<f64>::zeros((2, 3)).view()).is_err());
}
