//! Infinite-width kernel matrices (math §4, §5).
//!
//! - [`explicit`]: the exact CK, pre-activation NNGP and NTK of L-layer fully connected networks.
//! - [`implicit`]: the DEQ's Σ*, G*, K* and the Feng–Kolter Σ*, Θ*, as fixed points of entrywise maps.
//! - [`block`]: any block K[rows, cols] of those matrices without the rest (`*_kernels_block`), for distributed
//!   and out-of-core computations.
//!
//! Both take a checked parameter struct ([`explicit::MlpParams`], [`implicit::DeqParams`],
//! [`implicit::FengKolterParams`]), data X (n×p, one sample per row), the kernels wanted as an array of
//! [`Kernel`]s, and a [`crate::progress::Progress`] observer; they return the matrices in the order asked, so
//! nothing asked for can be missing:
//!
//! ```
//! use deq_kernels::activation::Builtin;
//! use deq_kernels::kernel::explicit::{mlp_kernels, MlpParams};
//! use deq_kernels::kernel::Kernel;
//! use deq_kernels::progress::NoProgress;
//!
//! let x = ndarray::array![[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]];
//! let net = MlpParams::new(Builtin::Tanh, 3, 1.0, 0.1)?; // depth 3, σ_w² = 1, σ_b² = 0.1
//! let ([ntk], _) = mlp_kernels::<f32, 1>(&net, x.view(), [Kernel::Ntk], &NoProgress)?;
//! assert_eq!(ntk.dim(), (3, 3));
//! # Ok::<(), deq_kernels::Error>(())
//! ```
//!
//! Each entry depends only on (x_iᵀx_i, x_jᵀx_j, x_iᵀx_j): the Gram matrix is one triangular product, then one
//! pass over one triangle evaluates every entry, rows in parallel, and the other triangle is mirrored. The
//! per-layer dual kernels come from closed forms or per-sample Hermite tables (docs/numerics.md).

pub mod block;
pub mod explicit;
mod fastmath;
pub mod implicit;
mod layer_dual;

use ndarray::{Array2, ArrayView2};

use crate::{Error, Result};

/// One of the kernels of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Kernel {
    /// The pre-activation NNGP: the covariance of the last hidden layer's pre-activations (an explicit network's
    /// Σ_L, the DEQ's Σ*, the Feng–Kolter Σ*).
    Nngp,
    /// The conjugate kernel: the covariance of the last hidden layer's outputs, the NNGP of the readout (an
    /// explicit network's K_L, the DEQ's Implicit-CK G*).
    Ck,
    /// The neural tangent kernel (the DEQ's Implicit-NTK K*, the Feng–Kolter Θ*).
    Ntk,
}

impl Kernel {
    /// The lowercase name the command line uses: `nngp`, `ck`, `ntk`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Nngp => "nngp",
            Kernel::Ck => "ck",
            Kernel::Ntk => "ntk",
        }
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Kernel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nngp" => Ok(Kernel::Nngp),
            "ck" => Ok(Kernel::Ck),
            "ntk" => Ok(Kernel::Ntk),
            other => Err(Error::UnknownName {
                what: "kernel",
                name: other.into(),
                known: "nngp, ck, ntk".into(),
            }),
        }
    }
}

/// Refuse an empty request or one that names a kernel twice.
pub(crate) fn check_request(kinds: &[Kernel]) -> Result<()> {
    if kinds.is_empty() {
        return Err(Error::Missing {
            name: "a kernel",
            why: "ask for at least one of Kernel::Nngp, Kernel::Ck, Kernel::Ntk",
        });
    }
    for (i, k) in kinds.iter().enumerate() {
        if kinds[..i].contains(k) {
            return Err(Error::InvalidParameter {
                name: "kernels",
                value: i as f64,
                requirement: "ask for each kernel once",
            });
        }
    }
    Ok(())
}

/// The Gram matrix G = X·Xᵀ of the samples (rows) of X, by a triangular (SYRK-like) product on the caller's rayon
/// pool; every kernel here is a function of it.
pub fn gram(x: ArrayView2<f64>) -> Result<Array2<f64>> {
    crate::data::check_samples(x)?;
    crate::linalg::gram(x)
}
