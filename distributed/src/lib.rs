//! deq-kernels beyond one machine: exact kernel matrices filled directly in ScaLAPACK's 2-D block-cyclic layout
//! over MPI, and their spectra by ScaLAPACK's parallel symmetric eigensolvers (docs/distributed.md).
//!
//! Every entry of the crate's kernels depends only on x_iᵀx_j and per-sample values, so each process computes
//! the entries it owns ([`deq_kernels::kernel::block`]) and no process ever holds n² numbers:
//!
//! - [`grid::ProcessGrid`]: the MPI communicator arranged as a BLACS process grid nprow × npcol;
//! - [`matrix::DistributedMatrix`]: an n×n matrix in blocks of nb, owned by one grid: index maps between global
//!   and local, filling from global indices, gathering rows, collective `.npy` reading and writing;
//! - [`kernels`]: the MLP CK/NTK, the DEQ's Σ*, G*, K* and the Feng–Kolter kernels filled in place;
//! - [`eigen`]: all eigenvalues, all eigenpairs, or an index range by `p?syevr`/`p?syevd`, f32 and f64; with
//!   the feature `elpa`, `elpa` does the same with ELPA's one- and two-stage solvers;
//! - [`slq`]: the spectral density by stochastic Lanczos quadrature with distributed matrix–vector products.
//!
//! Errors are agreed on: a step that fails on any process fails on all of them with that process's message
//! ([`agree`]), so that a bad input ends every process with one message instead of a hang.

pub mod eigen;
#[cfg(feature = "elpa")]
pub mod elpa;
mod ffi;
pub mod grid;
pub mod kernels;
pub mod matrix;
pub mod slq;

use mpi::collective::SystemOperation;
use mpi::traits::*;

/// What can go wrong in a distributed computation.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An error of the single-process library (bad parameters, data, a DEQ outside its contraction region, …).
    Library(String),
    /// A process grid or block layout that cannot work, with how to fix it.
    Layout(String),
    /// A ScaLAPACK routine returned INFO ≠ 0.
    Scalapack {
        /// The routine.
        routine: &'static str,
        /// Its INFO.
        info: i32,
        /// What INFO means for it.
        meaning: String,
    },
    /// Reading or writing a file.
    Io(String),
    /// Another process failed; its message.
    Remote {
        /// The process that failed first (lowest rank among the failed ones).
        rank: i32,
        /// Its error.
        message: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Library(m) | Error::Layout(m) | Error::Io(m) => f.write_str(m),
            Error::Scalapack {
                routine,
                info,
                meaning,
            } => write!(f, "{routine} failed with INFO = {info}: {meaning}"),
            Error::Remote { rank, message } => write!(f, "process {rank}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<deq_kernels::Error> for Error {
    fn from(e: deq_kernels::Error) -> Self {
        Error::Library(e.to_string())
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Make a step's outcome the same on every process of `comm` (collective): `Ok` everywhere when every process
/// succeeded, otherwise the error of the lowest failing rank everywhere (itself on that rank, [`Error::Remote`]
/// with its message elsewhere). Call it after every step that can fail on some processes only.
pub fn agree<C: Communicator, T>(comm: &C, local: Result<T>) -> Result<T> {
    let me = comm.rank();
    let mine = if local.is_err() { me } else { i32::MAX };
    let mut first = i32::MAX;
    comm.all_reduce_into(&mine, &mut first, SystemOperation::min());
    if first == i32::MAX {
        return local;
    }
    let mut message: Vec<u8> = match &local {
        Err(e) if me == first => e.to_string().into_bytes(),
        _ => Vec::new(),
    };
    let mut len = message.len() as u64;
    let root = comm.process_at_rank(first);
    root.broadcast_into(&mut len);
    message.resize(len as usize, 0);
    root.broadcast_into(&mut message[..]);
    match local {
        Err(e) if me == first => Err(e),
        _ => Err(Error::Remote {
            rank: first,
            message: String::from_utf8_lossy(&message).into_owned(),
        }),
    }
}
