//! Eigenvalues and eigenpairs of a symmetric tridiagonal matrix by divide and conquer (Cuppen 1981; Demmel,
//! *Applied Numerical Linear Algebra*, SIAM 1997, §5.3.3; the scheme of LAPACK's `?stedc`/`?laed0`–`?laed4`).
//!
//! T is split in the middle as T = diag(T₁, T₂) + ρ·uuᵀ with ρ = |e_m| and u = e_m + sign(e_m)·e_{m+1} (T₁'s last
//! and T₂'s first diagonal entries lowered by ρ). With T_i = Q_iΛ_iQ_iᵀ solved recursively (the two halves side
//! by side), T = Q̂(D + ρzzᵀ)Q̂ᵀ with Q̂ = diag(Q₁, Q₂), D = diag(Λ₁, Λ₂) and z = Q̂ᵀu. The merge
//!
//! 1. deflates: a pair whose ρ|z_j| is below 8ε·max(|D|, |z|) is an eigenpair (d_j, q̂_j) as it stands, and two
//!    d's closer than that (weighted by z) are rotated so that one of them deflates (Dongarra & Sorensen 1987);
//! 2. finds the k remaining eigenvalues as the roots of the secular equation
//!    f(λ) = 1/ρ + Σ_j z_j²/(d_j − λ) = 0, one in each gap (d_j, d_{j+1}) and the last in (d_k, d_k + ρ‖z‖²],
//!    each held as λ = d_o + μ relative to its nearer pole o so that every d_j − λ is computed accurately, by a
//!    bracketed iteration on a two-pole rational model of f (the "middle way" of R.-C. Li, *Solving secular
//!    equations stably and efficiently*, LAPACK Working Note 89, 1993), all roots in parallel;
//! 3. recomputes z from the roots by Löwner's formula, ẑ_j² = Π_l(λ_l − d_j) / (ρ·Π_{l≠j}(d_l − d_j)), so that
//!    the computed roots are the exact eigenvalues of D + ρẑẑᵀ and the eigenvectors u_i = (ẑ_j/(d_j − λ_i))_j
//!    come out orthogonal to working precision (Gu & Eisenstat, SIAM J. Matrix Anal. Appl. 16(1), 1995);
//! 4. forms Q̂U by two GEMMs that skip the zero blocks of Q̂ (columns from Q₁ only, from Q₂ only, or mixed by a
//!    deflating rotation).
//!
//! For eigenvalues only ([`eigenvalues`]) a merge needs no more of Q₁ and Q₂ than their last and first rows
//! (for z), and gives its parent the first and last rows of Q̂U, each entry an O(k) sum over the roots' vectors:
//! O(n²) work in all, vectorized and parallel over the roots.
//!
//! The tridiagonal problem is solved in f64 whatever T is; eigenvectors are accumulated in T.

use faer::{Mat, MatMut, MatRef};

use super::tridiagonal::{check_finite, Tridiagonal};
use super::EigenScalar;
use crate::simd::widest_vectors;
use crate::spin_team::{team_size, with_team, Fork, Rayon, Sequential, TeamSize};
use crate::{Error, Par, Result};

/// Subproblems of at most this order are solved by faer's implicit QR iteration (with all their eigenvectors,
/// of which the eigenvalues-only recursion keeps two rows: hence its smaller leaves).
const LEAF: usize = 48;
const VALUES_LEAF: usize = 16;
/// From this order the two halves are solved side by side, and from [`PARALLEL_ROOTS_FROM`] roots the
/// secular equation's roots and eigenvectors are found on all threads.
const PARALLEL_HALVES_FROM: usize = 192;
const PARALLEL_ROOTS_FROM: usize = 64;
/// Iterations allowed per root; bisection alone would need at most 64 + 1074.
const ROOT_ITERATIONS: usize = 200;
/// Independent accumulators in the inner sums (one AVX-512 register of f64).
const LANES: usize = 8;

/// The eigenvalues (ascending) of T, written to `values` (n), and its eigenvectors, written as the columns of
/// `vectors` (n × n, column-major: unit row stride). Wrong sizes or layout give `Error::Shape`; T must be finite
/// (refused with the same error as the other tridiagonal solvers).
///
/// Threads: the caller's rayon pool for the two halves, the roots and the GEMMs ([`Par::Pool`]), or the
/// calling thread alone ([`Par::Seq`]).
pub fn eigenpairs<T: EigenScalar>(
    t: &Tridiagonal<T>,
    values: &mut [T],
    mut vectors: MatMut<'_, T>,
    par: Par,
) -> Result<()> {
    let n = t.diagonal.len();
    if values.len() != n
        || vectors.nrows() != n
        || vectors.ncols() != n
        || vectors.row_stride() != 1
    {
        return Err(Error::Shape {
            what: format!(
                "T has order {n}: values need {n} entries (got {}) and vectors {n}×{n} column-major (got {}×{}, row stride {})",
                values.len(),
                vectors.nrows(),
                vectors.ncols(),
                vectors.row_stride()
            ),
        });
    }
    let Some(Scaled { d, e, scale }) = scaled(t)? else {
        values.iter_mut().for_each(|v| *v = T::zero());
        vectors.fill(T::zero());
        (0..n).for_each(|i| vectors[(i, i)] = T::one());
        return Ok(());
    };
    let lambda = match par {
        Par::Seq => solve_pairs(&d, &e, vectors, &Sequential)?,
        _ => solve_pairs(&d, &e, vectors, &Rayon)?,
    };
    for (v, l) in values.iter_mut().zip(lambda) {
        *v = T::from_f64(l * scale);
    }
    Ok(())
}

/// The eigenvalues of T, ascending. T must be finite.
///
/// Threads: a team of the size `par` asks for (at most one member per 192 rows, and only the cores no other
/// team holds), busy-waiting between the parallel steps (docs/spectra.md, "Threads").
pub fn eigenvalues<T: EigenScalar>(t: &Tridiagonal<T>, par: Par) -> Result<Vec<T>> {
    let Some(Scaled { d, e, scale }) = scaled(t)? else {
        return Ok(vec![T::zero(); t.diagonal.len()]);
    };
    let threads = team_size(par, d.len(), PARALLEL_HALVES_FROM);
    let lambda = with_team(TeamSize::Budgeted(threads), |team| {
        solve_values(&d, &e, team)
    })?
    .values;
    Ok(lambda.into_iter().map(|l| T::from_f64(l * scale)).collect())
}

