//! Blocked Householder tridiagonalization of a real symmetric matrix, T = QᵀAQ (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., §8.3.1; the panel scheme of LAPACK's `?sytrd`/`?latrd`, Dongarra, Sorensen &
//! Hammarling 1989).
//!
//! Column j gets the reflector H_j = I − τ_j v_j v_jᵀ that zeroes A[j+2.., j]. Within a panel of `panel_width`
//! columns the trailing matrix is not updated; instead, with V and W the panel's reflectors and
//! w_j = τ_j (A − VWᵀ − WVᵀ) v_j − ½ τ_j² (v_jᵀ(A − VWᵀ − WVᵀ)v_j) v_j, column j is brought up to date on the fly
//! and the trailing matrix is read once per column (one symmetric matrix–vector product over its lower
//! triangle), then updated once per panel by the rank-2·NB product A ← A − VWᵀ − WVᵀ (faer's GEMM on the lower
//! triangle). faer's own tridiagonalization reads and writes the trailing matrix once per column; halving
//! that traffic is what this module is for (docs/benchmarks.md, "Dense symmetric eigensolvers").

use ndarray::ArrayView2;

use super::EigenScalar;
use crate::buffer::copied_vec;
use crate::spin_team::{
    team_size, triangle_column_split, triangle_work, with_team, Shares, SpinTeam, TeamSize,
};
use crate::Par;

/// Columns per panel (the inner dimension of the trailing update is twice this).
const PANEL: usize = 32;
/// Columns per panel while the trailing matrix has at most [`NARROW_PANELS_UP_TO`] rows.
const NARROW_PANEL: usize = 16;
/// Up to this order the trailing matrix (8·m² bytes in f64) fits in this machine's 32 MB L3 cache, so a
/// narrower panel's extra trailing updates cost little traffic, while its per-column products with V and W
/// (on the calling thread alone, O(m·i) for the panel's i-th column) shrink: reductions 3–5 % faster at
/// n = 1000 and 5–8 % at n = 2000 than with 32 columns. Above it the updates' traffic from memory (twice as
/// many passes) decides.
const NARROW_PANELS_UP_TO: usize = 2048;
/// Trailing matrices of at most this order are reduced in one panel, without a trailing update.
const ONE_PANEL_UP_TO: usize = 128;
/// Trailing orders from which the symmetric product and the trailing update are split over the threads.
const PARALLEL_FROM: usize = 160;

/// Columns in the next panel of a trailing matrix of order m.
fn panel_width(m: usize) -> usize {
    if m <= ONE_PANEL_UP_TO {
        m
    } else if m <= NARROW_PANELS_UP_TO {
        NARROW_PANEL
    } else {
        PANEL
    }
}

/// The diagonal (n) and off-diagonal (n − 1) of a symmetric tridiagonal matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Tridiagonal<T> {
    /// The n diagonal entries.
    pub diagonal: Vec<T>,
    /// The n − 1 entries below (and above) the diagonal.
    pub off_diagonal: Vec<T>,
}

#[cfg(test)]
impl Tridiagonal<f64> {
    /// T as a dense n×n matrix, for tests that rebuild A from QTQᵀ.
    pub(crate) fn to_dense(&self) -> ndarray::Array2<f64> {
        let n = self.diagonal.len();
        let mut t = ndarray::Array2::zeros((n, n));
        for (i, &d) in self.diagonal.iter().enumerate() {
            t[[i, i]] = d;
        }
        for (i, &e) in self.off_diagonal.iter().enumerate() {
            t[[i + 1, i]] = e;
            t[[i, i + 1]] = e;
        }
        t
    }
}

/// T = QᵀAQ for a symmetric A (its upper triangle is read, in the row-major sense; for a symmetric input
/// either triangle gives the same T). Q is not formed. Backward stable: T is the exact reduction of A + E
/// with ‖E‖₂ = O(n·ε·‖A‖₂) (Golub & Van Loan §8.3.1). Symmetry and finiteness are not checked here (see
/// [`super::check_symmetric`]); non-finite entries make T non-finite, which [`tridiagonal_eigenvalues`] refuses.
///
/// Threads: a team of the size `par` asks for, at most one member per 160 rows and at most the
/// cores no other team holds, busy-waiting between the reduction's steps (docs/spectra.md, "Threads").
pub fn tridiagonalize<T: EigenScalar>(a: ArrayView2<T>, par: Par) -> crate::Result<Tridiagonal<T>> {
    Ok(reduce(a, team_for(par, a.nrows()))?.tridiagonal)
}

/// The team a reduction of order n asks for.
fn team_for(par: Par, n: usize) -> TeamSize {
    TeamSize::Budgeted(team_size(par, n, PARALLEL_FROM))
}

/// T = QᵀAQ with Q = H₀H₁⋯H_{n−2} kept as its reflectors, for eigenvectors: if Tz = λz then A(Qz) = λ(Qz)
/// ([`TridiagonalReduction::apply_q`]). Same reduction, threads and checks as [`tridiagonalize`].
pub fn tridiagonalize_keeping_q<T: EigenScalar>(
    a: ArrayView2<T>,
    par: Par,
) -> crate::Result<TridiagonalReduction<T>> {
    reduce(a, team_for(par, a.nrows()))
}

/// A tridiagonal reduction T = QᵀAQ and its orthogonal factor Q as Householder reflectors.
pub struct TridiagonalReduction<T> {
    /// T.
    pub tridiagonal: Tridiagonal<T>,
    /// Column-major n×n; column j holds v_j in rows j+1.. with v_j[j+1] = 1 (LAPACK's `?sytrd` storage, lower).
    reflectors: Vec<T>,
    /// τ_j of H_j = I − τ_j v_j v_jᵀ, j < n − 1.
    tau: Vec<T>,
}

