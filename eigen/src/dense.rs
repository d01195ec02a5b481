//! The pure-Rust dense symmetric eigensolver. For large matrices, the blocked tridiagonalization of
//! [`crate::tridiagonal`] (for eigenvalues alone of the largest, the two-stage one of [`crate::two_stage`]), then the divide and conquer of [`crate::divide_and_conquer`] on T — for eigenpairs
//! followed by the back-transformation by blocks of reflectors. For small ones faer's own self-adjoint
//! eigensolver (its tridiagonalization updates the trailing matrix column by column).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::buffer::zeroed_vec;
use crate::divide_and_conquer;
use crate::tridiagonal::{tridiagonalize, tridiagonalize_keeping_q, Tridiagonal};
use crate::two_stage::{
    default_band, tridiagonalize_two_stage, tridiagonalize_two_stage_keeping_q,
};
use crate::{
    checked_max_abs, faer_mut, faer_ref, select, EigenDecomposition, EigenRequest, EigenScalar,
    Error, Par, Result, SymmetricEigensolver,
};

/// The pure-Rust backend (faer's kernels, the crate's blocked tridiagonalization and divide and conquer).
/// Subsets are selected from the full decomposition (there is no range driver); use [`crate::LanczosEigen`]
/// for a few extreme pairs of a large matrix.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct FaerEigen {
    /// The threads it may use (default: the caller's rayon pool).
    pub par: Par,
    /// The tridiagonal reduction (default: chosen by size and request).
    pub reduction: Reduction,
}

impl FaerEigen {
    /// The solver with this parallelism.
    pub fn with_par(par: Par) -> Self {
        FaerEigen {
            par,
            reduction: Reduction::Auto,
        }
    }

    /// The same solver with this reduction.
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        FaerEigen { reduction, ..self }
    }
}

/// How [`FaerEigen`] brings A to tridiagonal form (docs/spectra.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Reduction {
    /// Eigenvalues alone through the two-stage reduction from n = 3000, the blocked one-stage reduction from
    /// n = 400 and faer's own solver below; eigenpairs through the one-stage reduction (its single
    /// back-transformation is faster than the two-stage path's two at every size measured, docs/benchmarks.md).
    #[default]
    Auto,
    /// The blocked one-stage reduction from n = 400 and faer's own solver below, for values and pairs.
    OneStage,
    /// The two-stage reduction (dense → band → tridiagonal) at every size, for values and pairs: eigenvectors
    /// through both back-transformations.
    TwoStage,
}

/// From this order on, eigenvalues and eigenpairs go through the blocked tridiagonalization and the crate's
/// divide and conquer on T (eigenpairs then through the blocked back-transformation). Values: equal to faer's own
/// solver at n = 300 and 400, 1.5× faster at n = 450 and 1000 (below, faer's is up to 1.5× faster: at n = 100,
/// 0.34 against 0.51 ms). Pairs: 1.3–1.4× faster at n = 400 (10–11 against 14 ms), 1.7× at n = 450; at n = 350
/// and below faer's is as fast or faster.
const BLOCKED_FROM: usize = 400;

/// From this order on, eigenvalues alone go through the two-stage reduction ([`crate::two_stage`]) with
/// [`default_band`] subdiagonals: on the two-core AVX2 machine of docs/benchmarks.md it took 1.03× the one-stage
/// reduction's time at n = 2500 and 0.80–0.91× at n = 3000 (1.16× at n = 2000, where the matrix fits in L3).
pub(crate) const TWO_STAGE_FROM: usize = 3000;

fn backend_error(e: impl std::fmt::Debug) -> Error {
    Error::Backend {
        backend: "faer",
        detail: format!("{e:?}"),
    }
}

impl<T: EigenScalar> SymmetricEigensolver<T> for FaerEigen {
    fn name(&self) -> &'static str {
        "faer"
    }

    fn solve(&self, a: ArrayView2<T>, request: &EigenRequest) -> Result<EigenDecomposition<T>> {
        let largest = checked_max_abs(a, crate::tolerance::SYMMETRY)?;
        let n = a.nrows();
        request.subset.index_range(n)?;
        if n == 0 {
            // faer's solver assumes n ≥ 1.
            let vectors = request.vectors.then(|| Array2::zeros((0, 0).f()));
            return select(Vec::new(), vectors, &request.subset, "faer");
        }
        let (values, vectors) = match range_scaling::<T>(largest) {
            None => self.all_pairs(a, request.vectors)?,
            Some(factor) => {
                let (to, back) = (T::from_f64(factor), T::from_f64(1.0 / factor));
                let (mut values, vectors) =
                    self.all_pairs(a.mapv(|v| v * to).view(), request.vectors)?;
                values.iter_mut().for_each(|v| *v *= back);
                (values, vectors)
            }
        };
        select(values, vectors, &request.subset, "faer")
    }
}

