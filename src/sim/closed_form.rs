//! The closed-form SIM, a documented variant of the published method (docs/sim.md §Closed form): with the
//! basis fixed, U·V comes from reduced-rank ridge regression and the readout from ridge regression, no
//! gradient steps.
//!
//! Reduced-rank ridge regression of targets T (n×k) on features Φ (n×d): B̂ = (ΦᵀΦ + λI)⁻¹ΦᵀT minimizes the
//! ridge objective J(B) = ‖T − ΦB‖²_F + λ‖B‖²_F. Over rank(B) ≤ r the minimum is B_r = B̂V_rV_rᵀ, V_r the top r
//! right singular vectors of M = [Φ; √λI]B̂, and J(B_r) = J(B̂) + Σ_{i>r} σᵢ(M)². Since
//! MᵀM = B̂ᵀ(ΦᵀΦ + λI)B̂ = B̂ᵀΦᵀT, the k×k eigenproblem of B̂ᵀΦᵀT gives σᵢ² and V_r without forming M. With
//! r ≥ rank(T) the tail is empty and B_r = B̂.

use faer::linalg::solvers::Solve;
use faer::Side;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::model::Sim;
use super::train::checked_labels;
use crate::eigen::{EigenRequest, EigenScalar, FaerEigen, SymmetricEigensolver};
use crate::linalg::{faer_ref, matmul_into};
use crate::{Error, Result};

/// A reduced-rank ridge fit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReducedRankRidge {
    /// B̂, the full-rank ridge solution (d×k).
    pub ridge: Array2<f64>,
    /// B_r = B̂V_rV_rᵀ (d×k).
    pub coefficients: Array2<f64>,
    /// V_r (k×r'), r' = min(r, k) columns, the leading right singular vectors of M.
    pub directions: Array2<f64>,
    /// σᵢ(M), descending (k values).
    pub singular_values: Vec<f64>,
    /// J(B̂).
    pub ridge_objective: f64,
    /// J(B_r) = J(B̂) + Σ_{i>r} σᵢ².
    pub objective: f64,
}

/// J(B) = ‖T − ΦB‖²_F + λ‖B‖²_F.
pub fn ridge_objective(
    phi: ArrayView2<f64>,
    targets: ArrayView2<f64>,
    b: ArrayView2<f64>,
    lambda: f64,
) -> f64 {
    let mut r = targets.to_owned();
    matmul_into(r.view_mut(), phi, b, false);
    let fit: f64 = r
        .iter()
        .zip(targets.iter())
        .map(|(p, t)| (t - p) * (t - p))
        .sum();
    fit + lambda * b.iter().map(|v| v * v).sum::<f64>()
}

/// B̂ = (ΦᵀΦ + λI)⁻¹ΦᵀT and ΦᵀT, with the checks of [`reduced_rank_ridge`].
pub fn ridge(
    phi: ArrayView2<f64>,
    targets: ArrayView2<f64>,
    lambda: f64,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let (n, d) = phi.dim();
    let k = targets.ncols();
    if targets.nrows() != n {
        return Err(Error::Shape {
            what: format!("{n} feature rows and {} target rows", targets.nrows()),
        });
    }
    if !(lambda >= 0.0 && lambda.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "lambda",
            value: lambda,
            requirement: "the ridge penalty must be finite and ≥ 0",
        });
    }
    crate::data::check_samples(phi)?;
    crate::data::check_samples(targets)?;
    let mut gram = Array2::<f64>::zeros((d, d));
    matmul_into(gram.view_mut(), phi.t(), phi, false);
    for i in 0..d {
        gram[[i, i]] += lambda;
    }
    let mut rhs = Array2::<f64>::zeros((d, k));
    matmul_into(rhs.view_mut(), phi.t(), targets, false);
    let llt = faer_ref(gram.view())
        .llt(Side::Lower)
        .map_err(|_| Error::Undefined {
            quantity: "the ridge solution",
            activation: "(features)".into(),
            why: "ΦᵀΦ + λI is singular: the features are linearly dependent; use λ > 0",
        })?;
    let sol = llt.solve(faer_ref(rhs.view()));
    Ok((Array2::from_shape_fn((d, k), |(i, j)| sol[(i, j)]), rhs))
}

