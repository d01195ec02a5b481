//! Anderson acceleration (type II) of a vector fixed-point iteration x ← g(x).
//!
//! With f_k = g(x_k) − x_k and the last m differences ΔF = [f_{i+1} − f_i], ΔG = [g_{i+1} − g_i],
//! γ = argmin ‖f_k − ΔFγ‖₂ and x_{k+1} = g(x_k) − ΔGγ − (1 − β)(f_k − ΔFγ) (β = 1: no damping). The small
//! least-squares problem goes through its normal equations with a relative ridge of 1e-12, solved by faer.
//! When a step makes the residual grow tenfold the history is dropped and the plain step is taken.

use std::collections::VecDeque;
use std::time::Instant;

use rayon::prelude::*;

use super::{check_max_iter, start_scale, ResidualTrack, SolveReport};
use crate::{Error, Result};

/// Checked settings of [`anderson`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AndersonParams {
    memory: usize,
    damping: f64,
    tol: f64,
    max_iter: usize,
}

impl AndersonParams {
    /// `memory` ≥ 1 past differences, damping β ∈ (0, 1], `tol` > 0 on ‖g(x) − x‖_∞, `max_iter` ≥ 1.
    pub fn new(memory: usize, damping: f64, tol: f64, max_iter: usize) -> Result<Self> {
        if memory == 0 {
            return Err(Error::InvalidParameter {
                name: "memory",
                value: 0.0,
                requirement: "Anderson acceleration needs at least one past difference",
            });
        }
        if !(damping > 0.0 && damping <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "damping",
                value: damping,
                requirement: "must lie in (0, 1]",
            });
        }
        crate::error::check_positive("tol", tol)?;
        Ok(AndersonParams {
            memory,
            damping,
            tol,
            max_iter: check_max_iter(max_iter)?,
        })
    }
}

impl Default for AndersonParams {
    /// memory 5, no damping, tol = 1e-12, 1000 iterations.
    fn default() -> Self {
        AndersonParams {
            memory: 5,
            damping: 1.0,
            tol: 1e-12,
            max_iter: 1000,
        }
    }
}

/// Vectors at least this long are processed in parallel, in chunks of [`CHUNK`] entries.
const PARALLEL_MIN: usize = 1 << 15;
const CHUNK: usize = 1 << 13;

/// `kernel(offset, out_chunk)` over consecutive chunks of `out` (in parallel when long), the chunks' results
/// combined in order by `combine` from `identity` — the same sums whatever the number of threads.
fn chunked<R, K, C>(out: &mut [f64], identity: R, kernel: K, combine: C) -> R
where
    R: Send,
    K: Fn(usize, &mut [f64]) -> R + Sync,
    C: Fn(R, R) -> R,
{
    if out.len() < PARALLEL_MIN {
        return combine(identity, kernel(0, out));
    }
    let parts: Vec<R> = out
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, o)| kernel(c * CHUNK, o))
        .collect();
    parts.into_iter().fold(identity, combine)
}

/// ⟨a, b⟩ with eight independent partial sums, so the loop vectorizes.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The Anderson history: the last differences ΔG, ΔF (buffers recycled through `spare`) and ΔFᵀΔF.
struct History {
    dg: VecDeque<Vec<f64>>,
    df: VecDeque<Vec<f64>>,
    /// gram[i][j] = ⟨ΔF_i, ΔF_j⟩, in the order of `df`.
    gram: VecDeque<VecDeque<f64>>,
    spare: Vec<Vec<f64>>,
}