impl<T: EigenScalar> TridiagonalReduction<T> {
    /// Z ← QZ for a column-major n × k matrix Z, by blocks of reflectors in compact WY form (Puglisi 1992;
    /// Joffrain et al., ACM TOMS 32(2), 2006) applied by faer's GEMMs on the threads `par` allows. Z must have
    /// n rows (`Error::Shape` otherwise).
    pub fn apply_q(&self, z: faer::MatMut<'_, T>, par: Par) -> crate::Result<()> {
        let n = self.tridiagonal.diagonal.len();
        if z.nrows() != n {
            return Err(crate::Error::Shape {
                what: format!("Q is {n}×{n} but Z has {} rows", z.nrows()),
            });
        }
        if n < 2 {
            return Ok(());
        }
        let k = n - 1;
        apply_reflectors(
            mat(&self.reflectors[1..], k, k, n),
            &self.tau,
            z.subrows_mut(1, k),
            par.faer(),
        );
        Ok(())
    }
}

/// Z ← QZ for Q = H₀H₁⋯H_{k−1}, H_j = I − τ_j v_j v_jᵀ, whose vectors are the columns of the rows × k `basis`
/// (v_j in rows j.., unit first entry implied: what lies on and above the diagonal is not read), by blocks of
/// reflectors in compact WY form: a block H_j⋯H_{j+b−1} = I − V·S⁻¹·Vᵀ with S upper triangular, S_ii = 1/τ_i
/// and S_il = v_iᵀv_l above the diagonal (Puglisi 1992; Joffrain et al., ACM TOMS 32(2), 2006), applied by
/// faer's blocked kernels (GEMMs). Z has `rows` rows.
pub(crate) fn apply_reflectors<T: EigenScalar>(
    basis: faer::MatRef<'_, T>,
    tau: &[T],
    z: faer::MatMut<'_, T>,
    par: faer::Par,
) {
    let (rows, k) = (basis.nrows(), basis.ncols());
    if k == 0 {
        return;
    }
    let block = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<T>(rows, k);
    let mut factor = faer::Mat::<T>::zeros(block, k);
    for j0 in (0..k).step_by(block) {
        let b = block.min(k - j0);
        let v = basis.submatrix(j0, j0, rows - j0, b);
        let (v_top, v_below) = v.split_at_row(b);
        let mut s = factor.as_mut().submatrix_mut(0, j0, b, b);
        use faer::linalg::matmul::triangular::{matmul as triangular_matmul, BlockStructure};
        triangular_matmul(
            s.as_mut(),
            BlockStructure::UnitTriangularUpper,
            faer::Accum::Replace,
            v_top.transpose(),
            BlockStructure::UnitTriangularUpper,
            v_top,
            BlockStructure::UnitTriangularLower,
            T::one(),
            par,
        );
        triangular_matmul(
            s.as_mut(),
            BlockStructure::UnitTriangularUpper,
            faer::Accum::Add,
            v_below.transpose(),
            BlockStructure::Rectangular,
            v_below,
            BlockStructure::Rectangular,
            T::one(),
            par,
        );
        for i in 0..b {
            // τ = 0 (H = I) gives S_ii = ∞, which the triangular solve turns into a zero coefficient.
            s[(i, i)] = T::one() / tau[j0 + i];
        }
    }
    let cols = z.ncols();
    let scratch =
        faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(
            rows, block, cols,
        );
    let mut memory = faer::dyn_stack::MemBuffer::new(scratch);
    faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        basis,
        factor.as_ref(),
        faer::Conj::No,
        z,
        par,
        faer::dyn_stack::MemStack::new(&mut memory),
    );
}

/// The reduction on a team of this size (the calling thread included) for orders above PARALLEL_FROM.
fn reduce<T: EigenScalar>(
    a: ArrayView2<T>,
    size: TeamSize,
) -> crate::Result<TridiagonalReduction<T>> {
    let n = crate::check_square(a.dim())?;
    // The row-major matrix read as column-major: its lower triangle is the input's upper triangle.
    let mut buf = copied_vec(a)?;
    let mut t = Tridiagonal {
        diagonal: vec![T::zero(); n],
        off_diagonal: vec![T::zero(); n.saturating_sub(1)],
    };
    let mut tau = vec![T::zero(); n.saturating_sub(1)];
    let size = if n > PARALLEL_FROM {
        size
    } else {
        TeamSize::Budgeted(1)
    };
    with_team(size, |team| {
        let mut workers = Workers {
            team,
            scratch: vec![T::zero(); n * (team.threads() - 1)],
            product_shares: Shares::equal(team.threads()),
            update_shares: Shares::equal(team.threads()),
        };
        let mut k = 0;
        while k < n {
            let m = n - k;
            let nb = panel_width(m);
            let panel = reduce_panel(&mut buf, n, k, nb, &mut t, &mut workers);
            tau[k..k + panel.tau.len()].copy_from_slice(&panel.tau);
            if nb < m {
                update_trailing(&mut buf, n, k + nb, &panel, &mut workers);
            }
            k += nb;
        }
    });
    Ok(TridiagonalReduction {
        tridiagonal: t,
        reflectors: buf,
        tau,
    })
}

