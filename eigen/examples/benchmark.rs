//! Benchmarking the eigensolvers with no kernel code in sight: a symmetric matrix with a chosen spectrum, every
//! backend this build has on all eigenvalues, all pairs and the 20 largest pairs, each timed and checked.
//!
//! Run: cargo run --release -p deq-eigen --example benchmark -- [n] (add --features openblas for LAPACK).

use std::time::Instant;

use deq_eigen::{Backend, EigenRequest, LapackDriver, Subset};
use ndarray::Array2;

/// Q·diag(λ)·Qᵀ with λ_k = k/n for k < n − 5 and five outliers 2, 3, 4, 5, 6, Q = H₁H₂ a product of two random
/// Householder reflections (the spectrum is known exactly; the matrix is dense).
fn test_matrix(n: usize) -> (Array2<f64>, Vec<f64>) {
    let mut state = 7u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let lambda: Vec<f64> = (0..n)
        .map(|k| {
            if k + 5 < n {
                k as f64 / n as f64
            } else {
                (k + 7 - n) as f64
            }
        })
        .collect();
    let mut a = Array2::from_diag(&ndarray::Array1::from(lambda.clone()));
    for _ in 0..2 {
        let v = ndarray::Array1::from_shape_fn(n, |_| next());
        let v = &v / v.dot(&v).sqrt();
        // A ← HAH with H = I − 2vvᵀ.
        let av = a.dot(&v);
        let vav = v.dot(&av);
        for i in 0..n {
            for j in 0..n {
                a[[i, j]] += -2.0 * (av[i] * v[j] + v[i] * av[j]) + 4.0 * vav * v[i] * v[j];
            }
        }
    }
    let sym = (&a + &a.t()) * 0.5;
    (sym, lambda)
}

/// One timed solve: backend, request, seconds, largest error in the eigenvalues, residual (with vectors).
type Row = (String, &'static str, f64, f64, Option<f64>);

/// A [`Row`] for every backend and request.
fn run(n: usize) -> deq_eigen::Result<Vec<Row>> {
    let (a, mut lambda) = test_matrix(n);
    lambda.sort_by(f64::total_cmp);
    let mut rows = Vec::new();
    let requests = [
        ("values", EigenRequest::values()),
        ("pairs", EigenRequest::pairs()),
        (
            "top 20 pairs",
            EigenRequest::subset(Subset::Largest(20)).with_vectors(),
        ),
    ];
    for backend in [
        Backend::Faer,
        Backend::Lapack(LapackDriver::Auto),
        Backend::Lanczos,
    ] {
        if !backend.is_available() {
            continue;
        }
        let solver = backend.solver::<f64>()?;
        for (what, request) in &requests {
            if backend == Backend::Lanczos && *what != "top 20 pairs" {
                continue;
            }
            let t = Instant::now();
            let d = solver.solve(a.view(), request)?;
            let seconds = t.elapsed().as_secs_f64();
            let want = &lambda[n - d.values.len()..];
            let error = d
                .values
                .iter()
                .zip(want)
                .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
            rows.push((
                format!("{backend:?}"),
                *what,
                seconds,
                error,
                d.residual(a.view()),
            ));
        }
    }
    Ok(rows)
}

fn main() -> deq_eigen::Result<()> {
    let n = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    println!("n = {n}, {} threads", deq_eigen::Par::Pool.requested());
    println!(
        "{:<22} {:<14} {:>9} {:>10} {:>10}",
        "backend", "request", "seconds", "max |Δλ|", "residual"
    );
    for (b, what, s, e, r) in run(n)? {
        let r = r.map_or("—".into(), |r| format!("{r:.1e}"));
        println!("{b:<22} {what:<14} {s:>9.3} {e:>10.1e} {r:>10}");
    }
    Ok(())
}

#[test]
fn every_available_backend_recovers_the_known_spectrum() {
    // Dense solvers: eigenvalues and residuals within 100·n·ε·‖A‖ (‖A‖ = 6). Lanczos stops when every pair has
    // ‖Ay − θy‖ ≤ tolerance::lanczos_relative(ε)·max|θ|; its eigenvalues are then accurate to about the square.
    let n = 450;
    let dense = 100.0 * n as f64 * f64::EPSILON * 6.0;
    let lanczos = deq_eigen::tolerance::lanczos_relative(f64::EPSILON) * 6.0;
    for (b, what, _, error, residual) in run(n).unwrap() {
        let residual_tol = if b == "Lanczos" { lanczos } else { dense };
        assert!(error < dense, "{b} {what}: {error}");
        assert!(
            residual.is_none_or(|r| r < residual_tol),
            "{b} {what}: {residual:?}"
        );
    }
}
