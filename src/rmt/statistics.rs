//! The objects of the high-dimensional equivalents (math §6) for data x_i = (μ_a + z_i)/√p of K classes:
//!
//! | object | definition |
//! |---|---|
//! | C° | Σ_a (n_a/n)C_a, and C_a° = C_a − C° |
//! | τ₀² | tr C°/p |
//! | J | the n×K one-hot class matrix |
//! | ψ_i | ‖z_i‖²/p − tr C_a/p (sample i of class a) |
//! | t_a | tr C_a°/√p |
//! | T_ab | tr(C_a°C_b°)/p (a matrix product, not an elementwise one) |
//! | u | Jt/√p + ψ |
//!
//! Everything reduces to tr C_a and tr(C_aC_b). From the population parameters they are computed from the
//! covariances' structure (scaled identity, diagonal, full) without forming p×p products. From labelled data
//! they are estimated without bias and without p×p matrices: tr C_a by the sample covariance's trace, tr(C_aC_b)
//! for a ≠ b by tr(Ĉ_aĈ_b) (independent classes), and tr(C_a²) by the U-statistic
//! S₂/P₂ − 2S₃/P₃ + S₄/P₄ over distinct indices of the class Gram matrix G_ij = y_iᵀy_j (y = √p·x), with
//! S₂ = Σ_{i≠j}G_ij², S₃ = Σ_{i,j,k distinct}G_ijG_jk, S₄ = Σ_{i,j,k,l distinct}G_ijG_kl and P_k = n!/(n−k)!
//! (Chen, Zhang and Zhong 2010). The plug-in tr(Ĉ_a²) is biased by ≈ (tr C_a)²/n_a, which is O(p) — an O(1)
//! error in T_ab — when n_a is of the order of p.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::gmm::{Covariance, GaussianMixture};
use crate::{Error, Result};

/// The mixture objects of math §6 for one data set.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MixtureStatistics {
    /// Dimension p.
    pub p: usize,
    /// Class of every sample (0..K).
    pub labels: Vec<usize>,
    /// n_a.
    pub sizes: Vec<usize>,
    /// tr C_a/p.
    pub trace: Vec<f64>,
    /// τ₀² = tr C°/p.
    pub tau0_sq: f64,
    /// t_a = tr C_a°/√p.
    pub t: Array1<f64>,
    /// T_ab = tr(C_a°C_b°)/p.
    pub big_t: Array2<f64>,
    /// ψ_i.
    pub psi: Array1<f64>,
}

/// Check labels: one per sample, each in 0..K with every class present.
fn class_labels(labels: ArrayView1<i64>, n: usize) -> Result<(Vec<usize>, usize)> {
    if labels.len() != n {
        return Err(Error::Shape {
            what: format!("{} labels for {n} samples", labels.len()),
        });
    }
    let k = labels.iter().copied().max().unwrap_or(-1) + 1;
    if labels.iter().any(|&l| l < 0) || k <= 0 {
        return Err(Error::Shape {
            what: "labels must be class numbers 0, 1, …, K−1".into(),
        });
    }
    let k = k as usize;
    let out: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    for a in 0..k {
        if !out.contains(&a) {
            return Err(Error::Shape {
                what: format!("class {a} has no samples; labels must be 0, 1, …, K−1 with every class present"),
            });
        }
    }
    Ok((out, k))
}

impl MixtureStatistics {
    /// The centered traces from tr C_a/p and tr(C_aC_b)/p: C° = Σ_a w_aC_a with w_a = n_a/n.
    fn assemble(
        p: usize,
        labels: Vec<usize>,
        sizes: Vec<usize>,
        trace: Vec<f64>,
        products: Array2<f64>,
        psi: Array1<f64>,
    ) -> Self {
        let n: usize = sizes.iter().sum();
        let k = sizes.len();
        let w: Vec<f64> = sizes.iter().map(|&s| s as f64 / n as f64).collect();
        let tau0_sq: f64 = (0..k).map(|a| w[a] * trace[a]).sum();
        let sp = (p as f64).sqrt();
        let t = Array1::from_shape_fn(k, |a| (trace[a] - tau0_sq) * sp);
        // tr(C_a°C_b°) = tr(C_aC_b) − Σ_c w_c[tr(C_aC_c) + tr(C_cC_b)] + Σ_cd w_cw_d tr(C_cC_d).
        let row: Vec<f64> = (0..k)
            .map(|a| (0..k).map(|c| w[c] * products[[a, c]]).sum())
            .collect();
        let all: f64 = (0..k).map(|c| w[c] * row[c]).sum();
        let big_t =
            Array2::from_shape_fn((k, k), |(a, b)| products[[a, b]] - row[a] - row[b] + all);
        MixtureStatistics {
            p,
            labels,
            sizes,
            trace,
            tau0_sq,
            t,
            big_t,
            psi,
        }
    }

