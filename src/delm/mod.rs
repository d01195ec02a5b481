//! The deep equilibrium linear model (math §9): z = γσ(A)z + φ(x), f(x) = Bz*, σ the column-wise softmax.
//!
//! Every column of σ(A) sums to one, so ‖γσ(A)‖₁ = γ < 1 and U = I − γσ(A) is invertible for every A: the
//! forward pass is one LU solve Z = U⁻¹Φ for all samples (Φ = [φ(x₁) … φ(x_n)], m×n), never an unrolled
//! iteration. With F = BZ and R = ∂L/∂F, implicit differentiation gives ∂L/∂B = RZᵀ and
//! ∂L/∂σ(A) = γU⁻ᵀBᵀRZᵀ, then ∂L/∂A column by column through the softmax Jacobian
//! J_j = diag(s_j) − s_js_jᵀ.
//!
//! The model is a reparametrization of the shallow linear model F = WΦ with W = BU⁻¹, so gradient descent on
//! (A, B) moves W by a preconditioned step: with G = ∇_W L = RΦᵀ,
//!
//! ```text
//! Ẇ = −P_t(G),   P_t(G) = G(UUᵀ)⁻¹ + γ²BU⁻¹·J²[U⁻ᵀBᵀGU⁻ᵀ]·U⁻¹,
//! ```
//!
//! J² applied column by column (the first term is Ḃ's share, ḂU⁻¹ = −GU⁻ᵀU⁻¹; the second A's, through
//! d(U⁻¹)/dt = γU⁻¹σ(A)˙U⁻¹). P_t is symmetric and positive definite on d×m matrices:
//! ⟨G, P_t(G)⟩ ≥ ‖GU⁻ᵀ‖² ≥ ‖G‖²/‖U‖₂², so λ_min(P_t) ≥ 1/‖U‖₂², and the loss converges to the global minimum L* of the convex shallow
//! problem min_W L(WΦ) at a linear rate (for the square loss, d(L − L*)/dt ≤ −2λ_min(P_t)λ⁺(ΦΦᵀ)(L − L*),
//! λ⁺ the smallest non-zero eigenvalue) — whatever the width m, also below the output dimension d and below n.

pub mod train;

use crate::linalg::zeroed_matrix;
use faer::linalg::solvers::Solve;
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use crate::linalg::matmul_into;
use crate::{Error, Result};

/// The loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Loss {
    /// ½Σ_i‖f(x_i) − y_i‖² with one-hot (or real) targets.
    Square,
    /// Σ_i −log softmax(f(x_i))_{y_i}.
    CrossEntropy,
}

/// The model's parameters: A (m×m), B (d×m) and γ ∈ (0, 1).
#[derive(Debug, Clone)]
pub struct Delm {
    /// A (m×m), whose column-wise softmax is the implicit layer's weight.
    pub a: Array2<f64>,
    /// B (d×m), the readout.
    pub b: Array2<f64>,
    gamma: f64,
}

/// Column-wise softmax.
pub fn column_softmax(a: &Array2<f64>) -> Array2<f64> {
    let mut s = a.clone();
    for mut col in s.axis_iter_mut(Axis(1)) {
        let max = col.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        col.mapv_inplace(|v| (v - max).exp());
        let total = col.sum();
        col.mapv_inplace(|v| v / total);
    }
    s
}

