//! All eigenpairs of a symmetric tridiagonal matrix by divide and conquer (Cuppen 1981; Demmel, *Applied
//! Numerical Linear Algebra*, SIAM 1997, §5.3.3; the scheme of LAPACK's `?stedc`/`?laed0`–`?laed4`).
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
//!    bracketed iteration on a two-pole rational model of f (Li 1993; Ren-Cang Li's "middle way"), all roots in
//!    parallel;
//! 3. recomputes z from the roots by Löwner's formula, ẑ_j² = Π_l(λ_l − d_j) / (ρ·Π_{l≠j}(d_l − d_j)), so that
//!    the computed roots are the exact eigenvalues of D + ρẑẑᵀ and the eigenvectors u_i = (ẑ_j/(d_j − λ_i))_j
//!    come out orthogonal to working precision (Gu & Eisenstat, SIAM J. Matrix Anal. Appl. 16(1), 1995);
//! 4. forms Q̂U by two GEMMs that skip the zero blocks of Q̂ (columns from Q₁ only, from Q₂ only, or mixed by a
//!    deflating rotation).
//!
//! The tridiagonal problem is solved in f64 whatever T is; eigenvectors are accumulated in T.

use faer::{Mat, MatMut, MatRef};
use rayon::prelude::*;

use super::tridiagonal::{check_finite, Tridiagonal};
use super::EigenScalar;
use crate::simd::widest_vectors;
use crate::{Error, Result};

/// Subproblems of at most this order are solved by faer's implicit QR iteration.
const LEAF: usize = 48;
/// From this order the two halves are solved side by side, and from [`PARALLEL_ROOTS_FROM`] roots the
/// secular equation's roots and eigenvectors are found on all threads.
const PARALLEL_HALVES_FROM: usize = 192;
const PARALLEL_ROOTS_FROM: usize = 64;
/// Iterations allowed per root; bisection alone would need at most 64 + 1074.
const ROOT_ITERATIONS: usize = 200;
/// Independent accumulators in the inner sums (one AVX-512 register of f64).
const LANES: usize = 8;

/// The eigenvalues (ascending) of T, written to `values`, and its eigenvectors, written as the columns of
/// `vectors` (n × n). T must be finite (refused with the same error as the other tridiagonal solvers).
pub fn tridiagonal_eigenpairs<T: EigenScalar>(
    t: &Tridiagonal<T>,
    values: &mut [T],
    mut vectors: MatMut<'_, T>,
) -> Result<()> {
    check_finite(t, "faer")?;
    let n = t.diagonal.len();
    assert!(values.len() == n && vectors.nrows() == n && vectors.ncols() == n);
    let scale = t
        .diagonal
        .iter()
        .chain(&t.off_diagonal)
        .fold(0f64, |m, x| m.max(x.to_f64().abs()));
    if scale == 0.0 {
        values.iter_mut().for_each(|v| *v = T::zero());
        vectors.fill(T::zero());
        (0..n).for_each(|i| vectors[(i, i)] = T::one());
        return Ok(());
    }
    // Scaled to max |T_ij| = 1, as `?stedc` does, so that no intermediate quantity over- or underflows.
    let d: Vec<f64> = t.diagonal.iter().map(|x| x.to_f64() / scale).collect();
    let e: Vec<f64> = t.off_diagonal.iter().map(|x| x.to_f64() / scale).collect();
    let lambda = solve(&d, &e, vectors)?;
    for (v, l) in values.iter_mut().zip(lambda) {
        *v = T::from_f64(l * scale);
    }
    Ok(())
}

/// Eigenvalues (returned, ascending) and eigenvectors (written to `out`) of the tridiagonal (d, e).
fn solve<T: EigenScalar>(d: &[f64], e: &[f64], out: MatMut<'_, T>) -> Result<Vec<f64>> {
    let n = d.len();
    if n <= LEAF {
        return leaf(d, e, out);
    }
    let m = n / 2;
    let beta = e[m - 1];
    let rho = beta.abs();
    let mut d1 = d[..m].to_vec();
    d1[m - 1] -= rho;
    let mut d2 = d[m..].to_vec();
    d2[0] -= rho;
    let (mut q1, mut q2) = (Mat::<T>::zeros(m, m), Mat::<T>::zeros(n - m, n - m));
    let mut first = || solve(&d1, &e[..m - 1], q1.as_mut());
    let mut second = || solve(&d2, &e[m..], q2.as_mut());
    let (l1, l2) = if n >= PARALLEL_HALVES_FROM {
        rayon::join(first, second)
    } else {
        (first(), second())
    };
    let (l1, l2) = (l1?, l2?);
    merge(
        Half { values: &l1, q: q1 },
        Half { values: &l2, q: q2 },
        rho,
        beta.signum(),
        out,
    )
}

/// A small problem by faer's QR iteration, its pairs sorted ascending.
fn leaf<T: EigenScalar>(d: &[f64], e: &[f64], mut out: MatMut<'_, T>) -> Result<Vec<f64>> {
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
    for (c, &j) in order.iter().enumerate() {
        for r in 0..n {
            out[(r, c)] = T::from_f64(u[(r, j)]);
        }
    }
    Ok(order.iter().map(|&j| w[j]).collect())
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
}