/// The power of two 2^k that brings max|a_ij| = `largest` into [√(s/ε), √(ε/s)] (s the type's smallest normal
/// value, ε its precision: about 1e-146 to 1e146 in f64, 3e-16 to 3e15 in f32), or `None` when it is inside
/// already. LAPACK's ?syevd scales at the same bounds: inside them no intermediate of the reduction or of the
/// tridiagonal solver overflows or underflows; a power of two makes the scaling and its inverse exact.
fn range_scaling<T: EigenScalar>(largest: f64) -> Option<f64> {
    let small = (T::MIN_POSITIVE / T::EPSILON).sqrt();
    let big = 1.0 / small;
    let k = if largest > 0.0 && largest < small {
        (small / largest).log2().ceil()
    } else if largest > big {
        (big / largest).log2().floor()
    } else {
        return None;
    };
    Some(2f64.powi(k as i32))
}

impl FaerEigen {
    /// All eigenvalues ascending and, when asked for, their eigenvectors (column-major n×n), of a matrix whose
    /// entries are in the range of [`range_scaling`].
    fn all_pairs<T: EigenScalar>(
        &self,
        a: ArrayView2<T>,
        vectors: bool,
    ) -> Result<(Vec<T>, Option<Array2<T>>)> {
        let n = a.nrows();
        // The lower triangle of the row-major input, read in place.
        let m = faer_ref(a);
        let two_stage = match self.reduction {
            Reduction::TwoStage => true,
            Reduction::OneStage => false,
            Reduction::Auto => !vectors && n >= TWO_STAGE_FROM,
        };
        if !vectors {
            let w = if two_stage {
                let t = tridiagonalize_two_stage(a, default_band::<T>(), self.par)?;
                divide_and_conquer::eigenvalues(&t, self.par)?
            } else if n >= BLOCKED_FROM {
                divide_and_conquer::eigenvalues(&tridiagonalize(a, self.par)?, self.par)?
            } else {
                let mut w = m
                    .self_adjoint_eigenvalues(faer::Side::Lower)
                    .map_err(backend_error)?;
                w.sort_by(|x, y| x.to_f64().total_cmp(&y.to_f64()));
                w
            };
            return Ok((w, None));
        }
        let (values, vectors) = if two_stage {
            let reduction = tridiagonalize_two_stage_keeping_q(a, default_band::<T>(), self.par)?;
            eigenpairs_of_reduction(&reduction.tridiagonal, self.par, |z| {
                reduction.apply_q(z, self.par)
            })?
        } else if n >= BLOCKED_FROM {
            let reduction = tridiagonalize_keeping_q(a, self.par)?;
            eigenpairs_of_reduction(&reduction.tridiagonal, self.par, |z| {
                reduction.apply_q(faer_mut(z), self.par)
            })?
        } else {
            let evd = m
                .self_adjoint_eigen(faer::Side::Lower)
                .map_err(backend_error)?;
            let (s, u) = (evd.S(), evd.U());
            let values: Vec<T> = (0..n).map(|i| s[i]).collect();
            (
                values,
                Array2::from_shape_fn((n, n).f(), |(i, j)| u[(i, j)]),
            )
        };
        Ok((values, Some(vectors)))
    }
}

/// All eigenpairs, ascending, eigenvectors as the columns of a column-major n×n matrix, from a reduction
/// A = QTQᵀ (one-stage or two-stage): T = ZΛZᵀ by divide and conquer (Cuppen; Gu & Eisenstat 1995), then the
/// eigenvectors QZ by `apply_q`. Each step is backward stable, so the pairs satisfy ‖AV − VΛ‖ = O(n·ε·‖A‖) and
/// ‖VᵀV − I‖ = O(n·ε) (Golub & Van Loan §8.3, §8.4).
fn eigenpairs_of_reduction<T: EigenScalar>(
    t: &Tridiagonal<T>,
    par: Par,
    apply_q: impl FnOnce(ArrayViewMut2<'_, T>) -> Result<()>,
) -> Result<(Vec<T>, Array2<T>)> {
    let n = t.diagonal.len();
    let mut values = vec![T::zero(); n];
    let mut vectors =
        Array2::from_shape_vec((n, n).f(), zeroed_vec::<T>(n * n)?).expect("length matches shape");
    divide_and_conquer::eigenpairs(t, &mut values, faer_mut(vectors.view_mut()), par)?;
    apply_q(vectors.view_mut())?;
    Ok((values, vectors))
}
