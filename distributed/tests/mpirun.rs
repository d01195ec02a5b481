//! deqk-mpi under `mpirun` with 1–4 processes (oversubscribed on small machines), square and non-square grids,
//! n not a multiple of the block size, against the single-process library: kernels entrywise to 1e-13 relative,
//! eigenvalues to 1e-12·‖K‖, eigenvector residuals and orthogonality to c·n·ε, the top-k subspace equal; and
//! bad input ending every process with one message, no output left behind.
//!
//! Needs `mpirun` (OpenMPI) on the PATH; the runs go one at a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use deq_kernels::activation::parse_activation;
use deq_kernels::eigen::{EigenRequest, FaerEigen, SymmetricEigensolver};
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::implicit::{deq_kernels, fk_kernels, DeqParams, FengKolterParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::testing::gaussian_samples;
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `mpirun -np P deqk-mpi ARGS` in `dir`, as root where needed, ranks free to share the cores.
fn mpirun(dir: &Path, np: usize, args: &[&str]) -> Output {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    Command::new("mpirun")
        .current_dir(dir)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("RAYON_NUM_THREADS", "1")
        .args([
            "--oversubscribe",
            "--bind-to",
            "none",
            "--mca",
            "mpi_yield_when_idle",
            "1",
        ])
        .args(["-np", &np.to_string(), env!("CARGO_BIN_EXE_deqk-mpi")])
        .args(args)
        .output()
        .expect("mpirun runs (install openmpi-bin)")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "deqk-mpi failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn data(dir: &Path, n: usize, p: usize, seed: u64) -> (PathBuf, Array2<f64>) {
    let x = gaussian_samples(n, p, 1.0, seed);
    let path = dir.join(format!("X{seed}.npy"));
    write_npy(&path, &x).unwrap();
    (path, x)
}

fn max_rel(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// All n eigenpairs (w, V) of k against the single-process eigenvalues `reference`: values to 1e-12·‖K‖, residual
/// max|KV − VΛ| to 20·n·ε·‖K‖, orthogonality max|VᵀV − I| to 20·n·ε.
fn check_pairs(what: &str, k: &Array2<f64>, w: &Array1<f64>, v: &Array2<f64>, reference: &[f64]) {
    let n = k.nrows();
    let (eps, norm) = (
        f64::EPSILON,
        reference.iter().fold(0f64, |m, x| m.max(x.abs())),
    );
    let max_abs = |a: Array2<f64>| a.iter().fold(0f64, |m, r| m.max(r.abs()));
    let value_err = w
        .iter()
        .zip(reference)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        value_err <= 1e-12 * norm,
        "{what}: eigenvalues off by {value_err:e}"
    );
    let residual = max_abs(k.dot(v) - v * w);
    let orth = max_abs(v.t().dot(v) - Array2::<f64>::eye(n));
    assert!(
        residual <= 20.0 * n as f64 * eps * norm,
        "{what}: residual {residual:e}"
    );
    assert!(
        orth <= 20.0 * n as f64 * eps,
        "{what}: orthogonality {orth:e}"
    );
}

/// Every model and kernel, f64, on grids 1×1, 1×2, 1×3, 2×2 and 2×1 (given), n = 101 in blocks of 16 and 7.
#[test]
fn kernels_equal_the_single_process_library() {
    let dir = tempfile::tempdir().unwrap();
    let (xpath, x) = data(dir.path(), 101, 6, 1);
    let xs = xpath.to_str().unwrap();
    let act = || parse_activation("tanh").unwrap();
    let deq = DeqParams::new(act(), 0.3).unwrap();
    let ([deq_ntk], _) = deq_kernels::<f64, 1>(&deq, x.view(), [Kernel::Ntk], &NoProgress).unwrap();
    let mlp = MlpParams::new(parse_activation("relu").unwrap(), 3, 1.5, 0.1).unwrap();
    let ([mlp_ck], _) = mlp_kernels::<f64, 1>(&mlp, x.view(), [Kernel::Ck], &NoProgress).unwrap();
    let fk = FengKolterParams::new(act(), 0.5, 1.0, 0.2).unwrap();
    let ([fk_nngp], _) = fk_kernels::<f64, 1>(&fk, x.view(), [Kernel::Nngp], &NoProgress).unwrap();
    /// Model options, the reference, processes, grid, block size.
    type Case<'a> = (
        &'a [&'a str],
        &'a Array2<f64>,
        usize,
        Option<&'a str>,
        &'a str,
    );
    let cases: [Case; 5] = [
        (
            &[
                "--model",
                "deq",
                "--activation",
                "tanh",
                "--sigma-a2",
                "0.3",
                "--kind",
                "ntk",
            ],
            &deq_ntk,
            1,
            None,
            "16",
        ),
        (
            &[
                "--model",
                "deq",
                "--activation",
                "tanh",
                "--sigma-a2",
                "0.3",
                "--kind",
                "ntk",
            ],
            &deq_ntk,
            4,
            None,
            "7",
        ),
        (
            &[
                "--model",
                "mlp",
                "--activation",
                "relu",
                "--depth",
                "3",
                "--sigma-w2",
                "1.5",
                "--sigma-b2",
                "0.1",
                "--kind",
                "ck",
            ],
            &mlp_ck,
            3,
            None,
            "16",
        ),
        (
            &[
                "--model",
                "mlp",
                "--activation",
                "relu",
                "--depth",
                "3",
                "--sigma-w2",
                "1.5",
                "--sigma-b2",
                "0.1",
                "--kind",
                "ck",
            ],
            &mlp_ck,
            2,
            Some("2x1"),
            "16",
        ),
        (
            &[
                "--model",
                "fk",
                "--activation",
                "tanh",
                "--sigma-w2",
                "0.5",
                "--sigma-u2",
                "1",
                "--sigma-b2",
                "0.2",
                "--kind",
                "nngp",
            ],
            &fk_nngp,
            2,
            None,
            "7",
        ),
    ];
    for (k, (model, reference, np, grid, block)) in cases.into_iter().enumerate() {
        let out = format!("K{k}.npy");
        let mut args = vec!["kernel", "--input", xs, "--out", &out, "--block", block];
        args.extend_from_slice(model);
        if let Some(g) = grid {
            args.extend_from_slice(&["--grid", g]);
        }
        ok(&mpirun(dir.path(), np, &args));
        let got: Array2<f64> = read_npy(dir.path().join(&out)).unwrap();
        let err = max_rel(&got, reference);
        assert!(
            err <= 1e-13,
            "case {k} ({np} processes, block {block}): {err:e}"
        );
    }
    // f32 output: the f64 entries rounded.
    ok(&mpirun(
        dir.path(),
        2,
        &[
            "kernel",
            "--input",
            xs,
            "--out",
            "K32.npy",
            "--model",
            "deq",
            "--activation",
            "tanh",
            "--sigma-a2",
            "0.3",
            "--kind",
            "ntk",
            "--dtype",
            "f32",
            "--block",
            "16",
        ],
    ));
    let got: Array2<f32> = read_npy(dir.path().join("K32.npy")).unwrap();
    let err = max_rel(&got.mapv(f64::from), &deq_ntk);
    assert!(err <= f32::EPSILON as f64, "f32: {err:e}");
}

