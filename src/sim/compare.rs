//! The comparison the SIM paper makes (docs/sim.md §Comparison): SIMs of one and two tiers against a DEQ of
//! matched size trained by implicit differentiation and against an explicit MLP, on the same data, seeds and
//! optimizer.
//!
//! The DEQ ([`ImplicitClassifier`]) is z* = relu(Wz* + Ux + b), ŷ = W_out z* + c. Its forward pass solves the
//! fixed point for a whole batch by Anderson acceleration ([`crate::solve::anderson`]); its backward pass solves
//! the adjoint fixed point g = Wᵀ(D∘g) + ∂L/∂z*, D = relu′(Wz* + Ux + b), by the same solver, and the weights'
//! gradients are those of one application of the layer with ∂L/∂(pre-activation) = D∘g (implicit
//! differentiation: ∂L/∂θ = gᵀ(I − J)⁻¹∂f/∂θ with J = DW, never unrolled).

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::layers::{mlp_stages, Dense, DenseGradient, Stack};
use super::model::{Sim, SimParams};
use super::train::{
    accuracy, checked_labels, loss_and_output_gradient, predict, run_epochs, train, Adam,
    TrainParams,
};
use crate::delm::Loss;
use crate::progress::Progress;
use crate::solve::{anderson, AndersonParams};
use crate::{Error, Result};

/// A fully connected DEQ classifier z* = relu(Wz* + Ux + b), ŷ = W_out z* + c (f64).
#[derive(Debug, Clone)]
pub struct ImplicitClassifier {
    /// U and b (h×p).
    pub input: Dense<f64>,
    /// W (h×h, no bias).
    pub recurrent: Dense<f64>,
    /// W_out and c (k×h).
    pub readout: Dense<f64>,
    solver: AndersonParams,
}

/// Iterations the solves of one batch took.
#[derive(Debug, Clone, Copy, Default)]
pub struct SolveCounts {
    /// Map evaluations of the forward fixed point.
    pub forward: usize,
    /// Map evaluations of the adjoint fixed point.
    pub backward: usize,
    /// Solves that stopped at their budget (the last iterate is used, as DEQ training does).
    pub unconverged: usize,
}

