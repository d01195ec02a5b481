//! Kernel blocks by global index (`*_kernels_block`) against the entries of the full matrices: any rows and
//! columns — in any order, repeated, across the diagonal, shorter or longer than the evaluator's lanes — give
//! K[rows[r], cols[c]] to 1e-13 relative to max|K|, in f64 and f32, for the MLP, the DEQ and the Feng–Kolter
//! kernels, with closed-form and series activations.

use deq_kernels::activation::{parse_activation, ActivationRef};
use deq_kernels::kernel::block::BlockIndices;
use deq_kernels::kernel::explicit::{mlp_kernels, mlp_kernels_block, MlpParams};
use deq_kernels::kernel::implicit::{
    deq_kernels, deq_kernels_block, fk_kernels, fk_kernels_block, DeqParams, FengKolterParams,
};
use deq_kernels::kernel::Kernel;
use deq_kernels::progress::NoProgress;
use deq_kernels::testing::gaussian_samples;
use deq_kernels::Error;
use ndarray::Array2;
use proptest::prelude::*;

const KINDS: [Kernel; 3] = [Kernel::Ntk, Kernel::Nngp, Kernel::Ck];

/// max over the block of |B[r, c] − K[rows[r], cols[c]]| / max|K|, for each of the three kernels.
fn block_error<T: Into<f64> + Copy>(
    full: &[Array2<f64>; 3],
    block: &[Array2<T>; 3],
    idx: &BlockIndices,
) -> f64 {
    let mut worst = 0f64;
    for (k, b) in full.iter().zip(block) {
        assert_eq!(b.dim(), idx.shape());
        let scale = k.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (r, &i) in idx.rows().iter().enumerate() {
            for (c, &j) in idx.cols().iter().enumerate() {
                worst = worst.max((b[[r, c]].into() - k[[i, j]]).abs() / scale);
            }
        }
    }
    worst
}

fn indices(n: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        prop::collection::vec(0..n, 0..20),
        prop::collection::vec(0..n, 0..37),
    )
}

fn activation(name: &str) -> ActivationRef {
    parse_activation(name).unwrap().into()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn mlp_blocks_are_entries_of_the_full_matrices(
        (rows, cols) in indices(41),
        name in prop::sample::select(vec!["relu", "tanh", "erf", "gelu"]),
        seed in any::<u64>(),
    ) {
        let x = gaussian_samples(41, 7, 1.0, seed);
        let params = MlpParams::new(activation(name), 3, 1.2, 0.1).unwrap();
        let (full, _) = mlp_kernels::<f64, 3>(&params, x.view(), KINDS, &NoProgress).unwrap();
        let idx = BlockIndices::new(rows, cols, 41).unwrap();
        let (b64, _) = mlp_kernels_block::<f64, 3>(&params, x.view(), &idx, KINDS).unwrap();
        prop_assert!(block_error(&full, &b64, &idx) <= 1e-13);
        let (b32, _) = mlp_kernels_block::<f32, 3>(&params, x.view(), &idx, KINDS).unwrap();
        prop_assert!(block_error(&full, &b32, &idx) <= 2.0 * f32::EPSILON as f64);
    }

    #[test]
    fn deq_blocks_are_entries_of_the_full_matrices(
        (rows, cols) in indices(41),
        name in prop::sample::select(vec!["relu", "tanh", "lrelu:0.1,1"]),
        sigma_a2 in 0.1..0.6f64,
        seed in any::<u64>(),
    ) {
        let x = gaussian_samples(41, 7, 1.0, seed);
        let params = DeqParams::new(activation(name), sigma_a2).unwrap();
        let (full, report) = deq_kernels::<f64, 3>(&params, x.view(), KINDS, &NoProgress).unwrap();
        let idx = BlockIndices::new(rows, cols, 41).unwrap();
        let (block, block_report) =
            deq_kernels_block::<f64, 3>(&params, x.view(), &idx, KINDS).unwrap();
        prop_assert!(block_error(&full, &block, &idx) <= 1e-13);
        prop_assert_eq!(block_report.tau0, report.tau0);
        prop_assert!(block_report.contraction <= report.contraction + 1e-12);
    }

    #[test]
    fn feng_kolter_blocks_are_entries_of_the_full_matrices(
        (rows, cols) in indices(41),
        seed in any::<u64>(),
    ) {
        let x = gaussian_samples(41, 7, 1.0, seed);
        let params = FengKolterParams::new(activation("tanh"), 0.5, 1.0, 0.2).unwrap();
        let (full, _) = fk_kernels::<f64, 3>(&params, x.view(), KINDS, &NoProgress).unwrap();
        let idx = BlockIndices::new(rows, cols, 41).unwrap();
        let (block, _) = fk_kernels_block::<f64, 3>(&params, x.view(), &idx, KINDS).unwrap();
        prop_assert!(block_error(&full, &block, &idx) <= 1e-13);
    }
}

/// The whole matrix as one block is the full computation; indices out of range and data of another size are
/// refused with a shape error.
#[test]
fn whole_matrix_block_and_bad_indices() {
    let n = 70;
    let x = gaussian_samples(n, 5, 1.0, 3);
    let params = DeqParams::new(activation("relu"), 0.3).unwrap();
    let (full, _) = deq_kernels::<f64, 3>(&params, x.view(), KINDS, &NoProgress).unwrap();
    let all: Vec<usize> = (0..n).collect();
    let idx = BlockIndices::new(all.clone(), all, n).unwrap();
    let (block, _) = deq_kernels_block::<f64, 3>(&params, x.view(), &idx, KINDS).unwrap();
    assert!(block_error(&full, &block, &idx) <= 1e-13);
    assert!(matches!(
        BlockIndices::new(vec![0, n], vec![1], n),
        Err(Error::Shape { .. })
    ));
    let other = BlockIndices::new(vec![0], vec![1], n + 1).unwrap();
    assert!(matches!(
        deq_kernels_block::<f64, 1>(&params, x.view(), &other, [Kernel::Ck]),
        Err(Error::Shape { .. })
    ));
}