/// T in f64 scaled to max |T_ij| = 1, as `?stedc` does, so that no intermediate quantity over- or underflows.
struct Scaled {
    d: Vec<f64>,
    e: Vec<f64>,
    scale: f64,
}

/// T scaled, or `None` for the zero matrix.
fn scaled<T: EigenScalar>(t: &Tridiagonal<T>) -> Result<Option<Scaled>> {
    check_finite(t, "faer")?;
    let scale = t
        .diagonal
        .iter()
        .chain(&t.off_diagonal)
        .fold(0f64, |m, x| m.max(x.to_f64().abs()));
    if scale == 0.0 {
        return Ok(None);
    }
    Ok(Some(Scaled {
        d: t.diagonal.iter().map(|x| x.to_f64() / scale).collect(),
        e: t.off_diagonal.iter().map(|x| x.to_f64() / scale).collect(),
        scale,
    }))
}

/// The split of (d, e) in the middle: the halves' diagonals (T₁'s last and T₂'s first entry lowered by ρ), their
/// off-diagonals, ρ = |e_m| and the sign of e_m.
struct Split<'a> {
    d1: Vec<f64>,
    e1: &'a [f64],
    d2: Vec<f64>,
    e2: &'a [f64],
    rho: f64,
    sign: f64,
}

fn split<'a>(d: &[f64], e: &'a [f64]) -> Split<'a> {
    let m = d.len() / 2;
    let rho = e[m - 1].abs();
    let mut d1 = d[..m].to_vec();
    d1[m - 1] -= rho;
    let mut d2 = d[m..].to_vec();
    d2[0] -= rho;
    Split {
        d1,
        e1: &e[..m - 1],
        d2,
        e2: &e[m..],
        rho,
        sign: e[m - 1].signum(),
    }
}

/// Runs the two halves side by side when the problem is large enough.
fn both<A: Send, B: Send>(
    fork: &impl Fork,
    n: usize,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    if n >= PARALLEL_HALVES_FROM {
        fork.join(first, second)
    } else {
        (first(), second())
    }
}

/// [f(0), …, f(k − 1)], over the threads when there are enough roots.
fn over_roots<R: Send>(fork: &impl Fork, k: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    if k >= PARALLEL_ROOTS_FROM {
        fork.map(k, f)
    } else {
        (0..k).map(f).collect()
    }
}

/// Eigenvalues (returned, ascending) and eigenvectors (written to `out`) of the tridiagonal (d, e).
fn solve_pairs<T: EigenScalar>(
    d: &[f64],
    e: &[f64],
    mut out: MatMut<'_, T>,
    fork: &impl Fork,
) -> Result<Vec<f64>> {
    let n = d.len();
    if n <= LEAF {
        let (w, u) = leaf(d, e)?;
        for c in 0..n {
            for r in 0..n {
                out[(r, c)] = T::from_f64(u[(r, c)]);
            }
        }
        return Ok(w);
    }
    let sp = split(d, e);
    let (n1, n2) = (sp.d1.len(), sp.d2.len());
    let (mut q1, mut q2) = (Mat::<T>::zeros(n1, n1), Mat::<T>::zeros(n2, n2));
    let (l1, l2) = both(
        fork,
        n,
        || solve_pairs(&sp.d1, sp.e1, q1.as_mut(), fork),
        || solve_pairs(&sp.d2, sp.e2, q2.as_mut(), fork),
    );
    let (l1, l2) = (l1?, l2?);
    merge_pairs(
        Half { values: &l1, q: q1 },
        Half { values: &l2, q: q2 },
        sp.rho,
        sp.sign,
        out,
        fork,
    )
}

/// Eigenvalues of the tridiagonal (d, e) with their eigenvectors' first and last entries.
struct Spectrum {
    values: Vec<f64>,
    first: Vec<f64>,
    last: Vec<f64>,
}

fn solve_values(d: &[f64], e: &[f64], fork: &impl Fork) -> Result<Spectrum> {
    let n = d.len();
    if n <= VALUES_LEAF {
        let (values, u) = leaf(d, e)?;
        return Ok(Spectrum {
            values,
            first: (0..n).map(|c| u[(0, c)]).collect(),
            last: (0..n).map(|c| u[(n - 1, c)]).collect(),
        });
    }
    let sp = split(d, e);
    let (s1, s2) = both(
        fork,
        n,
        || solve_values(&sp.d1, sp.e1, fork),
        || solve_values(&sp.d2, sp.e2, fork),
    );
    merge_values(s1?, s2?, sp.rho, sp.sign, fork)
}

/// A small problem by faer's QR iteration: its eigenvalues, ascending, and eigenvectors in the same order.
fn leaf(d: &[f64], e: &[f64]) -> Result<(Vec<f64>, Mat<f64>)> {
    use faer::linalg::evd;
    let n = d.len();
    let mut w = vec![0f64; n];
    let mut u = Mat::<f64>::zeros(n, n);
    let par = faer::Par::Seq;
    let scratch = evd::self_adjoint_evd_scratch::<f64>(
        n,
        evd::ComputeEigenvectors::Yes,
        par,
        Default::default(),
    );
    let mut memory = faer::dyn_stack::MemBuffer::new(scratch);
    evd::tridiagonal_self_adjoint_evd(
        faer::ColRef::from_slice(d).as_diagonal(),
        faer::ColRef::from_slice(e).as_diagonal(),
        faer::ColMut::from_slice_mut(&mut w).as_diagonal_mut(),
        Some(u.as_mut()),
        par,
        faer::dyn_stack::MemStack::new(&mut memory),
        Default::default(),
    )
    .map_err(|err| Error::Backend {
        backend: "faer",
        detail: format!("the tridiagonal QR iteration did not converge ({err:?})"),
    })?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| w[a].total_cmp(&w[b]));
    let sorted = Mat::<f64>::from_fn(n, n, |r, c| u[(r, order[c])]);
    Ok((order.iter().map(|&j| w[j]).collect(), sorted))
}