/// Refuses a tridiagonal matrix with a non-finite entry (a finite input can overflow near the largest float);
/// the iterations on T are only defined for finite entries.
pub(crate) fn check_finite<T: EigenScalar>(
    t: &Tridiagonal<T>,
    backend: &'static str,
) -> crate::Result<()> {
    match t
        .diagonal
        .iter()
        .chain(&t.off_diagonal)
        .position(|v| !v.to_f64().is_finite())
    {
        None => Ok(()),
        Some(i) => Err(crate::Error::Backend {
            backend,
            detail: format!(
                "the tridiagonal reduction overflowed (entry {i}); the matrix's entries are too close to the largest float, scale it down"
            ),
        }),
    }
}

/// All eigenvalues of a symmetric tridiagonal matrix, ascending, by the root-free QL iteration
/// (Pal–Walker–Kahan, LAPACK's `?sterf`; O(n²), in f64 whatever T is).
pub fn tridiagonal_eigenvalues<T: EigenScalar>(t: &Tridiagonal<T>) -> crate::Result<Vec<T>> {
    check_finite(t, "faer")?;
    let to_f64 = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<_>>();
    let w = super::root_free_ql::root_free_ql(&to_f64(&t.diagonal), &to_f64(&t.off_diagonal))?;
    Ok(w.into_iter().map(T::from_f64).collect())
}

/// The team that shares the reduction's parallel steps, with the fractions of each kind of step its members
/// take.
struct Workers<'a, T> {
    team: &'a SpinTeam,
    /// The helpers' parts of y in the symmetric products, n entries each.
    scratch: Vec<T>,
    product_shares: Shares,
    update_shares: Shares,
}

/// A panel's reflectors V and the matching W, column-major m × nb (rows k..n of the matrix), and the
/// reflectors' τ.
struct Panel<T> {
    v: Vec<T>,
    w: Vec<T>,
    tau: Vec<T>,
    m: usize,
    nb: usize,
}

/// Reduces columns k..k+nb of the column-major n×n buffer `a` (lower triangle), writing their diagonal and
/// off-diagonal entries into `t`; the trailing matrix a[k+nb.., k+nb..] is left for [`update_trailing`].
fn reduce_panel<T: EigenScalar>(
    a: &mut [T],
    n: usize,
    k: usize,
    nb: usize,
    t: &mut Tridiagonal<T>,
    workers: &mut Workers<T>,
) -> Panel<T> {
    let m = n - k;
    let mut v = vec![T::zero(); m * nb];
    let mut w = vec![T::zero(); m * nb];
    let mut t_w = vec![T::zero(); nb];
    let mut t_v = vec![T::zero(); nb];
    let mut taus = Vec::with_capacity(nb);
    for i in 0..nb {
        let j = k + i;
        let r = j - k;
        // Column j up to date: a[j.., j] −= V[j.., :i]·W[j, :i]ᵀ + W[j.., :i]·V[j, :i]ᵀ.
        if i > 0 {
            let col = &mut a[j * n + j..(j + 1) * n];
            let (vr, wr) = (mat(&v[r..], m - r, i, m), mat(&w[r..], m - r, i, m));
            let (w_row, v_row) = (mat(&w[r..], 1, i, m), mat(&v[r..], 1, i, m));
            subtract_products(col, vr, wr, w_row.transpose(), v_row.transpose());
        }
        t.diagonal[j] = a[j * n + j];
        if j + 1 == n {
            break;
        }
        // The reflector of a[j+1.., j]; v_j is stored from row j+1 with v_j[j+1] = 1.
        let (beta, tau) = householder(&mut a[j * n + j + 1..(j + 1) * n]);
        t.off_diagonal[j] = beta;
        taus.push(tau);
        v[i * m + r + 1..(i + 1) * m].copy_from_slice(&a[j * n + j + 1..(j + 1) * n]);
        let s = n - j - 1;
        let (v_prev, v_rest) = v.split_at(i * m);
        let vj = &v_rest[r + 1..m];
        let (w_prev, w_rest) = w.split_at_mut(i * m);
        let wj = &mut w_rest[r + 1..m];
        // w_j = A[j+1.., j+1..]·v_j (the trailing matrix as of the panel's start) …
        symmetric_lower_product(a, n, j + 1, s, vj, wj, workers);
        // … − V·(Wᵀv_j) − W·(Vᵀv_j) over the panel's earlier columns, rows j+1..
        if i > 0 {
            let (vr, wr) = (
                mat(&v_prev[r + 1..], s, i, m),
                mat(&w_prev[r + 1..], s, i, m),
            );
            let vj_col = mat(vj, s, 1, s);
            gemm(&mut t_w[..i], wr.transpose(), vj_col, T::one(), false);
            gemm(&mut t_v[..i], vr.transpose(), vj_col, T::one(), false);
            let (tw, tv) = (mat(&t_w, i, 1, i), mat(&t_v, i, 1, i));
            subtract_products(wj, vr, wr, tw, tv);
        }
        // w_j ← τ w_j − ½ τ (τ w_jᵀ v_j) v_j.
        wj.iter_mut().for_each(|x| *x *= tau);
        let alpha = -(T::from_f64(0.5) * tau * dot(wj, vj));
        for (x, &vr) in wj.iter_mut().zip(vj) {
            *x += alpha * vr;
        }
    }
    Panel {
        v,
        w,
        tau: taus,
        m,
        nb,
    }
}

/// The rows × cols column-major matrix starting at `p[0]` with column stride `stride`.
pub(crate) fn mat<T: EigenScalar>(
    p: &[T],
    rows: usize,
    cols: usize,
    stride: usize,
) -> faer::MatRef<'_, T> {
    faer::MatRef::from_column_major_slice_with_stride(p, rows, cols, stride)
}

