//! The Koopman view of a DEQ that motivates the SIM, made checkable (math §10, docs/sim.md §Koopman).
//!
//! - A linear DEQ z ← γAz + Bx is linear in (z, x): its augmented map M = [[γA, B], [0, I]] is the Koopman operator
//!   on linear observables. Its spectral projection onto λ = 1 is P₁ = [[0, (I − γA)⁻¹B], [0, I]], and the top
//!   block of P₁(z₀; x) is the fixed point z*. [`LinearDeq::spectral_projection`] computes P₁ from the λ = 1
//!   right and left eigenvectors, P₁ = R(YᵀR)⁻¹Yᵀ, to compare with [`LinearDeq::closed_form_projection`].
//! - A nonlinear DEQ z ← tanh(Wz + Ux + b): extended dynamic mode decomposition ([`edmd`]) fits the Koopman
//!   operator on a dictionary of observables from snapshot pairs; the constant observable gives the eigenvalue 1
//!   exactly, and [`Edmd::fixed_point_value`] reads g(z*) off the λ = 1 projection.

use faer::linalg::solvers::{Solve, SolveLstsq};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};

use crate::eigen::{EigenRequest, FaerEigen, Subset, SymmetricEigensolver};
use crate::linalg::{faer_ref, matmul_into};
use crate::{Error, Result};

/// A complex eigenvalue (re, im).
pub type Complex = (f64, f64);

/// Eigenvalues of a general real square matrix, in descending modulus.
pub fn general_eigenvalues(a: ArrayView2<f64>) -> Result<Vec<Complex>> {
    if a.nrows() != a.ncols() {
        return Err(Error::Shape {
            what: format!("eigenvalues of a {}×{} matrix", a.nrows(), a.ncols()),
        });
    }
    if a.nrows() == 0 {
        return Ok(Vec::new());
    }
    crate::data::check_samples(a)?;
    let values = faer_ref(a).eigenvalues().map_err(|e| {
        Error::Eigen(crate::eigen::Error::Backend {
            backend: "faer (general eigenvalues)",
            detail: format!("{e:?}"),
        })
    })?;
    let mut out: Vec<Complex> = values.iter().map(|c| (c.re, c.im)).collect();
    out.sort_by(|p, q| q.0.hypot(q.1).total_cmp(&p.0.hypot(p.1)));
    Ok(out)
}

/// The `count` right singular vectors of `a` with the smallest singular values (columns): an orthonormal basis of
/// its null space when that has dimension `count`.
fn null_vectors(a: ArrayView2<f64>, count: usize) -> Result<Array2<f64>> {
    let svd = faer_ref(a).svd().map_err(|e| {
        Error::Eigen(crate::eigen::Error::Backend {
            backend: "faer (SVD)",
            detail: format!("{e:?}"),
        })
    })?;
    let n = a.ncols();
    let v = svd.V();
    // Singular values come in descending order.
    Ok(Array2::from_shape_fn((n, count.min(n)), |(i, k)| {
        v[(i, n - count.min(n) + k)]
    }))
}

/// The number of eigenvalues of `a` within `tol` of 1.
fn multiplicity_of_one(eigenvalues: &[Complex], tol: f64) -> usize {
    eigenvalues
        .iter()
        .filter(|&&(re, im)| (re - 1.0).hypot(im) <= tol)
        .count()
}

/// P = R(YᵀR)⁻¹Yᵀ, the oblique projection with range span(R) and kernel span(Y)^⊥.
fn oblique_projection(r: &Array2<f64>, y: &Array2<f64>) -> Result<Array2<f64>> {
    let mut ytr = Array2::zeros((y.ncols(), r.ncols()));
    matmul_into(ytr.view_mut(), y.t(), r.view(), false);
    let lu = faer_ref(ytr.view()).partial_piv_lu();
    let yt = y.t().to_owned();
    let sol = lu.solve(faer_ref(yt.view()));
    let sol = Array2::from_shape_fn((sol.nrows(), sol.ncols()), |(i, j)| sol[(i, j)]);
    let mut p = Array2::zeros((r.nrows(), sol.ncols()));
    matmul_into(p.view_mut(), r.view(), sol.view(), false);
    if p.iter().any(|v| !v.is_finite()) {
        return Err(Error::Undefined {
            quantity: "the spectral projection onto λ = 1",
            activation: "(Koopman)".into(),
            why: "the λ = 1 eigenvalue is defective (left and right eigenvectors orthogonal)",
        });
    }
    Ok(p)
}

