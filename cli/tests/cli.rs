//! The `deqk` command line (docs/cli.md): JSON outputs, .npy files, atomic writes and one-line errors.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn deqk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deqk"))
        .args(args)
        .output()
        .expect("run deqk")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "deqk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("deqk: "), "{err}");
    err
}

fn no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.ends_with(".tmp"), "left behind: {name}");
    }
}

#[test]
fn moments_json() {
    let v = json(&deqk(&[
        "moments",
        "--activation",
        "lrelu:1.3,-0.4",
        "--tau",
        "0.8",
        "--hermite",
        "3",
        "--json",
    ]));
    assert!((v["m0"].as_f64().unwrap() - 0.542562).abs() < 5e-7);
    assert!((v["q"].as_f64().unwrap() - 0.930084).abs() < 5e-7);
    for key in ["m1", "m2", "v", "d"] {
        assert!(v[key].is_number(), "{key}");
    }
    let h = v["hermite"].as_array().unwrap();
    assert_eq!(h.len(), 3);
    assert!((h[1].as_f64().unwrap() - 0.8 * 0.45).abs() < 1e-12);
}

#[test]
fn dual_json() {
    let v = json(&deqk(&[
        "dual",
        "--activation",
        "erf",
        "--s11",
        "2",
        "--s22",
        "2",
        "--s12",
        "-1.2",
        "--json",
    ]));
    assert!((v["k"].as_f64().unwrap() + 0.31872669).abs() < 5e-9);
    assert!((v["kdot"].as_f64().unwrap() - 0.29027363).abs() < 5e-9);
}

#[test]
fn kernel_writes_npy_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("X.npy");
    let y = dir.path().join("y.npy");
    let k = dir.path().join("K.npy");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    json(&deqk(&[
        "gmm",
        "--p",
        "32",
        "--seed",
        "3",
        "--out",
        &s(&x),
        "--labels",
        &s(&y),
        "--json",
    ]));
    let xm = deq_kernels::npy::read_matrix(&x).unwrap();
    assert_eq!(xm.dim(), (25, 32));
    let labels = deq_kernels::npy::read_labels(&y).unwrap();
    assert_eq!(labels.len(), 25);

    let args = [
        "kernel",
        "--model",
        "mlp",
        "--depth",
        "2",
        "--activation",
        "relu",
        "--kind",
        "ntk",
        "--input",
        &s(&x),
        "--out",
        &s(&k),
        "--json",
    ];
    let report = json(&deqk(&args));
    assert_eq!(report["n"], 25);
    let km = deq_kernels::npy::read_matrix(&k).unwrap();
    assert_eq!(km.dim(), (25, 25));
    // The same kernel through the library.
    let params = deq_kernels::kernel::explicit::MlpParams::new(
        deq_kernels::activation::Builtin::Relu,
        2,
        1.0,
        0.0,
    )
    .unwrap();
    let ([lib], _) = deq_kernels::kernel::explicit::mlp_kernels::<f64, 1>(
        &params,
        xm.view(),
        [deq_kernels::kernel::Kernel::Ntk],
        &deq_kernels::progress::NoProgress,
    )
    .unwrap();
    assert_eq!(lib, km);

    let before = std::fs::read(&k).unwrap();
    let err = one_line_error(&deqk(&args));
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&k).unwrap(), before);
    let mut forced = args.to_vec();
    forced.push("--force");
    json(&deqk(&forced));
    no_temporaries(dir.path());
}

#[test]
fn f32_output() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y, k) = (
        dir.path().join("X.npy"),
        dir.path().join("y.npy"),
        dir.path().join("K.npy"),
    );
    let s = |p: &Path| p.to_str().unwrap().to_string();
    json(&deqk(&[
        "gmm",
        "--p",
        "16",
        "--n",
        "10",
        "--out",
        &s(&x),
        "--labels",
        &s(&y),
        "--json",
    ]));
    json(&deqk(&[
        "kernel",
        "--model",
        "mlp",
        "--activation",
        "tanh",
        "--kind",
        "ck",
        "--input",
        &s(&x),
        "--out",
        &s(&k),
        "--dtype",
        "f32",
        "--json",
    ]));
    use ndarray_npy::ReadNpyExt;
    let a = ndarray::Array2::<f32>::read_npy(std::fs::File::open(&k).unwrap()).unwrap();
    assert_eq!(a.dim(), (10, 10));
}

