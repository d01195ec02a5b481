//! A fixed team of threads for a sequence of short parallel steps separated by short serial ones, such as the
//! per-column matrix–vector products of a Householder reduction (a few microseconds to a millisecond each, a
//! thousand or more of them). The helpers busy-wait between steps instead of sleeping: waking a sleeping thread
//! costs tens of microseconds on a virtual machine, which a fork–join pool (rayon) pays once per step; measured
//! here as a quarter of the time of the tridiagonalization at n = 1000 (docs/benchmarks.md).
//!
//! The team lives only as long as the closure given to [`with_team`]; while it lives its helpers occupy their
//! cores, so use it for one tight computation and size it by the threads the caller may use.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One step: called once with each member's index 0..threads (0 on the calling thread).
type Step<'a> = &'a (dyn Fn(usize) + Sync);

/// The handle [`with_team`] passes to its body.
pub(crate) struct SpinTeam {
    threads: usize,
    /// Bumped by the caller to publish a step (or the end, with `stop` set).
    generation: AtomicUsize,
    /// Helpers still running the current step.
    pending: AtomicUsize,
    stop: AtomicBool,
    panicked: AtomicBool,
    /// The thread that made the team: the only one allowed to publish steps.
    owner: std::thread::ThreadId,
    /// Set while a step runs, so a step cannot publish another (the cell would be overwritten).
    in_step: AtomicBool,
    /// The current step, written only by the caller while no helper runs one.
    step: UnsafeCell<Option<Step<'static>>>,
}

// SAFETY: `step` is written only by the thread that owns the team while `pending` is zero (no helper reads
// it), and published to the helpers by the release increment of `generation`, which they acquire before reading
// it; everything else is atomic.
unsafe impl Sync for SpinTeam {}

/// Spins this many times before yielding the core while waiting.
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

fn wait_until(mut done: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < SPINS_BEFORE_YIELD {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

impl SpinTeam {
    /// The number of members, the calling thread included.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `step(t)` for every member t (t = 0 on the calling thread) and returns when all have finished.
    /// A panic in a helper is raised again here. Steps run one at a time: call this only from the body given
    /// to [`with_team`] on its own thread, never from inside a step.
    pub(crate) fn run(&self, step: &(dyn Fn(usize) + Sync)) {
        if self.threads == 1 {
            return step(0);
        }
        assert!(
            std::thread::current().id() == self.owner
                && !self.in_step.swap(true, Ordering::Relaxed),
            "a spin team runs steps from its own thread, one at a time"
        );
        // SAFETY: the reference is erased to 'static only while this call runs: it waits below until every
        // helper has finished with it (pending = 0) and clears it before returning, so no helper can see it
        // after `step` goes out of scope.
        let erased: Step<'static> = unsafe { std::mem::transmute::<Step<'_>, Step<'static>>(step) };
        // SAFETY: no helper is running a step (pending is 0 between calls), so none reads the cell.
        unsafe { *self.step.get() = Some(erased) };
        self.pending.store(self.threads - 1, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
        let own = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(0)));
        wait_until(|| self.pending.load(Ordering::Acquire) == 0);
        // SAFETY: as above, all helpers are done with the step.
        unsafe { *self.step.get() = None };
        self.in_step.store(false, Ordering::Relaxed);
        if let Err(payload) = own {
            std::panic::resume_unwind(payload);
        }
        if self.panicked.load(Ordering::Relaxed) {
            panic!("a helper thread of the spin team panicked");
        }
    }

    fn helper(&self, member: usize) {
        let mut seen = 0;
        loop {
            wait_until(|| self.generation.load(Ordering::Acquire) != seen);
            seen = self.generation.load(Ordering::Acquire);
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            // SAFETY: the caller wrote the step before the release increment this thread has acquired, and
            // does not touch it again until `pending` reaches zero.
            let step = unsafe { (*self.step.get()).expect("a published step") };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(member))).is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
            self.pending.fetch_sub(1, Ordering::Release);
        }
    }
}