/// All eigenpairs (p?syevd), the top k (p?syevr), values only, in f64 and f32, on 1–4 processes.
#[test]
fn spectra_equal_the_single_process_solver() {
    let dir = tempfile::tempdir().unwrap();
    let n = 97;
    let (_, x) = data(dir.path(), n, 8, 2);
    let deq = DeqParams::new(parse_activation("relu").unwrap(), 0.25).unwrap();
    let ([k], _) = deq_kernels::<f64, 1>(&deq, x.view(), [Kernel::Ntk], &NoProgress).unwrap();
    write_npy(dir.path().join("K.npy"), &k).unwrap();
    let reference = FaerEigen::default()
        .solve(k.view(), &EigenRequest::values())
        .unwrap()
        .values;
    let norm = reference.iter().fold(0f64, |m, v| m.max(v.abs()));
    let eps = f64::EPSILON;
    // The top k with the widest gap below it among k ≤ 10: kernels of low-dimensional data have clusters of
    // nearly equal eigenvalues (spherical harmonics), inside which a subspace is not determined.
    let top = (1..=10)
        .max_by(|&a, &b| {
            let gap = |k: usize| reference[n - k] - reference[n - k - 1];
            gap(a).total_cmp(&gap(b))
        })
        .unwrap();
    let top_arg = top.to_string();
    for (np, grid, block) in [
        (1, None, "16"),
        (2, Some("2x1"), "8"),
        (3, None, "10"),
        (4, None, "16"),
    ] {
        let mut args = vec![
            "eig",
            "--input",
            "K.npy",
            "--out",
            "w.npy",
            "--vectors",
            "V.npy",
            "--force",
            "--block",
            block,
        ];
        if let Some(g) = grid {
            args.extend_from_slice(&["--grid", g]);
        }
        ok(&mpirun(dir.path(), np, &args));
        let w: Array1<f64> = read_npy(dir.path().join("w.npy")).unwrap();
        let v: Array2<f64> = read_npy(dir.path().join("V.npy")).unwrap();
        assert_eq!(w.len(), n);
        check_pairs(&format!("{np} processes"), &k, &w, &v, &reference);

        // The top k: the same values, and the same subspace (its projector).
        let mut args = vec![
            "eig",
            "--input",
            "K.npy",
            "--out",
            "wt.npy",
            "--vectors",
            "Vt.npy",
            "--top",
            &top_arg,
            "--force",
            "--block",
            block,
        ];
        if let Some(g) = grid {
            args.extend_from_slice(&["--grid", g]);
        }
        ok(&mpirun(dir.path(), np, &args));
        let wt: Array1<f64> = read_npy(dir.path().join("wt.npy")).unwrap();
        let vt: Array2<f64> = read_npy(dir.path().join("Vt.npy")).unwrap();
        assert_eq!(vt.dim(), (n, top));
        let top_residual = (k.dot(&vt) - &vt * &wt)
            .iter()
            .fold(0f64, |m, r| m.max(r.abs()));
        assert!(
            top_residual <= 20.0 * n as f64 * eps * norm,
            "{np} processes: top-{top} residual {top_residual:e}"
        );
        for (a, b) in wt.iter().zip(&reference[n - top..]) {
            assert!((a - b).abs() <= 1e-12 * norm);
        }
        let upper = v.slice(ndarray::s![.., n - top..]);
        let projector_gap = (vt.dot(&vt.t()) - upper.dot(&upper.t()))
            .iter()
            .fold(0f64, |m, r| m.max(r.abs()));
        assert!(
            projector_gap <= 1e-10,
            "{np} processes: top-{top} subspaces differ by {projector_gap:e}"
        );
    }
    // The top k values alone (p?syevr with an index range), f64.
    ok(&mpirun(
        dir.path(),
        2,
        &[
            "eig", "--input", "K.npy", "--out", "wk.npy", "--top", &top_arg, "--block", "16",
        ],
    ));
    let wk: Array1<f64> = read_npy(dir.path().join("wk.npy")).unwrap();
    assert_eq!(wk.len(), top);
    for (a, b) in wk.iter().zip(&reference[n - top..]) {
        assert!((a - b).abs() <= 1e-12 * norm, "top values {a} {b}");
    }
    // Values only, f32.
    ok(&mpirun(
        dir.path(),
        3,
        &[
            "eig", "--input", "K.npy", "--out", "w32.npy", "--dtype", "f32", "--block", "16",
        ],
    ));
    let w: Array1<f32> = read_npy(dir.path().join("w32.npy")).unwrap();
    let err = w
        .iter()
        .zip(&reference)
        .fold(0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
    assert!(
        err <= 20.0 * n as f64 * f32::EPSILON as f64 * norm,
        "f32 eigenvalues off by {err:e}"
    );
}

/// The density by distributed SLQ equals the single-process SLQ with the same probes (same seed), and the
/// figure is written.
#[test]
fn slq_equals_the_single_process_quadrature() {
    let dir = tempfile::tempdir().unwrap();
    let (_, x) = data(dir.path(), 80, 5, 3);
    let mlp = MlpParams::new(parse_activation("tanh").unwrap(), 2, 1.0, 0.1).unwrap();
    let ([k], _) = mlp_kernels::<f64, 1>(&mlp, x.view(), [Kernel::Ntk], &NoProgress).unwrap();
    write_npy(dir.path().join("K.npy"), &k).unwrap();
    let params = deq_kernels::eigen::slq::SlqParams::new(4, 12)
        .unwrap()
        .with_seed(5);
    let q = deq_kernels::eigen::slq::slq(&k.view(), &params).unwrap();
    let (q_nodes, q_weights): (Vec<f64>, Vec<f64>) = q.sorted().into_iter().unzip();
    let out = mpirun(
        dir.path(),
        3,
        &[
            "spectrum", "--input", "K.npy", "--slq", "--probes", "4", "--steps", "12", "--seed",
            "5", "--plot", "q.png", "--json", "--block", "8",
        ],
    );
    ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = &report["spectra"][0];
    assert_eq!(got["method"], "slq");
    assert!(dir.path().join("q.png").exists());
    let nodes: Vec<f64> = serde_json::from_value(got["nodes"].clone()).unwrap();
    let weights: Vec<f64> = serde_json::from_value(got["weights"].clone()).unwrap();
    assert_eq!(nodes.len(), q_nodes.len());
    // Nodes of different probes can coincide to rounding, so compare the two measures, not the sorted lists.
    let measure = |t: &[f64], w: &[f64]| -> Vec<(f64, f64)> {
        t.iter().copied().zip(w.iter().copied()).collect()
    };
    let scale = q_nodes.iter().fold(0f64, |m, v| m.max(v.abs()));
    let w1 = deq_kernels::eigen::spectrum::wasserstein1_weighted(
        &measure(&nodes, &weights),
        &measure(&q_nodes, &q_weights),
    )
    .unwrap();
    assert!(w1 <= 1e-10 * scale, "W1 between the quadratures {w1:e}");
}

/// Bad input ends every process with one message on standard error and a non-zero exit, and leaves no output
/// (nor a partial file) behind: a grid larger than the matrix, a grid that does not use every process,
/// different data on different processes, one process failing to read its input.
#[test]
fn bad_input_ends_every_process_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let (x1, _) = data(dir.path(), 20, 3, 4);
    let (x2, _) = data(dir.path(), 20, 3, 5);
    let (x1, x2) = (x1.to_str().unwrap(), x2.to_str().unwrap());
    let kernel = |extra: &[&str]| -> Vec<String> {
        [
            "kernel",
            "--model",
            "mlp",
            "--activation",
            "relu",
            "--kind",
            "ck",
            "--out",
            "K.npy",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
    };
    let cases = [
        (3, kernel(&["--input", x1, "--block", "16"]), "larger than"),
        (
            3,
            kernel(&["--input", x1, "--grid", "2x2"]),
            "needs 4 processes",
        ),
        (2, kernel(&["--input", "missing.npy"]), "missing.npy"),
    ];
    for (np, args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = mpirun(dir.path(), np, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("deqk-mpi:"))
            .collect();
        assert_eq!(ours.len(), 1, "{args:?}: {stderr}");
        assert!(ours[0].contains(expected), "{args:?}: {stderr}");
    }
    // MPMD: process 0 reads X4, process 1 reads X5 (different data), then process 1 a file that is not there.
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let bin = env!("CARGO_BIN_EXE_deqk-mpi");
    let common = [
        "kernel",
        "--block",
        "4",
        "--model",
        "mlp",
        "--activation",
        "relu",
        "--kind",
        "ck",
        "--out",
        "K.npy",
        "--input",
    ];
    for (second, expected) in [(x2, "different data"), ("nowhere.npy", "nowhere.npy")] {
        let out = Command::new("mpirun")
            .current_dir(dir.path())
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .args([
                "--oversubscribe",
                "--bind-to",
                "none",
                "--mca",
                "mpi_yield_when_idle",
                "1",
            ])
            .args(["-np", "1", bin])
            .args(common)
            .arg(x1)
            .args([":", "-np", "1", bin])
            .args(common)
            .arg(second)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("deqk-mpi:"))
            .collect();
        assert_eq!(ours.len(), 1, "{stderr}");
        assert!(ours[0].contains(expected), "{stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('K') || name.contains("partial"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// ELPA's one- and two-stage solvers: all eigenpairs and the top k values against the single-process solver,
/// on 1–4 processes, to the same bounds as ScaLAPACK.
#[cfg(feature = "elpa")]
#[test]
fn elpa_equals_the_single_process_solver() {
    let dir = tempfile::tempdir().unwrap();
    let n = 83;
    let (_, x) = data(dir.path(), n, 12, 6);
    let mlp = MlpParams::new(parse_activation("erf").unwrap(), 2, 1.0, 0.1).unwrap();
    let ([k], _) = mlp_kernels::<f64, 1>(&mlp, x.view(), [Kernel::Ntk], &NoProgress).unwrap();
    write_npy(dir.path().join("K.npy"), &k).unwrap();
    let reference = FaerEigen::default()
        .solve(k.view(), &EigenRequest::values())
        .unwrap()
        .values;
    let norm = reference.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (backend, np, block) in [
        ("elpa1", 1, "16"),
        ("elpa2", 2, "8"),
        ("elpa1", 3, "10"),
        ("elpa2", 4, "16"),
    ] {
        let args = [
            "eig",
            "--backend",
            backend,
            "--input",
            "K.npy",
            "--out",
            "w.npy",
            "--vectors",
            "V.npy",
            "--force",
            "--block",
            block,
        ];
        ok(&mpirun(dir.path(), np, &args));
        let w: Array1<f64> = read_npy(dir.path().join("w.npy")).unwrap();
        let v: Array2<f64> = read_npy(dir.path().join("V.npy")).unwrap();
        check_pairs(&format!("{backend} on {np}"), &k, &w, &v, &reference);
        let args = [
            "eig",
            "--backend",
            backend,
            "--input",
            "K.npy",
            "--out",
            "wt.npy",
            "--top",
            "4",
            "--force",
            "--block",
            block,
        ];
        ok(&mpirun(dir.path(), np, &args));
        let wt: Array1<f64> = read_npy(dir.path().join("wt.npy")).unwrap();
        for (a, b) in wt.iter().zip(&reference[n - 4..]) {
            assert!(
                (a - b).abs() <= 1e-12 * norm,
                "{backend} top values {a} {b}"
            );
        }
    }
}

/// `spectrum` with a comparison: both spectra by p?syevr, the distances (operator norm, Frobenius, W₁) equal
/// the single-process ones, and the figure is written.
#[test]
fn spectrum_distances_equal_the_single_process_ones() {
    use deq_kernels::eigen::spectrum::{operator_norm_distance, relative_frobenius, wasserstein1};
    let dir = tempfile::tempdir().unwrap();
    let (_, x) = data(dir.path(), 60, 9, 7);
    let kernel = |a2: f64| {
        let p = DeqParams::new(parse_activation("tanh").unwrap(), a2).unwrap();
        deq_kernels::<f64, 1>(&p, x.view(), [Kernel::Ck], &NoProgress)
            .unwrap()
            .0[0]
            .clone()
    };
    let (a, b) = (kernel(0.2), kernel(0.4));
    write_npy(dir.path().join("A.npy"), &a).unwrap();
    write_npy(dir.path().join("B.npy"), &b).unwrap();
    let out = mpirun(
        dir.path(),
        2,
        &[
            "spectrum",
            "--input",
            "A.npy",
            "--compare",
            "B.npy",
            "--plot",
            "s.svg",
            "--json",
            "--block",
            "8",
        ],
    );
    ok(&out);
    assert!(dir.path().join("s.svg").exists());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &report["comparisons"][0];
    let solver = FaerEigen::default();
    let wa = solver.eigenvalues(a.view()).unwrap();
    let wb = solver.eigenvalues(b.view()).unwrap();
    let norm_a = wa.iter().fold(0f64, |m, v| m.max(v.abs()));
    let expected = [
        (
            "relative_operator_norm",
            operator_norm_distance(b.view(), a.view()).unwrap() / norm_a,
        ),
        (
            "relative_frobenius",
            relative_frobenius(b.view(), a.view()).unwrap(),
        ),
        ("wasserstein1", wasserstein1(&wb, &wa).unwrap()),
    ];
    for (field, value) in expected {
        let got = c[field].as_f64().unwrap();
        assert!(
            (got - value).abs() <= 1e-12 * value.abs().max(1e-300),
            "{field}: {got} vs {value}"
        );
    }
}
