//! The k largest or smallest eigenpairs of a symmetric operator known only through block products Y = AX.
//!
//! Block Lanczos with full reorthogonalization and thick (Krylov–Schur) restarts. With V = [V₀ … V_{s−1}]
//! orthonormal (blocks of b columns), each step computes W = AV_{s−1}, orthogonalizes it twice against all of
//! V (the coefficients are the new block column of H = VᵀAV), and factors W = V_sR_s. Then
//! AV = VH + V_sR_sE_sᵀ, so a Ritz pair (θ, y = Vz) of H has residual ‖Ay − θy‖ = ‖R_sz_last‖, z_last the last b
//! entries of z. When the basis is full, the best Ritz vectors are kept with the residual block
//! (H becomes diag(θ) bordered by R_sz_last) and the iteration goes on; it stops when every wanted pair has
//! ‖Ay − θy‖ ≤ tol·max|θ|. A block of b columns costs far less than b single products for a dense matrix (one
//! pass over A instead of b), which is where the block form pays.

use std::time::Instant;

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub use super::operator::{FnOperator, SymmetricOperator};
use super::{
    check_symmetric, faer_ref, matmul_into, select, EigenDecomposition, EigenRequest, EigenScalar,
    FaerEigen, Subset, SymmetricEigensolver,
};
use crate::{Error, Result};

/// Which end of the spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extreme {
    /// The largest eigenvalues.
    Largest,
    /// The smallest eigenvalues.
    Smallest,
}

/// Checked settings of [`lanczos`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LanczosParams {
    k: usize,
    extreme: Extreme,
    block: usize,
    max_basis: Option<usize>,
    tol: Option<f64>,
    max_restarts: usize,
    seed: u64,
}

impl LanczosParams {
    /// The k ≥ 1 extreme pairs. Defaults: blocks of 8 columns, a basis of max(4k, 60) + 3·block vectors,
    /// tolerance √ε/100 relative to max|θ| (1.5e-10 in f64, 3.5e-6 in f32), 1000 restarts, seed 0.
    pub fn new(k: usize, extreme: Extreme) -> Result<Self> {
        if k == 0 {
            return Err(Error::InvalidParameter {
                name: "k",
                value: 0.0,
                requirement: "ask for at least one eigenpair",
            });
        }
        Ok(LanczosParams {
            k,
            extreme,
            block: 8,
            max_basis: None,
            tol: None,
            max_restarts: 1000,
            seed: 0,
        })
    }
    /// Columns per block product (≥ 1).
    pub fn with_block(mut self, block: usize) -> Result<Self> {
        if block == 0 {
            return Err(Error::InvalidParameter {
                name: "block",
                value: 0.0,
                requirement: "at least one column per block",
            });
        }
        self.block = block;
        Ok(self)
    }
    /// Largest basis before a restart; at least k + 2·block.
    pub fn with_max_basis(mut self, m: usize) -> Result<Self> {
        if m < self.k + 2 * self.block {
            return Err(Error::InvalidParameter {
                name: "max_basis",
                value: m as f64,
                requirement: "must hold the k wanted vectors and two blocks (≥ k + 2·block)",
            });
        }
        self.max_basis = Some(m);
        Ok(self)
    }
    /// Stop when ‖Ay − θy‖ ≤ tol·max|θ| for every wanted pair.
    pub fn with_tol(mut self, tol: f64) -> Result<Self> {
        self.tol = Some(crate::error::check_positive("tol", tol)?);
        Ok(self)
    }
    /// Restarts allowed before [`Error::NotConverged`].
    pub fn with_max_restarts(mut self, r: usize) -> Self {
        self.max_restarts = r;
        self
    }
    /// Seed of the random starting block.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The number of pairs asked for.
    pub fn k(&self) -> usize {
        self.k
    }
    fn basis(&self) -> usize {
        self.max_basis
            .unwrap_or((4 * self.k).max(60) + 3 * self.block)
    }
}

/// How a Lanczos run went.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct LanczosReport {
    /// Columns multiplied by A (a block of b columns counts b).
    pub matvecs: usize,
    /// Block products.
    pub block_products: usize,
    /// Thick restarts.
    pub restarts: usize,
    /// Largest ‖Ay − θy‖/max|θ| over the returned pairs (from the recurrence).
    pub max_relative_residual: f64,
    /// Wall time.
    pub seconds: f64,
}

