//! A fixed team of threads for a sequence of short parallel steps separated by short serial ones, such as the
//! per-column matrix–vector products of a Householder reduction (a few microseconds to a millisecond each, a
//! thousand or more of them). The helpers busy-wait between steps instead of sleeping: waking a sleeping thread
//! costs tens of microseconds on a virtual machine, which a fork–join pool (rayon) pays once per step; measured
//! here as a quarter of the time of the tridiagonalization at n = 1000 (docs/benchmarks.md).
//!
//! The team lives only as long as the closure given to [`with_team`]; while it lives its helpers occupy their
//! cores, so use it for one tight computation and size it by the threads the caller may use.
//!
//! Also here: [`Shares`], fractions of a repeated step that follow the members' measured times
//! ([`SpinTeam::step_seconds`]), with [`triangle_column_split`] to cut a triangle's columns by them; and
//! [`Fork`], the join and map a divide-and-conquer needs, over rayon or a team.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One step: called once with each member's index 0..threads (0 on the calling thread).
type Step<'a> = &'a (dyn Fn(usize) + Sync);

/// The handle [`with_team`] passes to its body.
pub(crate) struct SpinTeam {
    /// Members, the caller included: fixed before the body runs (fewer than asked if a helper could not be
    /// started).
    threads: AtomicUsize,
    /// Bumped by the caller to publish a step (or the end, with `stop` set).
    generation: AtomicUsize,
    /// Helpers still running the current step.
    pending: AtomicUsize,
    stop: AtomicBool,
    /// The first panic of a helper in the current step, raised again on the caller's thread.
    helper_panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// The thread that made the team: the only one allowed to publish steps.
    owner: std::thread::ThreadId,
    /// Set while a step runs, so a step cannot publish another (the cell would be overwritten).
    in_step: AtomicBool,
    /// The current step, written only by the caller while no helper runs one.
    step: UnsafeCell<Option<Step<'static>>>,
    /// Each member's time in the last step, in nanoseconds.
    step_nanos: Vec<AtomicU64>,
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
        self.threads.load(Ordering::Relaxed)
    }

    /// Runs `step(t)` for every member t (t = 0 on the calling thread) and returns when all have finished.
    /// A panic in a helper is raised again here with its own payload (message), after every member has
    /// finished the step, and the team stays usable for the next step. Steps run one at a time: call this only
    /// from the body given to [`with_team`] on its own thread, never from inside a step.
    pub(crate) fn run(&self, step: &(dyn Fn(usize) + Sync)) {
        let threads = self.threads();
        if threads == 1 {
            return self.timed(0, step);
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
        self.pending.store(threads - 1, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
        let own = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.timed(0, step)));
        wait_until(|| self.pending.load(Ordering::Acquire) == 0);
        // SAFETY: as above, all helpers are done with the step.
        unsafe { *self.step.get() = None };
        self.in_step.store(false, Ordering::Relaxed);
        let helper_panic = self.lock_helper_panic().take();
        if let Err(payload) = own {
            std::panic::resume_unwind(payload);
        }
        if let Some(payload) = helper_panic {
            std::panic::resume_unwind(payload);
        }
    }

    /// The slot for a helper's panic; a poisoned lock still holds a valid `Option`.
    fn lock_helper_panic(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<Box<dyn std::any::Any + Send>>> {
        self.helper_panic
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn timed(&self, member: usize, step: &(dyn Fn(usize) + Sync)) {
        let start = Instant::now();
        step(member);
        let nanos = start.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        self.step_nanos[member].store(nanos, Ordering::Relaxed);
    }

    /// Each member's time in the last step [`SpinTeam::run`] finished, in seconds.
    pub(crate) fn step_seconds(&self) -> Vec<f64> {
        self.step_nanos[..self.threads()]
            .iter()
            .map(|t| t.load(Ordering::Relaxed) as f64 * 1e-9)
            .collect()
    }

    /// Whether [`SpinTeam::run`] may be called here: on the team's own thread, outside a step.
    fn can_run(&self) -> bool {
        self.threads() > 1
            && std::thread::current().id() == self.owner
            && !self.in_step.load(Ordering::Relaxed)
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
            if let Err(payload) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.timed(member, step)))
            {
                self.lock_helper_panic().get_or_insert(payload);
            }
            self.pending.fetch_sub(1, Ordering::Release);
        }
    }
}

