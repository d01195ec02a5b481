//! Samples and labelled data sets: the checks every computation applies to its input ([`check_samples`]), the
//! input scale τ₀ ([`input_scale`]), labelled sets ([`Dataset`]), the paper's standardization fitted on a
//! training split and applied to any other ([`Standardizer`]); and, with the `io` feature, readers for MNIST's
//! IDX files ([`mnist`]), CSV with a label column ([`csv`]) and `.npy` pairs ([`DataSource`]).
//!
//! Every reader refuses what it cannot read with a typed error naming the file and the problem: a missing or
//! truncated file, a wrong magic number, shapes that do not match, non-finite values.

#[cfg(feature = "io")]
pub mod csv;
#[cfg(feature = "io")]
pub mod mnist;

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::{Error, Result};

/// Refuse empty or non-finite data (n×p, one sample per row), in f64 or f32.
pub fn check_samples<T: crate::Real>(x: ArrayView2<T>) -> Result<()> {
    let (n, p) = x.dim();
    if n == 0 || p == 0 {
        return Err(Error::Shape {
            what: format!(
                "data matrix is {n}×{p}; need at least one sample (row) and one feature (column)"
            ),
        });
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.to_f64().is_finite()) {
        return Err(Error::NonFinite {
            what: "data matrix",
            location: format!("row {i}, column {j} (value {})", v.to_f64()),
        });
    }
    Ok(())
}

/// Refuse class labels that do not fit: a count other than `samples`, or a label outside 0..`classes`.
pub fn check_labels(
    labels: ndarray::ArrayView1<i64>,
    samples: usize,
    classes: usize,
) -> Result<()> {
    if labels.len() != samples {
        return Err(Error::Shape {
            what: format!("{} labels for {samples} samples", labels.len()),
        });
    }
    if let Some((i, bad)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| l < 0 || l as u64 >= classes as u64)
    {
        return Err(Error::Shape {
            what: format!(
                "label {bad} of sample {i} is outside the classes 0..{}",
                classes.saturating_sub(1)
            ),
        });
    }
    Ok(())
}

/// The input scale τ₀ = √(‖X‖_F²/n) of data X (n×p): the root mean squared norm of the samples (math §6's
/// estimate of √(tr C°/p)).
pub fn input_scale(x: ArrayView2<f64>) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64).sqrt()
}

/// τ₀ from the parameters when given, else from the data; an error naming both ways when there is neither.
pub(crate) fn resolve_input_scale(given: Option<f64>, x: Option<ArrayView2<f64>>) -> Result<f64> {
    match (given, x) {
        (Some(t), _) => Ok(t),
        (None, Some(x)) => {
            check_samples(x)?;
            crate::error::check_positive(
                "input scale τ₀ of the data (are all samples zero?)",
                input_scale(x),
            )
        }
        (None, None) => Err(Error::Missing {
            name: "the input scale τ₀",
            why: "give it with with_tau0 (--tau0), or give the data it is taken from",
        }),
    }
}

/// A labelled data set: n×p samples (one per row) and integer labels 0..K−1.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The samples, one per row.
    pub x: Array2<f64>,
    /// One label per sample.
    pub labels: Array1<i64>,
}

impl Dataset {
    /// Check the pair: one label per row, finite data.
    pub fn new(x: Array2<f64>, labels: Array1<i64>) -> Result<Self> {
        check_samples(x.view())?;
        if labels.len() != x.nrows() {
            return Err(Error::Shape {
                what: format!("{} labels for {} samples", labels.len(), x.nrows()),
            });
        }
        Ok(Dataset { x, labels })
    }

    /// The samples of the given original classes, relabelled 0.. in the order given, with at most
    /// `per_class` of each (the first ones in file order), ordered by class.
    pub fn select_classes(&self, classes: &[i64], per_class: Option<usize>) -> Result<Self> {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for (new, &c) in classes.iter().enumerate() {
            let members: Vec<usize> = self
                .labels
                .iter()
                .enumerate()
                .filter(|(_, &l)| l == c)
                .map(|(i, _)| i)
                .take(per_class.unwrap_or(usize::MAX))
                .collect();
            if members.is_empty() {
                return Err(Error::Shape {
                    what: format!("class {c} has no samples in this data set"),
                });
            }
            if let Some(k) = per_class {
                if members.len() < k {
                    return Err(Error::Shape {
                        what: format!(
                            "class {c} has only {} samples, {k} were asked for",
                            members.len()
                        ),
                    });
                }
            }
            labels.extend(std::iter::repeat_n(new as i64, members.len()));
            rows.extend(members);
        }
        Ok(Dataset {
            x: self.x.select(Axis(0), &rows),
            labels: Array1::from(labels),
        })
    }