fn to_faer(a: &Array2<f64>) -> faer::Mat<f64> {
    faer::Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: faer::MatRef<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// The forward state: U = I − γσ(A) (LU-factored), σ(A), Z = U⁻¹Φ and F = BZ.
pub struct Forward {
    /// σ(A).
    pub s: Array2<f64>,
    /// U = I − γσ(A).
    pub u: Array2<f64>,
    lu: faer::linalg::solvers::PartialPivLu<f64>,
    /// Z = U⁻¹Φ (m×n).
    pub z: Array2<f64>,
    /// F = BZ (d×n).
    pub f: Array2<f64>,
}

impl Forward {
    /// U⁻¹M.
    pub fn solve(&self, m: &Array2<f64>) -> Array2<f64> {
        from_faer(self.lu.solve(to_faer(m)).as_ref())
    }
    /// U⁻ᵀM.
    pub fn solve_transpose(&self, m: &Array2<f64>) -> Array2<f64> {
        from_faer(self.lu.solve_transpose(to_faer(m)).as_ref())
    }
}

/// The loss and R = ∂L/∂F (d×n) for outputs F and labels (classes 0..d−1; one-hot targets for the square loss).
/// Labels of the wrong count or outside 0..d−1 are refused.
pub fn loss_and_residual(
    f: &Array2<f64>,
    labels: ArrayView1<i64>,
    loss: Loss,
) -> Result<(f64, Array2<f64>)> {
    crate::data::check_labels(labels, f.ncols(), f.nrows())?;
    let mut r = f.clone();
    let mut total = 0.0;
    match loss {
        Loss::Square => {
            for (i, &l) in labels.iter().enumerate() {
                r[[l as usize, i]] -= 1.0;
            }
            total = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
        }
        Loss::CrossEntropy => {
            for (i, mut col) in r.axis_iter_mut(Axis(1)).enumerate() {
                let max = col.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let lse = max + col.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                let l = labels[i] as usize;
                total += lse - col[l];
                col.mapv_inplace(|v| (v - lse).exp());
                col[l] -= 1.0;
            }
        }
    }
    Ok((total, r))
}

/// Gradients of the loss with respect to A and B, and G = ∇_W L of the shallow model at W = BU⁻¹.
pub struct Gradients {
    /// ∂L/∂A.
    pub a: Array2<f64>,
    /// ∂L/∂B.
    pub b: Array2<f64>,
    /// ∇_W L of the shallow model at W = BU⁻¹.
    pub w: Array2<f64>,
    /// L.
    pub loss: f64,
}

impl Delm {
    /// Checked: A square (m×m), B with m columns, γ ∈ (0, 1), finite entries.
    pub fn new(a: Array2<f64>, b: Array2<f64>, gamma: f64) -> Result<Self> {
        if !(gamma > 0.0 && gamma < 1.0) {
            return Err(Error::InvalidParameter {
                name: "gamma",
                value: gamma,
                requirement: "must lie in (0, 1): γσ(A) is then a contraction for every A",
            });
        }
        if a.nrows() != a.ncols() || b.ncols() != a.nrows() || a.nrows() == 0 || b.nrows() == 0 {
            return Err(Error::Shape {
                what: format!(
                    "A must be m×m and B d×m with m, d ≥ 1; got A {:?}, B {:?}",
                    a.dim(),
                    b.dim()
                ),
            });
        }
        if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "DELM parameters",
                location: "A or B".into(),
            });
        }
        Ok(Delm { a, b, gamma })
    }

    /// A random start of width m with d outputs: A with i.i.d. N(0, 1) entries and B with N(0, 0.01) entries,
    /// drawn in that order from ChaCha8 seeded with `seed`.
    pub fn random(width: usize, outputs: usize, gamma: f64, seed: u64) -> Result<Self> {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let a = crate::network::Weights::Gaussian.draw(width, width, &mut rng)?;
        let b = crate::network::Weights::Gaussian.draw(outputs, width, &mut rng)? * 0.1;
        Delm::new(a, b, gamma)
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// Width m.
    pub fn width(&self) -> usize {
        self.a.nrows()
    }

    fn check_features(&self, phi: ArrayView2<f64>) -> Result<()> {
        if phi.nrows() != self.width() {
            return Err(Error::Shape {
                what: format!(
                    "features Φ have {} rows, the model's width is {}",
                    phi.nrows(),
                    self.width()
                ),
            });
        }
        crate::data::check_samples(phi.t())
    }

    /// Z = U⁻¹Φ by one LU solve, and F = BZ.
    pub fn forward(&self, phi: ArrayView2<f64>) -> Result<Forward> {
        self.check_features(phi)?;
        let m = self.width();
        let s = column_softmax(&self.a);
        let u = Array2::from_shape_fn((m, m), |(i, j)| {
            (if i == j { 1.0 } else { 0.0 }) - self.gamma * s[[i, j]]
        });
        let lu = to_faer(&u).partial_piv_lu();
        let z = from_faer(lu.solve(to_faer(&phi.to_owned())).as_ref());
        let mut f = zeroed_matrix::<f64>(self.b.nrows(), phi.ncols())?;
        matmul_into(f.view_mut(), self.b.view(), z.view(), false);
        Ok(Forward { s, u, lu, z, f })
    }

    /// The loss of the model on (Φ, labels).
    pub fn loss(&self, phi: ArrayView2<f64>, labels: ArrayView1<i64>, loss: Loss) -> Result<f64> {
        self.check_labels(phi, labels)?;
        Ok(loss_and_residual(&self.forward(phi)?.f, labels, loss)?.0)
    }

    fn check_labels(&self, phi: ArrayView2<f64>, labels: ArrayView1<i64>) -> Result<()> {
        crate::data::check_labels(labels, phi.ncols(), self.b.nrows())
    }

    /// ∂L/∂A and ∂L/∂B by implicit differentiation, and ∇_W L = RΦᵀ.
    pub fn gradients(
        &self,
        phi: ArrayView2<f64>,
        labels: ArrayView1<i64>,
        loss: Loss,
    ) -> Result<Gradients> {
        self.check_labels(phi, labels)?;
        let fw = self.forward(phi)?;
        let (value, r) = loss_and_residual(&fw.f, labels, loss)?;
        let (d, m) = self.b.dim();
        let mut gb = zeroed_matrix::<f64>(d, m)?;
        matmul_into(gb.view_mut(), r.view(), fw.z.t(), false);
        // ∂L/∂σ(A) = γU⁻ᵀ(BᵀR)Zᵀ.
        let mut btr = zeroed_matrix::<f64>(m, r.ncols())?;
        matmul_into(btr.view_mut(), self.b.t(), r.view(), false);
        let v = fw.solve_transpose(&btr);
        let mut gs = zeroed_matrix::<f64>(m, m)?;
        matmul_into(gs.view_mut(), v.view(), fw.z.t(), false);
        gs.mapv_inplace(|x| x * self.gamma);
        let ga = softmax_backward(&fw.s, &gs);
        let mut gw = zeroed_matrix::<f64>(d, m)?;
        matmul_into(gw.view_mut(), r.view(), phi.t(), false);
        Ok(Gradients {
            a: ga,
            b: gb,
            w: gw,
            loss: value,
        })
    }

    /// W = BU⁻¹, the shallow model this DEQ represents.
    pub fn shallow_weights(&self) -> Result<Array2<f64>> {
        let m = self.width();
        let s = column_softmax(&self.a);
        let u = Array2::from_shape_fn((m, m), |(i, j)| {
            (if i == j { 1.0 } else { 0.0 }) - self.gamma * s[[i, j]]
        });
        // W = BU⁻¹ ⇔ Wᵀ = U⁻ᵀBᵀ.
        let lu = to_faer(&u).partial_piv_lu();
        let wt = from_faer(lu.solve_transpose(to_faer(&self.b.t().to_owned())).as_ref());
        Ok(wt.t().to_owned())
    }

    /// The preconditioner P_t of the module documentation applied to a d×m matrix G.
    pub fn preconditioner(&self, g: &Array2<f64>) -> Result<Array2<f64>> {
        let (d, m) = self.b.dim();
        if g.dim() != (d, m) {
            return Err(Error::Shape {
                what: format!("G is {:?}, expected {d}×{m}", g.dim()),
            });
        }
        let s = column_softmax(&self.a);
        let u = Array2::from_shape_fn((m, m), |(i, j)| {
            (if i == j { 1.0 } else { 0.0 }) - self.gamma * s[[i, j]]
        });
        let lu = to_faer(&u).partial_piv_lu();
        let solve_t = |x: &Array2<f64>| from_faer(lu.solve_transpose(to_faer(x)).as_ref());
        let solve = |x: &Array2<f64>| from_faer(lu.solve(to_faer(x)).as_ref());
        // G(UUᵀ)⁻¹ = GU⁻ᵀU⁻¹ = (U⁻ᵀU⁻¹Gᵀ)ᵀ.
        let first = solve_t(&solve(&g.t().to_owned())).t().to_owned();
        // γ²BU⁻¹·J²[U⁻ᵀBᵀGU⁻ᵀ]·U⁻¹.
        let mut btg = zeroed_matrix::<f64>(m, m)?;
        matmul_into(btg.view_mut(), self.b.t(), g.view(), false);
        // (U⁻ᵀBᵀG)U⁻ᵀ = (U⁻¹(U⁻ᵀBᵀG)ᵀ)ᵀ.
        let inner = solve(&solve_t(&btg).t().to_owned()).t().to_owned();
        let j2 = softmax_backward(&s, &softmax_backward(&s, &inner));
        let right = solve_t(&j2.t().to_owned()).t().to_owned();
        let left = solve_t(&self.b.t().to_owned()).t().to_owned();
        let mut second = zeroed_matrix::<f64>(d, m)?;
        matmul_into(second.view_mut(), left.view(), right.view(), false);
        Ok(first + second.mapv(|x| x * self.gamma * self.gamma))
    }
}