/// The reduced-rank ridge regression of `targets` (n×k) on `phi` (n×d) with penalty λ = `lambda` ≥ 0 and rank
/// at most `rank` ≥ 1. λ = 0 needs Φ of full column rank.
pub fn reduced_rank_ridge(
    phi: ArrayView2<f64>,
    targets: ArrayView2<f64>,
    lambda: f64,
    rank: usize,
) -> Result<ReducedRankRidge> {
    if rank == 0 {
        return Err(Error::InvalidParameter {
            name: "rank",
            value: 0.0,
            requirement: "must be at least 1",
        });
    }
    let (ridge, rhs) = ridge(phi, targets, lambda)?;
    let (d, k) = ridge.dim();
    // MᵀM = B̂ᵀΦᵀT (k×k, symmetric up to rounding).
    let mut mtm = Array2::<f64>::zeros((k, k));
    matmul_into(mtm.view_mut(), ridge.t(), rhs.view(), false);
    let sym = (&mtm + &mtm.t()) * 0.5;
    let eig = FaerEigen::default().solve(sym.view(), &EigenRequest::pairs())?;
    let vectors = eig.vectors.expect("pairs requested");
    // Descending order.
    let order: Vec<usize> = (0..k).rev().collect();
    let singular_values: Vec<f64> = order
        .iter()
        .map(|&i| eig.values[i].max(0.0).sqrt())
        .collect();
    let kept = rank.min(k);
    let directions = Array2::from_shape_fn((k, kept), |(i, j)| vectors[[i, order[j]]]);
    let mut projected = Array2::<f64>::zeros((d, kept));
    matmul_into(projected.view_mut(), ridge.view(), directions.view(), false);
    let mut coefficients = Array2::<f64>::zeros((d, k));
    matmul_into(
        coefficients.view_mut(),
        projected.view(),
        directions.t(),
        false,
    );
    let ridge_objective = ridge_objective(phi, targets, ridge.view(), lambda);
    let tail: f64 = singular_values[kept..].iter().map(|s| s * s).sum();
    Ok(ReducedRankRidge {
        ridge,
        coefficients,
        directions,
        singular_values,
        ridge_objective,
        objective: ridge_objective + tail,
    })
}

/// A SIM fitted in closed form on a fixed basis: v = V(φ(x) − μ) with V = (B̂V_r)ᵀ (r×d_t) from reduced-rank
/// ridge regression of the one-hot labels on the centred tier features, then a ridge readout
/// ŷ = W·v + c (ψ_inv is the identity in this variant, so U is absorbed into the readout).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClosedFormSim {
    /// μ, the mean tier feature of the training data.
    pub feature_mean: Array1<f64>,
    /// V (r×d_t).
    pub v: Array2<f64>,
    /// W (k×r).
    pub readout: Array2<f64>,
    /// c (k).
    pub readout_bias: Array1<f64>,
    /// The reduced-rank fit behind V.
    pub fit: ReducedRankRidge,
}

impl ClosedFormSim {
    /// Fits V and the readout on (x, labels) with the tier map of `sim` (its basis and Fourier layer as drawn),
    /// ridge penalty λ = `lambda` for both, and the rank of `sim`'s parameters.
    pub fn fit<T: EigenScalar>(
        sim: &Sim<T>,
        x: ArrayView2<T>,
        labels: ArrayView1<i64>,
        lambda: f64,
    ) -> Result<Self> {
        let classes = sim.params().outputs;
        let labels = checked_labels(labels, classes)?;
        if labels.len() != x.nrows() {
            return Err(Error::Shape {
                what: format!("{} samples and {} labels", x.nrows(), labels.len()),
            });
        }
        let phi = sim.tier_features(x)?.mapv(|v| v.to_f64());
        let feature_mean = phi.mean_axis(Axis(0)).unwrap_or_default();
        let centred = &phi - &feature_mean;
        let mut targets = Array2::<f64>::zeros((labels.len(), classes));
        for (i, &y) in labels.iter().enumerate() {
            targets[[i, y]] = 1.0;
        }
        let target_mean = targets.mean_axis(Axis(0)).unwrap_or_default();
        let targets_c = &targets - &target_mean;
        let fit = reduced_rank_ridge(
            centred.view(),
            targets_c.view(),
            lambda,
            sim.params().rank(),
        )?;
        let mut vt = Array2::<f64>::zeros((phi.ncols(), fit.directions.ncols()));
        matmul_into(
            vt.view_mut(),
            fit.ridge.view(),
            fit.directions.view(),
            false,
        );
        let v = vt.t().to_owned();
        let mut coords = Array2::<f64>::zeros((phi.nrows(), v.nrows()));
        matmul_into(coords.view_mut(), centred.view(), vt.view(), false);
        let readout = ridge(coords.view(), targets_c.view(), lambda)?
            .0
            .t()
            .to_owned();
        Ok(ClosedFormSim {
            feature_mean,
            v,
            readout,
            readout_bias: target_mean,
            fit,
        })
    }

    /// ŷ for inputs x, with the same tier map as in [`ClosedFormSim::fit`].
    pub fn predict<T: EigenScalar>(&self, sim: &Sim<T>, x: ArrayView2<T>) -> Result<Array2<f64>> {
        let phi = sim.tier_features(x)?.mapv(|v| v.to_f64()) - &self.feature_mean;
        let mut coords = Array2::<f64>::zeros((phi.nrows(), self.v.nrows()));
        matmul_into(coords.view_mut(), phi.view(), self.v.t(), false);
        let mut y = Array2::<f64>::zeros((phi.nrows(), self.readout.nrows()));
        matmul_into(y.view_mut(), coords.view(), self.readout.t(), false);
        y += &self.readout_bias;
        Ok(y)
    }

    /// The rank actually used, min(r, k).
    pub fn rank(&self) -> usize {
        self.v.nrows()
    }
}