    /// A held-out split: the rows shuffled by `seed` (ChaCha8), the first ⌈`test_fraction`·n⌉ for testing and the
    /// rest for training. `test_fraction` must lie in (0, 1) and leave both parts non-empty.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let n = self.n();
        let test = (test_fraction * n as f64).ceil() as usize;
        if !(test_fraction > 0.0 && test_fraction < 1.0) || test == 0 || test >= n {
            return Err(Error::InvalidParameter {
                name: "test_fraction",
                value: test_fraction,
                requirement: "must lie in (0, 1) and leave at least one sample on each side",
            });
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let part = |rows: &[usize]| Dataset {
            x: self.x.select(Axis(0), rows),
            labels: self.labels.select(Axis(0), rows),
        };
        Ok((part(&order[test..]), part(&order[..test])))
    }

    /// The first `count` samples; an error when there are fewer.
    pub fn head(&self, count: usize) -> Result<Self> {
        if count > self.n() {
            return Err(Error::Shape {
                what: format!("asked for {count} samples, the data set has {}", self.n()),
            });
        }
        Dataset::new(
            self.x.slice(ndarray::s![..count, ..]).to_owned(),
            self.labels.slice(ndarray::s![..count]).to_owned(),
        )
    }

    /// The number of samples n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// The dimension p.
    pub fn p(&self) -> usize {
        self.x.ncols()
    }

    /// The number of classes K (the largest label plus one).
    pub fn classes(&self) -> usize {
        self.labels
            .iter()
            .copied()
            .max()
            .map_or(0, |k| k as usize + 1)
    }
}

/// The paper's preprocessing of real data, as a transformation fitted on one set and applied to any: subtract the
/// fitted set's mean sample, then divide by √(‖X − x̄‖_F²/n) so that the fitted set's mean squared norm is 1 —
/// the same as scaling each coordinate to unit average variance and dividing by √p, the normalization
/// x = (μ + z)/√p of math §6. Fit on the training split, apply to the test split: both then live on the scale
/// the models were built for, and no test statistic leaks into training.
///
/// ```
/// use deq_kernels::data::Standardizer;
/// let train = ndarray::array![[1.0, 2.0], [3.0, 6.0]];
/// let s = Standardizer::fit(train.view())?;
/// let (a, b) = (s.apply(train.view())?, s.apply(ndarray::array![[2.0, 4.0]].view())?);
/// assert!((deq_kernels::data::input_scale(a.view()) - 1.0).abs() < 1e-15);
/// assert_eq!(b.row(0).to_vec(), vec![0.0, 0.0]); // the training mean maps to the origin
/// # Ok::<(), deq_kernels::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Standardizer {
    mean: Array1<f64>,
    scale: f64,
}

impl Standardizer {
    /// Fitted on the samples (rows) of `x`.
    pub fn fit(x: ArrayView2<f64>) -> Result<Self> {
        check_samples(x)?;
        let mean = x.mean_axis(Axis(0)).expect("at least one row");
        let centered = &x - &mean;
        let ms = centered.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64;
        if ms.is_nan() || ms <= 0.0 {
            return Err(Error::Shape {
                what: "all samples are equal after centering; there is nothing to scale".into(),
            });
        }
        Ok(Standardizer {
            mean,
            scale: ms.sqrt(),
        })
    }

    /// (x − x̄)/s for every sample of `x`, with the fitted x̄ and s.
    pub fn apply(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        check_samples(x)?;
        if x.ncols() != self.mean.len() {
            return Err(Error::Shape {
                what: format!(
                    "the standardizer was fitted on {} features, the data has {}",
                    self.mean.len(),
                    x.ncols()
                ),
            });
        }
        let scale = self.scale;
        Ok((&x - &self.mean).mapv(|v| v / scale))
    }

