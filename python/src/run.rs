//! Running a computation without the GIL and stopping it on Ctrl-C.
//!
//! The work runs on a thread of its own while the calling thread, detached from the interpreter, waits for it in
//! slices of [`POLL`]; after each slice it attaches and asks Python whether a signal arrived
//! (`PyErr_CheckSignals`). On `KeyboardInterrupt` the call returns at once and raises it; the worker is told to
//! stop through [`Interrupt`], which the kernels ask after every row. A dense eigensolver has no such checkpoint
//! and finishes in the background, its result dropped; the inputs it reads stay alive until then (the worker
//! holds references to them).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use deq_kernels::progress::Progress;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// How often the waiting thread looks for a signal.
const POLL: Duration = Duration::from_millis(20);

/// The observer handed to the library: says "stop" once the caller was interrupted.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Progress for Interrupt {
    fn cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Below this many floating-point operations (a few tens of milliseconds) a call runs on the calling thread:
/// starting a worker costs 50–100 µs, more than such a call is worth waiting for a Ctrl-C.
const INLINE_WORK: f64 = 5e7;

/// `job`, estimated at `work` floating-point operations, with the GIL released: on a worker thread with Ctrl-C
/// honoured within [`POLL`], or on the calling thread when it is below [`INLINE_WORK`].
pub fn interruptible<R, F>(py: Python<'_>, work: f64, job: F) -> PyResult<R>
where
    R: Send + 'static,
    F: FnOnce(&Interrupt) -> deq_kernels::Result<R> + Send + 'static,
{
    let interrupt = Interrupt::default();
    if work < INLINE_WORK {
        return py.detach(|| job(&interrupt)).map_err(to_py);
    }
    let (sender, receiver) = channel();
    let worker_interrupt = interrupt.clone();
    std::thread::Builder::new()
        .name("deq-kernels".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&worker_interrupt)));
            // The caller may have returned on an interrupt; then nobody listens, which is fine.
            let _ = sender.send(outcome);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut receiver = receiver;
    loop {
        let (back, received) = py.detach(move || {
            let r = receiver.recv_timeout(POLL);
            (receiver, r)
        });
        receiver = back;
        match received {
            Ok(Ok(result)) => return result.map_err(to_py),
            Ok(Err(_)) => {
                return Err(PyRuntimeError::new_err(
                    "internal error: the computation panicked (please report it with the call that caused it)",
                ))
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    interrupt.0.store(true, Ordering::Relaxed);
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("internal error: the worker thread ended without a result"))
            }
        }
    }
}

/// `job` with the GIL released on the calling thread: for computations that take milliseconds.
pub fn detached<R, F>(py: Python<'_>, job: F) -> PyResult<R>
where
    R: Send,
    F: FnOnce() -> deq_kernels::Result<R> + Send,
{
    py.detach(job).map_err(to_py)
}