/// Column by column, J_j·g_j with J_j = diag(s_j) − s_js_jᵀ: s ⊙ (g − 1(sᵀg)).
pub fn softmax_backward(s: &Array2<f64>, g: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros(s.raw_dim());
    for ((mut o, sc), gc) in out
        .axis_iter_mut(Axis(1))
        .zip(s.axis_iter(Axis(1)))
        .zip(g.axis_iter(Axis(1)))
    {
        let dot: f64 = sc.iter().zip(gc.iter()).map(|(a, b)| a * b).sum();
        for ((oi, &si), &gi) in o.iter_mut().zip(sc.iter()).zip(gc.iter()) {
            *oi = si * (gi - dot);
        }
    }
    out
}

/// Class labels as one row of ones per class (for the square loss's targets), d×n; labels outside 0..d−1 are
/// refused.
pub fn one_hot_targets(labels: ArrayView1<i64>, d: usize) -> Result<Array2<f64>> {
    crate::data::check_labels(labels, labels.len(), d)?;
    let mut y = zeroed_matrix::<f64>(d, labels.len())?;
    for (i, &l) in labels.iter().enumerate() {
        y[[l as usize, i]] = 1.0;
    }
    Ok(y)
}

/// Features Φ (m×n) for data X (n×p): the identity (m = p) or a fixed random map tanh(VXᵀ/√p) with
/// V ~ N(0, 1)^{m×p}.
pub fn features(x: ArrayView2<f64>, random_width: Option<usize>, seed: u64) -> Result<Array2<f64>> {
    crate::data::check_samples(x)?;
    match random_width {
        None => Ok(x.t().to_owned()),
        Some(m) => {
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let p = x.ncols();
            let v = crate::network::Weights::Gaussian.draw(m, p, &mut rng)?;
            let mut h = zeroed_matrix::<f64>(m, x.nrows())?;
            matmul_into(h.view_mut(), v.view(), x.t(), false);
            let s = 1.0 / (p as f64).sqrt();
            h.mapv_inplace(|t| (t * s).tanh());
            Ok(h)
        }
    }
}

