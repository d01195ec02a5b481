//! Trainable feed-forward stacks with hand-written back-propagation: dense layers, ReLU and the frozen random
//! Fourier layer, batched as matrix products (rows of every array are samples). The SIM, the MLP it is compared
//! with, and the closed-form variant are all built from these stages (docs/sim.md §Model).

use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::rff::RandomFourier;
use crate::eigen::EigenScalar;
use crate::linalg::matmul_into;

/// A dense layer y = x·Wᵀ + b with W out×in; `bias` is `None` for the SIM's U and V.
#[derive(Debug, Clone)]
pub struct Dense<T> {
    /// W, out×in.
    pub weight: Array2<T>,
    /// b, length out.
    pub bias: Option<Array1<T>>,
}

impl<T: EigenScalar> Dense<T> {
    /// Entries of W and b uniform in [−1/√in, 1/√in] (the default initialisation of common frameworks, which the
    /// reference SIM code inherits).
    pub fn uniform(inputs: usize, outputs: usize, bias: bool, rng: &mut ChaCha8Rng) -> Self {
        let bound = 1.0 / (inputs.max(1) as f64).sqrt();
        let mut draw = || T::from_f64(rng.random_range(-bound..=bound));
        let weight = Array2::from_shape_simple_fn((outputs, inputs), &mut draw);
        let bias = bias.then(|| Array1::from_shape_simple_fn(outputs, &mut draw));
        Dense { weight, bias }
    }

    /// Entries of W from N(0, `weight_variance`) and of b from N(0, `bias_variance`) (no bias with `None`): the
    /// NTK parameterization's random layer, with its 1/fan-in folded into `weight_variance`.
    pub fn gaussian(
        inputs: usize,
        outputs: usize,
        weight_variance: f64,
        bias_variance: Option<f64>,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut draw = |variance: f64| {
            T::from_f64(variance.sqrt() * rng.sample::<f64, _>(rand_distr::StandardNormal))
        };
        let weight = Array2::from_shape_simple_fn((outputs, inputs), || draw(weight_variance));
        let bias = bias_variance.map(|v| Array1::from_shape_simple_fn(outputs, || draw(v)));
        Dense { weight, bias }
    }

    /// Inputs (columns of W).
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Outputs (rows of W).
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// Trainable numbers: out·in (+ out with a bias).
    pub fn parameter_count(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// x·Wᵀ + b for x n×in.
    pub fn forward(&self, x: ArrayView2<T>) -> Array2<T> {
        let mut y = Array2::zeros((x.nrows(), self.outputs()));
        matmul_into(y.view_mut(), x, self.weight.t(), false);
        if let Some(b) = &self.bias {
            y += b;
        }
        y
    }

    /// ∂L/∂W = dyᵀx, ∂L/∂b = Σ_rows dy, and (with `input_gradient`) ∂L/∂x = dy·W.
    pub fn backward(
        &self,
        x: ArrayView2<T>,
        dy: ArrayView2<T>,
        input_gradient: bool,
    ) -> (DenseGradient<T>, Option<Array2<T>>) {
        let mut weight = Array2::zeros(self.weight.raw_dim());
        matmul_into(weight.view_mut(), dy.t(), x, false);
        let bias = self.bias.as_ref().map(|_| dy.sum_axis(Axis(0)));
        let dx = input_gradient.then(|| {
            let mut dx = Array2::zeros((dy.nrows(), self.inputs()));
            matmul_into(dx.view_mut(), dy, self.weight.view(), false);
            dx
        });
        (DenseGradient { weight, bias }, dx)
    }
}

/// The gradient of a loss with respect to one [`Dense`] layer.
#[derive(Debug, Clone)]
pub struct DenseGradient<T> {
    /// ∂L/∂W.
    pub weight: Array2<T>,
    /// ∂L/∂b.
    pub bias: Option<Array1<T>>,
}

/// One stage of a [`Stack`].
#[derive(Debug, Clone)]
pub enum Stage<T> {
    /// A trainable dense layer.
    Dense(Dense<T>),
    /// max(0, x) entrywise.
    Relu,
    /// The frozen random Fourier layer (two-tier SIM).
    Fourier(RandomFourier<T>),
}

/// A feed-forward composition of stages, applied left to right.
#[derive(Debug, Clone)]
pub struct Stack<T> {
    /// The stages.
    pub stages: Vec<Stage<T>>,
}

/// What the forward pass keeps for back-propagation: the input of every stage and the output.
#[derive(Debug, Clone)]
pub struct Trace<T> {
    /// `activations[i]` is the input of stage i; the last entry is the stack's output.
    pub activations: Vec<Array2<T>>,
}

impl<T> Trace<T> {
    /// The stack's output.
    pub fn output(&self) -> &Array2<T> {
        self.activations
            .last()
            .expect("a trace holds at least the input")
    }
}

fn relu<T: EigenScalar>(x: T) -> T {
    if x > T::zero() {
        x
    } else {
        T::zero()
    }
}

impl<T: EigenScalar> Stack<T> {
    /// Width of the input (the first dense or Fourier stage's input), if any stage fixes it.
    pub fn input_dim(&self) -> Option<usize> {
        self.stages.iter().find_map(|s| match s {
            Stage::Dense(d) => Some(d.inputs()),
            Stage::Fourier(f) => Some(f.inputs()),
            Stage::Relu => None,
        })
    }

