//! End-to-end training of a [`Stack`] (a SIM, or the MLP it is compared with) by back-propagation and Adam on
//! mini-batches (docs/sim.md §Training). Losses are means over the batch: cross-entropy
//! −log softmax(ŷ)_y, or the square loss ½‖ŷ − e_y‖² against one-hot targets.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::layers::{Dense, DenseGradient, Stack};
use crate::delm::Loss;
use crate::eigen::EigenScalar;
use crate::progress::Progress;
use crate::{Error, Result};

/// Checked training settings: Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) with a constant learning rate, shuffled
/// mini-batches drawn from `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TrainParams {
    /// The loss minimized.
    pub loss: Loss,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    seed: u64,
}

impl TrainParams {
    /// `epochs` ≥ 1 passes over the data in batches of `batch_size` ≥ 1 with Adam's step `learning_rate` > 0.
    pub fn new(
        loss: Loss,
        epochs: usize,
        batch_size: usize,
        learning_rate: f64,
        seed: u64,
    ) -> Result<Self> {
        for (name, v) in [("epochs", epochs), ("batch_size", batch_size)] {
            if v == 0 {
                return Err(Error::InvalidParameter {
                    name,
                    value: 0.0,
                    requirement: "must be at least 1",
                });
            }
        }
        crate::error::check_positive("learning_rate", learning_rate)?;
        Ok(TrainParams {
            loss,
            epochs,
            batch_size,
            learning_rate,
            seed,
        })
    }

    /// Cross-entropy, batches of 128, Adam at 1e-3 (the reference code's MNIST settings), `epochs` epochs.
    pub fn paper(epochs: usize, seed: u64) -> Result<Self> {
        TrainParams::new(Loss::CrossEntropy, epochs, 128, 1e-3, seed)
    }

    /// Epochs.
    pub fn epochs(&self) -> usize {
        self.epochs
    }

    /// Batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Adam's learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// The seed of the batch order.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// How training went.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct TrainReport {
    /// The mean training loss over the batches of each epoch.
    pub epoch_loss: Vec<f64>,
    /// Wall time of each epoch in seconds.
    pub epoch_seconds: Vec<f64>,
}

impl TrainReport {
    /// No epochs yet.
    pub fn empty() -> Self {
        TrainReport {
            epoch_loss: Vec::new(),
            epoch_seconds: Vec::new(),
        }
    }

    /// Records one epoch.
    pub fn push_epoch(&mut self, loss: f64, seconds: f64) {
        self.epoch_loss.push(loss);
        self.epoch_seconds.push(seconds);
    }

    /// Mean wall time per epoch.
    pub fn seconds_per_epoch(&self) -> f64 {
        self.epoch_seconds.iter().sum::<f64>() / self.epoch_seconds.len().max(1) as f64
    }
}

/// Labels as indices, each checked to lie in 0..`classes`.
pub fn checked_labels(labels: ArrayView1<i64>, classes: usize) -> Result<Vec<usize>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            usize::try_from(l)
                .ok()
                .filter(|&l| l < classes)
                .ok_or_else(|| Error::Shape {
                    what: format!(
                        "label {l} of sample {i} is outside 0..{classes}; the model has {classes} outputs"
                    ),
                })
        })
        .collect()
}

/// The mean loss of outputs ŷ (n×k) against labels, and ∂(mean loss)/∂ŷ.
pub fn loss_and_output_gradient<T: EigenScalar>(
    outputs: ArrayView2<T>,
    labels: &[usize],
    loss: Loss,
) -> (f64, Array2<T>) {
    let n = outputs.nrows().max(1) as f64;
    let mut grad = Array2::zeros(outputs.raw_dim());
    let mut total = 0.0;
    for ((row, mut g), &y) in outputs.outer_iter().zip(grad.outer_iter_mut()).zip(labels) {
        match loss {
            Loss::CrossEntropy => {
                let max = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
                let sum: f64 = row.iter().map(|v| (v.to_f64() - max).exp()).sum();
                total += max + sum.ln() - row[y].to_f64();
                for (k, (gk, v)) in g.iter_mut().zip(row.iter()).enumerate() {
                    let p = (v.to_f64() - max).exp() / sum;
                    *gk = T::from_f64((p - if k == y { 1.0 } else { 0.0 }) / n);
                }
            }
            Loss::Square => {
                for (k, (gk, v)) in g.iter_mut().zip(row.iter()).enumerate() {
                    let r = v.to_f64() - if k == y { 1.0 } else { 0.0 };
                    total += 0.5 * r * r;
                    *gk = T::from_f64(r / n);
                }
            }
        }
    }
    (total / n, grad)
}

