//! ELPA's one- and two-stage symmetric eigensolvers on a [`DistributedMatrix`] (feature `elpa`;
//! docs/distributed.md, "Spectra"). ELPA reads the same block-cyclic layout as ScaLAPACK but needs both
//! triangles of the matrix (every fill and reader of this crate provides them). It computes the smallest nev
//! pairs; an index range `lo..hi` is solved with nev = hi and the range selected. The two-stage solver reduces
//! to a band first (matrix–matrix products), then to tridiagonal form: the faster one at large n.

use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::sync::Once;

use mpi::raw::AsRaw;

use crate::eigen::{EigenPairs, EigenRange};
use crate::ffi::{self, elpa};
use crate::matrix::{DistributedMatrix, Element};
use crate::{agree, Error, Result};

/// ELPA's solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElpaStage {
    /// Direct reduction to tridiagonal form (ELPA_SOLVER_1STAGE).
    One,
    /// Dense → band → tridiagonal (ELPA_SOLVER_2STAGE).
    Two,
}

/// Element types ELPA's typed entry points take.
pub trait ElpaScalar: Element {
    /// `elpa_eigenvalues_a_h_a_?`.
    ///
    /// # Safety
    /// A set-up handle, `a` the local block, `ev` of length na.
    unsafe fn values(handle: *mut c_void, a: *mut Self, ev: *mut Self, error: *mut c_int);
    /// `elpa_eigenvectors_a_h_a_?`.
    ///
    /// # Safety
    /// As [`values`](Self::values), and `q` a local block of the same layout.
    unsafe fn vectors(
        handle: *mut c_void,
        a: *mut Self,
        ev: *mut Self,
        q: *mut Self,
        error: *mut c_int,
    );
}

impl ElpaScalar for f64 {
    unsafe fn values(handle: *mut c_void, a: *mut Self, ev: *mut Self, error: *mut c_int) {
        elpa::elpa_eigenvalues_a_h_a_d(handle, a, ev, error)
    }
    unsafe fn vectors(
        handle: *mut c_void,
        a: *mut Self,
        ev: *mut Self,
        q: *mut Self,
        error: *mut c_int,
    ) {
        elpa::elpa_eigenvectors_a_h_a_d(handle, a, ev, q, error)
    }
}

impl ElpaScalar for f32 {
    unsafe fn values(handle: *mut c_void, a: *mut Self, ev: *mut Self, error: *mut c_int) {
        elpa::elpa_eigenvalues_a_h_a_f(handle, a, ev, error)
    }
    unsafe fn vectors(
        handle: *mut c_void,
        a: *mut Self,
        ev: *mut Self,
        q: *mut Self,
        error: *mut c_int,
    ) {
        elpa::elpa_eigenvectors_a_h_a_f(handle, a, ev, q, error)
    }
}

static INIT: Once = Once::new();

/// An ELPA handle set up for the layout of `a`, released on drop.
struct Handle(*mut c_void);

impl Drop for Handle {
    fn drop(&mut self) {
        let mut error = 0;
        // SAFETY: allocated by elpa_allocate, released once.
        unsafe { elpa::elpa_deallocate(self.0, &mut error) };
    }
}

fn failed(step: &str, code: c_int) -> Error {
    Error::Layout(format!("ELPA failed at {step} (error code {code})"))
}

