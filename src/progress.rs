//! Receiving progress from long computations.
//!
//! Every function that can run for seconds or more (kernel matrices, finite-width draws, the comparison of a DEQ
//! with its equivalents) takes a `&dyn Progress` as its last argument: [`NoProgress`] to stay silent, or an
//! observer of the caller's own (the command line draws a progress bar with one).

/// An observer of a long computation. `start` announces the total number of work units, `advance` is called —
/// possibly from several worker threads at once — with the units just finished, `finish` once at the end.
pub trait Progress: Sync {
    /// The computation starts and will take `total` units (entries, draws, sizes, …).
    fn start(&self, _total: u64) {}
    /// `units` more units are done.
    fn advance(&self, _units: u64) {}
    /// The computation is over.
    fn finish(&self) {}
}

/// The silent observer.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