impl History {
    fn new() -> Self {
        History {
            dg: VecDeque::new(),
            df: VecDeque::new(),
            gram: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.spare.extend(self.dg.drain(..));
        self.spare.extend(self.df.drain(..));
        self.gram.clear();
    }

    fn buffer(&mut self, d: usize) -> Vec<f64> {
        self.spare.pop().unwrap_or_else(|| vec![0.0; d])
    }

    /// Append ΔG = g − g_prev and ΔF = f − f_prev (dropping the oldest pair at `memory`), then return
    /// ΔFᵀf; the new row of ΔFᵀΔF is computed in the same pass.
    fn push_and_project(
        &mut self,
        memory: usize,
        (g, g_prev): (&[f64], &[f64]),
        (f, f_prev): (&[f64], &[f64]),
    ) -> Vec<f64> {
        if self.df.len() == memory {
            self.spare.extend(self.dg.pop_front());
            self.spare.extend(self.df.pop_front());
            self.gram.pop_front();
            for row in &mut self.gram {
                row.pop_front();
            }
        }
        let d = g.len();
        let mut new_dg = self.buffer(d);
        let mut new_df = self.buffer(d);
        chunked(
            &mut new_dg,
            (),
            |o, out| {
                let r = o..o + out.len();
                for ((v, a), b) in out.iter_mut().zip(&g[r.clone()]).zip(&g_prev[r]) {
                    *v = a - b;
                }
            },
            |_, _| (),
        );
        let old = &self.df;
        let k = old.len();
        // [⟨ΔF_i, ΔF_new⟩ for the old i, ⟨ΔF_new, ΔF_new⟩, ⟨ΔF_i, f⟩ for the old i, ⟨ΔF_new, f⟩]
        let sums = chunked(
            &mut new_df,
            vec![0.0; 2 * k + 2],
            |o, out| {
                let r = o..o + out.len();
                let fc = &f[r.clone()];
                for ((v, a), b) in out.iter_mut().zip(fc).zip(&f_prev[r.clone()]) {
                    *v = a - b;
                }
                let mut s = vec![0.0; 2 * k + 2];
                for (j, h) in old.iter().enumerate() {
                    s[j] = dot(&h[r.clone()], out);
                    s[k + 1 + j] = dot(&h[r.clone()], fc);
                }
                s[k] = dot(out, out);
                s[2 * k + 1] = dot(out, fc);
                s
            },
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
        for (row, &v) in self.gram.iter_mut().zip(&sums[..k]) {
            row.push_back(v);
        }
        self.gram.push_back(sums[..=k].iter().copied().collect());
        self.dg.push_back(new_dg);
        self.df.push_back(new_df);
        sums[k + 1..].to_vec()
    }

    /// γ minimizing ‖f − ΔFγ‖₂ by the normal equations (ΔFᵀΔF + λI)γ = ΔFᵀf, λ = 1e-12·tr(ΔFᵀΔF)/m.
    fn coefficients(&self, rhs: &[f64]) -> Option<Vec<f64>> {
        let m = rhs.len();
        if m == 0 {
            return None;
        }
        let ridge = 1e-12 * (0..m).map(|i| self.gram[i][i]).sum::<f64>() / m as f64;
        if ridge <= 0.0 || !ridge.is_finite() {
            return None;
        }
        let gram = faer::Mat::<f64>::from_fn(m, m, |i, j| {
            self.gram[i][j] + if i == j { ridge } else { 0.0 }
        });
        let rhs = faer::Mat::<f64>::from_fn(m, 1, |i, _| rhs[i]);
        use faer::linalg::solvers::Solve;
        let gamma = gram.partial_piv_lu().solve(&rhs);
        let g: Vec<f64> = (0..m).map(|i| gamma[(i, 0)]).collect();
        g.iter().all(|v| v.is_finite()).then_some(g)
    }
}

/// Solve x = g(x) by Anderson acceleration from `x` (overwritten with the fixed point).
/// `map(x, out)` writes g(x) into `out`.
pub fn anderson<G>(x: &mut [f64], mut map: G, params: &AndersonParams) -> Result<SolveReport>
where
    G: FnMut(&[f64], &mut [f64]),
{
    let start = Instant::now();
    let method = "Anderson acceleration";
    let d = x.len();
    let mut g = vec![0.0; d];
    let mut f = vec![0.0; d];
    let (mut g_prev, mut f_prev) = (vec![0.0; d], vec![0.0; d]);
    let mut have_prev = false;
    let mut history = History::new();
    let mut track = ResidualTrack::default();
    let mut last = f64::INFINITY;
    let scale = start_scale(x);
    for it in 1..=params.max_iter {
        map(x, &mut g);
        // f = g − x with ‖f‖_∞ and ‖g‖_∞ in one pass; a non-finite entry makes both NaN.
        let (r, g_max) = {
            let (gs, xs) = (&g, &*x);
            chunked(
                &mut f,
                (0.0f64, 0.0f64),
                |o, out| {
                    let r = o..o + out.len();
                    let (mut fm, mut gm, mut finite) = (0.0f64, 0.0f64, true);
                    for ((v, &gi), &xi) in out.iter_mut().zip(&gs[r.clone()]).zip(&xs[r]) {
                        *v = gi - xi;
                        finite &= v.is_finite();
                        fm = fm.max(v.abs());
                        gm = gm.max(gi.abs());
                    }
                    if finite {
                        (fm, gm)
                    } else {
                        (f64::NAN, f64::NAN)
                    }
                },
                |a, b| {
                    if a.0.is_nan() || b.0.is_nan() {
                        (f64::NAN, f64::NAN)
                    } else {
                        (a.0.max(b.0), a.1.max(b.1))
                    }
                },
            )
        };
        track.push(r);
        if track.diverged(r) || g_max > ResidualTrack::BLOW_UP * scale {
            return Err(Error::Diverged {
                method,
                iterations: it,
                residual: r,
                contraction: track.contraction(),
            });
        }
        if r <= params.tol {
            x.copy_from_slice(&g);
            return Ok(SolveReport {
                iterations: it,
                residual: r,
                contraction: track.contraction(),
                seconds: start.elapsed().as_secs_f64(),
            });
        }
        let rhs = if r > 10.0 * last {
            history.clear();
            Vec::new()
        } else if have_prev {
            history.push_and_project(params.memory, (&g, &g_prev), (&f, &f_prev))
        } else {
            Vec::new()
        };
        last = r;
        let beta = params.damping;
        let gamma = history.coefficients(&rhs);
        {
            let (gs, fs, h) = (&g, &f, &history);
            chunked(
                x,
                (),
                |o, out| {
                    let r = o..o + out.len();
                    let (gc, fc) = (&gs[r.clone()], &fs[r.clone()]);
                    match &gamma {
                        // x = g − (1 − β)f − Σ_c γ_c (ΔG_c − (1 − β)ΔF_c)
                        Some(gamma) => {
                            for ((v, a), b) in out.iter_mut().zip(gc).zip(fc) {
                                *v = a - (1.0 - beta) * b;
                            }
                            for (c, (dgc, dfc)) in gamma.iter().zip(h.dg.iter().zip(&h.df)) {
                                let (dgc, dfc) = (&dgc[r.clone()], &dfc[r.clone()]);
                                for ((v, a), b) in out.iter_mut().zip(dgc).zip(dfc) {
                                    *v -= c * (a - (1.0 - beta) * b);
                                }
                            }
                        }
                        None => {
                            for (v, b) in out.iter_mut().zip(fc) {
                                *v += beta * b;
                            }
                        }
                    }
                },
                |_, _| (),
            );
        }
        std::mem::swap(&mut g, &mut g_prev);
        std::mem::swap(&mut f, &mut f_prev);
        have_prev = true;
    }
    Err(Error::NotConverged {
        method,
        iterations: params.max_iter,
        residual: last,
        contraction: track.contraction(),
    })
}