/// One solved half of a merge: its eigenvalues (ascending) and eigenvectors.
struct Half<'a, T> {
    values: &'a [f64],
    q: Mat<T>,
}

/// A column of Q̂ (possibly rotated by deflation): column j of Q₁ (rows 0..n₁), column j of Q₂ (rows n₁..),
/// or an explicit vector with the row blocks it touches.
enum Basis<T> {
    Upper(usize),
    Lower(usize),
    Owned { v: Vec<T>, upper: bool, lower: bool },
}

impl<T: EigenScalar> Basis<T> {
    /// Which row blocks are non-zero: (upper, lower).
    fn blocks(&self) -> (bool, bool) {
        match self {
            Basis::Upper(_) => (true, false),
            Basis::Lower(_) => (false, true),
            Basis::Owned { upper, lower, .. } => (*upper, *lower),
        }
    }

    /// Writes the column into `dst` (n entries).
    fn write(&self, q1: MatRef<'_, T>, q2: MatRef<'_, T>, dst: &mut [T]) {
        let n1 = q1.nrows();
        match self {
            Basis::Upper(j) => {
                dst.iter_mut().for_each(|x| *x = T::zero());
                (0..n1).for_each(|r| dst[r] = q1[(r, *j)]);
            }
            Basis::Lower(j) => {
                dst.iter_mut().for_each(|x| *x = T::zero());
                (0..q2.nrows()).for_each(|r| dst[n1 + r] = q2[(r, *j)]);
            }
            Basis::Owned { v, .. } => dst.copy_from_slice(v),
        }
    }

    fn owned(self, q1: MatRef<'_, T>, q2: MatRef<'_, T>) -> (Vec<T>, bool, bool) {
        if let Basis::Owned { v, upper, lower } = self {
            return (v, upper, lower);
        }
        let (upper, lower) = self.blocks();
        let mut v = vec![T::zero(); q1.nrows() + q2.nrows()];
        self.write(q1, q2, &mut v);
        (v, upper, lower)
    }

    /// The columns (c·a + s·b, c·b − s·a) of a rotation in the plane of a and b.
    fn rotate(
        a: Self,
        b: Self,
        c: f64,
        s: f64,
        q1: MatRef<'_, T>,
        q2: MatRef<'_, T>,
    ) -> (Self, Self) {
        let (mut va, up_a, lo_a) = a.owned(q1, q2);
        let (mut vb, up_b, lo_b) = b.owned(q1, q2);
        let (c, s) = (T::from_f64(c), T::from_f64(s));
        for (x, y) in va.iter_mut().zip(vb.iter_mut()) {
            let (a, b) = (*x, *y);
            *x = c * a + s * b;
            *y = c * b - s * a;
        }
        let (upper, lower) = (up_a || up_b, lo_a || lo_b);
        (
            Basis::Owned {
                v: va,
                upper,
                lower,
            },
            Basis::Owned {
                v: vb,
                upper,
                lower,
            },
        )
    }
}

/// A pole of the secular equation: d_j, z_j and what the merge carries along for it (its column of Q̂, or its
/// entries in Q̂'s first and last rows).
struct Pole<P> {
    d: f64,
    z: f64,
    payload: P,
}

/// The poles of D + ρzzᵀ from the two halves' eigenvalues and the rows of their eigenvectors next to the split
/// (Q₁'s last, Q₂'s first), with z normalized (it has norm √2) and ρ scaled to match; returns them sorted by d,
/// and ρ.
fn poles<P>(
    (values1, z1, payload1): (&[f64], &[f64], impl Fn(usize) -> P),
    (values2, z2, payload2): (&[f64], &[f64], impl Fn(usize) -> P),
    rho: f64,
    sign: f64,
) -> (Vec<Pole<P>>, f64) {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let mut poles: Vec<Pole<P>> = (0..values1.len())
        .map(|j| Pole {
            d: values1[j],
            z: z1[j] * s,
            payload: payload1(j),
        })
        .chain((0..values2.len()).map(|j| Pole {
            d: values2[j],
            z: sign * z2[j] * s,
            payload: payload2(j),
        }))
        .collect();
    poles.sort_by(|a, b| a.d.total_cmp(&b.d));
    (poles, 2.0 * rho)
}

/// Deflation (module documentation, step 1) of poles sorted by d: the kept poles, with strictly increasing d and
/// non-negligible z, and the deflated pairs (eigenvalue, payload). `rotate(a, b, c, s)` gives the payloads of
/// c·a + s·b and c·b − s·a.
fn deflate<P>(
    poles: Vec<Pole<P>>,
    rho: f64,
    mut rotate: impl FnMut(P, P, f64, f64) -> (P, P),
) -> (Vec<Pole<P>>, Vec<(f64, P)>) {
    let d_max = poles.iter().fold(0f64, |m, p| m.max(p.d.abs()));
    let z_max = poles.iter().fold(0f64, |m, p| m.max(p.z.abs()));
    let tol = crate::tolerance::DC_DEFLATION * d_max.max(z_max);
    let mut kept: Vec<Pole<P>> = Vec::with_capacity(poles.len());
    let mut deflated: Vec<(f64, P)> = Vec::new();
    let mut prev: Option<Pole<P>> = None;
    for pole in poles {
        if rho * pole.z.abs() <= tol {
            deflated.push((pole.d, pole.payload));
            continue;
        }
        let Some(p) = prev.take() else {
            prev = Some(pole);
            continue;
        };
        // A rotation in the plane of the two columns that zeroes p's z; if the off-diagonal entry it leaves in D
        // is negligible, p deflates.
        let tau = p.z.hypot(pole.z);
        let (c, s) = (pole.z / tau, -p.z / tau);
        if ((pole.d - p.d) * c * s).abs() <= tol {
            let (deflating, staying) = rotate(p.payload, pole.payload, c, s);
            deflated.push((p.d * c * c + pole.d * s * s, deflating));
            prev = Some(Pole {
                d: p.d * s * s + pole.d * c * c,
                z: tau,
                payload: staying,
            });
        } else {
            kept.push(p);
            prev = Some(pole);
        }
    }
    kept.extend(prev);
    deflated.sort_by(|a, b| a.0.total_cmp(&b.0));
    (kept, deflated)
}