    /// Trainable numbers of all dense stages.
    pub fn parameter_count(&self) -> usize {
        self.stages
            .iter()
            .map(|s| match s {
                Stage::Dense(d) => d.parameter_count(),
                _ => 0,
            })
            .sum()
    }

    /// The output for inputs x (n×in).
    pub fn forward(&self, x: ArrayView2<T>) -> Array2<T> {
        self.forward_prefix(x, self.stages.len())
    }

    /// The output of the first `count` stages.
    pub fn forward_prefix(&self, x: ArrayView2<T>, count: usize) -> Array2<T> {
        let mut h = x.to_owned();
        for stage in &self.stages[..count.min(self.stages.len())] {
            h = apply(stage, h.view());
        }
        h
    }

    /// The output with every intermediate kept for [`Stack::backward`].
    pub fn forward_traced(&self, x: ArrayView2<T>) -> Trace<T> {
        let mut activations = Vec::with_capacity(self.stages.len() + 1);
        activations.push(x.to_owned());
        for stage in &self.stages {
            let next = apply(stage, activations.last().expect("input pushed").view());
            activations.push(next);
        }
        Trace { activations }
    }

    /// Back-propagation of ∂L/∂output through the stack: the gradient of every dense stage (`None` for the
    /// others), in stage order. The input's gradient is not formed.
    pub fn backward(&self, trace: &Trace<T>, d_output: Array2<T>) -> Vec<Option<DenseGradient<T>>> {
        let mut grads: Vec<Option<DenseGradient<T>>> = vec![None; self.stages.len()];
        let first_trained = self
            .stages
            .iter()
            .position(|s| matches!(s, Stage::Dense(_)))
            .unwrap_or(self.stages.len());
        let mut dy = d_output;
        for (i, stage) in self.stages.iter().enumerate().rev() {
            if i < first_trained {
                break;
            }
            let x = trace.activations[i].view();
            let need_input = i > first_trained;
            match stage {
                Stage::Dense(d) => {
                    let (g, dx) = d.backward(x, dy.view(), need_input);
                    grads[i] = Some(g);
                    match dx {
                        Some(dx) => dy = dx,
                        None => break,
                    }
                }
                Stage::Relu => {
                    Zip::from(&mut dy).and(&x).for_each(|g, &v| {
                        if v <= T::zero() {
                            *g = T::zero();
                        }
                    });
                }
                Stage::Fourier(f) => dy = f.backward(x, dy.view()),
            }
        }
        grads
    }

    /// The dense stages, in order, mutably (for an optimizer).
    pub fn dense_mut(&mut self) -> impl Iterator<Item = &mut Dense<T>> {
        self.stages.iter_mut().filter_map(|s| match s {
            Stage::Dense(d) => Some(d),
            _ => None,
        })
    }
}

fn apply<T: EigenScalar>(stage: &Stage<T>, x: ArrayView2<T>) -> Array2<T> {
    match stage {
        Stage::Dense(d) => d.forward(x),
        Stage::Relu => x.mapv(relu),
        Stage::Fourier(f) => f.forward(x),
    }
}

/// Dense(in → width)–ReLU–…–Dense(→ out): `hidden` ReLU layers of `width` with biases, then a linear output
/// layer with a bias.
pub fn mlp_stages<T: EigenScalar>(
    inputs: usize,
    width: usize,
    hidden: usize,
    outputs: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Stage<T>> {
    let mut stages = Vec::with_capacity(2 * hidden + 1);
    let mut fan_in = inputs;
    for _ in 0..hidden {
        stages.push(Stage::Dense(Dense::uniform(fan_in, width, true, rng)));
        stages.push(Stage::Relu);
        fan_in = width;
    }
    stages.push(Stage::Dense(Dense::uniform(fan_in, outputs, true, rng)));
    stages
}