/// Commands write only the files asked for: run twice in the same folder, `deqk delm` (which once drew
/// delm.png unasked and then refused its own second run) and the other quick commands leave the folder empty.
#[test]
fn commands_write_only_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let in_dir = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_deqk"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run deqk")
    };
    for args in [
        vec![
            "delm",
            "--n",
            "40",
            "--p",
            "12",
            "--iterations",
            "20",
            "--json",
        ],
        vec!["moments", "--activation", "tanh", "--tau", "1", "--json"],
        vec!["koopman", "--json"],
    ] {
        for round in 0..2 {
            let out = in_dir(&args);
            assert!(
                out.status.success(),
                "{args:?} round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} wrote {left:?}");
    }
}

/// Sizes far beyond the machine are refused with one line naming the allocation, never an abort with a
/// backtrace, and leave nothing behind.
#[test]
fn absurd_sizes_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (x, y) = (path("x.npy"), path("y.npy"));
    let huge = "10000000000";
    for args in [
        vec!["bench-eig", "--n", "10000000"],
        vec!["gmm", "--p", huge, "--out", &x, "--labels", &y],
        vec![
            "gmm", "--p", "100", "--n", huge, "--out", &x, "--labels", &y,
        ],
        vec!["delm", "--p", huge],
        vec!["delm", "--width", huge],
        vec!["reproduce", "--p", huge, "--out", &path("run")],
        vec!["reproduce", "--width", huge, "--out", &path("run")],
        vec!["koopman", "--dz", huge],
    ] {
        let out = deqk(&args);
        let e = one_line_error(&out);
        assert!(e.contains("cannot allocate"), "{args:?}: {e}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A depth past MAX_DEPTH is refused before anything is allocated (this aborted on a 320 GB layer list);
    // moments at scales near the largest finite values end (they looped forever), and a dual kernel that
    // overflows f64 is an error, not NaN printed as a result.
    deqk(&["gmm", "--p", "16", "--n", "20", "--out", &x, "--labels", &y]);
    let k = path("k.npy");
    let e = one_line_error(&run(&format!(
        "kernel --model mlp --activation relu --kind ck --depth {huge} --input {x} --out {k}"
    )));
    assert!(e.contains("depth"), "{e}");
    let e = one_line_error(&run("moments --activation lrelu:1e308,1e308 --tau 1e308"));
    assert!(e.contains("overflow"), "{e}");
    let e = one_line_error(&run(
        "dual --activation quadratic:1e300,1e300,1e300 --s11 1e300 --s22 1 --s12 0",
    ));
    assert!(e.contains("overflows"), "{e}");
}

#[test]
fn bad_input_gives_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("K.npy");
    // Unknown activation.
    let e = one_line_error(&deqk(&["moments", "--activation", "relu7", "--tau", "1"]));
    assert!(e.contains("unknown activation"), "{e}");
    // τ ≤ 0.
    let e = one_line_error(&deqk(&["moments", "--activation", "relu", "--tau", "-1"]));
    assert!(e.contains("tau"), "{e}");
    // Not PSD.
    let e = one_line_error(&deqk(&[
        "dual",
        "--activation",
        "relu",
        "--s11",
        "1",
        "--s22",
        "1",
        "--s12",
        "2",
    ]));
    assert!(e.contains("positive semi-definite"), "{e}");
    // Missing and corrupt input files.
    let missing = dir.path().join("nope.npy");
    let kernel = |input: &Path| {
        deqk(&[
            "kernel",
            "--model",
            "mlp",
            "--activation",
            "relu",
            "--kind",
            "ck",
            "--input",
            &s(input),
            "--out",
            &s(&out),
        ])
    };
    one_line_error(&kernel(&missing));
    let corrupt = dir.path().join("corrupt.npy");
    std::fs::write(&corrupt, b"\x93NUMPY garbage").unwrap();
    one_line_error(&kernel(&corrupt));
    // A 1-D array is not a data matrix.
    let vec = dir.path().join("v.npy");
    deq_kernels::npy::write_vector(&vec, &ndarray::Array1::from(vec![1.0f64, 2.0]), false).unwrap();
    one_line_error(&kernel(&vec));
    // Non-finite data.
    let nan = dir.path().join("nan.npy");
    let mut m = ndarray::Array2::<f64>::ones((3, 2));
    m[[1, 1]] = f64::NAN;
    deq_kernels::npy::write_matrix(&nan, &m, false).unwrap();
    let e = one_line_error(&kernel(&nan));
    assert!(e.contains("non-finite") && e.contains("row 1"), "{e}");
    // Negative variance.
    let e = one_line_error(&deqk(&[
        "kernel",
        "--model",
        "mlp",
        "--activation",
        "relu",
        "--kind",
        "ck",
        "--sigma-w2",
        "-1",
        "--input",
        &s(&nan),
        "--out",
        &s(&out),
    ]));
    assert!(e.contains("sigma_w2"), "{e}");
    // σ_a² ≥ 1 with σ_b² left to its default 1 − σ_a²: refused, never run with σ_b² = 0.
    let ones = dir.path().join("ones.npy");
    deq_kernels::npy::write_matrix(&ones, &ndarray::Array2::<f64>::eye(3), false).unwrap();
    for sigma_a2 in ["1", "1.5"] {
        let e = one_line_error(&run(&format!(
            "kernel --model deq --activation relu --kind ck --sigma-a2 {sigma_a2} --input {} --out {}",
            s(&ones),
            s(&out)
        )));
        assert!(e.contains("--sigma-b2"), "{e}");
    }
    // An output folder that does not exist.
    let e = one_line_error(&deqk(&[
        "gmm",
        "--p",
        "16",
        "--out",
        "/nonexistent-folder/X.npy",
        "--labels",
        "/nonexistent-folder/y.npy",
    ]));
    assert!(e.contains("does not exist"), "{e}");
    assert!(!out.exists());
    no_temporaries(dir.path());
}