/// The roots λ_i (ascending) merged with the deflated values (ascending): all n eigenvalues in order, and for
/// each root i and deflated pair j (numbered k + j) its place among them.
fn interleave(lambda: &[f64], deflated: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let (k, n) = (lambda.len(), lambda.len() + deflated.len());
    let mut values = Vec::with_capacity(n);
    let mut destination = vec![0; n];
    let (mut i, mut j) = (0, 0);
    for place in 0..n {
        if j == deflated.len() || (i < k && lambda[i] <= deflated[j]) {
            values.push(lambda[i]);
            destination[i] = place;
            i += 1;
        } else {
            values.push(deflated[j]);
            destination[k + j] = place;
            j += 1;
        }
    }
    (values, destination)
}

/// Eigenpairs of diag(Q₁, Q₂)·(D + ρzzᵀ)·diag(Q₁, Q₂)ᵀ (see the module documentation); `sign` is that of the
/// off-diagonal entry the split removed.
fn merge_pairs<T: EigenScalar>(
    h1: Half<'_, T>,
    h2: Half<'_, T>,
    rho: f64,
    sign: f64,
    mut out: MatMut<'_, T>,
    fork: &impl Fork,
) -> Result<Vec<f64>> {
    let (n1, n2) = (h1.values.len(), h2.values.len());
    let n = n1 + n2;
    let (q1, q2) = (h1.q.as_ref(), h2.q.as_ref());
    let last_row: Vec<f64> = (0..n1).map(|j| q1[(n1 - 1, j)].to_f64()).collect();
    let first_row: Vec<f64> = (0..n2).map(|j| q2[(0, j)].to_f64()).collect();
    let (poles, rho) = poles(
        (h1.values, &last_row, Basis::Upper),
        (h2.values, &first_row, Basis::Lower),
        rho,
        sign,
    );
    let (kept, deflated) = deflate(poles, rho, |a, b, c, s| Basis::rotate(a, b, c, s, q1, q2));
    let k = kept.len();
    let d: Vec<f64> = kept.iter().map(|p| p.d).collect();
    let z: Vec<f64> = kept.iter().map(|p| p.z).collect();
    let roots = secular_roots(&d, &z, rho, fork)?;
    // Columns of Q̂ for the kept poles, grouped: Q₁ only, both, Q₂ only; U's rows in the same order.
    let group = |p: &Pole<Basis<T>>| match p.payload.blocks() {
        (true, false) => 0,
        (true, true) => 1,
        _ => 2,
    };
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&j| group(&kept[j]));
    let n_upper = order.iter().filter(|&&j| group(&kept[j]) == 0).count();
    let n_lower = order.iter().filter(|&&j| group(&kept[j]) == 2).count();
    let mut position = vec![0; k];
    for (c, &j) in order.iter().enumerate() {
        position[j] = c;
    }
    let mut c = Mat::<T>::zeros(n, k);
    for (col, &j) in order.iter().enumerate() {
        kept[j].payload.write(q1, q2, column_mut(c.as_mut(), col));
    }
    // The deflated pairs' vectors go to out's last columns, the roots' to its first k; then the columns are
    // put in ascending order of their eigenvalues. Q₁ and Q₂ are freed first.
    for (j, (_, basis)) in deflated.iter().enumerate() {
        basis.write(q1, q2, column_mut(out.as_mut(), k + j));
    }
    let deflated_values: Vec<f64> = deflated.iter().map(|p| p.0).collect();
    drop((kept, deflated, h1, h2));
    let u = secular_vectors::<T>(&d, &z, rho, &roots, &position, fork);
    let u = MatRef::from_column_major_slice(&u, k, k);
    let par = fork.faer_par();
    let (upper_cols, lower_from) = (k - n_lower, n_upper);
    let (mut top, mut bottom) = out.as_mut().subcols_mut(0, k).split_at_row_mut(n1);
    faer::linalg::matmul::matmul(
        top.as_mut(),
        faer::Accum::Replace,
        c.as_ref().submatrix(0, 0, n1, upper_cols),
        u.submatrix(0, 0, upper_cols, k),
        T::one(),
        par,
    );
    faer::linalg::matmul::matmul(
        bottom.as_mut(),
        faer::Accum::Replace,
        c.as_ref().submatrix(n1, lower_from, n2, k - lower_from),
        u.submatrix(lower_from, 0, k - lower_from, k),
        T::one(),
        par,
    );
    drop(c);
    let lambda: Vec<f64> = roots.iter().map(|r| r.origin + r.mu).collect();
    let (values, destination) = interleave(&lambda, &deflated_values);
    permute_columns(out, &destination);
    Ok(values)
}

/// A pole's entries in the first and last rows of Q̂, for [`merge_values`].
#[derive(Clone, Copy)]
struct Rows {
    first: f64,
    last: f64,
}