    /// From the population parameters of `mixture` for the data `x` it generated (ψ uses the true means and
    /// covariances).
    pub fn from_population(
        mixture: &GaussianMixture,
        x: ArrayView2<f64>,
        labels: ArrayView1<i64>,
    ) -> Result<Self> {
        let p = mixture.p();
        crate::data::check_samples(x)?;
        if x.ncols() != p {
            return Err(Error::Shape {
                what: format!("data has {} columns, the mixture has p = {p}", x.ncols()),
            });
        }
        let (labels, k) = class_labels(labels, x.nrows())?;
        let classes = mixture.classes();
        if k != classes.len() {
            return Err(Error::Shape {
                what: format!("labels name {k} classes, the mixture has {}", classes.len()),
            });
        }
        let mut sizes = vec![0; k];
        for &l in &labels {
            sizes[l] += 1;
        }
        let pf = p as f64;
        let trace: Vec<f64> = classes
            .iter()
            .map(|c| cov_trace(&c.covariance, p) / pf)
            .collect();
        let products = Array2::from_shape_fn((k, k), |(a, b)| {
            cov_product_trace(&classes[a].covariance, &classes[b].covariance, p) / pf
        });
        let sp = pf.sqrt();
        let psi = Array1::from_shape_fn(x.nrows(), |i| {
            let a = labels[i];
            let z2: f64 = x
                .row(i)
                .iter()
                .zip(classes[a].mean.iter())
                .map(|(&xi, &mu)| (sp * xi - mu).powi(2))
                .sum();
            z2 / pf - trace[a]
        });
        Ok(Self::assemble(p, labels, sizes, trace, products, psi))
    }

    /// Unbiased estimates from labelled data (n×p, one sample per row; classes need at least 4 samples).
    pub fn from_data(x: ArrayView2<f64>, labels: ArrayView1<i64>) -> Result<Self> {
        crate::data::check_samples(x)?;
        let (n, p) = x.dim();
        let (labels, k) = class_labels(labels, n)?;
        let pf = p as f64;
        let sp = pf.sqrt();
        // Centered class blocks y_i − ȳ_a, y = √p·x.
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (i, &l) in labels.iter().enumerate() {
            members[l].push(i);
        }
        let mut centered: Vec<Array2<f64>> = Vec::with_capacity(k);
        let mut raw: Vec<Array2<f64>> = Vec::with_capacity(k);
        for (a, m) in members.iter().enumerate() {
            if m.len() < 4 {
                return Err(Error::Shape {
                    what: format!(
                        "class {a} has {} samples; the unbiased trace estimates need at least 4 per class",
                        m.len()
                    ),
                });
            }
            let y = x.select(Axis(0), m).mapv(|v| v * sp);
            let mean = y.mean_axis(Axis(0)).expect("non-empty class");
            centered.push(&y - &mean);
            raw.push(y);
        }
        let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
        let trace: Vec<f64> = (0..k)
            .map(|a| centered[a].iter().map(|v| v * v).sum::<f64>() / (sizes[a] - 1) as f64 / pf)
            .collect();
        let mut products = Array2::<f64>::zeros((k, k));
        for a in 0..k {
            products[[a, a]] = unbiased_trace_square(raw[a].view()) / pf;
            for b in 0..a {
                // tr(Ĉ_aĈ_b) = ‖Ỹ_aỸ_bᵀ‖_F²/((n_a − 1)(n_b − 1)).
                let cross = centered[a].dot(&centered[b].t());
                let v = cross.iter().map(|v| v * v).sum::<f64>()
                    / ((sizes[a] - 1) * (sizes[b] - 1)) as f64
                    / pf;
                products[[a, b]] = v;
                products[[b, a]] = v;
            }
        }
        let mut psi = Array1::<f64>::zeros(n);
        for (a, m) in members.iter().enumerate() {
            for (r, &i) in m.iter().enumerate() {
                let z2: f64 = centered[a].row(r).iter().map(|v| v * v).sum();
                psi[i] = z2 / pf - trace[a];
            }
        }
        Ok(Self::assemble(p, labels, sizes, trace, products, psi))
    }