/// The spectral 2-norm ‖A‖₂ (largest singular value).
pub fn spectral_norm(a: ArrayView2<f64>) -> Result<f64> {
    let mut g = Array2::zeros((a.ncols(), a.ncols()));
    matmul_into(g.view_mut(), a.t(), a, false);
    let top = FaerEigen::default().solve(g.view(), &EigenRequest::subset(Subset::Largest(1)))?;
    Ok(top.values.first().copied().unwrap_or(0.0).max(0.0).sqrt())
}

/// A linear DEQ z ← γAz + Bx with ρ(γA) < 1.
#[derive(Debug, Clone)]
pub struct LinearDeq {
    /// A (d_z×d_z).
    pub a: Array2<f64>,
    /// B (d_z×d_x).
    pub b: Array2<f64>,
    /// γ.
    pub gamma: f64,
}

impl LinearDeq {
    /// Checked: shapes fit and the spectral radius of γA is below 1 (the iteration converges for every x).
    pub fn new(a: Array2<f64>, b: Array2<f64>, gamma: f64) -> Result<Self> {
        if a.nrows() != a.ncols() || b.nrows() != a.nrows() {
            return Err(Error::Shape {
                what: format!(
                    "A must be square and B have as many rows: A is {}×{}, B is {}×{}",
                    a.nrows(),
                    a.ncols(),
                    b.nrows(),
                    b.ncols()
                ),
            });
        }
        crate::error::check_positive("gamma", gamma)?;
        let deq = LinearDeq { a, b, gamma };
        let rho = deq.spectral_radius()?;
        if rho >= 1.0 {
            return Err(Error::OutsideContraction {
                model: "linear DEQ",
                factor: rho,
                parameter: "gamma",
                max_safe: gamma / rho,
            });
        }
        Ok(deq)
    }

    /// A random linear DEQ: A = G/‖G‖₂ with G Gaussian (so ρ(γA) ≤ γ), B Gaussian/√d_x, from `seed`; with
    /// `rotation` the first 2×2 block of γA is replaced by a rotation by `rotation` radians (eigenvalues
    /// e^{±iθ} on the unit circle, decoupled from the rest): the invariant-set case, where Mᵗ does not converge.
    pub fn random(
        dz: usize,
        dx: usize,
        gamma: f64,
        rotation: Option<f64>,
        seed: u64,
    ) -> Result<Self> {
        if dz == 0 || dx == 0 || (rotation.is_some() && dz < 2) {
            return Err(Error::InvalidParameter {
                name: "dz",
                value: dz as f64,
                requirement: "d_z ≥ 1 and d_x ≥ 1 (d_z ≥ 2 with a rotation block)",
            });
        }
        crate::error::check_positive("gamma", gamma)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = crate::linalg::filled_matrix(dz, dz, || {
            <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
        })?;
        let law = Normal::new(0.0, 1.0 / (dx as f64).sqrt()).expect("a positive scale");
        let b = crate::linalg::filled_matrix(dz, dx, || law.sample(&mut rng))?;
        let norm = spectral_norm(g.view())?;
        g /= norm;
        match rotation {
            None => LinearDeq::new(g, b, gamma),
            Some(theta) => {
                // The rest keeps ρ(γA_rest) ≤ γ‖A_rest‖₂ ≤ γ < 1; only the rotation sits on the unit circle.
                g.slice_mut(s![..2, ..]).fill(0.0);
                g.slice_mut(s![.., ..2]).fill(0.0);
                let (sin, cos) = theta.sin_cos();
                g.slice_mut(s![..2, ..2])
                    .assign(&(ndarray::array![[cos, -sin], [sin, cos]] / gamma));
                Ok(LinearDeq { a: g, b, gamma })
            }
        }
    }

    /// ρ(γA).
    pub fn spectral_radius(&self) -> Result<f64> {
        let ga = &self.a * self.gamma;
        Ok(general_eigenvalues(ga.view())?
            .first()
            .map_or(0.0, |&(re, im)| re.hypot(im)))
    }

    /// d_z, d_x.
    pub fn dims(&self) -> (usize, usize) {
        (self.a.nrows(), self.b.ncols())
    }

