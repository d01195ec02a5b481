//! Agreement with neural-tangents 0.6.5 (`benches/nt_reference.py` wrote `tests/data/nt_reference.json`):
//! the same depth-3 network, inputs with correlations ±1 included.

use deq_kernels::activation::parse_activation;
use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use ndarray::Array2;
use serde_json::Value;

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (n, p) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).unwrap()
}

#[test]
fn explicit_kernels_match_neural_tangents() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/nt_reference.json"
    ))
    .unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    let x = matrix(&r["x"]);
    let (w2, b2, depth) = (
        r["sigma_w2"].as_f64().unwrap(),
        r["sigma_b2"].as_f64().unwrap(),
        r["depth"].as_u64().unwrap() as usize,
    );
    for name in ["relu", "erf", "gelu", "tanh"] {
        let params = MlpParams::new(parse_activation(name).unwrap(), depth, w2, b2).unwrap();
        let ([ck, ntk], _) =
            mlp_kernels::<f64, 2>(&params, x.view(), [Kernel::Ck, Kernel::Ntk], &NoProgress)
                .unwrap();
        for (kind, ours) in [("ck", ck), ("ntk", ntk)] {
            let theirs = matrix(&r["kernels"][name][kind]);
            let scale = theirs.iter().fold(0f64, |m, v| m.max(v.abs()));
            let worst = ours
                .iter()
                .zip(theirs.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0f64, f64::max)
                / scale;
            // neural-tangents clips arc-cosine arguments and integrates tanh by Gauss–Hermite: 1e-7 relative.
            assert!(
                worst < 1e-7,
                "{name} {kind}: max relative difference {worst:e}"
            );
            eprintln!("{name} {kind}: max relative difference to neural-tangents {worst:.1e}");
        }
    }
}