#[test]
fn implicit_kernels_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (x, y, k) = (
        dir.path().join("X.npy"),
        dir.path().join("y.npy"),
        dir.path().join("K.npy"),
    );
    json(&deqk(&[
        "gmm",
        "--p",
        "24",
        "--out",
        &s(&x),
        "--labels",
        &s(&y),
        "--json",
    ]));
    for kind in ["ck", "nngp", "ntk"] {
        let r = json(&deqk(&[
            "kernel",
            "--model",
            "deq",
            "--activation",
            "relu",
            "--kind",
            kind,
            "--input",
            &s(&x),
            "--out",
            &s(&k),
            "--force",
            "--json",
        ]));
        assert!(r["tau_star"].as_f64().unwrap() > 0.0);
        assert!(r["max_residual"].as_f64().unwrap() <= 1e-12);
        assert!(r["mean_newton_iterations"].as_f64().unwrap() > 0.0);
        assert_eq!(deq_kernels::npy::read_matrix(&k).unwrap().dim(), (19, 19));
    }
    let r = json(&deqk(&[
        "kernel",
        "--model",
        "fk",
        "--activation",
        "relu",
        "--sigma-w2",
        "0.5",
        "--sigma-u2",
        "0.4",
        "--sigma-b2",
        "0.1",
        "--kind",
        "ntk",
        "--input",
        &s(&x),
        "--out",
        &s(&k),
        "--force",
        "--json",
    ]));
    assert_eq!(r["input_dim"], 24);
    let e = one_line_error(&deqk(&[
        "kernel",
        "--model",
        "fk",
        "--activation",
        "relu",
        "--sigma-w2",
        "0.5",
        "--kind",
        "ntk",
        "--input",
        &s(&x),
        "--out",
        &s(&k),
        "--force",
    ]));
    assert!(e.contains("--sigma-u2"), "{e}");
    let e = one_line_error(&deqk(&[
        "kernel",
        "--model",
        "deq",
        "--activation",
        "relu",
        "--sigma-a2",
        "2.5",
        "--sigma-b2",
        "0.5",
        "--no-center",
        "--kind",
        "ntk",
        "--input",
        &s(&x),
        "--out",
        &s(&dir.path().join("bad.npy")),
    ]));
    assert!(e.contains("contraction") && e.contains("sigma_a2 <"), "{e}");
    assert!(!dir.path().join("bad.npy").exists());
    no_temporaries(dir.path());
}

