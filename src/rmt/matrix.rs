//! The equivalent matrix K̃(c₁, c₂, c₃, c₀) = c₁XXᵀ + c₂uuᵀ + c₃JTJᵀ/p + c₀Iₙ (math §4; X here is n×p with one
//! sample per row), dense, and its spectrum from its structure for n far beyond the dense limit.
//!
//! K̃ − c₀I = LMLᵀ with L = [X, u, J] (n × r, r = p + 1 + K) and M = diag(c₁I_p, c₂, c₃T/p), so K̃ has the
//! eigenvalue c₀ with multiplicity n − r and c₀ + μ_k for the r eigenvalues μ_k of LMLᵀ restricted to the range of
//! L. With the Gram matrix LᵀL = VΛVᵀ (r×r, from XᵀX, Xᵀu, XᵀJ, uᵀu, uᵀJ and JᵀJ = diag(n_a)) and
//! R = Λ^{1/2}Vᵀ, LMLᵀ and RMRᵀ have the same nonzero eigenvalues: the cost is one p×p Gram (n·p²) and one r×r
//! eigenproblem, the memory O(r² + np) — no n×n matrix.

use ndarray::{s, Array1, Array2, ArrayView2};

use super::equivalent::Coefficients;
use super::statistics::MixtureStatistics;
use crate::data::check_samples as check_data;
use crate::eigen::{EigenRequest, FaerEigen, SymmetricEigensolver};
use crate::linalg::{gram_lower, mirror_lower_to_upper};
use crate::{Error, Result};

fn check_sizes(x: ArrayView2<f64>, stats: &MixtureStatistics) -> Result<()> {
    check_data(x)?;
    if x.nrows() != stats.n() || x.ncols() != stats.p {
        return Err(Error::Shape {
            what: format!(
                "data is {}×{}, the mixture statistics are for n = {}, p = {}",
                x.nrows(),
                x.ncols(),
                stats.n(),
                stats.p
            ),
        });
    }
    Ok(())
}

/// K̃(c₁, c₂, c₃, c₀) as a dense n×n matrix.
pub fn equivalent_matrix(
    x: ArrayView2<f64>,
    stats: &MixtureStatistics,
    c: &Coefficients,
) -> Result<Array2<f64>> {
    check_sizes(x, stats)?;
    let n = x.nrows();
    let u = stats.u();
    let tp = &stats.big_t / stats.p as f64;
    let mut k = gram_lower(x)?;
    for i in 0..n {
        let (ui, ai) = (u[i], stats.labels[i]);
        let mut row = k.row_mut(i);
        for j in 0..=i {
            let v = c.c1 * row[j] + c.c2 * ui * u[j] + c.c3 * tp[[ai, stats.labels[j]]];
            row[j] = if i == j { v + c.c0 } else { v };
        }
    }
    mirror_lower_to_upper(&mut k);
    Ok(k)
}

/// The spectrum of K̃ without forming it: the r = p + 1 + K eigenvalues c₀ + μ_k and the bulk value c₀ with
/// multiplicity n − r.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct StructuredSpectrum {
    /// The order n of K̃.
    pub n: usize,
    /// c₀ + μ_k, ascending (r of them, or n if n < r).
    pub values: Vec<f64>,
    /// c₀, the remaining eigenvalue.
    pub bulk: f64,
    /// How often c₀ repeats beyond `values`.
    pub multiplicity: usize,
}

impl StructuredSpectrum {
    /// All n eigenvalues, ascending.
    pub fn all(&self) -> Vec<f64> {
        let mut v = self.values.clone();
        v.extend(std::iter::repeat_n(self.bulk, self.multiplicity));
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The eigenvalues of K̃(c₁, c₂, c₃, c₀) from its low-rank structure (see the module documentation).
pub fn equivalent_spectrum(
    x: ArrayView2<f64>,
    stats: &MixtureStatistics,
    c: &Coefficients,
) -> Result<StructuredSpectrum> {
    check_sizes(x, stats)?;
    let (n, p) = x.dim();
    let k = stats.classes();
    let r = p + 1 + k;
    let u = stats.u();
    let j = stats.one_hot();
    // LᵀL in blocks.
    let mut g = Array2::<f64>::zeros((r, r));
    {
        let xt = x.t();
        let mut gxx = gram_lower(xt.as_standard_layout().view())?;
        mirror_lower_to_upper(&mut gxx);
        g.slice_mut(s![..p, ..p]).assign(&gxx);
    }
    let xu: Array1<f64> = x.t().dot(&u);
    let xj: Array2<f64> = x.t().dot(&j);
    g.slice_mut(s![..p, p]).assign(&xu);
    g.slice_mut(s![p, ..p]).assign(&xu);
    g.slice_mut(s![..p, p + 1..]).assign(&xj);
    g.slice_mut(s![p + 1.., ..p]).assign(&xj.t());
    g[[p, p]] = u.dot(&u);
    let uj = j.t().dot(&u);
    g.slice_mut(s![p, p + 1..]).assign(&uj);
    g.slice_mut(s![p + 1.., p]).assign(&uj);
    for a in 0..k {
        g[[p + 1 + a, p + 1 + a]] = stats.sizes[a] as f64;
    }
    let evd = FaerEigen::default().solve(g.view(), &EigenRequest::pairs())?;
    let (lambda, v) = (evd.values, evd.vectors.expect("vectors requested"));
    // R = Λ^{1/2}Vᵀ (rows with λ ≤ 0 are rounding of a rank deficiency and dropped).
    let scale = lambda.iter().fold(0f64, |m, l| m.max(l.abs()));
    let keep: Vec<usize> = (0..r).filter(|&i| lambda[i] > 1e-13 * scale).collect();
    let mut rm = Array2::<f64>::zeros((keep.len(), r));
    for (row, &i) in keep.iter().enumerate() {
        let sq = lambda[i].sqrt();
        for col in 0..r {
            rm[[row, col]] = sq * v[[col, i]];
        }
    }
    // M = diag(c₁I_p, c₂, c₃T/p) applied on the right: RM.
    let mut rmm = rm.clone();
    rmm.slice_mut(s![.., ..p]).mapv_inplace(|z| z * c.c1);
    rmm.column_mut(p).mapv_inplace(|z| z * c.c2);
    let tp = &stats.big_t * (c.c3 / p as f64);
    let jt = rm.slice(s![.., p + 1..]).dot(&tp);
    rmm.slice_mut(s![.., p + 1..]).assign(&jt);
    let small = rmm.dot(&rm.t());
    let small = (&small + &small.t()) * 0.5;
    let mu = FaerEigen::default().eigenvalues(small.view())?;
    let mut values: Vec<f64> = mu.iter().map(|m| m + c.c0).collect();
    values.sort_by(f64::total_cmp);
    let multiplicity = n - values.len();
    Ok(StructuredSpectrum {
        n,
        values,
        bulk: c.c0,
        multiplicity,
    })
}