/// The mean loss of the stack on (x, labels) and its gradient with respect to every dense stage (`None` for the
/// others).
pub fn loss_and_gradient<T: EigenScalar>(
    stack: &Stack<T>,
    x: ArrayView2<T>,
    labels: &[usize],
    loss: Loss,
) -> (f64, Vec<Option<DenseGradient<T>>>) {
    let trace = stack.forward_traced(x);
    let (value, d_out) = loss_and_output_gradient(trace.output().view(), labels, loss);
    (value, stack.backward(&trace, d_out))
}

/// The fraction of rows whose largest output is at the label.
pub fn accuracy<T: EigenScalar>(outputs: ArrayView2<T>, labels: &[usize]) -> f64 {
    let hits = outputs
        .outer_iter()
        .zip(labels)
        .filter(|(row, &y)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |b, (k, v)| {
                    if v.to_f64() > b.1 {
                        (k, v.to_f64())
                    } else {
                        b
                    }
                })
                .0;
            best == y
        })
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// The outputs of the stack on x in chunks of `chunk` rows (evaluation without a trace).
pub fn predict<T: EigenScalar>(stack: &Stack<T>, x: ArrayView2<T>, chunk: usize) -> Array2<T> {
    let chunk = chunk.max(1);
    let parts: Vec<Array2<T>> = x
        .axis_chunks_iter(Axis(0), chunk)
        .map(|xs| stack.forward(xs))
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    if views.is_empty() {
        return Array2::zeros((0, 0));
    }
    ndarray::concatenate(Axis(0), &views).expect("chunks of one stack share their width")
}

/// Adam's state for a list of dense layers: first and second moments of every weight and bias, and the step
/// count (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
pub struct Adam {
    moments: Vec<LayerMoments>,
    step: i32,
    learning_rate: f64,
}

struct LayerMoments {
    weight: (Array2<f64>, Array2<f64>),
    bias: Option<(Array1<f64>, Array1<f64>)>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

fn adam_update<'a, T: EigenScalar>(
    params: impl Iterator<Item = &'a mut T>,
    grads: impl Iterator<Item = &'a T>,
    m: impl Iterator<Item = &'a mut f64>,
    v: impl Iterator<Item = &'a mut f64>,
    step: f64,
    corrections: (f64, f64),
) {
    for (((p, g), m), v) in params.zip(grads).zip(m).zip(v) {
        let g = g.to_f64();
        *m = BETA1 * *m + (1.0 - BETA1) * g;
        *v = BETA2 * *v + (1.0 - BETA2) * g * g;
        let (mh, vh) = (*m / corrections.0, *v / corrections.1);
        *p = T::from_f64(p.to_f64() - step * mh / (vh.sqrt() + EPS));
    }
}