    /// Number of samples.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.sizes.len()
    }

    /// u = Jt/√p + ψ.
    pub fn u(&self) -> Array1<f64> {
        let sp = (self.p as f64).sqrt();
        Array1::from_shape_fn(self.n(), |i| self.t[self.labels[i]] / sp + self.psi[i])
    }

    /// The n×K one-hot matrix J.
    pub fn one_hot(&self) -> Array2<f64> {
        let mut j = Array2::zeros((self.n(), self.classes()));
        for (i, &l) in self.labels.iter().enumerate() {
            j[[i, l]] = 1.0;
        }
        j
    }
}

/// tr C for one class covariance.
fn cov_trace(c: &Covariance, p: usize) -> f64 {
    match c {
        Covariance::ScaledIdentity(s) => s * p as f64,
        Covariance::Diagonal(d) => d.sum(),
        Covariance::Full(m) => m.diag().sum(),
    }
}

/// tr(C_aC_b) from the structure, without forming the product.
fn cov_product_trace(a: &Covariance, b: &Covariance, p: usize) -> f64 {
    use Covariance::*;
    match (a, b) {
        (ScaledIdentity(s), ScaledIdentity(t)) => s * t * p as f64,
        (ScaledIdentity(s), other) | (other, ScaledIdentity(s)) => s * cov_trace(other, p),
        (Diagonal(d), Diagonal(e)) => d.dot(e),
        (Diagonal(d), Full(m)) | (Full(m), Diagonal(d)) => d.dot(&m.diag()),
        // tr(AB) = Σ_ij A_ij B_ji.
        (Full(m), Full(q)) => m.iter().zip(q.t().iter()).map(|(x, y)| x * y).sum(),
    }
}

/// An unbiased estimate of tr(C²) from the rows of `y` (i.i.d. with covariance C, unknown mean), by the
/// U-statistic of the module documentation, from the Gram matrix in O(n²p).
fn unbiased_trace_square(y: ArrayView2<f64>) -> f64 {
    let n = y.nrows() as f64;
    let g = y.dot(&y.t());
    let mut s2 = 0.0;
    let mut a = 0.0;
    let mut r2 = 0.0;
    for (i, row) in g.outer_iter().enumerate() {
        let mut r = 0.0;
        for (j, &v) in row.iter().enumerate() {
            if i != j {
                s2 += v * v;
                r += v;
            }
        }
        a += r;
        r2 += r * r;
    }
    let s3 = r2 - s2;
    let s4 = a * a - 4.0 * s3 - 2.0 * s2;
    let p2 = n * (n - 1.0);
    let p3 = p2 * (n - 2.0);
    let p4 = p3 * (n - 3.0);
    s2 / p2 - 2.0 * s3 / p3 + s4 / p4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_square_estimate_is_unbiased_where_the_plug_in_is_not() {
        // C = diag(1..p)/p·2, n = p/2: the plug-in tr(Ĉ²) is off by ≈ (tr C)²/n.
        let (p, n) = (200, 100);
        let d: Vec<f64> = (1..=p).map(|k| 2.0 * k as f64 / p as f64).collect();
        let exact: f64 = d.iter().map(|v| v * v).sum();
        let (mut ours, mut plug) = (0.0, 0.0);
        let reps = 40;
        for rep in 0..reps {
            let mut y = crate::testing::gaussian_matrix(n, p, 1.0, rep);
            for (j, mut column) in y.columns_mut().into_iter().enumerate() {
                column.mapv_inplace(|z| 3.0 + d[j].sqrt() * z);
            }
            ours += unbiased_trace_square(y.view()) / reps as f64;
            let c = &y - &y.mean_axis(Axis(0)).unwrap();
            let s = c.t().dot(&c) / (n - 1) as f64;
            plug += s.iter().map(|v| v * v).sum::<f64>() / reps as f64;
        }
        // The mean of 40 unbiased estimates is within a few percent; the plug-in is ~p/n·(tr C)²/tr(C²) off.
        assert!((ours - exact).abs() < 0.03 * exact, "{ours} vs {exact}");
        assert!(plug - exact > 0.5 * exact, "plug-in {plug} vs {exact}");
    }
}
