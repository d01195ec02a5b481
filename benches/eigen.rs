//! Dense symmetric eigensolvers on kernel matrices (the one-layer ReLU CK of the paper's Gaussian mixture with
//! p = n/2, f64): all eigenvalues and all eigenpairs by faer and by LAPACK's drivers; the 20 largest pairs by
//! block Lanczos; the spectral density by stochastic Lanczos quadrature; the parts of the pure-Rust path (the
//! blocked tridiagonalization, the divide and conquer on T with and without vectors, the root-free QL iteration,
//! the blocked back-transformation) beside faer's tridiagonal QR iteration and divide and conquer and, with
//! `--features openblas`, LAPACK's `dsytrd`, `dsterf`, `dstedc` and `dormtr` on the same matrices.
//!
//! Sizes: `DEQK_EIG_SIZES` (default 1000,2000,4000,8000) for the dense solvers and Lanczos,
//! `DEQK_SLQ_SIZES` (default 20000) for the density, `DEQK_TRD_SIZES` (default 1000,2000,4000) for the
//! tridiagonal parts (an empty list skips a group); `DEQK_EIG_BACKENDS` (default all of faer, dsyevd,
//! dsyevd_2stage, dsyevr) limits the dense solvers, since ten samples of each at n = 8000 take most of an hour. With `DEQK_EIG_DATA=DIR` the matrices are also written
//! to DIR/K<n>.npy for benches/eig_scipy.py. Results: docs/benchmarks.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use deq_kernels::comparison::benchmark_matrix;
use deq_kernels::eigen::lanczos::{lanczos, Extreme, LanczosParams};
use deq_kernels::eigen::slq::{slq, SlqParams};
use deq_kernels::eigen::{EigenRequest, FaerEigen, Par, SymmetricEigensolver};
use ndarray::Array2;

fn sizes(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// The test matrix of `deqk bench-eig` with seed 7, also written to `DEQK_EIG_DATA` when set (feature `io`).
fn kernel(n: usize) -> Array2<f64> {
    let k = benchmark_matrix(n, 7).unwrap();
    if let Ok(dir) = std::env::var("DEQK_EIG_DATA") {
        #[cfg(feature = "io")]
        {
            let path = std::path::Path::new(&dir).join(format!("K{n}.npy"));
            deq_kernels::npy::write_matrix(&path, &k, true).unwrap();
        }
        #[cfg(not(feature = "io"))]
        eprintln!("DEQK_EIG_DATA={dir} needs --features io to write the matrices");
    }
    k
}

fn solvers() -> Vec<(&'static str, Box<dyn SymmetricEigensolver<f64>>)> {
    let wanted = std::env::var("DEQK_EIG_BACKENDS").ok();
    let keep = |name: &str| {
        wanted
            .as_deref()
            .is_none_or(|w| w.split(',').any(|t| t.trim() == name))
    };
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, Box<dyn SymmetricEigensolver<f64>>)> =
        vec![("faer", Box::new(FaerEigen::default()))];
    #[cfg(feature = "openblas")]
    {
        use deq_kernels::eigen::{LapackDriver, LapackEigen};
        v.push((
            "dsyevd",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevd)),
        ));
        v.push((
            "dsyevd_2stage",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevd2Stage)),
        ));
        v.push((
            "dsyevr",
            Box::new(LapackEigen::with_driver(LapackDriver::Syevr)),
        ));
    }
    v.retain(|(name, _)| keep(name));
    v
}

fn dense(c: &mut Criterion) {
    for n in sizes("DEQK_EIG_SIZES", &[1000, 2000, 4000, 8000]) {
        let k = kernel(n);
        for (kind, request) in [
            ("values", EigenRequest::values()),
            ("pairs", EigenRequest::pairs()),
        ] {
            let mut group = c.benchmark_group(format!("eig_{kind}"));
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(1));
            group.measurement_time(Duration::from_secs(5));
            for (name, s) in solvers() {
                if kind == "pairs" && name == "dsyevd_2stage" {
                    continue;
                }
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                    b.iter(|| s.solve(k.view(), &request).unwrap())
                });
            }
            group.finish();
        }
        let mut group = c.benchmark_group("lanczos_top20");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(5));
        let params = LanczosParams::new(20, Extreme::Largest).unwrap();
        group.bench_with_input(BenchmarkId::new("block8", n), &n, |b, _| {
            b.iter(|| lanczos(&k.view(), &params).unwrap())
        });
        group.finish();
    }
}