    /// M = [[γA, B], [0, I]].
    pub fn augmented(&self) -> Array2<f64> {
        let (dz, dx) = self.dims();
        let mut m = Array2::zeros((dz + dx, dz + dx));
        m.slice_mut(s![..dz, ..dz]).assign(&(&self.a * self.gamma));
        m.slice_mut(s![..dz, dz..]).assign(&self.b);
        for i in 0..dx {
            m[[dz + i, dz + i]] = 1.0;
        }
        m
    }

    /// (I − γA)⁻¹B.
    pub fn fixed_point_map(&self) -> Array2<f64> {
        let dz = self.a.nrows();
        let i_minus = Array2::<f64>::eye(dz) - &self.a * self.gamma;
        let lu = faer_ref(i_minus.view()).partial_piv_lu();
        let sol = lu.solve(faer_ref(self.b.view()));
        Array2::from_shape_fn((sol.nrows(), sol.ncols()), |(i, j)| sol[(i, j)])
    }

    /// z* = (I − γA)⁻¹Bx by a direct solve.
    pub fn fixed_point(&self, x: ArrayView1<f64>) -> Array1<f64> {
        self.fixed_point_map().dot(&x)
    }

    /// P₁ = [[0, (I − γA)⁻¹B], [0, I]].
    pub fn closed_form_projection(&self) -> Array2<f64> {
        let (dz, dx) = self.dims();
        let mut p = Array2::zeros((dz + dx, dz + dx));
        p.slice_mut(s![..dz, dz..]).assign(&self.fixed_point_map());
        for i in 0..dx {
            p[[dz + i, dz + i]] = 1.0;
        }
        p
    }

    /// P₁ from the spectrum: with m the number of eigenvalues of M within 1e-9 of 1, R and Y orthonormal bases of
    /// the λ = 1 right and left eigenvectors (the m smallest singular vectors of M − I and Mᵀ − I), and
    /// P₁ = R(YᵀR)⁻¹Yᵀ.
    pub fn spectral_projection(&self) -> Result<Array2<f64>> {
        let m = self.augmented();
        let n = m.nrows();
        let count = multiplicity_of_one(&general_eigenvalues(m.view())?, 1e-9);
        if count == 0 {
            return Err(Error::Undefined {
                quantity: "the spectral projection onto λ = 1",
                activation: "(Koopman)".into(),
                why: "1 is not an eigenvalue of the augmented map",
            });
        }
        let shifted = &m - &Array2::<f64>::eye(n);
        let r = null_vectors(shifted.view(), count)?;
        let y = null_vectors(shifted.t(), count)?;
        oblique_projection(&r, &y)
    }

    /// The spectral projection against its closed form, and the fixed point read from it against a direct
    /// solve of (I − γA)z = Bx for `draws` random (z₀; x) (standard Gaussian from `seed`), both in max-norm.
    pub fn projection_report(&self, draws: usize, seed: u64) -> Result<ProjectionReport> {
        let p = self.spectral_projection()?;
        let closed = self.closed_form_projection();
        let projection_error = p
            .iter()
            .zip(closed.iter())
            .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        let (dz, dx) = self.dims();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let map = self.fixed_point_map();
        let mut fixed_point_error = 0f64;
        for _ in 0..draws {
            let z0x = Array1::from_shape_simple_fn(dz + dx, || {
                <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
            });
            let read = p.dot(&z0x);
            let direct = map.dot(&z0x.slice(s![dz..]));
            for (a, b) in read.slice(s![..dz]).iter().zip(direct.iter()) {
                fixed_point_error = fixed_point_error.max((a - b).abs());
            }
        }
        Ok(ProjectionReport {
            projection: p,
            projection_error,
            fixed_point_error,
        })
    }

    /// The Cesàro mean (1/T)Σ_{t<T} Mᵗ.
    pub fn cesaro_mean(&self, horizon: usize) -> Array2<f64> {
        let m = self.augmented();
        let n = m.nrows();
        let mut power = Array2::<f64>::eye(n);
        let mut sum = Array2::<f64>::zeros((n, n));
        for _ in 0..horizon {
            sum += &power;
            power = power.dot(&m);
        }
        sum / horizon.max(1) as f64
    }
}