/// An n×b block of independent standard normal columns.
pub(crate) fn gaussian_block<T: EigenScalar>(
    n: usize,
    b: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<T> {
    Array2::from_shape_simple_fn((n, b).f(), || {
        let z: f64 = StandardNormal.sample(rng);
        T::from_f64(z)
    })
}

/// Orthogonalize the columns of `w` against `v` twice (the coefficients are added to `coef`, (cols of v)×b).
fn orthogonalize<T: EigenScalar>(
    v: ArrayView2<T>,
    mut w: ArrayViewMut2<T>,
    mut coef: ArrayViewMut2<T>,
) {
    let (m, b) = (v.ncols(), w.ncols());
    if m == 0 {
        return;
    }
    let mut c = Array2::<T>::zeros((m, b).f());
    for _ in 0..2 {
        matmul_into(c.view_mut(), v.t(), w.view(), false);
        faer::linalg::matmul::matmul(
            super::faer_mut(w.view_mut()),
            faer::Accum::Add,
            faer_ref(v),
            faer_ref(c.view()),
            -T::one(),
            faer::Par::rayon(0),
        );
        coef.zip_mut_with(&c, |a, &x| *a += x);
    }
}

/// w = QR in place (w ← Q, R returned, b×b upper triangular) with Q orthonormal and orthogonal to `v`, by
/// Gram–Schmidt within the block, twice per column. A column that vanishes once projected (the block has
/// reached an invariant subspace) gets R_jj = 0 and a fresh random direction orthogonal to everything before
/// it, so that AV = VH + QR stays exact and the iteration can go on.
fn orthonormalize<T: EigenScalar>(
    v: ArrayView2<T>,
    mut w: ArrayViewMut2<T>,
    scale: f64,
    rng: &mut ChaCha8Rng,
) -> Array2<T> {
    let (n, b) = w.dim();
    let mut r = Array2::<T>::zeros((b, b));
    let tiny = 100.0 * T::EPSILON * scale.max(f64::MIN_POSITIVE);
    let dot = |x: ndarray::ArrayView1<T>, y: ndarray::ArrayView1<T>| -> f64 {
        x.iter()
            .zip(y.iter())
            .map(|(a, b)| a.to_f64() * b.to_f64())
            .sum()
    };
    for j in 0..b {
        let mut norm = 0.0;
        for _ in 0..2 {
            for i in 0..j {
                let c = dot(w.column(i), w.column(j));
                r[[i, j]] += T::from_f64(c);
                let ci = T::from_f64(c);
                let (qi, mut wj) = (w.column(i).to_owned(), w.column_mut(j));
                wj.zip_mut_with(&qi, |x, &q| *x -= ci * q);
            }
            norm = dot(w.column(j), w.column(j)).sqrt();
        }
        if norm > tiny {
            r[[j, j]] = T::from_f64(norm);
            let inv = T::from_f64(1.0 / norm);
            w.column_mut(j).mapv_inplace(|x| x * inv);
            continue;
        }
        // Dependent column: a random direction orthogonal to v and to the columns before it.
        loop {
            let mut fresh = gaussian_block::<T>(n, 1, rng);
            let mut ignore = Array2::<T>::zeros((v.ncols(), 1).f());
            orthogonalize(v, fresh.view_mut(), ignore.view_mut());
            for _ in 0..2 {
                for i in 0..j {
                    let c = T::from_f64(dot(w.column(i), fresh.column(0)));
                    let qi = w.column(i).to_owned();
                    fresh.column_mut(0).zip_mut_with(&qi, |x, &q| *x -= c * q);
                }
            }
            let fnorm = dot(fresh.column(0), fresh.column(0)).sqrt();
            if fnorm > 1e-3 {
                let inv = T::from_f64(1.0 / fnorm);
                w.column_mut(j).assign(&fresh.column(0).mapv(|x| x * inv));
                break;
            }
        }
        r[[j, j]] = T::zero();
    }
    r
}

/// The k extreme eigenpairs of `op` (ascending), with how the run went.
pub fn lanczos<T: EigenScalar, Op: SymmetricOperator<T> + ?Sized>(
    op: &Op,
    params: &LanczosParams,
) -> Result<(EigenDecomposition<T>, LanczosReport)> {
    let start = Instant::now();
    let n = op.dim();
    let k = params.k;
    if k > n {
        return Err(Error::Shape {
            what: format!("asked for {k} eigenpairs of an operator of dimension {n}"),
        });
    }
    let b = params.block.min(n);
    let m = params.basis().max(k + 2 * b);
    let tol = params
        .tol
        .unwrap_or_else(|| crate::tolerance::lanczos_relative(T::EPSILON));
    let mut report = LanczosReport {
        matvecs: 0,
        block_products: 0,
        restarts: 0,
        max_relative_residual: 0.0,
        seconds: 0.0,
    };
    let subset = match params.extreme {
        Extreme::Largest => Subset::Largest(k),
        Extreme::Smallest => Subset::Smallest(k),
    };
    if n <= m + b {
        // The basis would span everything: apply A to the identity and solve densely.
        let mut a = Array2::<T>::zeros((n, n).f());
        let eye = Array2::<T>::from_shape_fn(
            (n, n).f(),
            |(i, j)| {
                if i == j {
                    T::one()
                } else {
                    T::zero()
                }
            },
        );
        op.apply(eye.view(), a.view_mut());
        report.matvecs = n;
        report.block_products = 1;
        let sym = Array2::from_shape_fn((n, n), |(i, j)| {
            T::from_f64(0.5 * (a[[i, j]].to_f64() + a[[j, i]].to_f64()))
        });
        let d =
            FaerEigen::default().solve(sym.view(), &EigenRequest::subset(subset).with_vectors())?;
        report.seconds = start.elapsed().as_secs_f64();
        return Ok((
            EigenDecomposition {
                driver: "lanczos",
                ..d
            },
            report,
        ));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut v = Array2::<T>::zeros((n, m + b).f());
    let mut h = Array2::<f64>::zeros((m + b, m + b));
    {
        let mut first = gaussian_block::<T>(n, b, &mut rng);
        orthonormalize(v.slice(s![.., 0..0]), first.view_mut(), 1.0, &mut rng);
        v.slice_mut(s![.., 0..b]).assign(&first);
    }
    let mut j = 0;
    let mut scale = 0f64;
    loop {
        while j + b <= m {
            let mut w = Array2::<T>::zeros((n, b).f());
            op.apply(v.slice(s![.., j..j + b]), w.view_mut());
            report.matvecs += b;
            report.block_products += 1;
            let mut c = Array2::<T>::zeros((j + b, b).f());
            orthogonalize(v.slice(s![.., 0..j + b]), w.view_mut(), c.view_mut());
            for (r, row) in c.outer_iter().enumerate() {
                for (q, x) in row.iter().enumerate() {
                    h[[r, j + q]] = x.to_f64();
                    h[[j + q, r]] = x.to_f64();
                }
            }
            for q in 0..b {
                scale = scale.max(h[[j + q, j + q]].abs());
            }
            let r = orthonormalize(v.slice(s![.., 0..j + b]), w.view_mut(), scale, &mut rng);
            v.slice_mut(s![.., j + b..j + 2 * b]).assign(&w);
            for p in 0..b {
                for q in 0..b {
                    h[[j + b + p, j + q]] = r[[p, q]].to_f64();
                    h[[j + q, j + b + p]] = r[[p, q]].to_f64();
                }
            }
            j += b;
        }

        // Ritz pairs of the projected matrix.
        let hm = faer::Mat::<f64>::from_fn(j, j, |r, c| 0.5 * (h[[r, c]] + h[[c, r]]));
        let evd = hm
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| Error::Backend {
                backend: "faer",
                detail: format!("{e:?}"),
            })?;
        let theta: Vec<f64> = (0..j).map(|i| evd.S()[i]).collect();
        let z = evd.U();
        let order: Vec<usize> = match params.extreme {
            Extreme::Largest => (0..j).rev().collect(),
            Extreme::Smallest => (0..j).collect(),
        };
        scale = theta.iter().fold(scale, |a, t| a.max(t.abs()));
        let residual = |i: usize| -> f64 {
            (0..b)
                .map(|p| {
                    let s: f64 = (0..b)
                        .map(|q| h[[j + p, j - b + q]] * z[(j - b + q, i)])
                        .sum();
                    s * s
                })
                .sum::<f64>()
                .sqrt()
        };
        let worst = order[..k].iter().map(|&i| residual(i)).fold(0.0, f64::max);
        let converged = worst <= tol * scale.max(f64::MIN_POSITIVE);
        if converged || report.restarts >= params.max_restarts {
            if !converged {
                return Err(Error::NotConverged {
                    method: "block Lanczos (Krylov–Schur)",
                    iterations: report.block_products,
                    residual: worst / scale,
                });
            }
            let mut wanted: Vec<usize> = order[..k].to_vec();
            wanted.sort_by(|&x, &y| theta[x].total_cmp(&theta[y]));
            let zs =
                Array2::<T>::from_shape_fn((j, k).f(), |(r, c)| T::from_f64(z[(r, wanted[c])]));
            let mut y = Array2::<T>::zeros((n, k).f());
            matmul_into(y.view_mut(), v.slice(s![.., 0..j]), zs.view(), false);
            report.max_relative_residual = worst / scale.max(f64::MIN_POSITIVE);
            report.seconds = start.elapsed().as_secs_f64();
            return Ok((
                EigenDecomposition {
                    values: wanted.iter().map(|&i| T::from_f64(theta[i])).collect(),
                    vectors: Some(y),
                    driver: "lanczos",
                },
                report,
            ));
        }

        // Thick restart: keep the p best Ritz vectors and the residual block.
        let p = (k + ((j - k) / 2).max(b)).min(j - b);
        let kept: Vec<usize> = order[..p].to_vec();
        let zs = Array2::<T>::from_shape_fn((j, p).f(), |(r, c)| T::from_f64(z[(r, kept[c])]));
        let mut ritz = Array2::<T>::zeros((n, p).f());
        matmul_into(ritz.view_mut(), v.slice(s![.., 0..j]), zs.view(), false);
        let coupling: Vec<Vec<f64>> = (0..b)
            .map(|q| {
                kept.iter()
                    .map(|&i| {
                        (0..b)
                            .map(|c| h[[j + q, j - b + c]] * z[(j - b + c, i)])
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let residual_block = v.slice(s![.., j..j + b]).to_owned();
        v.slice_mut(s![.., 0..p]).assign(&ritz);
        v.slice_mut(s![.., p..p + b]).assign(&residual_block);
        h.fill(0.0);
        for (c, &i) in kept.iter().enumerate() {
            h[[c, c]] = theta[i];
        }
        for (q, row) in coupling.iter().enumerate() {
            for (c, &x) in row.iter().enumerate() {
                h[[p + q, c]] = x;
                h[[c, p + q]] = x;
            }
        }
        j = p;
        report.restarts += 1;
    }
}

/// [`lanczos`] as a dense [`SymmetricEigensolver`] for the k largest or smallest pairs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LanczosEigen {
    /// Columns per block product.
    pub block: usize,
    /// Seed of the random starting block.
    pub seed: u64,
}

impl Default for LanczosEigen {
    fn default() -> Self {
        LanczosEigen { block: 8, seed: 0 }
    }
}

impl<T: EigenScalar> SymmetricEigensolver<T> for LanczosEigen {
    fn name(&self) -> &'static str {
        "lanczos"
    }

    /// Only [`Subset::Largest`] and [`Subset::Smallest`].
    fn supports(&self, request: &EigenRequest) -> bool {
        matches!(request.subset, Subset::Largest(_) | Subset::Smallest(_))
    }

    /// Only [`Subset::Largest`] and [`Subset::Smallest`]; eigenvectors always come along.
    fn solve(&self, a: ArrayView2<T>, request: &EigenRequest) -> Result<EigenDecomposition<T>> {
        check_symmetric(a, crate::tolerance::SYMMETRY)?;
        let (k, extreme) = match request.subset {
            Subset::Largest(k) => (k, Extreme::Largest),
            Subset::Smallest(k) => (k, Extreme::Smallest),
            _ => {
                return Err(Error::Unsupported {
                    backend: "lanczos",
                    request: "the whole spectrum or a range of it",
                    instead: "it computes the k largest or smallest pairs (--top k); use faer or lapack for the rest",
                })
            }
        };
        request.subset.index_range(a.nrows())?;
        if k == 0 {
            let none = Array2::zeros((a.nrows(), 0).f());
            return select(Vec::new(), Some(none), &request.subset, "lanczos");
        }
        let params = LanczosParams::new(k, extreme)?
            .with_block(self.block)?
            .with_seed(self.seed);
        Ok(lanczos(&a, &params)?.0)
    }
}