impl ImplicitClassifier {
    /// Width h, uniform ±1/√fan-in weights from `seed` with W rescaled to spectral norm 0.5 (a contraction at
    /// the start, since |relu′| ≤ 1); the fixed points are solved to ‖·‖_∞ ≤ `tol` in at most `max_iter`
    /// Anderson steps (memory 5).
    pub fn new(
        inputs: usize,
        width: usize,
        outputs: usize,
        tol: f64,
        max_iter: usize,
        seed: u64,
    ) -> Result<Self> {
        if inputs == 0 || width == 0 || outputs == 0 {
            return Err(Error::InvalidParameter {
                name: "width",
                value: width as f64,
                requirement: "inputs, width and outputs must all be at least 1",
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let input = Dense::uniform(inputs, width, true, &mut rng);
        let mut recurrent = Dense::uniform(width, width, false, &mut rng);
        let norm = super::koopman::spectral_norm(recurrent.weight.view())?;
        recurrent.weight *= 0.5 / norm.max(f64::MIN_POSITIVE);
        let readout = Dense::uniform(width, outputs, true, &mut rng);
        Ok(ImplicitClassifier {
            input,
            recurrent,
            readout,
            solver: AndersonParams::new(5, 1.0, tol, max_iter)?,
        })
    }

    /// Trainable numbers.
    pub fn parameter_count(&self) -> usize {
        self.input.parameter_count()
            + self.recurrent.parameter_count()
            + self.readout.parameter_count()
    }

    /// Solves x = g(x) in place, tolerating an exhausted budget (counted) but not divergence.
    fn solve<G: FnMut(&[f64], &mut [f64])>(
        &self,
        state: &mut [f64],
        map: G,
        unconverged: &mut usize,
    ) -> Result<usize> {
        match anderson(state, map, &self.solver) {
            Ok(r) => Ok(r.iterations),
            Err(Error::NotConverged { iterations, .. }) => {
                *unconverged += 1;
                Ok(iterations)
            }
            Err(e) => Err(e),
        }
    }

    /// z* for every row of x (n×h), with the forward iterations.
    pub fn fixed_point(&self, x: ArrayView2<f64>, counts: &mut SolveCounts) -> Result<Array2<f64>> {
        let (n, h) = (x.nrows(), self.recurrent.outputs());
        let injection = self.input.forward(x);
        let w = &self.recurrent;
        let mut z = vec![0.0; n * h];
        let iterations = self.solve(
            &mut z,
            |zin, out| {
                let zv = ArrayView2::from_shape((n, h), zin).expect("n×h");
                let mut pre = w.forward(zv);
                pre += &injection;
                for (o, p) in out.iter_mut().zip(pre.iter()) {
                    *o = p.max(0.0);
                }
            },
            &mut counts.unconverged,
        )?;
        counts.forward += iterations;
        Ok(Array2::from_shape_vec((n, h), z).expect("n×h"))
    }

    /// ŷ (n×k).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let z = self.fixed_point(x, &mut SolveCounts::default())?;
        Ok(self.readout.forward(z.view()))
    }

    /// The mean loss on a batch and the gradients of (input, recurrent, readout) by implicit differentiation.
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<f64>,
        labels: &[usize],
        loss: Loss,
        counts: &mut SolveCounts,
    ) -> Result<(f64, [DenseGradient<f64>; 3])> {
        let z = self.fixed_point(x, counts)?;
        let y = self.readout.forward(z.view());
        let (value, dy) = loss_and_output_gradient(y.view(), labels, loss);
        let (g_out, dz) = self.readout.backward(z.view(), dy.view(), true);
        let v = dz.expect("input gradient asked");
        // D = relu′ of the pre-activation at z*, which is positive exactly where z* is.
        let mask = z.mapv(|t| if t > 0.0 { 1.0 } else { 0.0 });
        let (n, h) = z.dim();
        let w = &self.recurrent.weight;
        let mut g = v.as_slice().expect("standard layout").to_vec();
        let iterations = self.solve(
            &mut g,
            |gin, out| {
                let gv = ArrayView2::from_shape((n, h), gin).expect("n×h");
                let mut dg = &gv * &mask;
                dg = dg.dot(w);
                Zip::from(&mut dg).and(&v).for_each(|a, &b| *a += b);
                out.copy_from_slice(dg.as_slice().expect("standard layout"));
            },
            &mut counts.unconverged,
        )?;
        counts.backward += iterations;
        let g = Array2::from_shape_vec((n, h), g).expect("n×h");
        let delta = &g * &mask;
        let (g_rec, _) = self.recurrent.backward(z.view(), delta.view(), false);
        let (g_in, _) = self.input.backward(x, delta.view(), false);
        Ok((value, [g_in, g_rec, g_out]))
    }

    /// Trains on (x, labels) with Adam on shuffled mini-batches, as [`train`] does for a stack; returns the
    /// training report and the solves' iteration counts summed over all batches.
    pub fn train(
        &mut self,
        x: ArrayView2<f64>,
        labels: ArrayView1<i64>,
        params: &TrainParams,
        progress: &dyn Progress,
    ) -> Result<(super::train::TrainReport, SolveCounts, usize)> {
        let labels = checked_labels(labels, self.readout.outputs())?;
        if labels.len() != x.nrows() || x.ncols() != self.input.inputs() {
            return Err(Error::Shape {
                what: format!(
                    "{}×{} data and {} labels for a DEQ on {} inputs",
                    x.nrows(),
                    x.ncols(),
                    labels.len(),
                    self.input.inputs()
                ),
            });
        }
        crate::data::check_samples(x)?;
        let mut adam = Adam::new(
            [&self.input, &self.recurrent, &self.readout].into_iter(),
            params.learning_rate(),
        );
        let mut counts = SolveCounts::default();
        let mut batches = 0;
        let report = run_epochs(x.nrows(), params, progress, |batch| {
            let xb = x.select(Axis(0), batch);
            let yb: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
            let (value, grads) =
                self.loss_and_gradients(xb.view(), &yb, params.loss, &mut counts)?;
            adam.step(
                [&mut self.input, &mut self.recurrent, &mut self.readout].into_iter(),
                grads.into_iter(),
            );
            batches += 1;
            Ok(value)
        })?;
        Ok((report, counts, batches))
    }
}

/// The models of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ComparedModel {
    /// [`SimParams::single`].
    SimSingle,
    /// [`SimParams::two`] (bandwidth as given).
    SimTwo,
    /// [`ImplicitClassifier`] of matched size.
    Deq,
    /// Dense(p→w)–ReLU–Dense(w→w)–ReLU–Dense(w→k) of matched size.
    Mlp,
}

impl ComparedModel {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            ComparedModel::SimSingle => "sim-single",
            ComparedModel::SimTwo => "sim-two",
            ComparedModel::Deq => "deq",
            ComparedModel::Mlp => "mlp",
        }
    }
}

/// One row of the comparison.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CompareRow {
    /// The model.
    pub model: &'static str,
    /// Trainable numbers.
    pub params: usize,
    /// Mean test accuracy over the seeds.
    pub test_accuracy_mean: f64,
    /// Its standard deviation (n − 1 in the denominator; 0 for one seed).
    pub test_accuracy_std: f64,
    /// Mean wall time per epoch.
    pub seconds_per_epoch: f64,
    /// DEQ only: mean forward and backward Anderson iterations per batch, and the solves that hit the budget.
    pub forward_iterations: Option<f64>,
    /// See `forward_iterations`.
    pub backward_iterations: Option<f64>,
    /// See `forward_iterations`.
    pub unconverged_solves: Option<usize>,
}