fn handle<T: Element>(
    a: &DistributedMatrix<'_, T>,
    nev: usize,
    stage: ElpaStage,
) -> Result<Handle> {
    let mut init = elpa::OK;
    // SAFETY: elpa_init once per process, before any handle.
    INIT.call_once(|| init = unsafe { elpa::elpa_init(elpa::API_VERSION) });
    if init != elpa::OK {
        return Err(failed("elpa_init (API version 20221109)", init));
    }
    let mut error = 0;
    // SAFETY: allocation with an error out-parameter.
    let h = Handle(unsafe { elpa::elpa_allocate(&mut error) });
    if error != elpa::OK || h.0.is_null() {
        return Err(failed("elpa_allocate", error));
    }
    let grid = a.grid();
    // SAFETY: the grid's communicator is valid while the grid lives.
    let comm = unsafe { ffi::MPI_Comm_c2f(grid.comm().as_raw()) };
    let set = |name: &str, value: usize| -> Result<()> {
        let key = CString::new(name).expect("no NUL");
        let mut error = 0;
        // SAFETY: a live handle and a NUL-terminated name.
        unsafe { elpa::elpa_set_integer(h.0, key.as_ptr(), value as c_int, &mut error) };
        if error != elpa::OK {
            return Err(failed(&format!("setting {name} = {value}"), error));
        }
        Ok(())
    };
    let (n, (row, col)) = (a.shape().0, grid.coords());
    set("na", n)?;
    set("nev", nev)?;
    set("local_nrows", a.local_rows().len())?;
    set("local_ncols", a.local_cols().len())?;
    set("nblk", a.block_size())?;
    set("mpi_comm_parent", comm as usize)?;
    set("process_row", row)?;
    set("process_col", col)?;
    // SAFETY: every layout setting above is in place.
    let code = unsafe { elpa::elpa_setup(h.0) };
    if code != elpa::OK {
        return Err(failed("elpa_setup", code));
    }
    set(
        "solver",
        match stage {
            ElpaStage::One => 1,
            ElpaStage::Two => 2,
        },
    )?;
    Ok(h)
}

fn bounds(range: EigenRange, n: usize) -> Result<(usize, usize)> {
    match range {
        EigenRange::All => Ok((0, n)),
        EigenRange::Index(lo, hi) if lo < hi && hi <= n => Ok((lo, hi)),
        EigenRange::Index(lo, hi) => Err(Error::Layout(format!(
            "eigenvalue indices {lo}..{hi} are not a non-empty range within 0..{n}"
        ))),
    }
}

/// The eigenvalues `range` of the symmetric `a` (both triangles filled; overwritten) by ELPA, ascending, on
/// every process (collective).
pub fn elpa_eigenvalues<T: ElpaScalar>(
    a: &mut DistributedMatrix<'_, T>,
    range: EigenRange,
    stage: ElpaStage,
) -> Result<Vec<T>> {
    let comm = a.grid().comm();
    let n = a.shape().0;
    let (lo, hi) = agree(comm, bounds(range, n))?;
    let h = agree(comm, handle(a, hi, stage))?;
    let mut ev = vec![T::default(); n];
    let mut error = 0;
    let (aptr, _) = a.raw();
    // SAFETY: a set-up handle for a's layout; ev holds na values.
    unsafe { T::values(h.0, aptr, ev.as_mut_ptr(), &mut error) };
    agree(
        comm,
        if error == elpa::OK {
            Ok(())
        } else {
            Err(failed("the eigenvalue solve", error))
        },
    )?;
    Ok(ev[lo..hi].to_vec())
}

/// The eigenpairs `range` of the symmetric `a` (both triangles filled; overwritten) by ELPA (collective): the
/// eigenvectors of the smallest hi pairs in the first hi columns of a distributed n×n matrix.
pub fn elpa_eigenpairs<'g, T: ElpaScalar>(
    a: &mut DistributedMatrix<'g, T>,
    range: EigenRange,
    stage: ElpaStage,
) -> Result<EigenPairs<'g, T>> {
    let comm = a.grid().comm();
    let n = a.shape().0;
    let (lo, hi) = agree(comm, bounds(range, n))?;
    let h = agree(comm, handle(a, hi, stage))?;
    let mut q = DistributedMatrix::<T>::zeros(a.grid(), (n, n), a.block_size())?;
    let mut ev = vec![T::default(); n];
    let mut error = 0;
    let (aptr, _) = a.raw();
    let (qptr, _) = q.raw();
    // SAFETY: a set-up handle for the layout shared by a and q; ev holds na values.
    unsafe { T::vectors(h.0, aptr, ev.as_mut_ptr(), qptr, &mut error) };
    agree(
        comm,
        if error == elpa::OK {
            Ok(())
        } else {
            Err(failed("the eigenvector solve", error))
        },
    )?;
    Ok(EigenPairs {
        values: ev[lo..hi].to_vec(),
        vectors: q,
        columns: lo..hi,
    })
}