/// The mutable counterpart of [`mat`].
pub(crate) fn mat_mut<T: EigenScalar>(
    p: &mut [T],
    rows: usize,
    cols: usize,
    stride: usize,
) -> faer::MatMut<'_, T> {
    faer::MatMut::from_column_major_slice_with_stride_mut(p, rows, cols, stride)
}

/// dst = α·lhs·rhs (dst a column), or dst += α·lhs·rhs with `accumulate`, by faer's kernels on one thread.
fn gemm<T: EigenScalar>(
    dst: &mut [T],
    lhs: faer::MatRef<'_, T>,
    rhs: faer::MatRef<'_, T>,
    alpha: T,
    accumulate: bool,
) {
    let rows = dst.len();
    let accum = if accumulate {
        faer::Accum::Add
    } else {
        faer::Accum::Replace
    };
    let dst = faer::MatMut::from_column_major_slice_mut(dst, rows, 1);
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, faer::Par::Seq);
}

/// y −= V·b + W·c (V, W: rows of the panel's first i reflectors and vectors; b, c: i × 1).
fn subtract_products<T: EigenScalar>(
    y: &mut [T],
    v: faer::MatRef<'_, T>,
    w: faer::MatRef<'_, T>,
    b: faer::MatRef<'_, T>,
    c: faer::MatRef<'_, T>,
) {
    gemm(y, v, b, -T::one(), true);
    gemm(y, w, c, -T::one(), true);
}

/// a[k2.., k2..] −= V₂W₂ᵀ + W₂V₂ᵀ on the lower triangle, with V₂, W₂ the panel's rows from k2. Each member
/// of the team updates a range of columns holding an equal share of the triangle: its own triangular top
/// block and the rectangle below it.
fn update_trailing<T: EigenScalar>(
    a: &mut [T],
    n: usize,
    k2: usize,
    p: &Panel<T>,
    workers: &mut Workers<T>,
) {
    let team = workers.team;
    let m2 = n - k2;
    let skip = p.m - m2;
    // lhs = [V₂ W₂] and rhs = [W₂ V₂], column-major m2 × 2nb.
    let mut lhs = Vec::with_capacity(m2 * 2 * p.nb);
    let mut rhs = Vec::with_capacity(m2 * 2 * p.nb);
    for c in 0..p.nb {
        lhs.extend_from_slice(&p.v[c * p.m + skip..(c + 1) * p.m]);
        rhs.extend_from_slice(&p.w[c * p.m + skip..(c + 1) * p.m]);
    }
    for c in 0..p.nb {
        lhs.extend_from_slice(&p.w[c * p.m + skip..(c + 1) * p.m]);
        rhs.extend_from_slice(&p.v[c * p.m + skip..(c + 1) * p.m]);
    }
    let inner = 2 * p.nb;
    let bounds = triangle_column_split(m2, workers.update_shares.fractions());
    // The trailing block starts at element (k2, k2) of the column-major n×n buffer; carried as an address so
    // the members can each write their own columns.
    let trailing = a[k2 * n + k2..].as_mut_ptr() as usize;
    let (lhs, rhs) = (&lhs, &rhs);
    team.run(&|t| {
        let (c0, c1) = (bounds[t], bounds[t + 1]);
        if c0 == c1 {
            return;
        }
        // SAFETY: member t writes only columns c0..c1, rows c0..m2, of the m2×m2 trailing block (column
        // stride n), which lies inside `a`; the members' column ranges are disjoint, and `a` is not otherwise
        // accessed while the team runs. `lhs` and `rhs` are owned m2 × inner column-major buffers (rhs read
        // transposed), not aliasing `a`.
        let (top, below, l_top, l_below, r) = unsafe {
            let base = (trailing as *mut T).add(c0 * n + c0);
            (
                faer::MatMut::from_raw_parts_mut(base, c1 - c0, c1 - c0, 1, n as isize),
                faer::MatMut::from_raw_parts_mut(
                    base.add(c1 - c0),
                    m2 - c1,
                    c1 - c0,
                    1,
                    n as isize,
                ),
                faer::MatRef::from_raw_parts(lhs.as_ptr().add(c0), c1 - c0, inner, 1, m2 as isize),
                faer::MatRef::from_raw_parts(lhs.as_ptr().add(c1), m2 - c1, inner, 1, m2 as isize),
                faer::MatRef::from_raw_parts(rhs.as_ptr().add(c0), inner, c1 - c0, m2 as isize, 1),
            )
        };
        use faer::linalg::matmul::triangular::{matmul as triangular_matmul, BlockStructure};
        triangular_matmul(
            top,
            BlockStructure::TriangularLower,
            faer::Accum::Add,
            l_top,
            BlockStructure::Rectangular,
            r,
            BlockStructure::Rectangular,
            -T::one(),
            faer::Par::Seq,
        );
        faer::linalg::matmul::matmul(
            below,
            faer::Accum::Add,
            l_below,
            r,
            -T::one(),
            faer::Par::Seq,
        );
    });
    workers
        .update_shares
        .observe(&triangle_work(m2, &bounds), &team.step_seconds());
}

/// Turns x into the Householder vector v (v[0] = 1) of the reflector H = I − τvvᵀ with Hx = βe₁, and returns
/// (β, τ). τ = 0 (H = I) when x[1..] is zero (LAPACK's `?larfg` convention).
#[inline(always)]
pub(crate) fn householder<T: EigenScalar>(x: &mut [T]) -> (T, T) {
    let alpha = x[0].to_f64();
    let tail = &mut x[1..];
    let scale = tail.iter().fold(0f64, |s, t| s.max(t.to_f64().abs()));
    if scale == 0.0 {
        x[0] = T::one();
        return (T::from_f64(alpha), T::zero());
    }
    let sum: f64 = tail
        .iter()
        .map(|t| {
            let u = t.to_f64() / scale;
            u * u
        })
        .sum();
    let xnorm = scale * sum.sqrt();
    let beta = -alpha.hypot(xnorm).copysign(alpha);
    let tau = (beta - alpha) / beta;
    let inv = T::from_f64(1.0 / (alpha - beta));
    tail.iter_mut().for_each(|t| *t *= inv);
    x[0] = T::one();
    (T::from_f64(beta), T::from_f64(tau))
}

