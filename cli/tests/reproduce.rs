//! `deqk reproduce` end to end, and the data errors it must refuse cleanly.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn deqk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deqk"))
        .args(args)
        .output()
        .expect("run deqk")
}

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("deqk: "), "{err}");
    err
}

/// Nothing but `allowed` in `dir` (no temporary folders or files left behind).
fn only(dir: &Path, allowed: &[&str]) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(allowed.contains(&name.as_str()), "left behind: {name}");
    }
}

#[test]
fn end_to_end_on_the_synthetic_mixture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = out.to_str().unwrap();
    let r = deqk(&[
        "reproduce",
        "--p",
        "128",
        "--width",
        "300",
        "--draws",
        "1",
        "--sweep",
        "64,128",
        "--out",
        o,
        "--json",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    for kind in ["ck", "ntk"] {
        let e = &report["errors"][kind];
        let (eq, des, un) = (
            e["equivalent"].as_f64().unwrap(),
            e["designed"].as_f64().unwrap(),
            e["unmatched"].as_f64().unwrap(),
        );
        assert!(des < 0.01 * un, "{kind}: designed {des} vs unmatched {un}");
        assert!(eq > 0.0 && eq < 0.5, "{kind}: equivalent {eq}");
    }
    assert!(report["errors"]["ck"]["finite_width"].as_f64().unwrap() > 0.0);
    assert_eq!(report["sweep"].as_array().unwrap().len(), 2);
    assert!(
        report["details"]["equivalent"]["tau_star"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    for f in [
        "report.json",
        "spectra_ck.png",
        "spectra_ck.svg",
        "spectra_ntk.png",
        "spectra_ntk.svg",
        "error_vs_p.png",
        "error_vs_p.svg",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(saved["errors"], report["errors"]);
    // The folder exists now: refused without --force, untouched.
    let before = std::fs::metadata(out.join("report.json"))
        .unwrap()
        .modified()
        .unwrap();
    let e = one_line_error(&deqk(&["reproduce", "--p", "64", "--out", o]));
    assert!(e.contains("--force"), "{e}");
    assert_eq!(
        std::fs::metadata(out.join("report.json"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    only(dir.path(), &["run"]);
}

#[test]
fn bad_data_gives_one_line_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |data: String| {
        deqk(&[
            "reproduce",
            "--data",
            &data,
            "--no-sweep",
            "--width",
            "0",
            "--out",
            &p("out"),
        ])
    };

    // A missing MNIST folder, and one with corrupt files.
    let e = one_line_error(&run(format!("mnist:{}", p("nowhere"))));
    assert!(e.contains("nowhere"), "{e}");
    std::fs::create_dir(p("mnist")).unwrap();
    for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"] {
        std::fs::write(dir.path().join("mnist").join(f), b"\x00\x00\x08\x03garbage").unwrap();
    }
    let e = one_line_error(&run(format!("mnist:{}", p("mnist"))));
    assert!(e.contains("IDX"), "{e}");

    // npy pairs: mismatched lengths, non-finite values, a file that is not .npy.
    let x = ndarray::Array2::<f64>::from_shape_fn((12, 5), |(i, j)| (i * 5 + j) as f64);
    deq_kernels::npy::write_matrix(Path::new(&p("X.npy")), &x, false).unwrap();
    deq_kernels::npy::write_labels(
        Path::new(&p("y7.npy")),
        &ndarray::Array1::<i64>::zeros(7),
        false,
    )
    .unwrap();
    let e = one_line_error(&run(format!("npy:{},{}", p("X.npy"), p("y7.npy"))));
    assert!(e.contains("7 labels for 12"), "{e}");
    let mut xn = x.clone();
    xn[[3, 2]] = f64::NAN;
    deq_kernels::npy::write_matrix(Path::new(&p("Xnan.npy")), &xn, false).unwrap();
    deq_kernels::npy::write_labels(
        Path::new(&p("y.npy")),
        &ndarray::Array1::<i64>::zeros(12),
        false,
    )
    .unwrap();
    let e = one_line_error(&run(format!("npy:{},{}", p("Xnan.npy"), p("y.npy"))));
    assert!(e.contains("non-finite") && e.contains("row 3"), "{e}");
    std::fs::write(p("junk.npy"), b"junk").unwrap();
    let e = one_line_error(&run(format!("npy:{},{}", p("junk.npy"), p("y.npy"))));
    assert!(e.contains("junk.npy"), "{e}");

    // CSV: a non-number, an unknown label column.
    std::fs::write(p("bad.csv"), "a,b,label\n1,2,0\n3,x,1\n").unwrap();
    let e = one_line_error(&run(format!("csv:{}", p("bad.csv"))));
    assert!(e.contains("line 3") && e.contains("not a number"), "{e}");
    let e = one_line_error(&deqk(&[
        "reproduce",
        "--data",
        &format!("csv:{}", p("bad.csv")),
        "--label-column",
        "klass",
        "--out",
        &p("out"),
    ]));
    assert!(e.contains("klass"), "{e}");

    // An unknown source.
    let e = one_line_error(&run("parquet:x".into()));
    assert!(e.contains("gmm, mnist:DIR"), "{e}");
    only(
        dir.path(),
        &[
            "mnist", "X.npy", "y7.npy", "Xnan.npy", "y.npy", "junk.npy", "bad.csv",
        ],
    );
}

#[test]
fn csv_data_runs() {
    // Two well-separated Gaussian classes in p = 40, 30 samples each, labels in the first column.
    let dir = tempfile::tempdir().unwrap();
    let mix = deq_kernels::rmt::gmm::GaussianMixture::paper_with_n(40, 60).unwrap();
    let (x, y) = mix.sample(3).unwrap();
    let mut text = String::from("label");
    for j in 0..40 {
        text.push_str(&format!(",f{j}"));
    }
    for (row, l) in x.outer_iter().zip(y.iter()) {
        text.push_str(&format!("\n{}", if *l == 0 { "six" } else { "eight" }));
        for v in row {
            text.push_str(&format!(",{v}"));
        }
    }
    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("r");
    let r = deqk(&[
        "reproduce",
        "--data",
        &format!("csv:{}", csv.display()),
        "--label-column",
        "label",
        "--no-sweep",
        "--width",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(report["details"]["n"], 60);
    assert!(report["errors"]["ck"]["designed"].as_f64().unwrap() < 1e-2);
}
