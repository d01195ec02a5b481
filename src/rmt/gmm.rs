//! A seedable Gaussian-mixture generator: x_i = (μ_a + z_i)/√p, z_i ~ N(0, C_a), samples ordered by class
//! (math §6).

use crate::linalg::zeroed_matrix;
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Error, Result};

/// The covariance C_a of one class.
#[derive(Debug, Clone)]
pub enum Covariance {
    /// c·I_p.
    ScaledIdentity(f64),
    /// diag(d), d ≥ 0.
    Diagonal(Array1<f64>),
    /// A full symmetric positive semi-definite p×p matrix (sampled through its Cholesky factor).
    Full(Array2<f64>),
}

/// One class: its size, mean μ_a (unscaled; the sample is divided by √p) and covariance.
#[derive(Debug, Clone)]
pub struct MixtureClass {
    /// n_a.
    pub size: usize,
    /// μ_a (unscaled).
    pub mean: Array1<f64>,
    /// C_a.
    pub covariance: Covariance,
}

/// A checked Gaussian mixture in dimension p.
#[derive(Debug, Clone)]
pub struct GaussianMixture {
    p: usize,
    classes: Vec<MixtureClass>,
}

impl GaussianMixture {
    /// Check dimensions and covariances.
    pub fn new(p: usize, classes: Vec<MixtureClass>) -> Result<Self> {
        if p == 0 || classes.is_empty() {
            return Err(Error::Shape {
                what: format!(
                    "a mixture needs p ≥ 1 and at least one class (got p = {p}, {} classes)",
                    classes.len()
                ),
            });
        }
        for (a, c) in classes.iter().enumerate() {
            if c.mean.len() != p {
                return Err(Error::Shape {
                    what: format!(
                        "mean of class {a} has length {}, expected p = {p}",
                        c.mean.len()
                    ),
                });
            }
            if c.mean.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    what: "class mean",
                    location: format!("class {a}"),
                });
            }
            match &c.covariance {
                Covariance::ScaledIdentity(s) => {
                    crate::error::check_nonnegative("covariance scale", *s)?;
                }
                Covariance::Diagonal(d) => {
                    if d.len() != p {
                        return Err(Error::Shape {
                            what: format!(
                                "diagonal covariance of class {a} has length {}, expected {p}",
                                d.len()
                            ),
                        });
                    }
                    for &v in d {
                        crate::error::check_nonnegative("covariance diagonal", v)?;
                    }
                }
                Covariance::Full(m) => {
                    if m.dim() != (p, p) {
                        return Err(Error::Shape {
                            what: format!(
                                "covariance of class {a} is {:?}, expected {p}×{p}",
                                m.dim()
                            ),
                        });
                    }
                }
            }
        }
        Ok(GaussianMixture { p, classes })
    }

    /// The paper's synthetic setting (math §6): two equal classes, n = ⌊0.8p⌋ samples, μ_a = 8e_{8(a−1)+1},
    /// C_a = (1 + 8(a−1)/√p)I_p.
    pub fn paper(p: usize) -> Result<Self> {
        Self::paper_with_n(p, (0.8 * p as f64).floor() as usize)
    }

    /// The paper's setting with n samples (split as evenly as possible, class 0 first).
    pub fn paper_with_n(p: usize, n: usize) -> Result<Self> {
        if p < 9 {
            return Err(Error::InvalidParameter {
                name: "p",
                value: p as f64,
                requirement: "the paper's mixture puts its second mean on coordinate 9: need p ≥ 9",
            });
        }
        if n < 2 {
            return Err(Error::InvalidParameter {
                name: "n",
                value: n as f64,
                requirement: "need at least one sample per class (n ≥ 2)",
            });
        }
        let classes = (0..2)
            .map(|a| {
                let mut mean = Array1::from_vec(crate::eigen::buffer::zeroed_vec::<f64>(p)?);
                mean[8 * a] = 8.0;
                Ok(MixtureClass {
                    size: n / 2 + if a == 0 { n % 2 } else { 0 },
                    mean,
                    covariance: Covariance::ScaledIdentity(
                        1.0 + 8.0 * a as f64 / (p as f64).sqrt(),
                    ),
                })
            })
            .collect::<Result<_>>()?;
        Self::new(p, classes)
    }

    /// Dimension p.
    pub fn p(&self) -> usize {
        self.p
    }

    /// Samples n = Σ_a n_a.
    pub fn n(&self) -> usize {
        self.classes.iter().map(|c| c.size).sum()
    }

    /// The classes.
    pub fn classes(&self) -> &[MixtureClass] {
        &self.classes
    }

    /// Draw the data (n×p, one sample per row, ordered by class) and the labels 0..K−1.
    /// The same seed gives the same data on every platform (ChaCha8).
    pub fn sample(&self, seed: u64) -> Result<(Array2<f64>, Array1<i64>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (n, p) = (self.n(), self.p);
        let mut x = zeroed_matrix::<f64>(n, p)?;
        let mut labels = Array1::<i64>::zeros(n);
        let scale = 1.0 / (p as f64).sqrt();
        let mut row = 0;
        for (a, class) in self.classes.iter().enumerate() {
            let factor = match &class.covariance {
                Covariance::Full(c) => Some(cholesky_lower(c)?),
                _ => None,
            };
            for _ in 0..class.size {
                let z: Array1<f64> = (0..p).map(|_| StandardNormal.sample(&mut rng)).collect();
                let z = match (&class.covariance, &factor) {
                    (Covariance::ScaledIdentity(s), _) => z * s.sqrt(),
                    (Covariance::Diagonal(d), _) => z * &d.mapv(f64::sqrt),
                    (Covariance::Full(_), Some(l)) => l.dot(&z),
                    (Covariance::Full(_), None) => unreachable!("factor computed above"),
                };
                x.index_axis_mut(Axis(0), row)
                    .assign(&((&class.mean + &z) * scale));
                labels[row] = a as i64;
                row += 1;
            }
        }
        Ok((x, labels))
    }
}

/// Lower Cholesky factor of a PSD matrix (faer LDLᵀ would also take singular ones; a tiny diagonal
/// jitter relative to the trace makes semi-definite covariances usable).
fn cholesky_lower(c: &Array2<f64>) -> Result<Array2<f64>> {
    let p = c.nrows();
    let jitter = 1e-12 * (0..p).map(|i| c[[i, i]]).sum::<f64>() / p as f64;
    let m = faer::Mat::<f64>::from_fn(p, p, |i, j| c[[i, j]] + if i == j { jitter } else { 0.0 });
    let llt = m.llt(faer::Side::Lower).map_err(|_| Error::Shape {
        what: "a full class covariance is not positive semi-definite".into(),
    })?;
    let l = llt.L();
    Ok(Array2::from_shape_fn((p, p), |(i, j)| {
        if j <= i {
            l[(i, j)]
        } else {
            0.0
        }
    }))
}
