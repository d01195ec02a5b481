//! The spectral density of a distributed symmetric matrix by stochastic Lanczos quadrature (docs/spectra.md's
//! SLQ, docs/distributed.md): the Lanczos recurrences run redundantly on every process with the same probes,
//! and each block product Y = A·X is the sum over processes of their local blocks' contributions (one
//! all-reduce of n×b numbers per product). The result is the same quadrature on every process.

use deq_kernels::eigen::operator::SymmetricOperator;
use deq_kernels::eigen::slq::{slq, SlqParams, SpectralQuadrature};
use mpi::collective::SystemOperation;
use mpi::traits::*;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::matrix::{DistributedMatrix, Element};
use crate::{agree, Result};

/// A [`DistributedMatrix`] as the operator x ↦ A·x on blocks held in full by every process.
pub struct DistributedOperator<'a, 'g, T: Element> {
    a: &'a DistributedMatrix<'g, T>,
}

// SAFETY: the Lanczos and SLQ drivers of deq-eigen call `apply` from the calling thread only, one product at a
// time, which is what MPI (initialized without thread support) needs; nothing else of the communicator is
// touched through a shared reference.
unsafe impl<T: Element> Sync for DistributedOperator<'_, '_, T> {}

impl<'a, 'g, T: Element + deq_kernels::eigen::EigenScalar> DistributedOperator<'a, 'g, T> {
    /// The operator of the square matrix `a`.
    pub fn new(a: &'a DistributedMatrix<'g, T>) -> Self {
        DistributedOperator { a }
    }
}

impl<T: Element + deq_kernels::eigen::EigenScalar> SymmetricOperator<T>
    for DistributedOperator<'_, '_, T>
{
    fn dim(&self) -> usize {
        self.a.shape().0
    }

    fn apply(&self, x: ArrayView2<T>, mut y: ArrayViewMut2<T>) {
        let (n, b) = x.dim();
        let xs = x.select(Axis(0), self.a.local_cols());
        let part = self.a.local().dot(&xs);
        let mut mine = Array2::<T>::zeros((n, b));
        for (r, &i) in self.a.local_rows().iter().enumerate() {
            mine.row_mut(i).assign(&part.row(r));
        }
        let mut all = Array2::<T>::zeros((n, b));
        self.a.grid().comm().all_reduce_into(
            mine.as_slice().expect("standard layout"),
            all.as_slice_mut().expect("standard layout"),
            SystemOperation::sum(),
        );
        y.assign(&all);
    }
}

/// SLQ of the square distributed matrix `a` (collective): the same quadrature on every process.
pub fn distributed_slq<T>(
    a: &DistributedMatrix<'_, T>,
    params: &SlqParams,
) -> Result<SpectralQuadrature>
where
    T: Element + deq_kernels::eigen::EigenScalar,
{
    let op = DistributedOperator::new(a);
    let local = slq(&op, params).map_err(|e| crate::Error::Library(e.to_string()));
    agree(a.grid().comm(), local)
}