impl Adam {
    /// Zero moments for layers of these shapes, with step `learning_rate`.
    pub fn new<'a, T: EigenScalar>(
        layers: impl Iterator<Item = &'a Dense<T>>,
        learning_rate: f64,
    ) -> Self {
        Adam {
            moments: layers
                .map(|d| LayerMoments {
                    weight: (
                        Array2::zeros(d.weight.raw_dim()),
                        Array2::zeros(d.weight.raw_dim()),
                    ),
                    bias: d
                        .bias
                        .as_ref()
                        .map(|b| (Array1::zeros(b.len()), Array1::zeros(b.len()))),
                })
                .collect(),
            step: 0,
            learning_rate,
        }
    }

    /// One Adam step of every layer along its gradient (same order as at construction).
    pub fn step<'a, T: EigenScalar + 'a>(
        &mut self,
        layers: impl Iterator<Item = &'a mut Dense<T>>,
        grads: impl Iterator<Item = DenseGradient<T>>,
    ) {
        self.step += 1;
        let corrections = (1.0 - BETA1.powi(self.step), 1.0 - BETA2.powi(self.step));
        for ((layer, g), mo) in layers.zip(grads).zip(self.moments.iter_mut()) {
            let (mw, vw) = &mut mo.weight;
            adam_update(
                layer.weight.iter_mut(),
                g.weight.iter(),
                mw.iter_mut(),
                vw.iter_mut(),
                self.learning_rate,
                corrections,
            );
            if let (Some(b), Some(gb), Some((mb, vb))) =
                (layer.bias.as_mut(), g.bias.as_ref(), mo.bias.as_mut())
            {
                adam_update(
                    b.iter_mut(),
                    gb.iter(),
                    mb.iter_mut(),
                    vb.iter_mut(),
                    self.learning_rate,
                    corrections,
                );
            }
        }
    }
}

/// Trains `stack` on (x, labels) for `params.epochs()` epochs: each epoch shuffles the rows (from the seed) and
/// takes one Adam step per batch. Labels must lie in 0..(the stack's output width). Reports one progress unit
/// per batch. The same seed and data give the same weights.
pub fn train<T: EigenScalar>(
    stack: &mut Stack<T>,
    x: ArrayView2<T>,
    labels: ArrayView1<i64>,
    params: &TrainParams,
    progress: &dyn Progress,
) -> Result<TrainReport> {
    let n = x.nrows();
    if labels.len() != n || n == 0 {
        return Err(Error::Shape {
            what: format!(
                "{} samples and {} labels; training needs at least one sample with one label each",
                n,
                labels.len()
            ),
        });
    }
    if stack.input_dim().is_some_and(|p| p != x.ncols()) {
        return Err(Error::Shape {
            what: format!(
                "the model takes {} input features, the data has {}",
                stack.input_dim().unwrap_or(0),
                x.ncols()
            ),
        });
    }
    let classes = stack
        .dense_mut()
        .last()
        .map(|d| d.outputs())
        .ok_or_else(|| Error::Shape {
            what: "the model has no trainable layer".into(),
        })?;
    let labels = checked_labels(labels, classes)?;
    crate::data::check_samples(x)?;
    let mut adam = Adam::new(stack.dense_mut().map(|d| &*d), params.learning_rate);
    let mut steps = 0;
    run_epochs(n, params, progress, |batch| {
        let xb = x.select(Axis(0), batch);
        let yb: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
        let (value, grads) = loss_and_gradient(stack, xb.view(), &yb, params.loss);
        if !value.is_finite() {
            return Err(Error::Diverged {
                method: "SIM training (Adam)",
                iterations: steps,
                residual: value,
                contraction: None,
            });
        }
        steps += 1;
        adam.step(stack.dense_mut(), grads.into_iter().flatten());
        Ok(value)
    })
}

/// The epoch loop every trainer here shares: each of `params.epochs()` epochs shuffles 0..n (ChaCha8 from the
/// seed) and calls `step` on each batch of row indices, which takes one optimizer step and returns the batch's
/// loss. One progress unit per batch; the report holds each epoch's mean batch loss and wall time.
pub(crate) fn run_epochs(
    n: usize,
    params: &TrainParams,
    progress: &dyn Progress,
    mut step: impl FnMut(&[usize]) -> Result<f64>,
) -> Result<TrainReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let batches = n.div_ceil(params.batch_size);
    progress.start((batches * params.epochs) as u64);
    let mut report = TrainReport::empty();
    for _ in 0..params.epochs {
        let start = Instant::now();
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(params.batch_size) {
            total += step(batch)?;
            progress.advance(1);
        }
        report.push_epoch(total / batches.max(1) as f64, start.elapsed().as_secs_f64());
    }
    progress.finish();
    Ok(report)
}
