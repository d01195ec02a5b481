//! A kernel map the crate does not ship: the residual block K ↦ αK + (1 − α)·E[σ(u)σ(v)], (u, v) ~ N(0, K₂ₓ₂),
//! the infinite-width kernel of x ↦ √α·x + √(1 − α)·σ(Wx) with W ~ N(0, 1/width).

use deq_kernels::activation::{dual_kernel, Activation, Cov2};
use ndarray::{Array2, ArrayView2};

/// One residual block applied entrywise to the kernel `k` (symmetric, non-negative diagonal), α in [0, 1].
pub fn residual_block<A: Activation + ?Sized>(
    act: &A,
    alpha: f64,
    k: ArrayView2<f64>,
) -> deq_kernels::Result<Array2<f64>> {
    let n = k.nrows();
    let mut out = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let c = Cov2::new(k[[i, i]], k[[j, j]], k[[i, j]])?;
            let v = alpha * k[[i, j]] + (1.0 - alpha) * dual_kernel(act, &c);
            out[[i, j]] = v;
            out[[j, i]] = v;
        }
    }
    Ok(out)
}
