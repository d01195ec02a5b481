//! Choosing a solver by value: [`Backend`] names one (and is what a command line parses), [`Par`] says how many
//! threads it may use.

use std::str::FromStr;

use crate::{EigenScalar, Error, FaerEigen, LanczosEigen, Result, SymmetricEigensolver};

/// How many threads a solver may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Par {
    /// The calling thread only.
    Seq,
    /// As many as the rayon pool the call runs in has (`RAYON_NUM_THREADS`, or a pool entered with `install`);
    /// one when called from inside a rayon worker, whose siblings are busy with the caller's own work.
    #[default]
    Pool,
    /// At most this many (at least one).
    Threads(usize),
}

impl Par {
    /// The number of threads this asks for from the calling thread, before the solver's own caps
    /// (the thread team's cap of one member per 160 rows and its budget of cores).
    pub fn requested(self) -> usize {
        match self {
            Par::Seq => 1,
            Par::Pool if rayon::current_thread_index().is_some() => 1,
            Par::Pool => rayon::current_num_threads(),
            Par::Threads(t) => t.max(1),
        }
    }

    /// The same request in faer's terms, for its GEMMs.
    pub(crate) fn faer(self) -> faer::Par {
        match self {
            Par::Seq => faer::Par::Seq,
            Par::Pool => faer::Par::rayon(0),
            Par::Threads(t) => faer::Par::rayon(t.max(1)),
        }
    }
}

/// Which LAPACK routine answers a request (feature `openblas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LapackDriver {
    /// Values only: `?syevd` below n = 6000 and `?syevd_2stage` from there; all pairs: `?syevd`; subsets:
    /// `?syevr` (measured fastest here, docs/benchmarks.md).
    #[default]
    Auto,
    /// `?syevd` for everything (subsets selected from the full result).
    Syevd,
    /// `?syevd_2stage`: values only.
    Syevd2Stage,
    /// `?syevr` for everything.
    Syevr,
}

/// A dense symmetric eigensolver chosen by value: the same names the command line takes (`faer`, `lapack`,
/// `lanczos`).
///
/// ```
/// use deq_eigen::{Backend, EigenRequest};
/// let a = ndarray::array![[2.0, 1.0], [1.0, 2.0]];
/// let solver = Backend::Faer.solver::<f64>()?;
/// assert_eq!(solver.solve(a.view(), &EigenRequest::values())?.values, vec![1.0, 3.0]);
/// // Without the `openblas` feature the LAPACK backend is a typed error, not a compile error.
/// if !cfg!(feature = "openblas") {
///     assert!(matches!(Backend::Lapack(Default::default()).solver::<f64>(),
///                      Err(deq_eigen::Error::Unavailable { .. })));
/// }
/// # Ok::<(), deq_eigen::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// [`FaerEigen`]: pure Rust, in every build.
    Faer,
    /// `LapackEigen` with this routine: in builds with the `openblas` feature.
    Lapack(LapackDriver),
    /// [`LanczosEigen`]: the k extreme pairs of a subset `Largest(k)` or `Smallest(k)`.
    Lanczos,
}

impl Backend {
    /// Whether this build contains the backend.
    pub fn is_available(self) -> bool {
        !matches!(self, Backend::Lapack(_)) || cfg!(feature = "openblas")
    }

    /// The solver, with default settings and [`Par::Pool`]; [`Error::Unavailable`] for LAPACK in a build without
    /// the `openblas` feature.
    pub fn solver<T: EigenScalar>(self) -> Result<Box<dyn SymmetricEigensolver<T>>> {
        Ok(match self {
            Backend::Faer => Box::new(FaerEigen::default()),
            Backend::Lanczos => Box::new(LanczosEigen::default()),
            Backend::Lapack(driver) => lapack(driver)?,
        })
    }
}

#[cfg(feature = "openblas")]
fn lapack<T: EigenScalar>(driver: LapackDriver) -> Result<Box<dyn SymmetricEigensolver<T>>> {
    Ok(Box::new(crate::LapackEigen::with_driver(driver)))
}

#[cfg(not(feature = "openblas"))]
fn lapack<T: EigenScalar>(_: LapackDriver) -> Result<Box<dyn SymmetricEigensolver<T>>> {
    Err(Error::Unavailable {
        backend: "LAPACK",
        how: "build with `--features openblas` (needs the system OpenBLAS: apt-get install libopenblas-dev pkg-config), or use the faer backend",
    })
}

impl FromStr for Backend {
    type Err = Error;

    /// `faer`, `lapack` (the automatic driver), `lapack:syevd`, `lapack:syevd-2stage`, `lapack:syevr`, `lanczos`.
    fn from_str(s: &str) -> Result<Self> {
        let unknown = || Error::UnknownName {
            what: "eigensolver backend",
            name: s.trim().to_string(),
            known: "faer, lapack, lapack:syevd, lapack:syevd-2stage, lapack:syevr, lanczos",
        };
        Ok(match s.trim() {
            "faer" => Backend::Faer,
            "lanczos" => Backend::Lanczos,
            "lapack" | "lapack:auto" => Backend::Lapack(LapackDriver::Auto),
            "lapack:syevd" => Backend::Lapack(LapackDriver::Syevd),
            "lapack:syevd-2stage" => Backend::Lapack(LapackDriver::Syevd2Stage),
            "lapack:syevr" => Backend::Lapack(LapackDriver::Syevr),
            _ => return Err(unknown()),
        })
    }
}