/// The eigenvalues of the merged problem and its eigenvectors' first and last entries: for root i,
/// Σ_j Q̂_{0j}·u_ji and Σ_j Q̂_{n−1,j}·u_ji with u_i from the corrected ẑ (module documentation, step 3).
fn merge_values(
    s1: Spectrum,
    s2: Spectrum,
    rho: f64,
    sign: f64,
    fork: &impl Fork,
) -> Result<Spectrum> {
    let (poles, rho) = poles(
        (&s1.values, &s1.last, |j| Rows {
            first: s1.first[j],
            last: 0.0,
        }),
        (&s2.values, &s2.first, |j| Rows {
            first: 0.0,
            last: s2.last[j],
        }),
        rho,
        sign,
    );
    let (kept, deflated) = deflate(poles, rho, |a, b, c, s| {
        (
            Rows {
                first: c * a.first + s * b.first,
                last: c * a.last + s * b.last,
            },
            Rows {
                first: c * b.first - s * a.first,
                last: c * b.last - s * a.last,
            },
        )
    });
    let d: Vec<f64> = kept.iter().map(|p| p.d).collect();
    let z: Vec<f64> = kept.iter().map(|p| p.z).collect();
    let first: Vec<f64> = kept.iter().map(|p| p.payload.first).collect();
    let last: Vec<f64> = kept.iter().map(|p| p.payload.last).collect();
    let roots = secular_roots(&d, &z, rho, fork)?;
    let z_hat = corrected_z(&d, &z, rho, &roots, fork);
    let entries = over_roots(fork, roots.len(), |i| {
        let root = &roots[i];
        let (norm2, f, l) = weighted_cauchy_sums(&z_hat, &d, root.origin, root.mu, &first, &last);
        let inv = 1.0 / norm2.sqrt();
        (f * inv, l * inv)
    });
    let lambda: Vec<f64> = roots.iter().map(|r| r.origin + r.mu).collect();
    let deflated_values: Vec<f64> = deflated.iter().map(|p| p.0).collect();
    let (values, destination) = interleave(&lambda, &deflated_values);
    let n = values.len();
    let (mut first, mut last) = (vec![0.0; n], vec![0.0; n]);
    let all = entries
        .into_iter()
        .chain(deflated.iter().map(|(_, r)| (r.first, r.last)));
    for ((f, l), &place) in all.zip(&destination) {
        first[place] = f;
        last[place] = l;
    }
    Ok(Spectrum {
        values,
        first,
        last,
    })
}

/// Column j of a column-major matrix as a slice.
fn column_mut<T>(m: MatMut<'_, T>, j: usize) -> &mut [T] {
    m.col_mut(j)
        .try_as_col_major_mut()
        .expect("contiguous columns")
        .as_slice_mut()
}

/// Moves column c of m to column destination[c], in place (one cycle of the permutation at a time).
fn permute_columns<T: EigenScalar>(mut m: MatMut<'_, T>, destination: &[usize]) {
    let mut carry = vec![T::zero(); m.nrows()];
    let mut done = vec![false; destination.len()];
    for start in 0..destination.len() {
        if done[start] || destination[start] == start {
            continue;
        }
        carry.copy_from_slice(column_mut(m.as_mut(), start));
        let mut from = start;
        loop {
            done[from] = true;
            let to = destination[from];
            if to == start {
                column_mut(m.as_mut(), start).copy_from_slice(&carry);
                break;
            }
            column_mut(m.as_mut(), to).swap_with_slice(&mut carry);
            from = to;
        }
    }
}

/// A root of the secular equation as λ = origin + μ, origin the pole it was computed from.
#[derive(Clone, Copy)]
struct Root {
    origin: f64,
    mu: f64,
}

/// The k roots, ascending, of 1/ρ + Σ_j z_j²/(d_j − λ) = 0 for strictly increasing d, non-zero z and ρ > 0;
/// a root that does not converge in [`ROOT_ITERATIONS`] steps is an error, as LAPACK's `dlaed4` reports it.
fn secular_roots(d: &[f64], z: &[f64], rho: f64, fork: &impl Fork) -> Result<Vec<Root>> {
    let zz: Vec<f64> = z.iter().map(|x| x * x).collect();
    over_roots(fork, d.len(), |i| {
        secular_root(d, &zz, rho, i, ROOT_ITERATIONS)
    })
    .into_iter()
    .collect()
}

widest_vectors! {
    /// Σ_j w_j/δ_j and Σ_j w_j/δ_j² over the slice, with δ_j = (d_j − origin) − x: the secular equation's
    /// inner loop.
    fn pole_sums(d: &[f64], w: &[f64], origin: f64, x: f64) -> (f64, f64) = pole_sums_portable
}

#[inline(always)]
fn pole_sums_portable(d: &[f64], w: &[f64], origin: f64, x: f64) -> (f64, f64) {
    assert_eq!(d.len(), w.len());
    let (mut s, mut ds) = ([0f64; LANES], [0f64; LANES]);
    let (dc, wc) = (d.chunks_exact(LANES), w.chunks_exact(LANES));
    let (dr, wr) = (dc.remainder(), wc.remainder());
    for (dl, wl) in dc.zip(wc) {
        for l in 0..LANES {
            let t = 1.0 / ((dl[l] - origin) - x);
            let term = wl[l] * t;
            s[l] += term;
            ds[l] += term * t;
        }
    }
    let (mut s, mut ds) = (s.iter().sum::<f64>(), ds.iter().sum::<f64>());
    for (&dj, &wj) in dr.iter().zip(wr) {
        let t = 1.0 / ((dj - origin) - x);
        s += wj * t;
        ds += wj * t * t;
    }
    (s, ds)
}

