//! Data sets from files: MNIST in IDX format ([`mnist`]), CSV with a label column ([`csv`]), `.npy` pairs
//! ([`crate::npy`]); the paper's preprocessing ([`preprocess`]).
//!
//! Every reader refuses what it cannot read with a typed error naming the file and the problem: a missing or
//! truncated file, a wrong magic number, shapes that do not match, non-finite values.

pub mod csv;
pub mod mnist;

use ndarray::{Array1, Array2, Axis};

use crate::{Error, Result};

/// A labelled data set: n×p samples (one per row) and integer labels 0..K−1.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub x: Array2<f64>,
    pub labels: Array1<i64>,
}

impl Dataset {
    /// Check the pair: one label per row, finite data, labels 0..K−1 with every class present.
    pub fn new(x: Array2<f64>, labels: Array1<i64>) -> Result<Self> {
        crate::kernel::check_data(x.view())?;
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

    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    pub fn p(&self) -> usize {
        self.x.ncols()
    }
}

/// The paper's preprocessing of real data: subtract the mean sample, then scale so that the mean squared norm
/// ‖X‖_F²/n is 1 — the same as scaling each coordinate to unit average variance and dividing by √p, the
/// normalization x = (μ + z)/√p of SPEC §6.
pub fn preprocess(x: &mut Array2<f64>) -> Result<()> {
    crate::kernel::check_data(x.view())?;
    let mean = x.mean_axis(Axis(0)).expect("at least one row");
    *x -= &mean;
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.nrows() as f64;
    if ms.is_nan() || ms <= 0.0 {
        return Err(Error::Shape {
            what: "all samples are equal after centering; there is nothing to scale".into(),
        });
    }
    x.mapv_inplace(|v| v / ms.sqrt());
    Ok(())
}

/// Where a data set comes from, in the command line's syntax (SPEC §11):
/// `gmm`, `mnist:DIR`, `csv:PATH` (labels in the last column unless told), `npy:X.npy,y.npy`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// The paper's synthetic mixture.
    Gmm,
    Mnist(std::path::PathBuf),
    Csv(std::path::PathBuf),
    Npy(std::path::PathBuf, std::path::PathBuf),
}

impl DataSource {
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

    /// Load a file source (the synthetic mixture is sampled by the caller, who knows p and n).
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