/// Split a command line written as one string (no quoting needed in these tests).
fn run(line: &str) -> Output {
    let args: Vec<&str> = line.split_whitespace().collect();
    deqk(&args)
}

#[test]
fn eigenvalues_and_spectra_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    json(&run(&format!(
        "gmm --p 60 --out {} --labels {} --json",
        p("X.npy"),
        p("y.npy")
    )));
    for (model, out) in [("deq", "G.npy"), ("mlp", "K.npy")] {
        json(&run(&format!(
            "kernel --model {model} --activation relu --kind ck --input {} --out {} --json",
            p("X.npy"),
            p(out)
        )));
    }
    let g = deq_kernels::npy::read_matrix(Path::new(&p("G.npy"))).unwrap();
    let exact = {
        use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
        FaerEigen::default().eigenvalues(g.view()).unwrap()
    };

    // All eigenvalues, with the accuracy report.
    let r = json(&run(&format!(
        "eig --input {} --out {} --check --json",
        p("G.npy"),
        p("w.npy")
    )));
    assert_eq!(r["count"], 48);
    assert!(r["residual"].as_f64().unwrap() < 1e-12);
    assert!(r["orthogonality"].as_f64().unwrap() < 1e-12);
    let w = deq_kernels::npy::read_vector(Path::new(&p("w.npy"))).unwrap();
    assert!(w.iter().zip(&exact).all(|(a, b)| (a - b).abs() < 1e-12));

    // The top 3 by Lanczos, with vectors.
    let r = json(&run(&format!(
        "eig --input {} --backend lanczos --top 3 --out {} --vectors {} --json",
        p("G.npy"),
        p("w3.npy"),
        p("V3.npy")
    )));
    assert_eq!(r["count"], 3);
    let w3 = deq_kernels::npy::read_vector(Path::new(&p("w3.npy"))).unwrap();
    assert!((w3[2] - exact[47]).abs() < 1e-10 * exact[47]);
    assert_eq!(
        deq_kernels::npy::read_matrix(Path::new(&p("V3.npy")))
            .unwrap()
            .dim(),
        (48, 3)
    );

    // Spectra overlaid, as PNG and SVG, with distances.
    for fig in ["s.png", "s.svg"] {
        let r = json(&run(&format!(
            "spectrum --input {} --compare {} --labels deq,mlp --plot {} --json",
            p("G.npy"),
            p("K.npy"),
            p(fig)
        )));
        let c = &r["comparisons"][0];
        assert!(c["wasserstein1"].as_f64().unwrap() > 0.0);
        assert!(c["relative_operator_norm"].as_f64().unwrap() > 0.0);
        assert!(std::fs::metadata(p(fig)).unwrap().len() > 1000);
    }
    let png = std::fs::read(p("s.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let svg = std::fs::read_to_string(p("s.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.contains("<svg"));
    // A list of eigenvalues is an input too; SLQ for matrices.
    let r = json(&run(&format!(
        "spectrum --input {} --compare {} --slq --plot {} --json",
        p("G.npy"),
        p("w.npy"),
        p("slq.png")
    )));
    assert_eq!(r["spectra"][0]["method"], "slq");
    assert_eq!(r["spectra"][1]["method"], "given");

    // The timing table.
    let r = json(&run(
        "bench-eig --n 120 --backends faer,lanczos --top 4 --json",
    ));
    assert_eq!(r["results"].as_array().unwrap().len(), 2);
    assert!(r["results"][1]["max_top_difference"].as_f64().unwrap() < 1e-9);
    // The peak resident memory covers at least the 120×120 matrix the run held.
    if cfg!(target_os = "linux") {
        assert!(r["peak_rss_bytes"].as_u64().unwrap() > 120 * 120 * 8);
    }

    // Repeated calls report their median; the built-in matrix can be saved and timed again from the file,
    // giving the same spectrum.
    let saved = json(&run(&format!(
        "bench-eig --n 90 --seed 3 --reps 3 --save-matrix {} --json",
        p("B.npy")
    )));
    let row = &saved["results"][0];
    let mut samples: Vec<f64> = row["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(samples.len(), 3);
    samples.sort_by(f64::total_cmp);
    assert_eq!(row["seconds"].as_f64().unwrap(), samples[1]);
    let b: ndarray::Array2<f64> = deq_kernels::npy::read_matrix(Path::new(&p("B.npy"))).unwrap();
    assert_eq!(b.dim(), (90, 90));
    let again = json(&run(&format!(
        "bench-eig --input {} --backends faer,lanczos --top 5 --json",
        p("B.npy")
    )));
    assert_eq!(again["n"], 90);
    assert!(again["results"][1]["max_top_difference"].as_f64().unwrap() < 1e-9);
    let e = one_line_error(&run(&format!(
        "bench-eig --n 90 --save-matrix {}",
        p("B.npy")
    )));
    assert!(e.contains("--force"), "{e}");
    let e = one_line_error(&run("bench-eig --n 10 --reps 0"));
    assert!(e.contains("reps"), "{e}");
    no_temporaries(dir.path());
}

/// Every LAPACK driver `deqk eig --driver` offers gives the same eigenvalues; the two-stage one refuses
/// eigenvectors.
#[cfg(feature = "openblas")]
#[test]
fn lapack_drivers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    assert!(run(&format!(
        "bench-eig --n 150 --backends lapack --save-matrix {}",
        p("K.npy")
    ))
    .status
    .success());
    let r = json(&run(&format!(
        "bench-eig --input {} --backends lapack --drivers auto,syevd,syevd-2stage,syevr --top 150 --json",
        p("K.npy")
    )));
    let rows = r["results"].as_array().unwrap();
    let drivers: Vec<&str> = rows.iter().map(|x| x["driver"].as_str().unwrap()).collect();
    assert_eq!(drivers, ["dsyevd", "dsyevd", "dsyevd_2stage", "dsyevr"]);
    let k: ndarray::Array2<f64> = deq_kernels::npy::read_matrix(Path::new(&p("K.npy"))).unwrap();
    let scale = k.iter().fold(0f64, |m, x| m.max(x.abs())) * 150.0;
    for row in &rows[1..] {
        assert!(row["max_top_difference"].as_f64().unwrap() < 1e3 * f64::EPSILON * scale);
    }
    for driver in ["syevd", "syevr"] {
        let out = json(&run(&format!(
            "eig --input {} --backend lapack --driver {driver} --check --out {} --force --json",
            p("K.npy"),
            p("w.npy")
        )));
        assert_eq!(out["driver"], format!("d{driver}"));
        assert!(out["residual"].as_f64().unwrap() < 1e3 * f64::EPSILON * scale);
    }
    let e = one_line_error(&run(&format!(
        "eig --input {} --backend lapack --driver syevd-2stage --check --out {}",
        p("K.npy"),
        p("v.npy")
    )));
    assert!(e.contains("does not compute eigenvectors"), "{e}");
    assert!(!Path::new(&p("v.npy")).exists());
}