fn density(c: &mut Criterion) {
    for n in sizes("DEQK_SLQ_SIZES", &[20000]) {
        let k = kernel(n);
        let mut group = c.benchmark_group("slq_density");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(5));
        let params = SlqParams::new(10, 80).unwrap();
        group.bench_with_input(BenchmarkId::new("probes10_steps80", n), &n, |b, _| {
            b.iter(|| slq(&k.view(), &params).unwrap())
        });
        group.finish();
    }
}

/// The eigenvalues of T by faer's tridiagonal solver, and with `vectors` its eigenvectors Z (T = ZΛZᵀ,
/// column-major n×n): QR iteration without vectors, divide and conquer on faer's global threads with them.
fn faer_tridiagonal(
    diagonal: &[f64],
    off_diagonal: &[f64],
    vectors: bool,
) -> (Vec<f64>, Option<faer::Mat<f64>>) {
    let n = diagonal.len();
    let par = faer::get_global_parallelism();
    let mut z = vectors.then(|| faer::Mat::<f64>::zeros(n, n));
    let mut w = vec![0.0; n];
    let compute = if vectors {
        faer::linalg::evd::ComputeEigenvectors::Yes
    } else {
        faer::linalg::evd::ComputeEigenvectors::No
    };
    let mut mem = faer::dyn_stack::MemBuffer::new(
        faer::linalg::evd::self_adjoint_evd_scratch::<f64>(n, compute, par, Default::default()),
    );
    faer::linalg::evd::tridiagonal_self_adjoint_evd(
        faer::diag::DiagRef::from_slice(diagonal),
        faer::diag::DiagRef::from_slice(off_diagonal),
        faer::diag::DiagMut::from_slice_mut(&mut w),
        z.as_mut().map(|z| z.as_mut()),
        par,
        faer::dyn_stack::MemStack::new(&mut mem),
        Default::default(),
    )
    .unwrap();
    (w, z)
}

/// LAPACK's `dsytrd` on a copy of the symmetric K (upper triangle, column-major): the reflectors in the
/// returned matrix, the diagonal and τ.
#[cfg(feature = "openblas")]
fn lapack_dsytrd(k: &Array2<f64>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = k.nrows();
    let ni = n as i32;
    let mut a = k.as_slice().unwrap().to_vec();
    let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n - 1], vec![0.0; n - 1]);
    let (mut query, mut info) = ([0.0], 0);
    // SAFETY: buffers of the sizes dsytrd documents; the first call queries the workspace.
    unsafe {
        lapack::dsytrd(
            b'U', ni, &mut a, ni, &mut d, &mut e, &mut tau, &mut query, -1, &mut info,
        );
        let mut work = vec![0.0; query[0] as usize];
        let lwork = work.len() as i32;
        lapack::dsytrd(
            b'U', ni, &mut a, ni, &mut d, &mut e, &mut tau, &mut work, lwork, &mut info,
        );
    }
    assert_eq!(info, 0);
    (a, d, tau)
}