/// A pole of the secular equation: d_j, z_j and the column of Q̂ it belongs to.
struct Pole<T> {
    d: f64,
    z: f64,
    basis: Basis<T>,
}

/// Eigenpairs of diag(Q₁, Q₂)·(D + ρzzᵀ)·diag(Q₁, Q₂)ᵀ (see the module documentation); `sign` is that of the
/// off-diagonal entry the split removed.
fn merge<T: EigenScalar>(
    h1: Half<'_, T>,
    h2: Half<'_, T>,
    rho: f64,
    sign: f64,
    mut out: MatMut<'_, T>,
) -> Result<Vec<f64>> {
    let (n1, n2) = (h1.values.len(), h2.values.len());
    let n = n1 + n2;
    let (q1, q2) = (h1.q.as_ref(), h2.q.as_ref());
    // z = Q̂ᵀu has norm √2 (a row of each orthogonal half); normalized, with ρ scaled to match.
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let rho = 2.0 * rho;
    let mut poles: Vec<Pole<T>> = (0..n1)
        .map(|j| Pole {
            d: h1.values[j],
            z: q1[(n1 - 1, j)].to_f64() * s,
            basis: Basis::Upper(j),
        })
        .chain((0..n2).map(|j| Pole {
            d: h2.values[j],
            z: sign * q2[(0, j)].to_f64() * s,
            basis: Basis::Lower(j),
        }))
        .collect();
    poles.sort_by(|a, b| a.d.total_cmp(&b.d));
    let d_max = poles.iter().fold(0f64, |m, p| m.max(p.d.abs()));
    let z_max = poles.iter().fold(0f64, |m, p| m.max(p.z.abs()));
    let tol = 8.0 * f64::EPSILON * d_max.max(z_max);

    let mut kept: Vec<Pole<T>> = Vec::with_capacity(n);
    let mut deflated: Vec<(f64, Basis<T>)> = Vec::new();
    let mut prev: Option<Pole<T>> = None;
    for pole in poles {
        if rho * pole.z.abs() <= tol {
            deflated.push((pole.d, pole.basis));
            continue;
        }
        let Some(p) = prev.take() else {
            prev = Some(pole);
            continue;
        };
        // A rotation in the plane of the two columns that zeroes p's z; if the off-diagonal entry it leaves in D
        // is negligible, p deflates.
        let tau = p.z.hypot(pole.z);
        let (c, sn) = (pole.z / tau, -p.z / tau);
        if ((pole.d - p.d) * c * sn).abs() <= tol {
            let (mut vp, up_p, lo_p) = p.basis.owned(q1, q2);
            let (mut vj, up_j, lo_j) = pole.basis.owned(q1, q2);
            for (x, y) in vp.iter_mut().zip(vj.iter_mut()) {
                let (a, b) = (*x, *y);
                *x = T::from_f64(c) * a + T::from_f64(sn) * b;
                *y = T::from_f64(c) * b - T::from_f64(sn) * a;
            }
            let (upper, lower) = (up_p || up_j, lo_p || lo_j);
            deflated.push((
                p.d * c * c + pole.d * sn * sn,
                Basis::Owned {
                    v: vp,
                    upper,
                    lower,
                },
            ));
            prev = Some(Pole {
                d: p.d * sn * sn + pole.d * c * c,
                z: tau,
                basis: Basis::Owned {
                    v: vj,
                    upper,
                    lower,
                },
            });
        } else {
            kept.push(p);
            prev = Some(pole);
        }
    }
    kept.extend(prev);

    let k = kept.len();
    let d: Vec<f64> = kept.iter().map(|p| p.d).collect();
    let z: Vec<f64> = kept.iter().map(|p| p.z).collect();
    let roots = secular_roots(&d, &z, rho);
    // Columns of Q̂ for the kept poles, grouped: Q₁ only, both, Q₂ only; U's rows in the same order.
    let group = |p: &Pole<T>| match p.basis.blocks() {
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
        kept[j].basis.write(q1, q2, column_mut(c.as_mut(), col));
    }
    // The deflated pairs' vectors go to out's last columns, the roots' to its first k; then the columns are
    // put in ascending order of their eigenvalues. Q₁ and Q₂ are freed first.
    deflated.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (j, (_, basis)) in deflated.iter().enumerate() {
        basis.write(q1, q2, column_mut(out.as_mut(), k + j));
    }
    drop((kept, h1, h2));
    let u = secular_vectors::<T>(&d, &z, rho, &roots, &position);
    let u = MatRef::from_column_major_slice(&u, k, k);
    let par = faer::get_global_parallelism();
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

    // The roots (ascending already) merged with the deflated values; destination[c] is where column c goes.
    let lambda: Vec<f64> = roots.iter().map(|r| r.origin + r.mu).collect();
    let mut values = Vec::with_capacity(n);
    let mut destination = vec![0; n];
    let (mut i, mut j) = (0, 0);
    for col in 0..n {
        if j == deflated.len() || (i < k && lambda[i] <= deflated[j].0) {
            values.push(lambda[i]);
            destination[i] = col;
            i += 1;
        } else {
            values.push(deflated[j].0);
            destination[k + j] = col;
            j += 1;
        }
    }
    permute_columns(out, &destination);
    Ok(values)
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

/// The k roots, ascending, of 1/ρ + Σ_j z_j²/(d_j − λ) = 0 for strictly increasing d, non-zero z and ρ > 0.
fn secular_roots(d: &[f64], z: &[f64], rho: f64) -> Vec<Root> {
    let zz: Vec<f64> = z.iter().map(|x| x * x).collect();
    let root = |i| secular_root(d, &zz, rho, i);
    if d.len() >= PARALLEL_ROOTS_FROM {
        (0..d.len())
            .into_par_iter()
            .with_min_len(8)
            .map(root)
            .collect()
    } else {
        (0..d.len()).map(root).collect()
    }
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
/// shrinks and that bisection falls back on.
fn secular_root(d: &[f64], zz: &[f64], rho: f64, i: usize) -> Root {
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
    for _ in 0..ROOT_ITERATIONS {
        let (f, dpsi, dphi, magnitude) = value;
        if f.abs() <= tolerance * magnitude {
            break;
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
            break;
        }
        value = f_at(origin, x);
    }
    Root { origin, mu: x }
}

/// The eigenvectors of D + ρẑẑᵀ as the columns of a k × k matrix, row j at `position[j]`, with ẑ from Löwner's
/// formula (module documentation, step 3).
fn secular_vectors<T: EigenScalar>(
    d: &[f64],
    z: &[f64],
    rho: f64,
    roots: &[Root],
    position: &[usize],
) -> Vec<T> {
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
    let z_hat: Vec<f64> = if k >= PARALLEL_ROOTS_FROM {
        (0..k)
            .into_par_iter()
            .with_min_len(8)
            .map(z_hat_of)
            .collect()
    } else {
        (0..k).map(z_hat_of).collect()
    };
    let mut u = vec![T::zero(); k * k];
    let column = |(i, col): (usize, &mut [T])| {
        let Root { origin, mu } = roots[i];
        let mut v = vec![0f64; k];
        let inv_norm = 1.0 / cauchy_column(&z_hat, d, origin, mu, &mut v).sqrt();
        for (j, x) in v.into_iter().enumerate() {
            col[position[j]] = T::from_f64(x * inv_norm);
        }
    };
    if k >= PARALLEL_ROOTS_FROM {
        u.par_chunks_mut(k).enumerate().for_each(column);
    } else {
        u.chunks_mut(k.max(1)).enumerate().for_each(column);
    }
    u
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

#[cfg(test)]
mod tests {
    use super::*;

    /// max_i ‖Tz_i − λ_iz_i‖₂, max|ZᵀZ − I| and max_i |λ_i − w_i| against the root-free QL iteration's w.
    fn errors(d: &[f64], e: &[f64]) -> (f64, f64, f64, f64) {
        let n = d.len();
        let t = Tridiagonal {
            diagonal: d.to_vec(),
            off_diagonal: e.to_vec(),
        };
        let mut values = vec![0.0; n];
        let mut z = Mat::<f64>::zeros(n, n);
        tridiagonal_eigenpairs(&t, &mut values, z.as_mut()).unwrap();
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
        let w = super::super::root_free_ql::root_free_ql(d, e).unwrap();
        let value_error = values
            .iter()
            .zip(&w)
            .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(values.windows(2).all(|p| p[0] <= p[1]), "not ascending");
        (residual / norm, orthogonality, value_error / norm, norm)
    }

    /// The bounds of a backward-stable solver: residual and orthogonality O(n·ε) (relative to ‖T‖), the
    /// eigenvalues within the same of an independent method's.
    fn check(d: &[f64], e: &[f64]) {
        let n = d.len();
        let (residual, orthogonality, value_error, _) = errors(d, e);
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
        tridiagonal_eigenpairs(&t, &mut values, z.as_mut()).unwrap();
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
            let mut next = super::super::uniform_stream(seed);
            let scale = 10f64.powi(scale_exp);
            let graded = |i: usize| 10f64.powf(-(grade as f64) * i as f64 / n as f64);
            let mut d: Vec<f64> = (0..n).map(|i| scale * graded(i) * next()).collect();
            let mut e: Vec<f64> = (0..n.saturating_sub(1)).map(|i| scale * graded(i) * next()).collect();
            match kind {
                1 => d.iter_mut().for_each(|x| *x = scale),
                2 => d.iter_mut().for_each(|x| *x = scale * (*x / scale * 4.0).round()),
                _ => {}
            }
            for k in 0..zeros.min(e.len()) {
                let i = (k * 7 + seed as usize) % e.len();
                e[i] = 0.0;
            }
            check(&d, &e);
        }
    }
}