#[test]
fn eigen_commands_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let asym = ndarray::array![[1.0, 2.0], [0.0, 1.0]];
    deq_kernels::npy::write_matrix(Path::new(&p("A.npy")), &asym, false).unwrap();
    let e = one_line_error(&run(&format!(
        "eig --input {} --out {}",
        p("A.npy"),
        p("w.npy")
    )));
    assert!(e.contains("not symmetric"), "{e}");
    assert!(!Path::new(&p("w.npy")).exists());
    let e = one_line_error(&run(&format!(
        "eig --input {} --backend lanczos --out {}",
        p("A.npy"),
        p("w.npy")
    )));
    assert!(e.contains("--top"), "{e}");
    let e = one_line_error(&run(&format!(
        "eig --input {} --driver syevr --out {}",
        p("A.npy"),
        p("w.npy")
    )));
    assert!(e.contains("--backend lapack"), "{e}");
    let e = one_line_error(&run(&format!(
        "spectrum --input {} --plot {}",
        p("A.npy"),
        p("fig.pdf")
    )));
    assert!(
        e.contains(".png or .svg") || e.contains("not symmetric"),
        "{e}"
    );
    std::fs::write(p("bad.npy"), b"not an npy file").unwrap();
    let e = one_line_error(&run(&format!(
        "eig --input {} --out {}",
        p("bad.npy"),
        p("w.npy")
    )));
    assert!(e.contains("bad.npy"), "{e}");
    #[cfg(not(feature = "openblas"))]
    {
        let sym = ndarray::array![[1.0, 0.5], [0.5, 1.0]];
        deq_kernels::npy::write_matrix(Path::new(&p("S.npy")), &sym, false).unwrap();
        let e = one_line_error(&run(&format!(
            "eig --input {} --backend lapack --out {}",
            p("S.npy"),
            p("w.npy")
        )));
        assert!(e.contains("--features openblas"), "{e}");
    }
    no_temporaries(dir.path());
}