/// The λ = 1 projection of a linear DEQ, checked ([`LinearDeq::projection_report`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProjectionReport {
    /// P₁ from the spectrum.
    pub projection: Array2<f64>,
    /// max |P₁ − P₁,closed form|.
    pub projection_error: f64,
    /// max |top block of P₁(z₀; x) − z*| over the draws.
    pub fixed_point_error: f64,
}

/// EDMD of a tanh DEQ at one input, checked ([`TanhDeq::edmd_report`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EdmdReport {
    /// The fit.
    pub fit: Edmd,
    /// The Jacobian's eigenvalues at z*, descending modulus.
    pub jacobian_eigenvalues: Vec<Complex>,
    /// max_i |P₁ zᵢ − z*ᵢ|, the fixed point read from the λ = 1 projection of the coordinate observables.
    pub fixed_point_error: f64,
}

/// A dictionary of observables for EDMD.
#[derive(Debug, Clone)]
pub enum Dictionary {
    /// All monomials of total degree ≤ `degree` in the state's coordinates (the constant included).
    Monomials {
        /// The largest total degree.
        degree: usize,
    },
    /// The constant, the coordinates, and `features` random Fourier features cos(w·z + b), w ~ N(0, I/bw²).
    Fourier {
        /// Frequencies (rows) and phases.
        frequencies: Array2<f64>,
        /// Phases.
        phases: Array1<f64>,
    },
}

impl Dictionary {
    /// Random Fourier features for states of dimension `dim`.
    pub fn fourier(dim: usize, features: usize, bandwidth: f64, seed: u64) -> Result<Self> {
        crate::error::check_positive("bandwidth", bandwidth)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let law = Normal::new(0.0, 1.0 / bandwidth).expect("a positive scale");
        let frequencies = Array2::from_shape_simple_fn((features, dim), || law.sample(&mut rng));
        let phases = Array1::from_shape_simple_fn(features, || {
            rand::Rng::random_range(&mut rng, 0.0..std::f64::consts::TAU)
        });
        Ok(Dictionary::Fourier {
            frequencies,
            phases,
        })
    }

    /// The exponent vectors of the monomials of total degree ≤ `degree` in `dim` variables, constant first, then
    /// by degree.
    pub fn monomial_exponents(dim: usize, degree: usize) -> Vec<Vec<usize>> {
        let mut out = vec![vec![0; dim]];
        let mut last = vec![vec![0; dim]];
        for _ in 0..degree {
            let mut next = Vec::new();
            for e in &last {
                let start = e.iter().rposition(|&v| v > 0).unwrap_or(0);
                for j in start..dim {
                    let mut f = e.clone();
                    f[j] += 1;
                    next.push(f);
                }
            }
            out.extend(next.iter().cloned());
            last = next;
        }
        out
    }

    /// Ψ: the dictionary evaluated at every row of `states` (N×dim), N×m. The constant is column 0 and the
    /// coordinates z_i columns 1..=dim.
    pub fn evaluate(&self, states: ArrayView2<f64>) -> Array2<f64> {
        let (n, dim) = states.dim();
        match self {
            Dictionary::Monomials { degree } => {
                let exps = Dictionary::monomial_exponents(dim, (*degree).max(1));
                Array2::from_shape_fn((n, exps.len()), |(i, k)| {
                    exps[k]
                        .iter()
                        .enumerate()
                        .map(|(j, &e)| states[[i, j]].powi(e as i32))
                        .product()
                })
            }
            Dictionary::Fourier {
                frequencies,
                phases,
            } => {
                let f = frequencies.nrows();
                let mut psi = Array2::zeros((n, 1 + dim + f));
                psi.column_mut(0).fill(1.0);
                psi.slice_mut(s![.., 1..=dim]).assign(&states);
                let mut arg = Array2::zeros((n, f));
                matmul_into(arg.view_mut(), states, frequencies.t(), false);
                arg += phases;
                psi.slice_mut(s![.., dim + 1..]).assign(&arg.mapv(f64::cos));
                psi
            }
        }
    }
}

/// An EDMD fit: K (m×m) with Ψ(X)K ≈ Ψ(Y) in least squares, acting on the coefficient vectors of observables
/// g = Ψc (𝒦g ≈ Ψ·Kc).
#[derive(Debug, Clone)]
pub struct Edmd {
    /// K.
    pub matrix: Array2<f64>,
    /// K's eigenvalues, descending modulus.
    pub eigenvalues: Vec<Complex>,
}