#[inline(always)]
pub(crate) fn dot<T: EigenScalar>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..LANES {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut s = acc.iter().fold(T::zero(), |s, &t| s + t);
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// Independent accumulators in the inner loops (one AVX-512 register of f64, half of one of f32).
const LANES: usize = 8;

/// y = B·x for the s×s symmetric B = a[c0.., c0..] stored in the lower triangle of the column-major n×n `a`,
/// reading each stored entry once: column c contributes B[c.., c]·x[c] to y[c..] and B[c+1.., c]ᵀx[c+1..] to
/// y[c]. Large products split the columns over the team by its product shares (which follow the members'
/// measured speeds), each member with its own y (the helpers' in the team's scratch, n entries each), summed at
/// the end.
fn symmetric_lower_product<T: EigenScalar>(
    a: &[T],
    n: usize,
    c0: usize,
    s: usize,
    x: &[T],
    y: &mut [T],
    workers: &mut Workers<T>,
) {
    let team = workers.team;
    if s < PARALLEL_FROM || team.threads() == 1 {
        y.iter_mut().for_each(|t| *t = T::zero());
        return columns_product(a, n, c0, 0..s, x, y);
    }
    // Inner bounds on multiples of GROUP: only the last member's range ends in columns that do not fill a
    // group, and those are the matrix's last (shortest) columns.
    let mut bounds = triangle_column_split(s, workers.product_shares.fractions());
    let last = bounds.len() - 1;
    for b in &mut bounds[1..last] {
        *b = ((*b + GROUP / 2) / GROUP * GROUP).min(s);
    }
    // Member t sums columns bounds[t]..bounds[t + 1] into rows bounds[t]..s of its own y.
    let outputs: Vec<std::sync::Mutex<&mut [T]>> = std::iter::once(&mut y[..])
        .chain(workers.scratch.chunks_exact_mut(n))
        .zip(&bounds)
        .map(|(out, &start)| {
            let out = &mut out[..s - start];
            out.iter_mut().for_each(|t| *t = T::zero());
            std::sync::Mutex::new(out)
        })
        .collect();
    team.run(&|t| {
        let mut out = outputs[t].lock().expect("one member per output");
        let start = bounds[t];
        columns_product(
            a,
            n,
            c0 + start,
            0..bounds[t + 1] - start,
            &x[start..],
            &mut out,
        );
    });
    drop(outputs);
    workers
        .product_shares
        .observe(&triangle_work(s, &bounds), &team.step_seconds());
    for (t, part) in workers.scratch.chunks_exact(n).enumerate() {
        let start = bounds[t + 1];
        for (u, &v) in y[start..].iter_mut().zip(&part[..s - start]) {
            *u += v;
        }
    }
}

/// Columns advanced together: that many streams from memory at once (one column's stream is too short for the
/// hardware prefetcher to reach full bandwidth: 10 GB/s for single columns, 19 for groups of 4, 26 for 16 at
/// s = 4000 on this machine) and one pass over y per group.
const GROUP: usize = 16;

/// y += B[.., cols]·x for the columns `cols` of the symmetric B whose (0, 0) entry is a[c0·n + c0].
fn columns_product<T: EigenScalar>(
    a: &[T],
    n: usize,
    c0: usize,
    cols: std::ops::Range<usize>,
    x: &[T],
    y: &mut [T],
) {
    let s = x.len();
    let column = |c: usize| &a[(c0 + c) * n + c0 + c..(c0 + c) * n + c0 + s];
    let mut c = cols.start;
    while c + GROUP <= cols.end {
        // Rows c.. of the group's columns: column c + k is read from its diagonal on, the kernel taking the
        // entries strictly below it.
        let b: [&[T]; GROUP] =
            std::array::from_fn(|k| &a[(c0 + c + k) * n + c0 + c..(c0 + c + k) * n + c0 + s]);
        let xc: [T; GROUP] = std::array::from_fn(|k| x[c + k]);
        let dots = group_dot_axpy(b, &x[c..], &mut y[c..], xc);
        for k in 0..GROUP {
            y[c + k] += b[k][k] * xc[k] + dots[k];
        }
        c += GROUP;
    }
    for c in c..cols.end {
        let col = column(c);
        let xc = x[c];
        let mut below = T::zero();
        for ((&b, &xr), yr) in col[1..].iter().zip(&x[c + 1..]).zip(&mut y[c + 1..]) {
            below += b * xr;
            *yr += b * xc;
        }
        y[c] += col[0] * xc + below;
    }
}

/// dots[k] = Σ_r b[k][r]·x[r], and y[r] += Σ_k b[k][r]·xc[k], in one pass over the GROUP columns b, where
/// in the first GROUP rows column k takes part only below row k: those rows are a group's diagonal block, of
/// which only the part strictly below the diagonal is held (the entries on and above it are not read). The
/// columns are at least GROUP long.
#[inline]
fn group_dot_axpy<T: EigenScalar>(
    b: [&[T]; GROUP],
    x: &[T],
    y: &mut [T],
    xc: [T; GROUP],
) -> [T; GROUP] {
    let len = x.len();
    assert!(len >= GROUP && y.len() == len && b.iter().all(|c| c.len() == len));
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx2_fma() {
        use std::any::TypeId;
        macro_rules! call {
            ($t:ty, $f:path) => {
                if TypeId::of::<T>() == TypeId::of::<$t>() {
                    // SAFETY: the CPU has the kernel's features (checked around each call); T is $t, so the
                    // casts are identities; all slices have length `len` (asserted above).
                    let dots = unsafe {
                        $f(
                            std::array::from_fn(|k| b[k].as_ptr() as *const $t),
                            x.as_ptr() as *const $t,
                            y.as_mut_ptr() as *mut $t,
                            len,
                            std::array::from_fn(|k| xc[k].to_f64() as $t),
                        )
                    };
                    return dots.map(|d| T::from_f64(d as f64));
                }
            };
        }
        #[cfg(deq_avx512)]
        if crate::simd::avx512f() {
            call!(f64, group_simd::f64x8);
            call!(f32, group_simd::f32x16);
        }
        call!(f64, group_simd::f64x4);
        call!(f32, group_simd::f32x8);
    }
    group_dot_axpy_portable(b, x, y, xc)
}

/// `group_dot_axpy` without SIMD intrinsics.
fn group_dot_axpy_portable<T: EigenScalar>(
    b: [&[T]; GROUP],
    x: &[T],
    y: &mut [T],
    xc: [T; GROUP],
) -> [T; GROUP] {
    let len = x.len();
    let mut dots = [T::zero(); GROUP];
    for r in 0..len {
        let mut yr = y[r];
        for k in 0..GROUP {
            if r <= k {
                continue;
            }
            dots[k] += b[k][r] * x[r];
            yr += b[k][r] * xc[k];
        }
        y[r] = yr;
    }
    dots
}

#[cfg(target_arch = "x86_64")]
// The AVX-512 kernels exist only with `deq_avx512` (rustc ≥ 1.89, build.rs), below the declared rust-version's reach.
#[allow(clippy::incompatible_msrv)]
mod group_simd {
    use super::GROUP;
    use std::arch::x86_64::*;

    /// The kernel of `group_dot_axpy` for one element type and instruction set: `$w` lanes per register.
    macro_rules! kernel {
        ($feature:literal, $name:ident, $t:ty, $w:expr, $vec:ty, $load:ident, $masked_load:ident,
         $store:ident, $set1:ident, $zero:ident, $fmadd:ident) => {
            /// # Safety
            /// The CPU has the features `$feature`; b[k], x and y each hold `len` ≥ GROUP elements.
            #[target_feature(enable = $feature)]
            pub unsafe fn $name(
                b: [*const $t; GROUP],
                x: *const $t,
                y: *mut $t,
                len: usize,
                xc: [$t; GROUP],
            ) -> [$t; GROUP] {
                let vxc: [$vec; GROUP] = std::array::from_fn(|k| $set1(xc[k]));
                let mut acc: [$vec; GROUP] = [$zero(); GROUP];
                // The diagonal block: lane l of the chunk at row i is read in column k when i + l > k.
                for i in (0..GROUP).step_by($w) {
                    let xv = $load(x.add(i));
                    let mut yv = $load(y.add(i));
                    for k in 0..GROUP {
                        let on_or_above = (k + 1).saturating_sub(i).min($w);
                        let below = ((1u32 << $w) - 1) & !((1u32 << on_or_above) - 1);
                        if below == 0 {
                            continue;
                        }
                        let bv = $masked_load(b[k].add(i), below);
                        acc[k] = $fmadd(bv, xv, acc[k]);
                        yv = $fmadd(bv, vxc[k], yv);
                    }
                    $store(y.add(i), yv);
                }
                let mut i = GROUP;
                while i + $w <= len {
                    let xv = $load(x.add(i));
                    let mut yv = $load(y.add(i));
                    for k in 0..GROUP {
                        let bv = $load(b[k].add(i));
                        acc[k] = $fmadd(bv, xv, acc[k]);
                        yv = $fmadd(bv, vxc[k], yv);
                    }
                    $store(y.add(i), yv);
                    i += $w;
                }
                let mut dots = [0 as $t; GROUP];
                for k in 0..GROUP {
                    let mut lanes = [0 as $t; $w];
                    $store(lanes.as_mut_ptr(), acc[k]);
                    dots[k] = lanes.iter().sum();
                }
                while i < len {
                    let mut yr = *y.add(i);
                    for k in 0..GROUP {
                        let bk = *b[k].add(i);
                        dots[k] = bk.mul_add(*x.add(i), dots[k]);
                        yr = bk.mul_add(xc[k], yr);
                    }
                    *y.add(i) = yr;
                    i += 1;
                }
                dots
            }
        };
    }

    // Loads of the lanes whose bit is set in `lanes`, zeros elsewhere; the other lanes' memory is not read.
    #[cfg(deq_avx512)]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn masked_f64x8(p: *const f64, lanes: u32) -> __m512d {
        _mm512_maskz_loadu_pd(lanes as __mmask8, p)
    }
    #[cfg(deq_avx512)]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn masked_f32x16(p: *const f32, lanes: u32) -> __m512 {
        _mm512_maskz_loadu_ps(lanes as __mmask16, p)
    }
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn masked_f64x4(p: *const f64, lanes: u32) -> __m256d {
        let lane = |l: u32| -(((lanes >> l) & 1) as i64);
        _mm256_maskload_pd(p, _mm256_setr_epi64x(lane(0), lane(1), lane(2), lane(3)))
    }
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn masked_f32x8(p: *const f32, lanes: u32) -> __m256 {
        let lane = |l: u32| -(((lanes >> l) & 1) as i32);
        _mm256_maskload_ps(
            p,
            _mm256_setr_epi32(
                lane(0),
                lane(1),
                lane(2),
                lane(3),
                lane(4),
                lane(5),
                lane(6),
                lane(7),
            ),
        )
    }

    #[cfg(deq_avx512)]
    kernel!(
        "avx512f",
        f64x8,
        f64,
        8,
        __m512d,
        _mm512_loadu_pd,
        masked_f64x8,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_setzero_pd,
        _mm512_fmadd_pd
    );
    kernel!(
        "avx2,fma",
        f64x4,
        f64,
        4,
        __m256d,
        _mm256_loadu_pd,
        masked_f64x4,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_setzero_pd,
        _mm256_fmadd_pd
    );
    #[cfg(deq_avx512)]
    kernel!(
        "avx512f",
        f32x16,
        f32,
        16,
        __m512,
        _mm512_loadu_ps,
        masked_f32x16,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_setzero_ps,
        _mm512_fmadd_ps
    );
    kernel!(
        "avx2,fma",
        f32x8,
        f32,
        8,
        __m256,
        _mm256_loadu_ps,
        masked_f32x8,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_setzero_ps,
        _mm256_fmadd_ps
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// T = QᵀAQ for the Q built from the reflectors would need Q; instead compare the invariants of T with
    /// those of A: the trace, the Frobenius norm and the eigenvalues (by faer's own solver).
    fn check(a: &Array2<f64>) {
        let n = a.nrows();
        let t = tridiagonalize(a.view(), Par::Pool).unwrap();
        let trace_a: f64 = (0..n).map(|i| a[[i, i]]).sum();
        let trace_t: f64 = t.diagonal.iter().sum();
        let fro_a = a.iter().map(|x| x * x).sum::<f64>();
        let fro_t = t.diagonal.iter().map(|x| x * x).sum::<f64>()
            + 2.0 * t.off_diagonal.iter().map(|x| x * x).sum::<f64>();
        let scale = fro_a.sqrt().max(1e-300);
        assert!(
            (trace_a - trace_t).abs() <= 1e-12 * n as f64 * scale,
            "{trace_a} {trace_t}"
        );
        assert!((fro_a - fro_t).abs() <= 1e-12 * n as f64 * fro_a.max(1e-300));
        let tm = t.to_dense();
        let ev = |m: &Array2<f64>| {
            let mut w = super::super::faer_ref(m.view())
                .self_adjoint_eigenvalues(faer::Side::Lower)
                .unwrap();
            w.sort_by(f64::total_cmp);
            w
        };
        let (wa, wt) = (ev(a), ev(&tm));
        let norm = wa.iter().fold(0f64, |m, x| m.max(x.abs())).max(1e-300);
        let ql = tridiagonal_eigenvalues(&t).unwrap();
        for ((x, y), z) in wa.iter().zip(&wt).zip(&ql) {
            assert!((x - y).abs() <= 1e-12 * n as f64 * norm, "{x} {y}");
            assert!((x - z).abs() <= 1e-12 * n as f64 * norm, "{x} {z}");
        }
    }

    use crate::testing::random_symmetric;

    #[test]
    fn invariants_across_panel_boundaries() {
        // One panel (≤ 128), several panels with and without a partial last one, the parallel product.
        for (n, seed) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (37, 4),
            (128, 5),
            (129, 6),
            (200, 7),
            (600, 8),
        ] {
            check(&random_symmetric(n, seed));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_kernels_match_the_portable_loop() {
        // Every kernel this CPU can run, at lengths that leave every remainder, f64 and f32.
        macro_rules! compare {
            ($t:ty, $available:expr, $kernel:path) => {
                if $available {
                    for len in GROUP..GROUP + 70 {
                        let cols: Vec<Vec<$t>> = (0..GROUP)
                            .map(|k| {
                                (0..len)
                                    .map(|r| ((k * 31 + r * 7) % 13) as $t - 6.0)
                                    .collect()
                            })
                            .collect();
                        let x: Vec<$t> = (0..len).map(|r| (r % 5) as $t - 2.0).collect();
                        let xc: [$t; GROUP] = std::array::from_fn(|k| k as $t * 0.5 - 3.0);
                        let y0: Vec<$t> = (0..len).map(|r| r as $t).collect();
                        let b: [&[$t]; GROUP] = std::array::from_fn(|k| &cols[k][..]);
                        let (mut y_simd, mut y_ref) = (y0.clone(), y0);
                        // SAFETY: the features were detected; all slices hold `len` elements.
                        let d_simd = unsafe {
                            $kernel(
                                b.map(|c| c.as_ptr()),
                                x.as_ptr(),
                                y_simd.as_mut_ptr(),
                                len,
                                xc,
                            )
                        };
                        let d_ref = group_dot_axpy_portable(b, &x, &mut y_ref, xc);
                        // Small integers: every sum is exact in either order.
                        assert_eq!(d_simd, d_ref, "dots, len {len}");
                        assert_eq!(y_simd, y_ref, "y, len {len}");
                    }
                }
            };
        }
        compare!(f64, crate::simd::avx2_fma(), group_simd::f64x4);
        compare!(f32, crate::simd::avx2_fma(), group_simd::f32x8);
        #[cfg(deq_avx512)]
        compare!(f64, crate::simd::avx512f(), group_simd::f64x8);
        #[cfg(deq_avx512)]
        compare!(f32, crate::simd::avx512f(), group_simd::f32x16);
    }

    #[test]
    fn any_team_size_gives_the_same_reduction() {
        // The products and updates split over 1, 2 or 3 threads.
        let a = random_symmetric(700, 10);
        let reduce_on = |threads: usize| {
            reduce(a.view(), TeamSize::Exact(threads))
                .unwrap()
                .tridiagonal
        };
        let one = reduce_on(1);
        check(&a);
        for threads in [2, 3] {
            let t = reduce_on(threads);
            // Only the order of the summation differs.
            let tol = 1e-12 * 700.0;
            for (x, y) in one.diagonal.iter().zip(&t.diagonal) {
                assert!((x - y).abs() <= tol, "{threads} threads: {x} {y}");
            }
            for (x, y) in one.off_diagonal.iter().zip(&t.off_diagonal) {
                assert!(
                    (x.abs() - y.abs()).abs() <= tol,
                    "{threads} threads: {x} {y}"
                );
            }
        }
    }

    #[test]
    fn inside_a_rayon_worker_the_reduction_stays_on_its_thread() {
        // Eight reductions from a parallel iterator on a pool of 2: each must equal the one-thread reduction
        // (no helpers are spawned; a team per call would put 2 × 2 spinning threads on the pool's 2).
        let a = random_symmetric(400, 11);
        let one = reduce(a.view(), TeamSize::Exact(1)).unwrap().tridiagonal;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let all: Vec<Tridiagonal<f64>> = pool.install(|| {
            use rayon::prelude::*;
            (0..8)
                .into_par_iter()
                .map(|_| tridiagonalize(a.view(), Par::Pool).unwrap())
                .collect()
        });
        // The test can tell: two threads round differently.
        assert_ne!(
            reduce(a.view(), TeamSize::Exact(2)).unwrap().tridiagonal,
            one
        );
        for t in all {
            assert_eq!(t, one);
        }
    }

    #[test]
    fn non_square_and_non_finite_are_refused() {
        assert!(tridiagonalize(Array2::<f64>::zeros((3, 4)).view(), Par::Pool).is_err());
        let mut a = random_symmetric(140, 9);
        a[[70, 3]] = f64::NAN;
        a[[3, 70]] = f64::NAN;
        let t = tridiagonalize(a.view(), Par::Pool).unwrap();
        assert!(tridiagonal_eigenvalues(&t).is_err());
    }

    #[test]
    fn already_tridiagonal_and_zero_columns() {
        let mut a = Array2::<f64>::zeros((300, 300));
        for i in 0..300 {
            a[[i, i]] = i as f64;
            if i + 1 < 300 && i % 3 != 0 {
                a[[i + 1, i]] = 1.0;
                a[[i, i + 1]] = 1.0;
            }
        }
        check(&a);
        check(&Array2::zeros((150, 150)));
    }

    /// Q from `apply_q` on the identity: orthogonal, and QTQᵀ = A, both to a multiple of n·ε.
    fn check_q(a: &Array2<f64>) {
        let n = a.nrows();
        let reduction = tridiagonalize_keeping_q(a.view(), Par::Pool).unwrap();
        let mut q = Array2::<f64>::eye(n).reversed_axes();
        reduction
            .apply_q(crate::faer_mut(q.view_mut()), Par::Pool)
            .unwrap();
        let t = &reduction.tridiagonal;
        let mut tq = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..n {
                let mut x = t.diagonal[i] * q[[j, i]];
                if i > 0 {
                    x += t.off_diagonal[i - 1] * q[[j, i - 1]];
                }
                if i + 1 < n {
                    x += t.off_diagonal[i] * q[[j, i + 1]];
                }
                tq[[i, j]] = x;
            }
        }
        let qtq = q.dot(&tq);
        let norm = a.iter().fold(0f64, |m, x| m.max(x.abs())).max(1e-300);
        let tol = 20.0 * n as f64 * f64::EPSILON;
        let orth = (q.t().dot(&q) - Array2::<f64>::eye(n))
            .iter()
            .fold(0f64, |m, x| m.max(x.abs()));
        let back = (&qtq - a).iter().fold(0f64, |m, x| m.max(x.abs())) / norm;
        assert!(orth <= tol, "n = {n}: ‖QᵀQ − I‖_max = {orth:e}");
        assert!(back <= tol, "n = {n}: ‖QTQᵀ − A‖_max/‖A‖_max = {back:e}");
    }

    #[test]
    fn q_is_orthogonal_and_reproduces_a() {
        // Block sizes 1 to 48 in the back-transformation, full and partial blocks, several panels of both
        // widths.
        for (n, seed) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (20, 4),
            (129, 5),
            (300, 6),
            (530, 7),
            // Wide panels while the trailing order exceeds NARROW_PANELS_UP_TO, then narrow ones.
            (NARROW_PANELS_UP_TO + 100, 9),
        ] {
            check_q(&random_symmetric(n, seed));
        }
        // Reflectors with τ = 0 (columns already reduced) inside blocks.
        let mut a = Array2::<f64>::zeros((300, 300));
        for i in 0..300 {
            a[[i, i]] = (i % 7) as f64;
            if i + 1 < 300 && i % 3 != 0 {
                a[[i + 1, i]] = 1.0;
                a[[i, i + 1]] = 1.0;
            }
        }
        a[[250, 2]] = 0.5;
        a[[2, 250]] = 0.5;
        check_q(&a);
        check_q(&Array2::zeros((150, 150)));
        let reduction = tridiagonalize_keeping_q(random_symmetric(5, 8).view(), Par::Pool).unwrap();
        let mut wrong = Array2::<f64>::zeros((4, 5));
        assert!(matches!(
            reduction.apply_q(crate::faer_mut(wrong.view_mut()), Par::Pool),
            Err(crate::Error::Shape { .. })
        ));
    }
}