/// Root i of the secular equation (`zz` = z²). Between d_i and d_{i+1} the root lies on the side where f at
/// the midpoint says; it is held relative to that side's pole. Each step solves the model
/// c + s_l/(δ_i − η) + s_r/(δ_{i+1} − η) = 0 that matches f and f′ at the current point with the two nearest
/// poles' weights fixed (for the last root the right pole is absent), inside a bracket that every evaluation
/// shrinks and that bisection falls back on. Converged means |f| within its rounding error, a step at the
/// level of rounding, or a bracket two ulps wide; otherwise, after `budget` steps, `Error::NotConverged` with
/// |f| relative to Σ|terms| as the residual.
fn secular_root(d: &[f64], zz: &[f64], rho: f64, i: usize, budget: usize) -> Result<Root> {
    let k = d.len();
    let inv_rho = 1.0 / rho;
    let last = i + 1 == k;
    let (left, right) = ((&d[..=i], &zz[..=i]), (&d[i + 1..], &zz[i + 1..]));
    let f_at = |origin: f64, x: f64| {
        let (psi, dpsi) = pole_sums(left.0, left.1, origin, x);
        let (phi, dphi) = pole_sums(right.0, right.1, origin, x);
        (inv_rho + psi + phi, dpsi, dphi, inv_rho - psi + phi)
    };
    // The first evaluation, relative to d_i: at the upper end of the last root's bracket, else at the gap's
    // midpoint, which also says on which side of it the root lies (and so which pole to hold it relative to;
    // for d_{i+1} the sums just computed serve for the same point).
    let mut lo = 0.0;
    let mut hi = if last {
        rho * zz.iter().sum::<f64>()
    } else {
        (d[i + 1] - d[i]) / 2.0
    };
    let mut value = f_at(d[i], hi);
    let o = if last || value.0 >= 0.0 {
        i
    } else {
        (lo, hi) = (-hi, 0.0);
        i + 1
    };
    let origin = d[o];
    let mut x = if o == i { hi } else { lo };
    // The rounding error of an evaluation of f, relative to Σ|terms|.
    let tolerance = f64::EPSILON * ((k / LANES) as f64 + 8.0);
    for _ in 0..budget {
        let (f, dpsi, dphi, magnitude) = value;
        if f.abs() <= tolerance * magnitude {
            return Ok(Root { origin, mu: x });
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let delta_l = (d[i] - origin) - x;
        let eta = if last {
            let c = f - delta_l * dpsi;
            delta_l + delta_l * delta_l * dpsi / c
        } else {
            let delta_r = (d[i + 1] - origin) - x;
            let (s_l, s_r) = (delta_l * delta_l * dpsi, delta_r * delta_r * dphi);
            let c = f - delta_l * dpsi - delta_r * dphi;
            let a = c * (delta_l + delta_r) + s_l + s_r;
            let b = delta_l * delta_r * f;
            let disc = (a * a - 4.0 * b * c).abs().sqrt();
            if c == 0.0 {
                b / a
            } else if a <= 0.0 {
                (a - disc) / (2.0 * c)
            } else {
                2.0 * b / (a + disc)
            }
        };
        let next = x + eta;
        let next = if next > lo && next < hi && next.is_finite() {
            next
        } else {
            lo + (hi - lo) / 2.0
        };
        // A step at the level of rounding: the model's root is the root.
        let converged = (next - x).abs() <= 2.0 * f64::EPSILON * next.abs();
        x = next;
        if converged || hi - lo <= 2.0 * f64::EPSILON * lo.abs().max(hi.abs()) {
            return Ok(Root { origin, mu: x });
        }
        value = f_at(origin, x);
    }
    Err(Error::NotConverged {
        method: "divide and conquer's secular equation (LAPACK's dlaed4)",
        iterations: budget,
        residual: value.0.abs() / value.3,
    })
}

/// The eigenvectors of D + ρẑẑᵀ as the columns of a k × k matrix, row j at `position[j]`, with ẑ from Löwner's
/// formula ([`corrected_z`]).
fn secular_vectors<T: EigenScalar>(
    d: &[f64],
    z: &[f64],
    rho: f64,
    roots: &[Root],
    position: &[usize],
    fork: &impl Fork,
) -> Vec<T> {
    let k = d.len();
    let z_hat = corrected_z(d, z, rho, roots, fork);
    let mut u = vec![T::zero(); k * k];
    let column = |i: usize, col: &mut [T]| {
        let Root { origin, mu } = roots[i];
        let mut v = vec![0f64; k];
        let inv_norm = 1.0 / cauchy_column(&z_hat, d, origin, mu, &mut v).sqrt();
        for (j, x) in v.into_iter().enumerate() {
            col[position[j]] = T::from_f64(x * inv_norm);
        }
    };
    if k >= PARALLEL_ROOTS_FROM {
        fork.chunks(&mut u, k, column);
    } else {
        Sequential.chunks(&mut u, k, column);
    }
    u
}

/// Löwner's ẑ (module documentation, step 3): the z for which the computed roots are exact.
fn corrected_z(d: &[f64], z: &[f64], rho: f64, roots: &[Root], fork: &impl Fork) -> Vec<f64> {
    let k = d.len();
    let origin: Vec<f64> = roots.iter().map(|r| r.origin).collect();
    let mu: Vec<f64> = roots.iter().map(|r| r.mu).collect();
    let z_hat_of = |j: usize| {
        let dj = d[j];
        // (λ_{k−1} − d_j)/ρ · Π_{l<j} (λ_l − d_j)/(d_l − d_j) · Π_{l>j} (λ_{l−1} − d_j)/(d_l − d_j).
        let below = ratio_product(&origin[..j], &mu[..j], &d[..j], dj);
        let above = ratio_product(&origin[j..k - 1], &mu[j..k - 1], &d[j + 1..], dj);
        let p = below * above * ((origin[k - 1] - dj) + mu[k - 1]) / rho;
        p.abs().sqrt().copysign(z[j])
    };
    over_roots(fork, k, z_hat_of)
}

widest_vectors! {
    /// Π_l ((o_l − d_j) + μ_l)/(d_l − d_j) over the slices, d_j = `dj`.
    fn ratio_product(o: &[f64], mu: &[f64], d: &[f64], dj: f64) -> f64 = ratio_product_portable
}

#[inline(always)]
fn ratio_product_portable(o: &[f64], mu: &[f64], d: &[f64], dj: f64) -> f64 {
    assert!(o.len() == d.len() && mu.len() == d.len());
    let mut p = [1f64; LANES];
    let chunks = o
        .chunks_exact(LANES)
        .zip(mu.chunks_exact(LANES))
        .zip(d.chunks_exact(LANES));
    for ((ol, ml), dl) in chunks {
        for l in 0..LANES {
            p[l] *= ((ol[l] - dj) + ml[l]) / (dl[l] - dj);
        }
    }
    let tail = d.len() / LANES * LANES;
    let mut p = p.iter().product::<f64>();
    for l in tail..d.len() {
        p *= ((o[l] - dj) + mu[l]) / (d[l] - dj);
    }
    p
}

widest_vectors! {
    /// v_j = ẑ_j/((d_j − origin) − μ), returning Σ_j v_j².
    fn cauchy_column(z_hat: &[f64], d: &[f64], origin: f64, mu: f64, v: &mut [f64]) -> f64 = cauchy_column_portable
}

#[inline(always)]
fn cauchy_column_portable(z_hat: &[f64], d: &[f64], origin: f64, mu: f64, v: &mut [f64]) -> f64 {
    assert!(z_hat.len() == d.len() && v.len() == d.len());
    for ((x, &zj), &dj) in v.iter_mut().zip(z_hat).zip(d) {
        *x = zj / ((dj - origin) - mu);
    }
    let mut s = [0f64; LANES];
    let chunks = v.chunks_exact(LANES);
    let tail = chunks.remainder().iter().map(|x| x * x).sum::<f64>();
    for c in chunks {
        for l in 0..LANES {
            s[l] += c[l] * c[l];
        }
    }
    s.iter().sum::<f64>() + tail
}

widest_vectors! {
    /// With v_j = ẑ_j/((d_j − origin) − μ): (Σ_j v_j², Σ_j a_j·v_j, Σ_j b_j·v_j).
    fn weighted_cauchy_sums(z_hat: &[f64], d: &[f64], origin: f64, mu: f64, a: &[f64], b: &[f64]) -> (f64, f64, f64) = weighted_cauchy_sums_portable
}

#[inline(always)]
fn weighted_cauchy_sums_portable(
    z_hat: &[f64],
    d: &[f64],
    origin: f64,
    mu: f64,
    a: &[f64],
    b: &[f64],
) -> (f64, f64, f64) {
    let len = d.len();
    assert!(z_hat.len() == len && a.len() == len && b.len() == len);
    let (mut s, mut sa, mut sb) = ([0f64; LANES], [0f64; LANES], [0f64; LANES]);
    let tail = len / LANES * LANES;
    for c in (0..tail).step_by(LANES) {
        for l in 0..LANES {
            let v = z_hat[c + l] / ((d[c + l] - origin) - mu);
            s[l] += v * v;
            sa[l] += a[c + l] * v;
            sb[l] += b[c + l] * v;
        }
    }
    let total = |x: [f64; LANES]| x.iter().sum::<f64>();
    let (mut s, mut sa, mut sb) = (total(s), total(sa), total(sb));
    for j in tail..len {
        let v = z_hat[j] / ((d[j] - origin) - mu);
        s += v * v;
        sa += a[j] * v;
        sb += b[j] * v;
    }
    (s, sa, sb)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root i of 1/ρ + Σ_j z_j²/(d_j − λ) by plain bisection on (d_i, d_{i+1}) (or (d_{k−1}, d_{k−1} + ρ‖z‖²)),
    /// where f rises from −∞ to +∞.
    fn bisected_root(d: &[f64], zz: &[f64], rho: f64, i: usize) -> f64 {
        let f = |l: f64| 1.0 / rho + d.iter().zip(zz).map(|(dj, w)| w / (dj - l)).sum::<f64>();
        let (mut lo, mut hi) = (
            d[i],
            d.get(i + 1)
                .copied()
                .unwrap_or(d[i] + rho * zz.iter().sum::<f64>()),
        );
        for _ in 0..2000 {
            let mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi {
                break;
            }
            if f(mid) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo + (hi - lo) / 2.0
    }

    /// Every root converges within the budget and agrees with bisection; with one step fewer than it needed,
    /// the same root is `Error::NotConverged` naming the budget, never a silently wrong value.
    #[test]
    fn a_secular_root_out_of_budget_is_an_error() {
        let k = 40;
        let mut next = crate::testing::uniform_stream(5);
        let mut d: Vec<f64> = (0..k).map(|_| next()).collect();
        d.sort_by(f64::total_cmp);
        // Tiny weights put some roots within rounding of their poles: the hard cases of dlaed4.
        let zz: Vec<f64> = (0..k)
            .map(|j| {
                if j % 7 == 0 {
                    1e-20
                } else {
                    next().abs() + 1e-3
                }
            })
            .collect();
        let rho = 0.75;
        let mut most = 0;
        for i in 0..k {
            let needed = (1..=ROOT_ITERATIONS)
                .find(|&b| secular_root(&d, &zz, rho, i, b).is_ok())
                .expect("every root converges within ROOT_ITERATIONS");
            most = most.max(needed);
            let root = secular_root(&d, &zz, rho, i, needed).unwrap();
            let want = bisected_root(&d, &zz, rho, i);
            let scale = d[i]
                .abs()
                .max(d.get(i + 1).map_or(0.0, |x| x.abs()))
                .max(1.0);
            assert!(
                (root.origin + root.mu - want).abs() <= 8.0 * f64::EPSILON * scale,
                "root {i}: {} against bisection's {want}",
                root.origin + root.mu
            );
            match secular_root(&d, &zz, rho, i, needed - 1) {
                Err(Error::NotConverged {
                    iterations,
                    residual,
                    ..
                }) => {
                    assert_eq!(iterations, needed - 1);
                    assert!(residual.is_finite());
                }
                other => panic!(
                    "root {i} with {} steps: {:?}",
                    needed - 1,
                    other.map(|r| r.mu)
                ),
            }
        }
        assert!(most > 2, "the budget was exercised ({most} steps at most)");
    }

    /// max_i ‖Tz_i − λ_iz_i‖₂ and max_i |λ_i − w_i| (w: the root-free QL iteration's), both relative to
    /// max|T_ij|, and max|ZᵀZ − I|.
    fn errors(d: &[f64], e: &[f64]) -> (f64, f64, f64) {
        let n = d.len();
        let t = Tridiagonal {
            diagonal: d.to_vec(),
            off_diagonal: e.to_vec(),
        };
        let mut values = vec![0.0; n];
        let mut z = Mat::<f64>::zeros(n, n);
        eigenpairs(&t, &mut values, z.as_mut(), Par::Pool).unwrap();
        let norm = d
            .iter()
            .chain(e)
            .fold(0f64, |m, x| m.max(x.abs()))
            .max(f64::MIN_POSITIVE);
        let mut residual = 0f64;
        for (c, &l) in values.iter().enumerate() {
            let s: f64 = (0..n)
                .map(|r| {
                    let mut tz = d[r] * z[(r, c)];
                    if r > 0 {
                        tz += e[r - 1] * z[(r - 1, c)];
                    }
                    if r + 1 < n {
                        tz += e[r] * z[(r + 1, c)];
                    }
                    (tz - l * z[(r, c)]).powi(2)
                })
                .sum();
            residual = residual.max(s.sqrt());
        }
        let gram = z.transpose() * &z;
        let mut orthogonality = 0f64;
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                orthogonality = orthogonality.max((gram[(i, j)] - want).abs());
            }
        }
        // The eigenvalues with and without vectors, against the root-free QL iteration's.
        let w = crate::root_free_ql::root_free_ql(d, e).unwrap();
        let alone = eigenvalues(&t, Par::Pool).unwrap();
        let value_error = values
            .iter()
            .chain(&alone)
            .zip(w.iter().chain(&w))
            .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(values.windows(2).all(|p| p[0] <= p[1]), "not ascending");
        assert!(alone.windows(2).all(|p| p[0] <= p[1]), "not ascending");
        (residual / norm, orthogonality, value_error / norm)
    }

    /// The bounds of a backward-stable solver: residual and orthogonality O(n·ε) (relative to ‖T‖), the
    /// eigenvalues within the same of an independent method's.
    fn check(d: &[f64], e: &[f64]) {
        let n = d.len();
        let (residual, orthogonality, value_error) = errors(d, e);
        let bound = 10.0 * n as f64 * f64::EPSILON;
        assert!(
            residual <= bound,
            "n = {n}: residual {residual:e} > {bound:e}"
        );
        assert!(
            orthogonality <= bound,
            "n = {n}: orthogonality {orthogonality:e}"
        );
        assert!(
            value_error <= bound,
            "n = {n}: eigenvalues off by {value_error:e}"
        );
    }

    #[test]
    fn second_difference_matrix_has_its_closed_form() {
        // tridiag(−1, 2, −1): λ_k = 2 − 2cos(kπ/(n+1)), z_k(j) ∝ sin(jkπ/(n+1)) (k, j = 1..n).
        let n = 301;
        let t = Tridiagonal {
            diagonal: vec![2.0; n],
            off_diagonal: vec![-1.0; n - 1],
        };
        let mut values = vec![0.0; n];
        let mut z = Mat::<f64>::zeros(n, n);
        eigenpairs(&t, &mut values, z.as_mut(), Par::Pool).unwrap();
        let h = std::f64::consts::PI / (n + 1) as f64;
        let scale = (2.0 / (n + 1) as f64).sqrt();
        for k in 0..n {
            let want = 2.0 - 2.0 * (((k + 1) as f64) * h).cos();
            assert!(
                (values[k] - want).abs() <= 4.0 * n as f64 * f64::EPSILON,
                "{k}"
            );
            // The eigenvalues are simple, so each vector is determined up to sign.
            let sign = z[(0, k)].signum();
            for j in 0..n {
                let want = scale * (((j + 1) * (k + 1)) as f64 * h).sin();
                assert!((sign * z[(j, k)] - want).abs() <= 1e-12, "{k} {j}");
            }
        }
    }

    #[test]
    fn wilkinson_and_glued_wilkinson_matrices() {
        // W⁺₂ₘ₊₁: pairs of eigenvalues equal to many digits (deflation by rotation); glued copies of it add
        // clusters (Parlett & Dhillon's test matrices for tridiagonal eigensolvers).
        for m in [10, 50, 100] {
            let d: Vec<f64> = (0..2 * m + 1)
                .map(|i| (m as f64 - i as f64).abs())
                .collect();
            check(&d, &vec![1.0; 2 * m]);
            for glue in [1e-12, 1e-6] {
                let copies = 4;
                let dd: Vec<f64> = (0..copies).flat_map(|_| d.iter().copied()).collect();
                let mut ee = Vec::new();
                for c in 0..copies {
                    ee.extend(std::iter::repeat_n(1.0, 2 * m));
                    if c + 1 < copies {
                        ee.push(glue);
                    }
                }
                check(&dd, &ee);
            }
        }
    }

    #[test]
    fn wrong_sizes_are_refused() {
        let t = Tridiagonal {
            diagonal: vec![1.0; 3],
            off_diagonal: vec![0.5; 2],
        };
        let mut z = Mat::<f64>::zeros(3, 3);
        let err = eigenpairs(&t, &mut [0.0; 2], z.as_mut(), Par::Pool).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err}");
        let mut wide = Mat::<f64>::zeros(3, 4);
        let err = eigenpairs(&t, &mut [0.0; 3], wide.as_mut(), Par::Pool).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err}");
        let err = eigenpairs(&t, &mut [0.0; 3], z.as_mut().transpose_mut(), Par::Pool).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err}");
    }

    #[test]
    fn diagonal_zero_and_tiny_problems() {
        check(&[3.0], &[]);
        check(&[1.0, 1.0], &[0.0]);
        check(&vec![0.0; 200], &vec![0.0; 199]);
        let d: Vec<f64> = (0..200).map(|i| ((i * 37) % 11) as f64).collect();
        check(&d, &vec![0.0; 199]);
        check(&vec![1.0; 200], &vec![1e-200; 199]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Random tridiagonals above and below the leaf size, uniform or graded (entries spanning
        /// 10^grade), with zero off-diagonal entries, a constant diagonal or a few distinct values (many
        /// repeated eigenvalues), at scales from 1e-150 to 1e150.
        #[test]
        fn backward_stable_on_random_tridiagonals(
            n in 1usize..400,
            seed in 0u64..1_000_000,
            grade in 0i32..12,
            scale_exp in -150i32..150,
            zeros in 0usize..6,
            kind in 0usize..3,
        ) {
            use crate::testing::{random_tridiagonal, TridiagonalDiagonal as TestDiagonal};
            let diagonal = [TestDiagonal::Random, TestDiagonal::Constant, TestDiagonal::FewValues][kind];
            let (d, e) = random_tridiagonal(n, seed, grade, scale_exp, zeros, diagonal);
            check(&d, &e);
        }
    }
}