/// EDMD from snapshot pairs: row i of `y` is the map applied to row i of `x`.
pub fn edmd(x: ArrayView2<f64>, y: ArrayView2<f64>, dictionary: &Dictionary) -> Result<Edmd> {
    if x.dim() != y.dim() || x.nrows() == 0 {
        return Err(Error::Shape {
            what: format!(
                "snapshot pairs: {:?} states before and {:?} after; need equal, non-empty",
                x.dim(),
                y.dim()
            ),
        });
    }
    crate::data::check_samples(x)?;
    crate::data::check_samples(y)?;
    let (px, py) = (dictionary.evaluate(x), dictionary.evaluate(y));
    if px.nrows() < px.ncols() {
        return Err(Error::Shape {
            what: format!(
                "{} snapshot pairs for a dictionary of {} functions; EDMD needs at least as many pairs",
                px.nrows(),
                px.ncols()
            ),
        });
    }
    let qr = faer_ref(px.view()).qr();
    let mut rhs = faer::Mat::<f64>::from_fn(py.nrows(), py.ncols(), |i, j| py[[i, j]]);
    qr.solve_lstsq_in_place(rhs.as_mut());
    let m = px.ncols();
    let matrix = Array2::from_shape_fn((m, m), |(i, j)| rhs[(i, j)]);
    let eigenvalues = general_eigenvalues(matrix.view())?;
    Ok(Edmd {
        matrix,
        eigenvalues,
    })
}

impl Edmd {
    /// The number of eigenvalues within `tol` of 1.
    pub fn multiplicity_of_one(&self, tol: f64) -> usize {
        multiplicity_of_one(&self.eigenvalues, tol)
    }

    /// (P₁g) for g = Ψc: the λ = 1 spectral projection of K applied to c, P₁ = ryᵀ/(yᵀr) with r and y the right
    /// and left null vectors of K − I. When λ = 1 is simple (within 1e-8) it comes from the constant alone, P₁c
    /// is a multiple of the constant observable, and that multiple is returned: the value g(z*) the iteration
    /// converges to.
    pub fn fixed_point_value(&self, c: ArrayView1<f64>) -> Result<f64> {
        if self.multiplicity_of_one(1e-8) != 1 {
            return Err(Error::Undefined {
                quantity: "the value at the fixed point",
                activation: "(EDMD)".into(),
                why: "λ = 1 is not simple: the dictionary has invariant functions besides the constant",
            });
        }
        let m = self.matrix.nrows();
        let shifted = &self.matrix - &Array2::<f64>::eye(m);
        let r = null_vectors(shifted.view(), 1)?;
        let y = null_vectors(shifted.t(), 1)?;
        let p = oblique_projection(&r, &y)?;
        Ok(p.dot(&c)[0])
    }
}

/// A nonlinear DEQ z ← tanh(Wz + Ux + b) with ‖W‖₂ < 1 (a contraction, since |tanh′| ≤ 1).
#[derive(Debug, Clone)]
pub struct TanhDeq {
    /// W (d_z×d_z).
    pub w: Array2<f64>,
    /// U (d_z×d_x).
    pub u: Array2<f64>,
    /// b (d_z).
    pub b: Array1<f64>,
}

