//! Stochastic Lanczos quadrature (SLQ): the spectral measure μ = (1/n)Σ_i δ_{λ_i} of a symmetric operator, and
//! trace functions tr f(A) = n∫f dμ (log-det, trace, moments), from block products with random probes.
//!
//! For a unit probe q, m steps of Lanczos give a tridiagonal T_m = SΘSᵀ and the Gauss rule
//! qᵀf(A)q ≈ Σ_k S_{1k}²f(θ_k), exact for polynomials of degree < 2m. With Rademacher probes z/‖z‖ the rules
//! average to an unbiased estimate of μ's moments. Probes run as independent Lanczos recurrences in lockstep,
//! so that each step is one block product over all of them; each recurrence is reorthogonalized fully against
//! its own basis.
//!
//! Accuracy (Wasserstein-1 distance to μ, the measures supported on [λ_min, λ_max] of width w): one Gauss rule
//! with m nodes is within πw/(4m) of its probe's measure q ᵀ δ(A) q (Jackson's bound for 1-Lipschitz functions
//! and polynomial degree 2m − 1, once for the measure and once for the rule), and the average over P probes
//! deviates from μ by a sampling term of order w/√(nP).

use std::time::Instant;

use ndarray::{s, Array2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::operator::SymmetricOperator;
use super::{faer_ref, matmul_into, EigenScalar};
use crate::{Error, Result};

/// Checked settings of [`slq`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlqParams {
    probes: usize,
    steps: usize,
    block: usize,
    seed: u64,
}

impl SlqParams {
    /// `probes` ≥ 1 random vectors, `steps` ≥ 1 Lanczos steps each. Defaults: all probes in one block, seed 0.
    pub fn new(probes: usize, steps: usize) -> Result<Self> {
        if probes == 0 || steps == 0 {
            return Err(Error::InvalidParameter {
                name: if probes == 0 { "probes" } else { "steps" },
                value: 0.0,
                requirement: "at least one",
            });
        }
        Ok(SlqParams {
            probes,
            steps,
            block: probes,
            seed: 0,
        })
    }
    /// Probes per block product (memory: the block's bases take n·steps·block numbers).
    pub fn with_block(mut self, block: usize) -> Result<Self> {
        if block == 0 {
            return Err(Error::InvalidParameter {
                name: "block",
                value: 0.0,
                requirement: "at least one probe per block",
            });
        }
        self.block = block;
        Ok(self)
    }
    /// Seed of the random probes.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// A quadrature for the spectral measure: nodes and weights (summing to 1) pooled over all probes.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SpectralQuadrature {
    /// Dimension of the operator.
    pub n: usize,
    /// The Ritz values θ_k of all probes.
    pub nodes: Vec<f64>,
    /// Their weights w_k (the squared first components of the Ritz vectors, over the probes), summing to 1.
    pub weights: Vec<f64>,
    /// Random probes.
    pub probes: usize,
    /// Lanczos steps per probe.
    pub steps: usize,
    /// Block products taken.
    pub block_products: usize,
    /// Wall time.
    pub seconds: f64,
}

impl SpectralQuadrature {
    /// tr f(A) ≈ n·Σ_k w_k f(θ_k); `trace(f64::ln)` is the log-determinant of a positive definite A.
    pub fn trace(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.n as f64
            * self
                .nodes
                .iter()
                .zip(&self.weights)
                .map(|(&t, &w)| w * f(t))
                .sum::<f64>()
    }

    /// The measure as (value, weight) pairs sorted by value.
    pub fn sorted(&self) -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = self
            .nodes
            .iter()
            .copied()
            .zip(self.weights.iter().copied())
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }
}

/// Rademacher probes, normalized to unit length.
fn probes<T: EigenScalar>(n: usize, count: usize, rng: &mut ChaCha8Rng) -> Array2<T> {
    let v = T::from_f64(1.0 / (n as f64).sqrt());
    Array2::from_shape_simple_fn((n, count).f(), || if rng.random::<bool>() { v } else { -v })
}

