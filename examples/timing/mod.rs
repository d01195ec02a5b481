//! The timing protocol shared by the `time_*` examples: one untimed warm-up call, then `reps` timed calls in
//! this process; the JSON fields `median_s` and `samples` that the interleaving scripts in benches/ read.

use std::time::Instant;

/// `run` once untimed and `reps` (at least one) times timed, each result dropped before the next call;
/// returns `"median_s": …, "samples": […]` for a JSON line.
pub fn median_of_calls<R>(
    reps: usize,
    run: impl Fn() -> deq_kernels::Result<R>,
) -> deq_kernels::Result<String> {
    run()?;
    let mut samples = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let out = run()?;
        samples.push(start.elapsed().as_secs_f64());
        drop(out);
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    let rounded: Vec<f64> = samples.iter().map(|s| (s * 1e4).round() / 1e4).collect();
    Ok(format!(
        "\"median_s\": {:.4}, \"samples\": {rounded:?}",
        sorted[sorted.len() / 2]
    ))
}