#[test]
fn equivalent_coefficients_and_matrices_from_the_command_line() {
    // math §6 table, ReLU σ_a² = 0.2, τ₀ = 1.
    let r = json(&run(
        "equivalent --model deq --activation relu --sigma-a2 0.2 --tau0 1 --kind ck --json",
    ));
    for (k, v) in [
        ("tau_star", 0.926566),
        ("alpha1", 0.842105),
        ("ghat2", 0.035957),
        ("ghat0", 0.082098),
    ] {
        assert!((r[k].as_f64().unwrap() - v).abs() < 1e-6, "{k}: {}", r[k]);
    }
    let r = json(&run(
        "equivalent --model deq --activation relu --tau0 1 --kind ntk --json",
    ));
    assert!((r["beta3"].as_f64().unwrap() - 0.080115).abs() < 1e-6);
    assert!((r["kappa2"].as_f64().unwrap() - 0.325138).abs() < 1e-6);
    let r = json(&run("equivalent --model mlp --depth 3 --activation relu --tau0 1 --kind ntk --frozen-first-layer --json"));
    assert_eq!(r["layers"].as_array().unwrap().len(), 3);
    assert_eq!(r["first_layer"], "Frozen");

    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    json(&run(&format!(
        "gmm --p 50 --out {} --labels {} --json",
        p("X.npy"),
        p("y.npy")
    )));
    let r = json(&run(&format!(
        "equivalent --model deq --activation relu --kind ck --input {} --labels {} --out {} --spectrum {} --json",
        p("X.npy"),
        p("y.npy"),
        p("Kbar.npy"),
        p("w.npy")
    )));
    assert_eq!(r["n"], 40);
    let k = deq_kernels::npy::read_matrix(Path::new(&p("Kbar.npy"))).unwrap();
    assert_eq!(k.dim(), (40, 40));
    let w = deq_kernels::npy::read_vector(Path::new(&p("w.npy"))).unwrap();
    assert_eq!(w.len(), 40);
    let dense = {
        use deq_kernels::eigen::{FaerEigen, SymmetricEigensolver};
        FaerEigen::default().eigenvalues(k.view()).unwrap()
    };
    assert!(w.iter().zip(&dense).all(|(a, b)| (a - b).abs() < 1e-10));
    let e = one_line_error(&run(&format!(
        "equivalent --model deq --activation relu --kind ck --input {} --labels {} --out {}",
        p("X.npy"),
        p("y.npy"),
        p("Kbar.npy")
    )));
    assert!(e.contains("--force"), "{e}");
    no_temporaries(dir.path());
}