/// The spectral measure of `op` by stochastic Lanczos quadrature.
pub fn slq<T: EigenScalar, Op: SymmetricOperator<T> + ?Sized>(
    op: &Op,
    params: &SlqParams,
) -> Result<SpectralQuadrature> {
    let start = Instant::now();
    let n = op.dim();
    if n == 0 {
        return Err(Error::Shape {
            what: "the operator has dimension 0".into(),
        });
    }
    let steps = params.steps.min(n);
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut nodes = Vec::new();
    let mut weights = Vec::new();
    let mut block_products = 0;
    let mut done = 0;
    while done < params.probes {
        let pb = params.block.min(params.probes - done);
        // Bases: probe c's k-th vector is column c·steps + k.
        let mut basis = Array2::<T>::zeros((n, pb * steps).f());
        let first = probes::<T>(n, pb, &mut rng);
        for c in 0..pb {
            basis.column_mut(c * steps).assign(&first.column(c));
        }
        let mut alpha = vec![vec![0f64; steps]; pb];
        let mut beta = vec![vec![0f64; steps]; pb];
        let mut length = vec![steps; pb];
        let mut current = first;
        let mut w = Array2::<T>::zeros((n, pb).f());
        for t in 0..steps {
            let active: Vec<usize> = (0..pb).filter(|&c| length[c] > t).collect();
            if active.is_empty() {
                break;
            }
            op.apply(current.view(), w.view_mut());
            block_products += 1;
            for &c in &active {
                let q = basis.slice(s![.., c * steps..c * steps + t + 1]);
                let mut wc = w.slice_mut(s![.., c..c + 1]);
                // Full reorthogonalization against this probe's basis, twice; α is the coefficient of q_t.
                let mut coef = Array2::<T>::zeros((t + 1, 1).f());
                for pass in 0..2 {
                    matmul_into(coef.view_mut(), q.t(), wc.view(), false);
                    if pass == 0 {
                        alpha[c][t] = coef[[t, 0]].to_f64();
                    } else {
                        alpha[c][t] += coef[[t, 0]].to_f64();
                    }
                    faer::linalg::matmul::matmul(
                        super::faer_mut(wc.view_mut()),
                        faer::Accum::Add,
                        faer_ref(q),
                        faer_ref(coef.view()),
                        -T::one(),
                        faer::Par::Seq,
                    );
                }
                let norm = wc.iter().map(|x| x.to_f64().powi(2)).sum::<f64>().sqrt();
                let scale = alpha[c][..=t]
                    .iter()
                    .chain(&beta[c][..t])
                    .fold(0f64, |m, x| m.max(x.abs()));
                if t + 1 == steps || norm <= 100.0 * T::EPSILON * scale {
                    // The Krylov space is invariant (or the budget is spent): the rule has t + 1 nodes.
                    length[c] = t + 1;
                    continue;
                }
                beta[c][t] = norm;
                let inv = T::from_f64(1.0 / norm);
                let mut next = basis.column_mut(c * steps + t + 1);
                for (dst, &src) in next.iter_mut().zip(wc.iter()) {
                    *dst = src * inv;
                }
            }
            let mut next = Array2::<T>::zeros((n, pb).f());
            for (c, &len) in length.iter().enumerate() {
                if len > t + 1 {
                    next.column_mut(c).assign(&basis.column(c * steps + t + 1));
                }
            }
            current = next;
        }
        for c in 0..pb {
            let m = length[c];
            let tri = faer::Mat::<f64>::from_fn(m, m, |i, j| {
                if i == j {
                    alpha[c][i]
                } else if i == j + 1 {
                    beta[c][j]
                } else if j == i + 1 {
                    beta[c][i]
                } else {
                    0.0
                }
            });
            let evd = tri
                .self_adjoint_eigen(faer::Side::Lower)
                .map_err(|e| Error::Backend {
                    backend: "faer",
                    detail: format!("{e:?}"),
                })?;
            for k in 0..m {
                nodes.push(evd.S()[k]);
                weights.push(evd.U()[(0, k)].powi(2) / params.probes as f64);
            }
        }
        done += pb;
    }
    Ok(SpectralQuadrature {
        n,
        nodes,
        weights,
        probes: params.probes,
        steps,
        block_products,
        seconds: start.elapsed().as_secs_f64(),
    })
}
