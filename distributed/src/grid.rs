//! The process grid: an MPI communicator arranged as a BLACS grid of nprow × npcol processes, numbered row by
//! row (docs/distributed.md, "Grids").

use std::ffi::CString;

use mpi::raw::AsRaw;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::ffi;
use crate::{Error, Result};

/// A BLACS process grid over every process of a communicator. Dropping it releases the BLACS context (MPI
/// itself stays up).
pub struct ProcessGrid {
    comm: SimpleCommunicator,
    handle: i32,
    context: i32,
    shape: (usize, usize),
    coords: (usize, usize),
}

impl ProcessGrid {
    /// The grid `shape` = (nprow, npcol) over all processes of `comm`, or [`ProcessGrid::default_shape`] when
    /// `None` (collective). The shape must use every process.
    pub fn new(comm: &SimpleCommunicator, shape: Option<(usize, usize)>) -> Result<Self> {
        let size = comm.size() as usize;
        let shape = shape.unwrap_or_else(|| Self::default_shape(size));
        if shape.0 == 0 || shape.1 == 0 || shape.0 * shape.1 != size {
            return Err(Error::Layout(format!(
                "a {}x{} process grid needs {} processes but {} are running; pass --grid RxC with R·C = {} \
                 (or leave it out for {}x{})",
                shape.0,
                shape.1,
                shape.0 * shape.1,
                size,
                size,
                Self::default_shape(size).0,
                Self::default_shape(size).1
            )));
        }
        let comm = comm.duplicate();
        let order = CString::new("Row").expect("no NUL");
        let (mut nprow, mut npcol, mut myrow, mut mycol) = (0, 0, 0, 0);
        // SAFETY: `comm` is a valid communicator for the grid's lifetime; BLACS writes the five integers.
        let (handle, context) = unsafe {
            let handle = ffi::Csys2blacs_handle(comm.as_raw());
            let mut context = handle;
            ffi::Cblacs_gridinit(&mut context, order.as_ptr(), shape.0 as i32, shape.1 as i32);
            ffi::Cblacs_gridinfo(context, &mut nprow, &mut npcol, &mut myrow, &mut mycol);
            (handle, context)
        };
        if myrow < 0 || mycol < 0 || nprow as usize != shape.0 || npcol as usize != shape.1 {
            return Err(Error::Layout(format!(
                "BLACS did not place this process in the {}x{} grid",
                shape.0, shape.1
            )));
        }
        Ok(ProcessGrid {
            comm,
            handle,
            context,
            shape,
            coords: (myrow as usize, mycol as usize),
        })
    }

    /// The most nearly square grid r × c = `processes` with r ≤ c (1×1, 1×2, 1×3, 2×2, 2×3, 2×4, 3×3, …):
    /// square grids minimize the communication of the reduction to tridiagonal form.
    pub fn default_shape(processes: usize) -> (usize, usize) {
        let processes = processes.max(1);
        let mut r = (processes as f64).sqrt() as usize;
        while r > 1 && processes % r != 0 {
            r -= 1;
        }
        let r = r.max(1);
        (r, processes / r)
    }

    /// (nprow, npcol).
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// This process's (row, column) in the grid.
    pub fn coords(&self) -> (usize, usize) {
        self.coords
    }

    /// The grid's communicator (a duplicate of the one it was made from).
    pub fn comm(&self) -> &SimpleCommunicator {
        &self.comm
    }

    /// This process's rank in [`comm`](Self::comm).
    pub fn rank(&self) -> i32 {
        self.comm.rank()
    }

    pub(crate) fn context(&self) -> i32 {
        self.context
    }
}

impl Drop for ProcessGrid {
    fn drop(&mut self) {
        // SAFETY: the context and handle were made in `new` and are released once.
        unsafe {
            ffi::Cblacs_gridexit(self.context);
            ffi::Cfree_blacs_system_handle(self.handle);
        }
    }
}
