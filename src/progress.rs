//! Receiving progress from long computations.
//!
//! Every function that can run for seconds or more (kernel matrices, finite-width draws, the comparison of a DEQ
//! with its equivalents) takes a `&dyn Progress` as its last argument: [`NoProgress`] to stay silent, or an
//! observer of the caller's own (the command line draws a progress bar with one). An observer can also stop the
//! computation: the kernel matrices ask [`Progress::cancelled`] after every row and return
//! [`Error::Cancelled`](crate::Error::Cancelled) when it says yes (the Python bindings stop a call on Ctrl-C this
//! way).

/// An observer of a long computation. `start` announces the total number of work units, `advance` is called —
/// possibly from several worker threads at once — with the units just finished, `finish` once at the end.
pub trait Progress: Sync {
    /// The computation starts and will take `total` units (entries, draws, sizes, …).
    fn start(&self, _total: u64) {}
    /// `units` more units are done.
    fn advance(&self, _units: u64) {}
    /// The computation is over.
    fn finish(&self) {}
    /// Whether the caller wants the computation stopped; asked between work units, from any worker thread.
    fn cancelled(&self) -> bool {
        false
    }
}

/// [`Error::Cancelled`](crate::Error::Cancelled) when `progress` asks for the computation to stop.
pub(crate) fn check_cancelled(progress: &dyn Progress) -> crate::Result<()> {
    if progress.cancelled() {
        Err(crate::Error::Cancelled)
    } else {
        Ok(())
    }
}

/// The silent observer.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