/// `deqk koopman` (math §10): the contract's fields, the λ = 1 projection of a linear DEQ equal to its closed
/// form, EDMD of a tanh DEQ with λ = 1 simple and z* read to 1e-4, the plot, and bad input in one line.
#[test]
fn koopman_spectra() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("spectrum.svg");
    let out = json(&deqk(&[
        "koopman",
        "--dz",
        "5",
        "--dx",
        "3",
        "--gamma",
        "0.7",
        "--seed",
        "2",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]));
    let eigenvalues = out["eigenvalues"].as_array().unwrap();
    assert_eq!(eigenvalues.len(), 8);
    let ones = eigenvalues
        .iter()
        .filter(|e| {
            (e[0].as_f64().unwrap() - 1.0).abs() < 1e-12 && e[1].as_f64().unwrap().abs() < 1e-12
        })
        .count();
    assert_eq!(ones, 3, "λ = 1 with multiplicity d_x");
    assert!(out["projection_error"].as_f64().unwrap() < 1e-12);
    assert!(out["fixed_point_error"].as_f64().unwrap() < 1e-12);
    assert!(plot.exists());
    no_temporaries(dir.path());
    let rotated = json(&deqk(&["koopman", "--rotation", "0.5", "--json"]));
    assert!((rotated["spectral_radius"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(rotated["projection_error"].as_f64().unwrap() < 1e-12);
    let tanh = json(&deqk(&[
        "koopman",
        "--model",
        "tanh-deq",
        "--dz",
        "3",
        "--dictionary",
        "monomials:3",
        "--spread",
        "0.05",
        "--json",
    ]));
    assert_eq!(tanh["dictionary_size"], 20);
    assert_eq!(tanh["multiplicity_of_one"], 1);
    assert!(tanh["fixed_point_error"].as_f64().unwrap() < 1e-4);
    assert_eq!(tanh["jacobian_eigenvalues"].as_array().unwrap().len(), 3);
    for bad in [
        vec!["koopman", "--gamma", "1.5"],
        vec!["koopman", "--dz", "0"],
        vec![
            "koopman",
            "--model",
            "tanh-deq",
            "--dictionary",
            "wavelets:3",
        ],
        vec![
            "koopman",
            "--model",
            "tanh-deq",
            "--dictionary",
            "monomials:6",
            "--samples",
            "10",
        ],
    ] {
        one_line_error(&deqk(&bad));
    }
    let e = one_line_error(&deqk(&["koopman", "--plot", plot.to_str().unwrap()]));
    assert!(e.contains("--force"), "{e}");
}

/// `deqk kernel --model sim`: the same matrix as the library's `sim_kernels` for one and two tiers, and the
/// requests the SIM cannot answer refused in one line.
#[test]
fn sim_kernel_from_the_command_line() {
    use deq_kernels::kernel::Kernel;
    use deq_kernels::progress::NoProgress;
    use deq_kernels::sim::kernel::{sim_kernels, SimVariances};
    use deq_kernels::sim::{FourierFeatures, FrequencyLaw, RffParams, SimParams, Tier};
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    assert!(deqk(&[
        "gmm",
        "--p",
        "32",
        "--n",
        "40",
        "--out",
        &p("x.npy"),
        "--labels",
        &p("y.npy")
    ])
    .status
    .success());
    let input = p("x.npy");
    let x: ndarray::Array2<f64> = deq_kernels::npy::read_matrix(Path::new(&input)).unwrap();
    let v = SimVariances::default();
    let two =
        Tier::Two(RffParams::new(2, 3.0, FrequencyLaw::Gaussian, FourierFeatures::CosSin).unwrap());
    for (args, tier, kind) in [
        (vec!["--kind", "ntk"], Tier::Single, Kernel::Ntk),
        (
            vec!["--tier", "two", "--bandwidth", "3", "--kind", "ck"],
            two,
            Kernel::Ck,
        ),
    ] {
        let mut all = vec!["kernel", "--model", "sim", "--input", &input];
        let out = p("k.npy");
        all.extend(["--out", &out, "--force", "--json"]);
        all.extend(args);
        let report = json(&deqk(&all));
        assert_eq!(report["model"], "sim");
        let got: ndarray::Array2<f64> = deq_kernels::npy::read_matrix(Path::new(&out)).unwrap();
        let params = SimParams::single(32, 1).with_rank(1).with_tier(tier);
        let [want]: [ndarray::Array2<f64>; 1] =
            sim_kernels(&params, &v, x.view(), [kind], &NoProgress).unwrap();
        assert_eq!(got, want);
    }
    for bad in [
        vec!["--tier", "two", "--frequencies", "cauchy", "--kind", "ntk"],
        vec!["--activation", "tanh", "--kind", "ck"],
        vec!["--kind", "nngp"],
        vec!["--tier", "two", "--bandwidth", "0", "--kind", "ck"],
    ] {
        let mut all = vec!["kernel", "--model", "sim", "--input", &input];
        let out = p("bad.npy");
        all.extend(["--out", &out]);
        all.extend(bad);
        one_line_error(&deqk(&all));
        assert!(!Path::new(&out).exists());
    }
    no_temporaries(dir.path());
}

/// `deqk sim train` and `deqk sim compare` (math §10): the contract's JSON fields on the synthetic mixture (held
/// out by the seed), the closed-form variant, reproducibility from the seed, MNIST when it is present, and bad
/// input in one line.
#[test]
fn sim_train_and_compare() {
    let train = |extra: &[&str]| {
        let mut args = vec![
            "sim", "train", "--data", "gmm", "--p", "64", "--n", "400", "--epochs", "20", "--lr",
            "3e-3", "--json",
        ];
        args.extend(extra);
        json(&deqk(&args))
    };
    let a = train(&["--tier", "single"]);
    for field in [
        "test_accuracy",
        "train_accuracy",
        "params",
        "seconds_per_epoch",
    ] {
        assert!(a[field].is_number(), "{field}: {a}");
    }
    assert_eq!(a["train"], 320);
    assert_eq!(a["test"], 80);
    assert!(a["test_accuracy"].as_f64().unwrap() > 0.9, "{a}");
    assert_eq!(
        train(&["--tier", "single"])["test_accuracy"],
        a["test_accuracy"]
    );
    let two = train(&["--tier", "two", "--bandwidth", "4"]);
    assert!(two["params"].as_u64().unwrap() > a["params"].as_u64().unwrap());
    let closed = train(&["--closed-form"]);
    assert!(closed["method"].as_str().unwrap().contains("closed form"));
    assert!(closed["test_accuracy"].as_f64().unwrap() > 0.6, "{closed}");
    let cmp = json(&deqk(&[
        "sim",
        "compare",
        "--data",
        "gmm",
        "--p",
        "16",
        "--n",
        "300",
        "--epochs",
        "2",
        "--seeds",
        "2",
        "--bandwidth",
        "4",
        "--json",
    ]));
    let rows = cmp["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["sim-single", "sim-two", "deq", "mlp"]);
    for r in rows {
        for field in [
            "params",
            "test_accuracy_mean",
            "test_accuracy_std",
            "seconds_per_epoch",
        ] {
            assert!(r[field].is_number(), "{field}: {r}");
        }
    }
    assert!(rows[2]["forward_iterations"].as_f64().unwrap() >= 1.0);
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
    if mnist.is_dir() {
        let data = format!("mnist:{}", mnist.display());
        let m = json(&deqk(&[
            "sim", "train", "--data", &data, "--train", "3000", "--test", "1000", "--epochs", "5",
            "--lr", "3e-3", "--batch", "64", "--json",
        ]));
        assert_eq!(m["train"], 3000);
        assert!(m["test_accuracy"].as_f64().unwrap() > 0.8, "{m}");
    } else {
        eprintln!("MNIST part skipped: no {}", mnist.display());
    }
    for bad in [
        vec!["sim", "train", "--data", "mnist:/nonexistent"],
        vec!["sim", "train", "--data", "gmm", "--epochs", "0"],
        vec![
            "sim",
            "train",
            "--data",
            "gmm",
            "--tier",
            "two",
            "--bandwidth",
            "0",
        ],
        vec!["sim", "train", "--data", "gmm", "--lr", "-1"],
        vec!["sim", "compare", "--data", "gmm", "--seeds", "0"],
        vec!["sim", "train", "--data", "parquet:x"],
    ] {
        one_line_error(&deqk(&bad));
    }
}