/// The members a team for a problem of order `order` asks for: what `par` requests
/// ([`crate::Par::requested`]), at most one per `rows_per_member` rows (a member with fewer rows' worth of work
/// per step costs more in synchronization than it saves), at least one. [`with_team`] then caps it by the cores
/// not already held by other teams.
pub(crate) fn team_size(par: crate::Par, order: usize, rows_per_member: usize) -> usize {
    par.requested().min(order / rows_per_member.max(1)).max(1)
}

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}

/// Members of all teams alive in this process: a new team takes only cores no other team holds, since a
/// busy-waiting member without a core of its own stalls every step of its team (two solves started on plain
/// threads at once would otherwise each spin a full team).
static MEMBERS_IN_USE: CoreBudget = CoreBudget(AtomicUsize::new(0));

/// A count of the cores held by teams.
struct CoreBudget(AtomicUsize);

/// Cores held by one team, given back when it is dropped.
struct Reservation<'a> {
    budget: &'a CoreBudget,
    members: usize,
}

impl CoreBudget {
    /// Up to `wanted` members out of `cores`, of which other teams hold some; always at least one, the calling
    /// thread, which runs whether or not it is counted.
    fn reserve(&self, wanted: usize, cores: usize) -> Reservation<'_> {
        let mut used = self.0.load(Ordering::Relaxed);
        loop {
            let members = wanted.min(cores.saturating_sub(used)).max(1);
            match self.0.compare_exchange_weak(
                used,
                used + members,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Reservation {
                        budget: self,
                        members,
                    }
                }
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.0.fetch_sub(self.members, Ordering::AcqRel);
    }
}

/// How many members a team gets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TeamSize {
    /// At most this many, fewer when other teams hold the cores (at least one): what computations use.
    Budgeted(usize),
    /// Exactly this many (at least one), whatever the cores: for tests of the team's mechanics.
    #[cfg(test)]
    Exact(usize),
}

/// Runs `body` with a team (the calling thread and helpers) of the given size, and stops the helpers when it
/// returns or unwinds.
pub(crate) fn with_team<R>(size: TeamSize, body: impl FnOnce(&SpinTeam) -> R) -> R {
    match size {
        TeamSize::Budgeted(threads) => {
            let reservation = MEMBERS_IN_USE.reserve(threads, cores());
            run_team(reservation.members, body)
        }
        #[cfg(test)]
        TeamSize::Exact(members) => run_team(members.max(1), body),
    }
}

fn run_team<R>(members: usize, body: impl FnOnce(&SpinTeam) -> R) -> R {
    let team = SpinTeam {
        threads: AtomicUsize::new(members),
        generation: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        helper_panic: Mutex::new(None),
        owner: std::thread::current().id(),
        in_step: AtomicBool::new(false),
        step: UnsafeCell::new(None),
        step_nanos: (0..members).map(|_| AtomicU64::new(0)).collect(),
    };
    if members == 1 {
        return body(&team);
    }
    struct StopOnExit<'a>(&'a SpinTeam);
    impl Drop for StopOnExit<'_> {
        fn drop(&mut self) {
            self.0.stop.store(true, Ordering::Relaxed);
            self.0.generation.fetch_add(1, Ordering::Release);
        }
    }
    std::thread::scope(|scope| {
        // Armed before the first helper exists, so that the helpers stop whatever happens after: when the body
        // returns or unwinds, the scope waits for the helpers running, which must not spin forever.
        let _stop = StopOnExit(&team);
        for member in 1..members {
            let team = &team;
            if spawn_helper(scope, member, move || team.helper(member)).is_err() {
                // The team goes on with the helpers that started (member indices 0..member).
                team.threads.store(member, Ordering::Relaxed);
                break;
            }
        }
        body(&team)
    })
}

/// Starts helper `member` on the scope; an error when the system refuses a thread.
fn spawn_helper<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    member: usize,
    f: impl FnOnce() + Send + 'scope,
) -> std::io::Result<()> {
    #[cfg(test)]
    if tests::REFUSED_SPAWN.with(|refused| refused.get() == Some(member)) {
        return Err(std::io::Error::other("thread start refused (test)"));
    }
    std::thread::Builder::new()
        .name(format!("deq-eigen team member {member}"))
        .spawn_scoped(scope, f)
        .map(drop)
}