impl TanhDeq {
    /// Random: W = `norm`·G/‖G‖₂, U Gaussian/√d_x, b Gaussian·0.1, from `seed`; `norm` in (0, 1).
    pub fn random(dz: usize, dx: usize, norm: f64, seed: u64) -> Result<Self> {
        if !(norm > 0.0 && norm < 1.0) {
            return Err(Error::OutsideContraction {
                model: "tanh DEQ",
                factor: norm,
                parameter: "the norm of W",
                max_safe: 1.0,
            });
        }
        if dz == 0 || dx == 0 {
            return Err(Error::InvalidParameter {
                name: "dz",
                value: dz as f64,
                requirement: "d_z ≥ 1 and d_x ≥ 1",
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = || <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        let g = crate::linalg::filled_matrix(dz, dz, &mut draw)?;
        let u = crate::linalg::filled_matrix(dz, dx, &mut draw)? / (dx as f64).sqrt();
        let b = Array1::from_shape_simple_fn(dz, &mut draw) * 0.1;
        let w = &g * (norm / spectral_norm(g.view())?);
        Ok(TanhDeq { w, u, b })
    }

    /// One step F(z) = tanh(Wz + Ux + b).
    pub fn step(&self, z: ArrayView1<f64>, x: ArrayView1<f64>) -> Array1<f64> {
        (self.w.dot(&z) + self.u.dot(&x) + &self.b).mapv(f64::tanh)
    }

    /// z* by iterating F from 0 until the step is below 1e-15 (a contraction by ‖W‖₂).
    pub fn fixed_point(&self, x: ArrayView1<f64>) -> Array1<f64> {
        let mut z = Array1::zeros(self.w.nrows());
        for _ in 0..10_000 {
            let next = self.step(z.view(), x);
            let change = (&next - &z).iter().fold(0f64, |m, v| m.max(v.abs()));
            z = next;
            if change < 1e-15 {
                break;
            }
        }
        z
    }

    /// The Jacobian of F at z*: diag(1 − z*²)W.
    pub fn jacobian(&self, x: ArrayView1<f64>) -> Array2<f64> {
        let z = self.fixed_point(x);
        let mut j = self.w.clone();
        for (mut row, zi) in j.outer_iter_mut().zip(z.iter()) {
            row *= 1.0 - zi * zi;
        }
        j
    }

    /// `count` snapshot pairs (z, F(z)) at fixed x, with z = z* + `spread`·ξ, ξ standard Gaussian.
    pub fn snapshots(
        &self,
        x: ArrayView1<f64>,
        count: usize,
        spread: f64,
        seed: u64,
    ) -> (Array2<f64>, Array2<f64>) {
        let z_star = self.fixed_point(x);
        let dz = z_star.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let before = Array2::from_shape_fn((count, dz), |(_, j)| {
            z_star[j]
                + spread * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
        });
        let mut after = Array2::zeros((count, dz));
        for (row, mut out) in before.outer_iter().zip(after.outer_iter_mut()) {
            out.assign(&self.step(row, x));
        }
        (before, after)
    }

    /// An input x with standard Gaussian entries from `seed`.
    pub fn random_input(&self, seed: u64) -> Array1<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array1::from_shape_simple_fn(self.u.ncols(), || {
            <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
        })
    }

    /// EDMD at input x on `count` snapshot pairs spread by `spread` around z* (from `seed`), with the Jacobian's
    /// eigenvalues and the fixed point read from the λ = 1 projection of the coordinates (columns 1..=d_z of
    /// every dictionary).
    pub fn edmd_report(
        &self,
        x: ArrayView1<f64>,
        dictionary: &Dictionary,
        count: usize,
        spread: f64,
        seed: u64,
    ) -> Result<EdmdReport> {
        let (before, after) = self.snapshots(x, count, spread, seed);
        let fit = edmd(before.view(), after.view(), dictionary)?;
        let z_star = self.fixed_point(x);
        let mut fixed_point_error = 0f64;
        for (i, zi) in z_star.iter().enumerate() {
            let mut c = Array1::zeros(fit.matrix.nrows());
            c[1 + i] = 1.0;
            fixed_point_error =
                fixed_point_error.max((fit.fixed_point_value(c.view())? - zi).abs());
        }
        Ok(EdmdReport {
            fit,
            jacobian_eigenvalues: general_eigenvalues(self.jacobian(x).view())?,
            fixed_point_error,
        })
    }

    /// Snapshot pairs of the augmented state (z, x) with x varying across pairs and held by the map:
    /// (z, x) ↦ (F(z; x), x). z and x standard Gaussian times `spread` around (z*(x₀), x₀), x₀ = 0.
    pub fn augmented_snapshots(
        &self,
        count: usize,
        spread: f64,
        seed: u64,
    ) -> (Array2<f64>, Array2<f64>) {
        let (dz, dx) = (self.w.nrows(), self.u.ncols());
        let z0 = self.fixed_point(Array1::zeros(dx).view());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal =
            || <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        let before = Array2::from_shape_fn((count, dz + dx), |(_, j)| {
            if j < dz {
                z0[j] + spread * normal()
            } else {
                spread * normal()
            }
        });
        let mut after = before.clone();
        for (row, mut out) in before.outer_iter().zip(after.outer_iter_mut()) {
            let next = self.step(row.slice(s![..dz]), row.slice(s![dz..]));
            out.slice_mut(s![..dz]).assign(&next);
        }
        (before, after)
    }
}