fn tridiagonal_parts(c: &mut Criterion) {
    use deq_kernels::eigen::divide_and_conquer;
    use deq_kernels::eigen::tridiagonal::{
        tridiagonal_eigenvalues, tridiagonalize, tridiagonalize_keeping_q,
    };
    for n in sizes("DEQK_TRD_SIZES", &[1000, 2000, 4000]) {
        let k = kernel(n);
        let reduction = tridiagonalize_keeping_q(k.view(), Par::Pool).unwrap();
        let t = reduction.tridiagonal.clone();
        let z = faer_tridiagonal(&t.diagonal, &t.off_diagonal, true)
            .1
            .expect("vectors requested");
        let mut group = c.benchmark_group("tridiagonal");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(3));
        group.bench_with_input(BenchmarkId::new("reduction", n), &n, |b, _| {
            b.iter(|| tridiagonalize(k.view(), Par::Pool).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("root_free_ql", n), &n, |b, _| {
            b.iter(|| tridiagonal_eigenvalues(&t).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("divide_and_conquer_values", n),
            &n,
            |b, _| b.iter(|| divide_and_conquer::eigenvalues(&t, Par::Pool).unwrap()),
        );
        group.bench_with_input(BenchmarkId::new("faer_qr", n), &n, |b, _| {
            b.iter(|| faer_tridiagonal(&t.diagonal, &t.off_diagonal, false))
        });
        group.bench_with_input(
            BenchmarkId::new("faer_divide_and_conquer", n),
            &n,
            |b, _| b.iter(|| faer_tridiagonal(&t.diagonal, &t.off_diagonal, true)),
        );
        group.bench_with_input(BenchmarkId::new("divide_and_conquer", n), &n, |b, _| {
            b.iter(|| {
                let mut values = vec![0.0; n];
                let mut z = faer::Mat::<f64>::zeros(n, n);
                divide_and_conquer::eigenpairs(&t, &mut values, z.as_mut(), Par::Pool).unwrap();
                (values, z)
            })
        });
        group.bench_with_input(BenchmarkId::new("back_transformation", n), &n, |b, _| {
            b.iter(|| {
                let mut qz = z.clone();
                reduction.apply_q(qz.as_mut(), Par::Pool).unwrap();
                qz
            })
        });
        #[cfg(feature = "openblas")]
        {
            let ni = n as i32;
            group.bench_with_input(BenchmarkId::new("lapack_dsytrd", n), &n, |b, _| {
                b.iter(|| lapack_dsytrd(&k))
            });
            group.bench_with_input(BenchmarkId::new("lapack_dsterf", n), &n, |b, _| {
                b.iter(|| {
                    let (mut d, mut e, mut info) = (t.diagonal.clone(), t.off_diagonal.clone(), 0);
                    // SAFETY: d has n entries and e n − 1, as dsterf documents.
                    unsafe { lapack::dsterf(ni, &mut d, &mut e, &mut info) };
                    assert_eq!(info, 0);
                    d
                })
            });
            group.bench_with_input(BenchmarkId::new("lapack_dstedc", n), &n, |b, _| {
                b.iter(|| {
                    let (mut d, mut e) = (t.diagonal.clone(), t.off_diagonal.clone());
                    let mut z = vec![0.0; n * n];
                    let (mut query, mut iquery, mut info) = ([0.0], [0], 0);
                    // SAFETY: d has n entries, e n − 1, z n×n; the first call queries the workspaces.
                    unsafe {
                        lapack::dstedc(
                            b'I',
                            ni,
                            &mut d,
                            &mut e,
                            &mut z,
                            ni,
                            &mut query,
                            -1,
                            &mut iquery,
                            -1,
                            &mut info,
                        );
                        let mut work = vec![0.0; query[0] as usize];
                        let mut iwork = vec![0; iquery[0] as usize];
                        let (lwork, liwork) = (work.len() as i32, iwork.len() as i32);
                        lapack::dstedc(
                            b'I', ni, &mut d, &mut e, &mut z, ni, &mut work, lwork, &mut iwork,
                            liwork, &mut info,
                        );
                    }
                    assert_eq!(info, 0);
                    z
                })
            });
            // dsytrd's reflectors of the same matrix, once, for dormtr.
            let (a, _, tau) = lapack_dsytrd(&k);
            let z_lapack: Vec<f64> = (0..n * n).map(|i| z[(i % n, i / n)]).collect();
            group.bench_with_input(BenchmarkId::new("lapack_dormtr", n), &n, |b, _| {
                b.iter(|| {
                    let mut c = z_lapack.clone();
                    let (mut query, mut info) = ([0.0], 0);
                    // SAFETY: a and c are n×n, tau n − 1; the first call queries the workspace.
                    unsafe {
                        lapack::dormtr(
                            b'L', b'U', b'N', ni, ni, &a, ni, &tau, &mut c, ni, &mut query, -1,
                            &mut info,
                        );
                        let mut work = vec![0.0; query[0] as usize];
                        let lwork = work.len() as i32;
                        lapack::dormtr(
                            b'L', b'U', b'N', ni, ni, &a, ni, &tau, &mut c, ni, &mut work, lwork,
                            &mut info,
                        );
                    }
                    assert_eq!(info, 0);
                    c
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, dense, density, tridiagonal_parts);
criterion_main!(benches);