/// The team size for a computation started on the calling thread: rayon's thread count (`RAYON_NUM_THREADS`,
/// default one per core) but never more than the cores this process may use, since a busy-waiting member
/// without a core of its own stalls every step; and one inside a rayon worker (a parallel iterator, `join`,
/// `install`), where the pool's other workers are busy with the caller's own parallel work.
pub(crate) fn team_size() -> usize {
    if rayon::current_thread_index().is_some() {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    rayon::current_num_threads().min(cores)
}

/// Runs `body` with a team of `threads` members (the calling thread and `threads − 1` helpers, at least one
/// member), and stops the helpers when it returns.
pub(crate) fn with_team<R>(threads: usize, body: impl FnOnce(&SpinTeam) -> R) -> R {
    let team = SpinTeam {
        threads: threads.max(1),
        generation: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        owner: std::thread::current().id(),
        in_step: AtomicBool::new(false),
        step: UnsafeCell::new(None),
    };
    if team.threads == 1 {
        return body(&team);
    }
    std::thread::scope(|scope| {
        for member in 1..team.threads {
            let team = &team;
            scope.spawn(move || team.helper(member));
        }
        struct StopOnExit<'a>(&'a SpinTeam);
        impl Drop for StopOnExit<'_> {
            fn drop(&mut self) {
                self.0.stop.store(true, Ordering::Relaxed);
                self.0.generation.fetch_add(1, Ordering::Release);
            }
        }
        let _stop = StopOnExit(&team);
        body(&team)
    })
}

/// Splits columns 0..s of the lower triangle of an s×s matrix into `parts` ranges holding equal numbers of
/// entries: the first c columns hold s·c − c²/2, so boundary i is s·(1 − √(1 − i/parts)).
pub(crate) fn triangle_column_split(s: usize, parts: usize) -> Vec<usize> {
    let mut bounds: Vec<usize> = (0..=parts)
        .map(|i| {
            let f = 1.0 - (1.0 - i as f64 / parts as f64).sqrt();
            ((s as f64 * f).round() as usize).min(s)
        })
        .collect();
    bounds[parts] = s;
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_member_runs_every_step_once() {
        for threads in [1, 2, 3] {
            let sum = AtomicU64::new(0);
            with_team(threads, |team| {
                assert_eq!(team.threads(), threads);
                for step in 0..1000u64 {
                    team.run(&|t| {
                        sum.fetch_add(step * 10 + t as u64, Ordering::Relaxed);
                    });
                }
            });
            let t = threads as u64;
            let expected = t * 10 * (999 * 1000 / 2) + 1000 * (t * (t - 1) / 2);
            assert_eq!(sum.into_inner(), expected);
        }
    }

    #[test]
    fn a_step_cannot_publish_another() {
        let result = std::panic::catch_unwind(|| {
            with_team(2, |team| {
                team.run(&|t| {
                    if t == 0 {
                        team.run(&|_| {})
                    }
                })
            })
        });
        assert!(result.is_err());
    }

    #[test]
    fn a_helper_panic_reaches_the_caller() {
        let result = std::panic::catch_unwind(|| {
            with_team(2, |team| team.run(&|t| assert_eq!(t, 0, "helper fails")))
        });
        assert!(result.is_err());
    }

    #[test]
    fn triangle_split_balances_entries() {
        for (s, parts) in [(1000, 2), (4001, 3), (7, 2), (1, 4)] {
            let b = triangle_column_split(s, parts);
            assert_eq!((b[0], b[parts]), (0, s));
            assert!(b.windows(2).all(|w| w[0] <= w[1]));
            let entries = |c0: usize, c1: usize| (c0..c1).map(|c| s - c).sum::<usize>();
            let total = entries(0, s);
            for w in b.windows(2) {
                // Rounding a boundary moves at most s entries.
                let e = entries(w[0], w[1]) as f64;
                assert!(
                    (e - total as f64 / parts as f64).abs() <= s as f64,
                    "{s} {parts} {b:?}"
                );
            }
        }
    }
}