/// Independent pieces of work run side by side: on rayon's pool ([`Rayon`]), or on a [`SpinTeam`], whose
/// helpers stay awake between the pieces (on this virtual machine a sleeping rayon worker sometimes took
/// milliseconds to join in, leaving a 6 ms computation to one thread: docs/spectra.md).
pub(crate) trait Fork: Sync {
    /// (a(), b()), possibly at the same time.
    fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B);
    /// [f(0), …, f(len − 1)], the calls spread over the threads.
    fn map<R: Send>(&self, len: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R>;
    /// f(i, chunk i) for the consecutive chunks of `size` entries of `data`, spread over the threads.
    fn chunks<T: Send>(&self, data: &mut [T], size: usize, f: impl Fn(usize, &mut [T]) + Sync);
    /// The parallelism for faer's kernels called between the pieces.
    fn faer_par(&self) -> faer::Par;
}

/// Everything on the calling thread.
pub(crate) struct Sequential;

impl Fork for Sequential {
    fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        (a(), b())
    }

    fn map<R: Send>(&self, len: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        (0..len).map(f).collect()
    }

    fn chunks<T: Send>(&self, data: &mut [T], size: usize, f: impl Fn(usize, &mut [T]) + Sync) {
        data.chunks_mut(size.max(1))
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }

    fn faer_par(&self) -> faer::Par {
        faer::Par::Seq
    }
}

/// rayon's global pool, at least 8 calls of a [`Fork::map`] per task.
pub(crate) struct Rayon;

impl Fork for Rayon {
    fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        rayon::join(a, b)
    }

    fn map<R: Send>(&self, len: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        use rayon::prelude::*;
        (0..len).into_par_iter().with_min_len(8).map(&f).collect()
    }

    fn chunks<T: Send>(&self, data: &mut [T], size: usize, f: impl Fn(usize, &mut [T]) + Sync) {
        use rayon::prelude::*;
        data.par_chunks_mut(size.max(1))
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }

    fn faer_par(&self) -> faer::Par {
        faer::Par::rayon(0)
    }
}

/// A team joins on its first two members and maps in equal contiguous parts over all of them; called inside
/// one of its own steps (or on a one-member team) it runs the work on the calling thread.
impl Fork for SpinTeam {
    fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        if !self.can_run() {
            return (a(), b());
        }
        let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
        let (ra, rb) = (Mutex::new(None), Mutex::new(None));
        self.run(&|t| match t {
            0 => *lock(&ra) = lock(&a).take().map(|a| a()),
            1 => *lock(&rb) = lock(&b).take().map(|b| b()),
            _ => {}
        });
        let ra = ra.into_inner().ok().flatten();
        let rb = rb.into_inner().ok().flatten();
        (ra.expect("member 0 ran a"), rb.expect("member 1 ran b"))
    }

    fn map<R: Send>(&self, len: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        if !self.can_run() {
            return (0..len).map(f).collect();
        }
        let threads = self.threads();
        let parts: Vec<Mutex<Vec<R>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
        self.run(&|t| {
            let range = len * t / threads..len * (t + 1) / threads;
            *lock(&parts[t]) = range.map(&f).collect();
        });
        parts
            .into_iter()
            .flat_map(|p| p.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }

    fn chunks<T: Send>(&self, data: &mut [T], size: usize, f: impl Fn(usize, &mut [T]) + Sync) {
        let size = size.max(1);
        if !self.can_run() {
            return Sequential.chunks(data, size, f);
        }
        // Member t takes chunks len·t/threads.. of the whole, as one contiguous slice of its own.
        let len = data.len().div_ceil(size);
        let threads = self.threads();
        let mut parts = Vec::with_capacity(threads);
        let mut rest = data;
        for t in 0..threads {
            let first = len * t / threads;
            let count = len * (t + 1) / threads - first;
            let (part, tail) = rest.split_at_mut((count * size).min(rest.len()));
            parts.push(Mutex::new((first, part)));
            rest = tail;
        }
        self.run(&|t| {
            let mut guard = lock(&parts[t]);
            let (first, ref mut part) = *guard;
            for (i, c) in part.chunks_mut(size).enumerate() {
                f(first + i, c);
            }
        });
    }

    fn faer_par(&self) -> faer::Par {
        faer::Par::Seq
    }
}

