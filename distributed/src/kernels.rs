//! Kernel matrices filled in place in block-cyclic layout (docs/distributed.md, "Kernels"): each process
//! computes its own entries of the lower triangle from X with the library's block functions
//! ([`deq_kernels::kernel::block`]), in tiles of its local rows; the per-sample diagonal is solved for the
//! samples its rows and columns touch; one distributed transpose forms the upper triangle. The entries equal
//! those of the single-process computation to rounding.

use deq_kernels::kernel::block::BlockIndices;
use deq_kernels::kernel::explicit::{mlp_kernels_block, LayerCentering, MlpParams};
use deq_kernels::kernel::implicit::{
    deq_kernels_block, fk_kernels_block, DeqParams, FengKolterParams,
};
use deq_kernels::kernel::Kernel;
use mpi::collective::SystemOperation;
use mpi::traits::*;
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

use crate::matrix::DistributedMatrix;
use crate::{agree, Result};

/// The network whose kernel is filled.
#[derive(Debug, Clone)]
pub enum KernelModel {
    /// An explicit fully connected network.
    Mlp(MlpParams),
    /// The DEQ z = φ(σ_a·Az + σ_b·Bx)/√m.
    Deq(DeqParams),
    /// The Feng–Kolter DEQ.
    FengKolter(FengKolterParams),
}

/// How a distributed fill went, combined over every process.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FillReport {
    /// The input scale the model used (DEQ; MLP centered at it).
    pub tau0: Option<f64>,
    /// Largest fixed-point residual over all entries (implicit models).
    pub max_residual: Option<f64>,
    /// Largest measured contraction factor a·E[φ′φ′] (implicit models).
    pub contraction: Option<f64>,
    /// Largest number of Newton steps for one entry (implicit models).
    pub max_iterations: Option<usize>,
    /// Wall time of the slowest process.
    pub seconds: f64,
}

/// Local rows per tile: a tile of every local column stays under about 64 MB of f64, and there are at least
/// about 16 tiles, so that the lower-triangle fill skips close to half the entries.
fn tile_rows(local_rows: usize, local_cols: usize) -> usize {
    ((64 << 20) / (8 * local_cols.max(1)))
        .min(local_rows.div_ceil(16))
        .clamp(1, 4096)
}

/// Refuse data that differ between processes (collective): every process must hold the same X, or the
/// blocks would belong to different matrices. Compares the shape and a checksum of the bits.
pub fn check_same_data<C: Communicator>(comm: &C, x: ArrayView2<f64>) -> Result<()> {
    let mut sum = [x.nrows() as u64, x.ncols() as u64, 0u64];
    for (k, v) in x.iter().enumerate() {
        sum[2] = sum[2]
            .wrapping_mul(0x100_0000_01B3)
            .wrapping_add(v.to_bits() ^ k as u64);
    }
    let (mut lo, mut hi) = ([0u64; 3], [0u64; 3]);
    comm.all_reduce_into(&sum[..], &mut lo[..], SystemOperation::min());
    comm.all_reduce_into(&sum[..], &mut hi[..], SystemOperation::max());
    agree(
        comm,
        if lo == hi {
            Ok(())
        } else {
            Err(crate::Error::Layout(format!(
                "the processes read different data (shapes from {}x{} to {}x{}, or different values); every \
                 process must read the same X",
                lo[0], lo[1], hi[0], hi[1]
            )))
        },
    )
}

/// Fill `a` (n×n, n = the rows of `x`) with the kernel `kind` of `model` on data `x` (n×p, one sample per row,
/// the same on every process; collective). τ₀, where the model needs it and does not fix it, is the whole
/// X's, as in the single-process library.
pub fn fill_kernel<T: crate::eigen::ScalapackEigen>(
    a: &mut DistributedMatrix<'_, T>,
    model: &KernelModel,
    x: ArrayView2<f64>,
    kind: Kernel,
) -> Result<FillReport> {
    let start = std::time::Instant::now();
    let comm = a.grid().comm();
    check_same_data(comm, x)?;
    agree(
        comm,
        if a.shape() == (x.nrows(), x.nrows()) {
            Ok(())
        } else {
            Err(crate::Error::Layout(format!(
                "a {}x{} matrix cannot hold the kernel of {} samples",
                a.shape().0,
                a.shape().1,
                x.nrows()
            )))
        },
    )?;
    let model = agree(comm, resolve_scale(model, x))?;
    let mut stats = [f64::NAN, 0.0, 0.0, 0.0]; // τ₀, residual, contraction, iterations
    let mut implicit = false;
    let tile = tile_rows(a.local_rows().len(), a.local_cols().len());
    a.fill_symmetric_blocks(tile, |idx: &BlockIndices| -> Result<Array2<T>> {
        let ([k], report) = match &model {
            KernelModel::Mlp(p) => {
                let (k, r) = mlp_kernels_block::<T, 1>(p, x, idx, [kind])?;
                stats[0] = r.tau0.unwrap_or(f64::NAN);
                return Ok(k.into_iter().next().expect("one kernel"));
            }
            KernelModel::Deq(p) => deq_kernels_block::<T, 1>(p, x, idx, [kind])?,
            KernelModel::FengKolter(p) => fk_kernels_block::<T, 1>(p, x, idx, [kind])?,
        };
        implicit = true;
        stats[0] = report.tau0.unwrap_or(f64::NAN);
        stats[1] = stats[1].max(report.max_residual);
        stats[2] = stats[2].max(report.contraction);
        stats[3] = stats[3].max(report.max_iterations as f64);
        Ok(k)
    })?;
    let mine = [stats[1], stats[2], stats[3], start.elapsed().as_secs_f64()];
    let mut all = [0f64; 4];
    comm.all_reduce_into(&mine[..], &mut all[..], SystemOperation::max());
    Ok(FillReport {
        tau0: stats[0].is_finite().then_some(stats[0]),
        max_residual: implicit.then_some(all[0]),
        contraction: implicit.then_some(all[1]),
        max_iterations: implicit.then_some(all[2] as usize),
        seconds: all[3],
    })
}

/// The model with τ₀ fixed from the whole X where it depends on the data, so that every tile uses the same.
fn resolve_scale(model: &KernelModel, x: ArrayView2<f64>) -> Result<KernelModel> {
    Ok(match model {
        KernelModel::Mlp(p)
            if p.tau0().is_none() && p.centering() == LayerCentering::AtInputScale =>
        {
            KernelModel::Mlp(p.clone().with_tau0_from(x)?)
        }
        KernelModel::Deq(p) => KernelModel::Deq(p.clone().with_tau0_from(x)?),
        other => other.clone(),
    })
}