/// The trust-region Newton step of the shallow square loss ½‖WΦ − Y‖² at gradient G: the minimizer of
/// ⟨G, Δ⟩ + ½‖ΔΦ‖² over ‖Δ‖_F ≤ `radius`, Δ = −G(ΦΦᵀ + λI)⁻¹ with the smallest λ ≥ 0 that keeps ‖Δ‖_F within the
/// radius (found by bisection on log λ). Compared with the DEQ's induced step −P_t(G) in the tests and
/// docs/delm.md.
pub fn trust_region_newton_step(
    phi: ArrayView2<f64>,
    g: &Array2<f64>,
    radius: f64,
) -> Result<Array2<f64>> {
    crate::error::check_positive("radius", radius)?;
    let m = phi.nrows();
    if g.ncols() != m {
        return Err(Error::Shape {
            what: format!("G has {} columns, Φ has {m} rows", g.ncols()),
        });
    }
    let mut h = zeroed_matrix::<f64>(m, m)?;
    matmul_into(h.view_mut(), phi, phi.t(), false);
    let step = |lambda: f64| -> Array2<f64> {
        let a =
            faer::Mat::<f64>::from_fn(m, m, |i, j| h[[i, j]] + if i == j { lambda } else { 0.0 });
        // Δ = −G(H + λI)⁻¹ ⇔ Δᵀ = −(H + λI)⁻¹Gᵀ.
        let lu = a.partial_piv_lu();
        let dt = lu.solve(to_faer(&g.t().to_owned()));
        -from_faer(dt.as_ref()).t().to_owned()
    };
    let norm = |d: &Array2<f64>| d.iter().map(|v| v * v).sum::<f64>().sqrt();
    let scale = h.diag().iter().fold(0f64, |a, v| a.max(*v)).max(1e-300);
    let free = step(1e-12 * scale);
    if norm(&free) <= radius {
        return Ok(free);
    }
    let (mut lo, mut hi) = ((1e-12 * scale).ln(), (1e12 * scale).ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if norm(&step(mid.exp())) > radius {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(step(hi.exp()))
}