/// The mutex's value; a step that panicked while holding it has already had its panic raised by `run`.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Splits columns 0..s of the lower triangle of an s×s matrix into ranges holding the given fractions of its
/// entries (summing to 1): the first c columns hold a fraction F = 1 − (1 − c/s)² (to O(1/s)), so the boundary
/// after the fractions f₀..f_i is s·(1 − √(1 − F)) with F = f₀ + … + f_i.
pub(crate) fn triangle_column_split(s: usize, fractions: &[f64]) -> Vec<usize> {
    let mut covered = 0.0;
    let mut bounds = vec![0];
    for f in fractions {
        covered += f;
        let c = s as f64 * (1.0 - (1.0 - covered.min(1.0)).sqrt());
        bounds.push((c.round() as usize).min(s));
    }
    bounds[fractions.len()] = s;
    bounds
}

/// The entries of the lower triangle of an s×s matrix in columns c0..c1.
fn triangle_entries(s: usize, c0: usize, c1: usize) -> usize {
    // Column c holds s − c entries.
    (c1 - c0) * (2 * s - c0 - c1 + 1) / 2
}

/// The entries of the lower triangle of an s×s matrix in each column range of `bounds` (as from
/// [`triangle_column_split`]): the work a member did, for [`Shares::observe`].
pub(crate) fn triangle_work(s: usize, bounds: &[usize]) -> Vec<f64> {
    bounds
        .windows(2)
        .map(|b| triangle_entries(s, b[0], b[1]) as f64)
        .collect()
}

/// The fractions of a repeated, divisible step (the columns of a matrix–vector product, say) given to the
/// members of a team, following their measured speeds so that they finish together: the work per unit differs
/// between parts (short columns cost more per entry than long ones) and the cores of a virtual machine are not
/// equally fast at every moment (docs/spectra.md, "Threads").
pub(crate) struct Shares {
    fractions: Vec<f64>,
}

/// Weight of the newest step in the running speed estimate.
const SHARES_SMOOTHING: f64 = 0.25;
/// No member's fraction falls below this multiple of an equal share.
const SHARES_FLOOR: f64 = 0.25;

impl Shares {
    /// Equal fractions for `members` members.
    pub(crate) fn equal(members: usize) -> Self {
        let members = members.max(1);
        Shares {
            fractions: vec![1.0 / members as f64; members],
        }
    }