/// Settings of [`compare`].
#[derive(Debug, Clone, Copy)]
pub struct CompareParams {
    /// Training (its seed is offset by the run index).
    pub train: TrainParams,
    /// Runs per model, seeds 0..runs (model seeds and batch orders).
    pub runs: usize,
    /// The two-tier SIM's Fourier bandwidth.
    pub bandwidth: f64,
    /// The DEQ's fixed-point tolerance and budget.
    pub deq_tol: f64,
    /// See `deq_tol`.
    pub deq_max_iter: usize,
}

/// The smallest width w ≥ 1 whose count a·w² + b·w + c reaches `target`.
fn matched_width(a: f64, b: f64, c: f64, target: usize) -> usize {
    let t = target as f64 - c;
    let w = if a > 0.0 {
        (-b + (b * b + 4.0 * a * t).sqrt()) / (2.0 * a)
    } else {
        t / b
    };
    w.round().max(1.0) as usize
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Trains each model `runs` times on (x, labels) and evaluates on (test_x, test_labels). The DEQ and the MLP get
/// widths whose parameter counts match the single-tier SIM's. Progress in batches over all runs.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    models: &[ComparedModel],
    x: ArrayView2<f64>,
    labels: ArrayView1<i64>,
    test_x: ArrayView2<f64>,
    test_labels: ArrayView1<i64>,
    classes: usize,
    params: &CompareParams,
    progress: &dyn Progress,
) -> Result<Vec<CompareRow>> {
    if params.runs == 0 {
        return Err(Error::InvalidParameter {
            name: "runs",
            value: 0.0,
            requirement: "the comparison needs at least one run per model",
        });
    }
    let p = x.ncols();
    let test_y = checked_labels(test_labels, classes)?;
    if test_x.ncols() != p || test_y.len() != test_x.nrows() {
        return Err(Error::Shape {
            what: format!(
                "test data {}×{} with {} labels against training data with {p} features",
                test_x.nrows(),
                test_x.ncols(),
                test_y.len()
            ),
        });
    }
    let single = SimParams::single(p, classes);
    let target = Sim::<f64>::new(single, 0)?.parameter_count();
    let k = classes as f64;
    let pf = p as f64;
    // DEQ: h(p + 1) + h² + k(h + 1); MLP: w(p + 1) + w(w + 1) + k(w + 1).
    let deq_width = matched_width(1.0, pf + 1.0 + k, k, target);
    let mlp_width = matched_width(1.0, pf + 2.0 + k, k, target);
    let mut rows = Vec::new();
    for &model in models {
        let mut accs = Vec::new();
        let (mut seconds, mut count) = (0.0, 0);
        let mut solves = (SolveCounts::default(), 0usize);
        for run in 0..params.runs {
            let seed = run as u64;
            let tp = TrainParams::new(
                params.train.loss,
                params.train.epochs(),
                params.train.batch_size(),
                params.train.learning_rate(),
                params.train.seed() + seed,
            )?;
            let (outputs, report) = match model {
                ComparedModel::Deq => {
                    let mut deq = ImplicitClassifier::new(
                        p,
                        deq_width,
                        classes,
                        params.deq_tol,
                        params.deq_max_iter,
                        seed,
                    )?;
                    count = deq.parameter_count();
                    let (report, c, batches) = deq.train(x, labels, &tp, progress)?;
                    solves.0.forward += c.forward;
                    solves.0.backward += c.backward;
                    solves.0.unconverged += c.unconverged;
                    solves.1 += batches;
                    (deq.predict(test_x)?, report)
                }
                other => {
                    let mut stack: Stack<f64> = match other {
                        ComparedModel::SimSingle => Sim::new(single, seed)?.stack,
                        ComparedModel::SimTwo => {
                            let two =
                                SimParams::two(p, classes).with_bandwidth(params.bandwidth)?;
                            Sim::new(two, seed)?.stack
                        }
                        _ => {
                            let mut rng = ChaCha8Rng::seed_from_u64(seed);
                            Stack {
                                stages: mlp_stages(p, mlp_width, 2, classes, &mut rng),
                            }
                        }
                    };
                    count = stack.parameter_count();
                    let report = train(&mut stack, x, labels, &tp, progress)?;
                    (predict(&stack, test_x, 1024), report)
                }
            };
            accs.push(accuracy(outputs.view(), &test_y));
            seconds += report.seconds_per_epoch();
        }
        let (mean, std) = mean_std(&accs);
        let per_batch = |total: usize| (solves.1 > 0).then(|| total as f64 / solves.1 as f64);
        rows.push(CompareRow {
            model: model.name(),
            params: count,
            test_accuracy_mean: mean,
            test_accuracy_std: std,
            seconds_per_epoch: seconds / params.runs.max(1) as f64,
            forward_iterations: per_batch(solves.0.forward),
            backward_iterations: per_batch(solves.0.backward),
            unconverged_solves: (model == ComparedModel::Deq).then_some(solves.0.unconverged),
        });
    }
    Ok(rows)
}