    /// The fitted mean sample x̄.
    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }

    /// The fitted scale s = √(‖X − x̄‖_F²/n).
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

/// Standardize `x` in place with a [`Standardizer`] fitted on `x` itself.
pub fn preprocess(x: &mut Array2<f64>) -> Result<()> {
    *x = Standardizer::fit(x.view())?.apply(x.view())?;
    Ok(())
}

/// Where a data set comes from, in the command line's syntax: `gmm`, `mnist:DIR`, `csv:PATH` (labels in a column),
/// `npy:X.npy,y.npy` (feature `io`).
#[cfg(feature = "io")]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataSource {
    /// The paper's synthetic mixture ([`crate::rmt::gmm::GaussianMixture::paper`]), sampled by the caller.
    Gmm,
    /// MNIST's IDX files in a folder.
    Mnist(std::path::PathBuf),
    /// A CSV file.
    Csv(std::path::PathBuf),
    /// An n×p `.npy` of samples and an integer `.npy` of labels.
    Npy(std::path::PathBuf, std::path::PathBuf),
}

#[cfg(feature = "io")]
impl DataSource {
    /// Parse `gmm`, `mnist:DIR`, `csv:PATH` or `npy:X.npy,y.npy`.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = |why: &str| Error::Missing {
            name: "a data source",
            why: if why.is_empty() {
                "write gmm, mnist:DIR, csv:PATH or npy:X.npy,y.npy"
            } else {
                "npy needs two files: npy:X.npy,y.npy"
            },
        };
        let spec = spec.trim();
        if spec == "gmm" {
            return Ok(DataSource::Gmm);
        }
        let (kind, rest) = spec.split_once(':').ok_or_else(|| bad(""))?;
        match kind {
            "mnist" => Ok(DataSource::Mnist(rest.into())),
            "csv" => Ok(DataSource::Csv(rest.into())),
            "npy" => {
                let (x, y) = rest.split_once(',').ok_or_else(|| bad("npy"))?;
                Ok(DataSource::Npy(x.into(), y.into()))
            }
            _ => Err(bad("")),
        }
    }

    /// Load a file source (MNIST: the training split); the synthetic mixture is sampled by the caller, who knows
    /// p and n.
    pub fn load_file(&self, label_column: &csv::LabelColumn) -> Result<Dataset> {
        match self {
            DataSource::Gmm => Err(Error::Missing {
                name: "a file",
                why: "the synthetic mixture is sampled, not read",
            }),
            DataSource::Mnist(dir) => mnist::load(dir, mnist::Split::Train),
            DataSource::Csv(path) => Ok(csv::load(path, label_column)?.0),
            DataSource::Npy(x, y) => {
                let x = crate::npy::read_matrix(x)?;
                let y = crate::npy::read_labels(y)?;
                Dataset::new(x, y)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Dataset;
    use ndarray::{Array1, Array2};

    /// The split is a permutation: every row lands on exactly one side with its label, the test side has
    /// ⌈f·n⌉ rows, the same seed gives the same split and another seed a different one; bad fractions are refused.
    #[test]
    fn split_partitions_the_rows_by_seed() {
        let n = 50;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * 10 + j) as f64);
        let labels = Array1::from_shape_fn(n, |i| (i % 3) as i64);
        let d = Dataset::new(x, labels).unwrap();
        let (train, test) = d.split(0.2, 7).unwrap();
        assert_eq!((train.n(), test.n()), (40, 10));
        let mut seen: Vec<usize> = train
            .x
            .outer_iter()
            .chain(test.x.outer_iter())
            .map(|r| (r[0] / 10.0) as usize)
            .collect();
        for part in [&train, &test] {
            for (r, l) in part.x.outer_iter().zip(part.labels.iter()) {
                assert_eq!(((r[0] / 10.0) as usize % 3) as i64, *l);
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        let (_, again) = d.split(0.2, 7).unwrap();
        assert_eq!(again.x, test.x);
        let (_, other) = d.split(0.2, 8).unwrap();
        assert_ne!(other.x, test.x);
        for f in [0.0, 1.0, -0.1, f64::NAN, 0.99] {
            assert!(d.split(f, 0).is_err(), "{f}");
        }
    }
}