    /// The fractions, one per member, summing to 1.
    pub(crate) fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// Moves the fractions toward each member's speed in the last step, work[t] / seconds[t] (work in any unit
    /// common to the members). Steps with a member that had no work or took no measurable time say nothing
    /// about its speed and are ignored.
    pub(crate) fn observe(&mut self, work: &[f64], seconds: &[f64]) {
        if work
            .iter()
            .zip(seconds)
            .any(|(&w, &t)| w <= 0.0 || t <= 0.0)
        {
            return;
        }
        let speeds: Vec<f64> = work.iter().zip(seconds).map(|(w, t)| w / t).collect();
        let total: f64 = speeds.iter().sum();
        for (f, v) in self.fractions.iter_mut().zip(&speeds) {
            *f = (1.0 - SHARES_SMOOTHING) * *f + SHARES_SMOOTHING * v / total;
        }
        // Members below the floor are raised to it, the others scaled down to make room.
        let floor = SHARES_FLOOR / self.fractions.len() as f64;
        let (raised, rest) = self.fractions.iter().fold((0.0, 0.0), |(r, h), &f| {
            if f < floor {
                (r + floor, h)
            } else {
                (r, h + f)
            }
        });
        let scale = (1.0 - raised) / rest;
        for f in &mut self.fractions {
            *f = if *f < floor { floor } else { *f * scale };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    std::thread_local! {
        /// The member whose thread [`spawn_helper`] refuses to start on this thread (tests of a failed spawn).
        pub(super) static REFUSED_SPAWN: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    }

    /// Σ over `steps` steps of (step·10 + member) on a team of `threads`, checked against the closed form.
    fn check_steps(team: &SpinTeam, steps: u64) {
        let sum = AtomicU64::new(0);
        for step in 0..steps {
            team.run(&|t| {
                sum.fetch_add(step * 10 + t as u64, Ordering::Relaxed);
            });
        }
        let t = team.threads() as u64;
        let expected = t * 10 * (steps * (steps - 1) / 2) + steps * (t * (t - 1) / 2);
        assert_eq!(sum.into_inner(), expected, "{t} members");
    }

    #[test]
    fn teams_share_the_cores() {
        // On 4 cores: a team of 3 leaves one core; the next team gets it, the one after runs alone (its caller's
        // thread, counted although over the budget); cores come back when a team ends.
        let budget = CoreBudget(AtomicUsize::new(0));
        let a = budget.reserve(3, 4);
        let b = budget.reserve(3, 4);
        let c = budget.reserve(2, 4);
        assert_eq!((a.members, b.members, c.members), (3, 1, 1));
        drop(a);
        assert_eq!(budget.reserve(8, 4).members, 2);
        drop((b, c));
        assert_eq!(budget.0.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn concurrent_callers_do_not_each_spin_a_full_team() {
        // Two plain threads start a full team each at the same moment: together they hold at most the cores plus
        // one (the second caller's own thread), never two full teams.
        let cores = cores();
        let barrier = std::sync::Barrier::new(2);
        let sizes: Vec<usize> = std::thread::scope(|s| {
            let run = || {
                with_team(TeamSize::Budgeted(cores), |team| {
                    barrier.wait();
                    let size = team.threads();
                    barrier.wait();
                    size
                })
            };
            let (a, b) = (s.spawn(run), s.spawn(run));
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert!(
            sizes.iter().sum::<usize>() <= cores + 1,
            "{sizes:?} on {cores} cores"
        );
    }

    #[test]
    fn team_size_follows_par_and_the_order() {
        use crate::Par;
        assert_eq!(team_size(Par::Seq, 10_000, 160), 1);
        assert_eq!(team_size(Par::Threads(3), 10_000, 160), 3);
        assert_eq!(team_size(Par::Threads(3), 400, 160), 2);
        assert_eq!(team_size(Par::Threads(3), 100, 160), 1);
        // Inside a rayon worker the pool's size does not count: its siblings are busy with the caller's work.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| team_size(Par::Pool, 10_000, 160)), 1);
        assert_eq!(pool.install(|| team_size(Par::Threads(2), 10_000, 160)), 2);
    }

    #[test]
    fn every_member_runs_every_step_once() {
        // Teams larger than the two cores here as well: members then share cores and yield while they wait.
        for threads in [1, 2, 3, 5, 8] {
            with_team(TeamSize::Exact(threads), |team| {
                assert_eq!(team.threads(), threads);
                check_steps(team, if threads > 3 { 200 } else { 1000 });
            });
        }
    }

    #[test]
    fn concurrent_callers_each_get_every_step() {
        // Four plain threads, each with its own team of three, all stepping at once.
        std::thread::scope(|s| {
            let callers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| with_team(TeamSize::Exact(3), |team| check_steps(team, 300))))
                .collect();
            for caller in callers {
                caller.join().unwrap();
            }
        });
    }

    #[test]
    fn a_refused_thread_leaves_a_smaller_team_that_works() {
        // The third member cannot be started: the team runs with the two that did, and ends without hanging.
        REFUSED_SPAWN.with(|refused| refused.set(Some(2)));
        let threads = with_team(TeamSize::Exact(4), |team| {
            check_steps(team, 100);
            assert_eq!(team.step_seconds().len(), team.threads());
            team.threads()
        });
        REFUSED_SPAWN.with(|refused| refused.set(None));
        assert_eq!(threads, 2);
    }

    #[test]
    fn a_step_cannot_publish_another() {
        let result = std::panic::catch_unwind(|| {
            with_team(TeamSize::Exact(2), |team| {
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
    fn a_helper_panic_reaches_the_caller_and_the_team_goes_on() {
        with_team(TeamSize::Exact(4), |team| {
            for round in 0..3 {
                let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    team.run(&|t| {
                        if t == 3 {
                            panic!("member 3 failed in round {round}");
                        }
                    })
                }))
                .expect_err("the helper's panic is raised on the caller");
                let message = caught
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| caught.downcast_ref::<&str>().copied())
                    .unwrap_or_default();
                assert_eq!(message, format!("member 3 failed in round {round}"));
                // The next steps run on every member, and a panic is not raised twice.
                check_steps(team, 50);
            }
        });
        // Unwinding out of the body stops the helpers: with_team returns instead of hanging.
        let result = std::panic::catch_unwind(|| {
            with_team(TeamSize::Exact(4), |team| {
                team.run(&|t| assert_ne!(t, 2, "helper 2 fails"))
            })
        });
        assert!(result.is_err());
    }

    #[test]
    fn fork_on_a_team_matches_the_sequential_result() {
        // join and map on teams of 1, 2 and 3 members, with joins nested inside a join (run on one thread), and
        // rayon's pool, all against the plain loop.
        fn sum_of_squares(fork: &impl Fork, range: std::ops::Range<u64>) -> u64 {
            if range.end - range.start <= 100 {
                return fork
                    .map((range.end - range.start) as usize, |i| {
                        (range.start + i as u64).pow(2)
                    })
                    .into_iter()
                    .sum();
            }
            let mid = (range.start + range.end) / 2;
            let (a, b) = fork.join(
                || sum_of_squares(fork, range.start..mid),
                || sum_of_squares(fork, mid..range.end),
            );
            a + b
        }
        let want: u64 = (0..1000u64).map(|i| i * i).sum();
        for threads in [1, 2, 3] {
            with_team(TeamSize::Exact(threads), |team| {
                assert_eq!(sum_of_squares(team, 0..1000), want);
                let squares = team.map(1001, |i| i * i);
                assert_eq!(squares, (0..1001).map(|i| i * i).collect::<Vec<_>>());
            });
        }
        assert_eq!(sum_of_squares(&Rayon, 0..1000), want);
    }

    #[test]
    fn shares_follow_the_members_speeds() {
        // Member 1 does 3 units per second, member 0 one: the fractions settle at 1/4 and 3/4, where both finish
        // together, from equal fractions and from fractions far off the other way.
        for start in [vec![0.5, 0.5], vec![0.05, 0.95]] {
            let mut shares = Shares {
                fractions: start.clone(),
            };
            for _ in 0..100 {
                let work: Vec<f64> = shares.fractions().iter().map(|f| 1000.0 * f).collect();
                let seconds = [work[0] / 1.0, work[1] / 3.0];
                shares.observe(&work, &seconds);
            }
            let f = shares.fractions();
            assert!(
                (f[0] - 0.25).abs() < 1e-9 && (f[1] - 0.75).abs() < 1e-9,
                "{start:?} → {f:?}"
            );
        }
        // A member without work or time says nothing; no member is starved.
        let mut shares = Shares::equal(3);
        shares.observe(&[1.0, 0.0, 1.0], &[1.0, 1.0, 1.0]);
        shares.observe(&[1.0, 1.0, 1.0], &[1.0, 0.0, 1.0]);
        assert_eq!(shares.fractions(), Shares::equal(3).fractions());
        for _ in 0..100 {
            shares.observe(&[1.0, 1.0, 1.0], &[1.0, 1e6, 1.0]);
        }
        let f = shares.fractions();
        assert!(f[1] >= SHARES_FLOOR / 3.0 && (f.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn triangle_entries_counts_columns() {
        for (s, c0, c1) in [(10, 0, 10), (10, 3, 7), (1, 0, 1), (9, 4, 4)] {
            assert_eq!(
                triangle_entries(s, c0, c1),
                (c0..c1).map(|c| s - c).sum::<usize>()
            );
        }
    }

    #[test]
    fn triangle_split_follows_unequal_fractions() {
        let s = 3000;
        let fractions = [0.2, 0.5, 0.3];
        let b = triangle_column_split(s, &fractions);
        let total = triangle_entries(s, 0, s) as f64;
        for (w, f) in b.windows(2).zip(fractions) {
            // Rounding a boundary moves at most s entries.
            assert!((triangle_entries(s, w[0], w[1]) as f64 - f * total).abs() <= s as f64);
        }
    }

    #[test]
    fn triangle_split_balances_entries() {
        for (s, parts) in [(1000, 2), (4001, 3), (7, 2), (1, 4)] {
            let b = triangle_column_split(s, Shares::equal(parts).fractions());
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
