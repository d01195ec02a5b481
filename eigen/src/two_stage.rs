//! Two-stage tridiagonalization for eigenvalues: dense → band by blocked Householder transformations whose
//! trailing updates are matrix–matrix products, then band → tridiagonal by bulge chasing (Bischof, Lang & Sun,
//! ACM TOMS 26(4), 2000; the sweep structure of LAPACK's `?sytrd_sy2sb` and `?sytrd_sb2st`, Haidar, Ltaief &
//! Dongarra 2011).
//!
//! **Stage 1.** For the panel of columns k..k+b, the QR factorization of the block below the band,
//! A[k+b.., k..k+b] = Q·[R; 0] with Q = I − VTVᵀ (V unit lower trapezoidal, T upper triangular: the compact WY
//! form), leaves R inside the band and transforms the trailing matrix A₂₂ = A[k+b.., k+b..] into QᵀA₂₂Q =
//! A₂₂ − VWᵀ − WVᵀ with Y = A₂₂VT and W = Y − ½·V(Tᵀ(VᵀY)): one symmetric product and one symmetric rank-2b
//! update. Its 4n³/3 flops are those of the one-stage reduction, all in matrix–matrix products. The two are
//! fused: a panel's update is applied to the next panel's columns first, which are then factored, and one pass
//! over the rest of the trailing matrix, tile by tile on a thread team, applies the update to each tile and adds
//! the tile's contributions to the next panel's Y while it is in cache (faer's GEMM kernels on each tile). The
//! trailing matrix then streams through memory once per panel instead of three times (two reads for Y, one read
//! and write for the update); at n = 4000 the pass runs at ≈ 60 GFLOP/s in f64 on two cores, where the separate
//! products ran at ≈ 40.
//!
//! **Stage 2.** Sweep s annihilates column s below its subdiagonal with one reflector on rows s+1..s+b, applied
//! from both sides to the diagonal block. Applying it from the right to the b rows below fills them (the bulge);
//! a second reflector annihilates the bulge's first column and is applied from the left to the rest of those
//! rows and from both sides to the next diagonal block, and so on to the end of the matrix. The rest of each
//! bulge lies where the next sweep's reflectors act and is annihilated by them. The band is stored by columns
//! with room for the bulge (2b + 1 entries per column), so every operation runs over contiguous memory.
//! About 6b·n² flops, pipelined over threads; each step's kernels are compiled for the widest vectors the CPU has.

use std::sync::Mutex;

use faer::reborrow::{Reborrow, ReborrowMut};
use ndarray::ArrayView2;

use super::tridiagonal::{dot, householder, mat, mat_mut, Tridiagonal};
use super::EigenScalar;
use crate::buffer::copied_vec;
use crate::spin_team::{team_size, with_team, SpinTeam, TeamSize};
use crate::Par;

/// T = QᵀAQ for a symmetric A by the two stages with band width `band` ≥ 1 (the upper triangle of the
/// row-major input is read, as in [`super::tridiagonal::tridiagonalize`]). Q is not formed. The products of
/// stage 1 run on the threads `par` allows; stage 2 runs its sweeps on as many threads (at most 4), pipelined.
pub fn tridiagonalize_two_stage<T: EigenScalar>(
    a: ArrayView2<T>,
    band: usize,
    par: Par,
) -> crate::Result<Tridiagonal<T>> {
    Ok(reduce(a, band, par, false)?.tridiagonal)
}

/// T = QᵀAQ as [`tridiagonalize_two_stage`] computes it, with Q = Q₁Q₂ kept as the reflectors of both stages,
/// for eigenvectors: if Tz = λz then A(Qz) = λ(Qz) ([`TwoStageReduction::apply_q`]). Keeping them costs
/// about n² numbers more than the reduction alone (n²/2 for each stage).
pub fn tridiagonalize_two_stage_keeping_q<T: EigenScalar>(
    a: ArrayView2<T>,
    band: usize,
    par: Par,
) -> crate::Result<TwoStageReduction<T>> {
    reduce(a, band, par, true)
}

/// A two-stage reduction T = Q₂ᵀQ₁ᵀAQ₁Q₂ and its orthogonal factors as Householder reflectors.
pub struct TwoStageReduction<T> {
    /// T.
    pub tridiagonal: Tridiagonal<T>,
    band: usize,
    /// Stage 1's reflectors below the band of the column-major n×n matrix (see [`reduce_to_band`]).
    stage_one: Vec<T>,
    tau_one: Vec<T>,
    stage_two: Option<ChaseReflectors<T>>,
}

impl<T: EigenScalar> TwoStageReduction<T> {
    /// Z ← QZ = Q₁(Q₂Z) for an n × k matrix Z (`Error::Shape` otherwise): Q₂'s reflectors, one at a time, on
    /// blocks of columns in parallel (≈ 2n²k flops); then Q₁'s by blocks in compact WY form (GEMMs, ≈ 2n²k
    /// flops) on the threads `par` allows. A Z that is not column-major is worked on in a column-major copy.
    pub fn apply_q(&self, mut z: ndarray::ArrayViewMut2<'_, T>, par: Par) -> crate::Result<()> {
        let n = self.tridiagonal.diagonal.len();
        if z.nrows() != n {
            return Err(crate::Error::Shape {
                what: format!("Q is {n}×{n} but Z has {} rows", z.nrows()),
            });
        }
        if let Some(chase) = &self.stage_two {
            let column_major = z.t().is_standard_layout();
            match z.as_slice_memory_order_mut() {
                Some(columns) if column_major => chase.apply(columns, par),
                _ => {
                    let mut copy = crate::buffer::zeroed_vec::<T>(z.len())?;
                    for (c, col) in copy.chunks_exact_mut(n.max(1)).zip(z.columns()) {
                        c.iter_mut().zip(col).for_each(|(d, &x)| *d = x);
                    }
                    chase.apply(&mut copy, par);
                    for (c, mut col) in copy.chunks_exact(n.max(1)).zip(z.columns_mut()) {
                        col.iter_mut().zip(c).for_each(|(d, &x)| *d = x);
                    }
                }
            }
        }
        let b = self.band;
        if n > b + 1 {
            let k = n - b - 1;
            super::tridiagonal::apply_reflectors(
                mat(&self.stage_one[b..], n - b, k, n),
                &self.tau_one[..k],
                crate::faer_mut(z).subrows_mut(b, n - b),
                par.faer(),
            );
        }
        Ok(())
    }
}

/// Both stages, keeping their reflectors when asked.
fn reduce<T: EigenScalar>(
    a: ArrayView2<T>,
    band: usize,
    par: Par,
    keep: bool,
) -> crate::Result<TwoStageReduction<T>> {
    let n = crate::check_square(a.dim())?;
    if band == 0 {
        return Err(crate::Error::Shape {
            what: "the band of a two-stage reduction has at least one subdiagonal".into(),
        });
    }
    // The row-major matrix read as column-major: its lower triangle is the input's upper triangle.
    let mut buf = copied_vec(a)?;
    let tile = tile_side::<T>();
    let team = TeamSize::Budgeted(team_size(par, n, tile));
    let tau_one = reduce_to_band(&mut buf, n, band, tile, team, par);
    let mut packed = pack_band(&buf, n, band);
    let mut stage_two = if keep {
        Some(ChaseReflectors::new(n, band)?)
    } else {
        buf = Vec::new();
        None
    };
    let tridiagonal =
        band_to_tridiagonal(&mut packed, n, band, par.requested(), stage_two.as_mut());
    Ok(TwoStageReduction {
        tridiagonal,
        band,
        stage_one: buf,
        tau_one,
        stage_two,
    })
}

/// The band width that makes the two stages fastest together on the two-core AVX2 machine of
/// docs/benchmarks.md at n = 4000: 16 subdiagonals in f64 (32 took as long: stage 1 a little faster, the chase
/// slower), 32 in f32, whose products lose more at inner dimension 16 (stage 1 0.93 against 0.76 s, the chase
/// unchanged).
pub fn default_band<T: EigenScalar>() -> usize {
    if std::mem::size_of::<T>() == 4 {
        32
    } else {
        16
    }
}

/// The side of stage 1's tiles: a tile (288 KiB in f64, 256 KiB in f32) and the rows of V and W it meets stay
/// in a core's L2 cache (1 MiB here). 192 and 256 were fastest of 128–512 in f64 and f32 at n = 4000.
fn tile_side<T: EigenScalar>() -> usize {
    if std::mem::size_of::<T>() == 4 {
        256
    } else {
        192
    }
}

/// The band of the column-major n×n `a` (b subdiagonals) packed by columns with room for the bulge: 2b + 1
/// entries per column, entry (i, j) at `j·(2b + 1) + i − j`.
fn pack_band<T: EigenScalar>(a: &[T], n: usize, b: usize) -> Vec<T> {
    let ld = 2 * b + 1;
    let mut packed = vec![T::zero(); ld * n];
    for j in 0..n {
        let depth = b.min(n - 1 - j) + 1;
        packed[j * ld..j * ld + depth].copy_from_slice(&a[j * n + j..j * n + j + depth]);
    }
    packed
}

/// The update one panel leaves for the trailing matrix A₂₂ (rows and columns `start..n`): A₂₂ −= VWᵀ + WVᵀ,
/// kept as [V W] and [W V] (m × 2r each, column-major) so that it is one product of inner dimension 2r.
struct PendingUpdate<T> {
    start: usize,
    rows: usize,
    inner: usize,
    vw: Vec<T>,
    wv: Vec<T>,
}

impl<T: EigenScalar> PendingUpdate<T> {
    /// Rows `from..from+len` of [V W] (of [W V] with `swapped`), counted in A's rows.
    fn rows(&self, swapped: bool, from: usize, len: usize) -> faer::MatRef<'_, T> {
        let p = if swapped { &self.wv } else { &self.vw };
        mat(p, self.rows, self.inner, self.rows).subrows(from - self.start, len)
    }
}

/// Stage 1 on the column-major n×n `a` (lower triangle): afterwards the band (a[i, j], j ≤ i ≤ j + b) holds
/// B = Q₁ᵀAQ₁, Q₁ = H₀H₁⋯, and below it column c holds the vector of H_c = I − τ_c v_c v_cᵀ, which acts on rows
/// c+b.. (v_c[c+b] = 1 not stored); the τ_c are returned (n of them, zero where there is no reflector).
///
/// Each panel's rank-2b update is not applied on its own: the next panel's columns are brought up to date,
/// factored, and then one pass over the rest of the trailing matrix, tile by tile, applies the update to a tile
/// and adds the tile's two contributions to the next symmetric product Y = A₂₂V while the tile is in cache
/// (Y_I += A_IJ·V_J and, below the diagonal, Y_J += A_IJᵀ·V_I). The trailing matrix is read and written once
/// per panel instead of three times. Tiles are `tile` × `tile`; `par` is for the last panel's update, which
/// runs after the team is gone.
fn reduce_to_band<T: EigenScalar>(
    a: &mut [T],
    n: usize,
    b: usize,
    tile: usize,
    team: TeamSize,
    par: Par,
) -> Vec<T> {
    let mut tau = vec![T::zero(); n];
    let pending = with_team(team, |team| {
        let members = team.threads();
        let partial: Vec<Mutex<Vec<T>>> = (0..members)
            .map(|_| Mutex::new(vec![T::zero(); n * b]))
            .collect();
        let mut pending: Option<PendingUpdate<T>> = None;
        let mut k = 0;
        while k + b + 2 <= n {
            let p0 = k + b;
            let m = n - p0;
            let r = b.min(m - 1);
            if let Some(up) = &pending {
                // The panel's columns (rows k.., the diagonal block whole) brought up to date.
                let (rows, cols) = (n - k, b.min(n - k));
                let bounds = row_bounds(rows, team.threads());
                let blocks = row_blocks(mat_mut(&mut a[k * n + k..], rows, cols, n), &bounds);
                let right = up.rows(true, k, cols).transpose();
                team.run(&|t| {
                    let mut block = blocks[t].lock().unwrap_or_else(|e| e.into_inner());
                    faer::linalg::matmul::matmul(
                        block.rb_mut(),
                        faer::Accum::Add,
                        up.rows(false, k + bounds[t], bounds[t + 1] - bounds[t]),
                        right,
                        -T::one(),
                        faer::Par::Seq,
                    );
                });
            }
            let (v, tf) = panel_qr(a, n, k, b, r);
            (0..r).for_each(|j| tau[k + j] = tf[j * r + j]);
            let y = fused_pass(team, a, (n, p0, tile), pending.as_ref(), (&v, r), &partial);
            pending = Some(panel_update(team, &v, &y, &tf, (m, r), p0));
            k += b;
        }
        pending
    });
    if let Some(up) = pending {
        use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
        let (p0, m) = (up.start, up.rows);
        tri_matmul(
            mat_mut(&mut a[p0 * n + p0..], m, m, n),
            BlockStructure::TriangularLower,
            faer::Accum::Add,
            up.rows(false, p0, m),
            BlockStructure::Rectangular,
            up.rows(true, p0, m).transpose(),
            BlockStructure::Rectangular,
            -T::one(),
            par.faer(),
        );
    }
    tau
}

/// The QR factorization of the panel a[k+b.., k..k+r] in place (R on and above the diagonal, the reflectors'
/// vectors below it without their unit first entries, as LAPACK stores them), applied to the panel's remaining
/// columns k+r..k+b: returns V (m × r, unit lower trapezoidal, explicit zeros) and the
/// r × r upper triangular T of Q = H₀⋯H_{r−1} = I − VTVᵀ (LAPACK's ?larft, forward, columnwise).
fn panel_qr<T: EigenScalar>(
    a: &mut [T],
    n: usize,
    k: usize,
    b: usize,
    r: usize,
) -> (Vec<T>, Vec<T>) {
    let p0 = k + b;
    let m = n - p0;
    let mut v = vec![T::zero(); m * r];
    let mut tau = vec![T::zero(); r];
    for j in 0..r {
        let col = (k + j) * n + p0 + j;
        let (beta, t) = householder(&mut a[col..(k + j + 1) * n]);
        tau[j] = t;
        v[j * m + j..(j + 1) * m].copy_from_slice(&a[col..(k + j + 1) * n]);
        for l in k + j + 1..k + b {
            let (head, tail) = a.split_at_mut(l * n);
            let x = &head[col..(k + j + 1) * n];
            let y = &mut tail[p0 + j..n];
            let s = t * dot(x, y);
            y.iter_mut().zip(x).for_each(|(y, &x)| *y -= s * x);
        }
        a[col] = beta;
    }
    let mut tf = vec![T::zero(); r * r];
    for j in 0..r {
        tf[j * r + j] = tau[j];
        let vj = &v[j * m..(j + 1) * m];
        let z: Vec<T> = (0..j)
            .map(|i| dot(&v[i * m + j..(i + 1) * m], &vj[j..]))
            .collect();
        for i in 0..j {
            let s = (i..j).fold(T::zero(), |s, l| s + tf[l * r + i] * z[l]);
            tf[j * r + i] = -tau[j] * s;
        }
    }
    (v, tf)
}

/// One pass over the trailing matrix A₂₂ = a[p0.., p0..] (order m), by columns of `tile` × `tile` tiles
/// handed out to the team's members: applies `pending` to each tile of the lower triangle, then adds the tile's
/// contributions to Y = A₂₂V (V is m × r; each member sums into its own `partial`). Returns Y (m × r,
/// column-major).
fn fused_pass<T: EigenScalar>(
    team: &SpinTeam,
    a: &mut [T],
    (n, p0, tile): (usize, usize, usize),
    pending: Option<&PendingUpdate<T>>,
    (v, r): (&[T], usize),
    partial: &[Mutex<Vec<T>>],
) -> Vec<T> {
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let m = n - p0;
    let tiles = m.div_ceil(tile);
    let columns: Vec<Mutex<&mut [T]>> = a[p0 * n..].chunks_mut(tile * n).map(Mutex::new).collect();
    let next = AtomicUsize::new(0);
    let vm = mat(v, m, r, m);
    team.run(&|member| {
        let mut y = partial[member].lock().unwrap_or_else(|e| e.into_inner());
        y[..m * r].iter_mut().for_each(|x| *x = T::zero());
        loop {
            let jt = next.fetch_add(1, Ordering::Relaxed);
            if jt >= tiles {
                break;
            }
            let mut column = columns[jt].lock().unwrap_or_else(|e| e.into_inner());
            let j0 = jt * tile;
            let cols = tile.min(m - j0);
            for it in jt..tiles {
                let i0 = it * tile;
                let rows = tile.min(m - i0);
                let mut block = mat_mut(&mut column[p0 + i0..], rows, cols, n);
                if let Some(up) = pending {
                    tri_matmul(
                        block.rb_mut(),
                        if it == jt {
                            BlockStructure::TriangularLower
                        } else {
                            BlockStructure::Rectangular
                        },
                        faer::Accum::Add,
                        up.rows(false, p0 + i0, rows),
                        BlockStructure::Rectangular,
                        up.rows(true, p0 + j0, cols).transpose(),
                        BlockStructure::Rectangular,
                        -T::one(),
                        faer::Par::Seq,
                    );
                }
                let block = block.rb();
                let mut ym = mat_mut(&mut y[..m * r], m, r, m);
                // A diagonal tile holds its lower triangle only: its strict upper part is the transpose.
                let (lower, upper) = if it == jt {
                    (
                        BlockStructure::TriangularLower,
                        BlockStructure::StrictTriangularUpper,
                    )
                } else {
                    (BlockStructure::Rectangular, BlockStructure::Rectangular)
                };
                tri_matmul(
                    ym.rb_mut().subrows_mut(i0, rows),
                    BlockStructure::Rectangular,
                    faer::Accum::Add,
                    block,
                    lower,
                    vm.subrows(j0, cols),
                    BlockStructure::Rectangular,
                    T::one(),
                    faer::Par::Seq,
                );
                tri_matmul(
                    ym.rb_mut().subrows_mut(j0, cols),
                    BlockStructure::Rectangular,
                    faer::Accum::Add,
                    block.transpose(),
                    upper,
                    vm.subrows(i0, rows),
                    BlockStructure::Rectangular,
                    T::one(),
                    faer::Par::Seq,
                );
            }
        }
    });
    let mut y = vec![T::zero(); m * r];
    for p in partial.iter().take(team.threads()) {
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        y.iter_mut().zip(&p[..m * r]).for_each(|(y, &x)| *y += x);
    }
    y
}

/// `rows` cut into `members` nearly equal blocks: block t is bounds[t]..bounds[t + 1].
fn row_bounds(rows: usize, members: usize) -> Vec<usize> {
    (0..=members).map(|t| rows * t / members).collect()
}

/// The blocks of rows of `x` between consecutive `bounds`, each behind a lock for the member that owns it.
fn row_blocks<'a, T: EigenScalar>(
    mut x: faer::MatMut<'a, T>,
    bounds: &[usize],
) -> Vec<Mutex<faer::MatMut<'a, T>>> {
    let mut blocks = Vec::with_capacity(bounds.len() - 1);
    for pair in bounds.windows(2) {
        let (head, tail) = x.split_at_row_mut(pair[1] - pair[0]);
        blocks.push(Mutex::new(head));
        x = tail;
    }
    blocks
}

/// W = YT − ½V(Tᵀ(Vᵀ·YT)) from Y = A₂₂V, and the panel's update A₂₂ −= VWᵀ + WVᵀ as [V W] and [W V]. The
/// row-wise products run on the team's members, each on a block of rows.
fn panel_update<T: EigenScalar>(
    team: &SpinTeam,
    v: &[T],
    y: &[T],
    tf: &[T],
    (m, r): (usize, usize),
    start: usize,
) -> PendingUpdate<T> {
    use faer::linalg::matmul::matmul;
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    let seq = faer::Par::Seq;
    let members = team.threads();
    let bounds = row_bounds(m, members);
    let mut vw = vec![T::zero(); 2 * m * r];
    vw[..m * r].copy_from_slice(v);
    let (vm, ym, tm) = (mat(v, m, r, m), mat(y, m, r, m), mat(tf, r, r, r));
    // The members' blocks of rows of W, and their shares of VᵀW.
    let blocks = row_blocks(mat_mut(&mut vw[m * r..], m, r, m), &bounds);
    let shares: Vec<Mutex<Vec<T>>> = (0..members)
        .map(|_| Mutex::new(vec![T::zero(); r * r]))
        .collect();
    team.run(&|t| {
        let (lo, len) = (bounds[t], bounds[t + 1] - bounds[t]);
        let mut w = blocks[t].lock().unwrap_or_else(|e| e.into_inner());
        tri_matmul(
            w.rb_mut(),
            BlockStructure::Rectangular,
            faer::Accum::Replace,
            ym.subrows(lo, len),
            BlockStructure::Rectangular,
            tm,
            BlockStructure::TriangularUpper,
            T::one(),
            seq,
        );
        let mut share = shares[t].lock().unwrap_or_else(|e| e.into_inner());
        matmul(
            mat_mut(&mut share, r, r, r),
            faer::Accum::Replace,
            vm.subrows(lo, len).transpose(),
            w.rb(),
            T::one(),
            seq,
        );
    });
    let mut vtw = vec![T::zero(); r * r];
    for share in &shares {
        let share = share.lock().unwrap_or_else(|e| e.into_inner());
        vtw.iter_mut().zip(share.iter()).for_each(|(s, &x)| *s += x);
    }
    let mut z = vec![T::zero(); r * r];
    matmul(
        mat_mut(&mut z, r, r, r),
        faer::Accum::Replace,
        tm.transpose(),
        mat(&vtw, r, r, r),
        T::one(),
        seq,
    );
    let zm = mat(&z, r, r, r);
    team.run(&|t| {
        let (lo, len) = (bounds[t], bounds[t + 1] - bounds[t]);
        let mut w = blocks[t].lock().unwrap_or_else(|e| e.into_inner());
        matmul(
            w.rb_mut(),
            faer::Accum::Add,
            vm.subrows(lo, len),
            zm,
            T::from_f64(-0.5),
            seq,
        );
    });
    drop(blocks);
    let mut wv = Vec::with_capacity(2 * m * r);
    wv.extend_from_slice(&vw[m * r..]);
    wv.extend_from_slice(v);
    PendingUpdate {
        start,
        rows: m,
        inner: 2 * r,
        vw,
        wv,
    }
}

/// The packed band shared by the threads of stage 2, each touching only the entries its sweep's current step
/// owns (see [`band_to_tridiagonal`] for why those never overlap).
struct SharedBand<T> {
    ptr: *mut T,
    len: usize,
    ld: usize,
}

// SAFETY: the threads of stage 2 write disjoint entries, ordered by the sweeps' progress counters.
unsafe impl<T: Send> Send for SharedBand<T> {}
unsafe impl<T: Send> Sync for SharedBand<T> {}

impl<T: EigenScalar> SharedBand<T> {
    /// Columns `first..=last` of the band, every stored entry of each.
    ///
    /// # Safety
    /// No other live reference to these columns exists, on this thread or another.
    #[allow(clippy::mut_from_ref)]
    unsafe fn columns(&self, first: usize, last: usize) -> Columns<'_, T> {
        let range = first * self.ld..(last + 1) * self.ld;
        assert!(range.end <= self.len, "band columns out of range");
        // SAFETY: in bounds (checked above); exclusive by the caller's contract.
        let entries =
            unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) };
        Columns {
            entries,
            ld: self.ld,
            first,
        }
    }

    /// Sweep s (annihilating column s below its subdiagonal and chasing the bulge to the end), calling
    /// `before(t)` before its step t and `after(t)` after it, keeping each step's reflector in `keep` when
    /// given. Step t ≥ 1 owns columns
    /// s+1+(t−1)·b ..= s+(t+1)·b (all their stored entries); step 0 owns s ..= s+b.
    ///
    /// # Safety
    /// `before(t)` returns only once no other thread touches the columns step t owns.
    unsafe fn sweep(
        &self,
        (n, b, s): (usize, usize, usize),
        work: &mut StepWork<T>,
        mut keep: Option<&mut SweepReflectors<'_, T>>,
        mut before: impl FnMut(usize),
        mut after: impl FnMut(usize),
    ) {
        let mut kept = |step: usize, v: &[T], tau: T| {
            if let Some(k) = keep.as_deref_mut() {
                k.vectors[step * b..step * b + v.len()].copy_from_slice(v);
                k.tau[step] = tau;
            }
        };
        let (mut st, mut ed) = (s + 1, (s + b).min(n - 1));
        before(0);
        // SAFETY (both steps): the columns are the step's own, by `before`'s contract.
        let mut tau = first_step(unsafe { self.columns(s, ed) }, ed, work);
        kept(0, &work.0, tau);
        after(0);
        let mut step = 1;
        while ed + 1 < n {
            before(step);
            let r1 = (ed + b).min(n - 1);
            tau = chase_step(unsafe { self.columns(st, r1) }, ed, r1, work, tau);
            kept(step, &work.0, tau);
            after(step);
            (st, ed) = (ed + 1, r1);
            step += 1;
        }
    }
}

/// Consecutive columns of the packed band, from column `first` on: entry (i, j) at `(j − first)·ld + i − j`.
struct Columns<'a, T> {
    entries: &'a mut [T],
    ld: usize,
    first: usize,
}

impl<T: EigenScalar> Columns<'_, T> {
    /// Column j's `len` entries from row `row` on.
    #[inline(always)]
    fn col(&mut self, j: usize, row: usize, len: usize) -> &mut [T] {
        let start = (j - self.first) * self.ld + row - j;
        &mut self.entries[start..start + len]
    }

    /// Column j's entries rows..rows+len turned into the reflector that annihilates all but the first: the
    /// first becomes β and the rest zero; v (v[0] = 1) is returned through `v`, τ as the value.
    #[inline(always)]
    fn reflector(&mut self, j: usize, row: usize, len: usize, v: &mut Vec<T>) -> T {
        let x = self.col(j, row, len);
        let (beta, tau) = householder(x);
        v.clear();
        v.extend_from_slice(x);
        x[0] = beta;
        x[1..].iter_mut().for_each(|x| *x = T::zero());
        tau
    }

    /// D ← HDH for the symmetric block D = A[s0..s0+len, s0..s0+len] (lower triangle), H = I − τvvᵀ;
    /// `scratch` holds at least v.len() numbers.
    #[inline(always)]
    fn two_sided(&mut self, s0: usize, v: &[T], tau: T, scratch: &mut [T]) {
        let len = v.len();
        if tau == T::zero() {
            return;
        }
        let y = &mut scratch[..len];
        y.iter_mut().for_each(|y| *y = T::zero());
        for c in 0..len {
            let col = self.col(s0 + c, s0 + c, len - c);
            y[c] += dot(col, &v[c..]);
            let vc = v[c];
            y[c + 1..]
                .iter_mut()
                .zip(&col[1..])
                .for_each(|(y, &d)| *y += vc * d);
        }
        y.iter_mut().for_each(|y| *y = tau * *y);
        let alpha = T::from_f64(-0.5) * tau * dot(y, v);
        y.iter_mut().zip(v).for_each(|(y, &v)| *y += alpha * v);
        for c in 0..len {
            let col = self.col(s0 + c, s0 + c, len - c);
            let (vc, yc) = (v[c], y[c]);
            col.iter_mut()
                .zip(v[c..].iter().zip(&y[c..]))
                .for_each(|(d, (&vr, &yr))| *d -= vr * yc + yr * vc);
        }
    }
}

/// A sweep's vectors: the current reflector v, u = Bv, and the two-sided update's scratch (b entries each).
type StepWork<T> = (Vec<T>, Vec<T>, Vec<T>);

crate::simd::widest_vectors! {
    /// Step 0 of sweep s on its columns s..=ed: the reflector that annihilates column s below row s + 1,
    /// applied from both sides to the diagonal block s+1..=ed. Returns its τ (v in `work`).
    fn first_step[T: EigenScalar](band: Columns<'_, T>, ed: usize, work: &mut StepWork<T>) -> T
        = first_step_portable
}

#[inline(always)]
fn first_step_portable<T: EigenScalar>(
    mut band: Columns<'_, T>,
    ed: usize,
    work: &mut StepWork<T>,
) -> T {
    let (v, _, scratch) = work;
    let s = band.first;
    let tau = band.reflector(s, s + 1, ed - s, v);
    band.two_sided(s + 1, v, tau, scratch);
    tau
}

crate::simd::widest_vectors! {
    /// A chasing step on its columns st..=r1 (st = `band.first`), the previous reflector (v in `work`, `tau`)
    /// acting on rows and columns st..=ed: applied from the right to the rows ed+1..=r1 below (the bulge
    /// appears), the reflector that annihilates the bulge's first column applied from the left to the rest
    /// of those rows and from both sides to the diagonal block ed+1..=r1. Returns the new τ (v in `work`).
    fn chase_step[T: EigenScalar](
        band: Columns<'_, T>,
        ed: usize,
        r1: usize,
        work: &mut StepWork<T>,
        tau: T,
    ) -> T = chase_step_portable
}

#[inline(always)]
fn chase_step_portable<T: EigenScalar>(
    mut band: Columns<'_, T>,
    ed: usize,
    r1: usize,
    work: &mut StepWork<T>,
    tau: T,
) -> T {
    let (v, u, scratch) = work;
    let st = band.first;
    let r0 = ed + 1;
    let rows = r1 - r0 + 1;
    let cols = ed - st + 1;
    // The rows below: B ← BH (the bulge appears), u = Bv first.
    let u = &mut u[..rows];
    u.iter_mut().for_each(|x| *x = T::zero());
    for (c, &vc) in v[..cols].iter().enumerate() {
        let bc = band.col(st + c, r0, rows);
        u.iter_mut().zip(bc.iter()).for_each(|(u, &x)| *u += vc * x);
    }
    for (c, &vc) in v[..cols].iter().enumerate() {
        let s = tau * vc;
        let bc = band.col(st + c, r0, rows);
        bc.iter_mut().zip(u.iter()).for_each(|(x, &u)| *x -= s * u);
    }
    // The bulge's first column defines the next reflector; the rest of the rows get it from the left.
    let tau = band.reflector(st, r0, rows, v);
    if tau != T::zero() {
        for c in 1..cols {
            let bc = band.col(st + c, r0, rows);
            let w = tau * dot(v, bc);
            bc.iter_mut().zip(v.iter()).for_each(|(x, &v)| *x -= w * v);
        }
    }
    band.two_sided(r0, v, tau, scratch);
    tau
}

/// Stage 2's reflectors, kept for eigenvectors: H = I − τvvᵀ of step t of sweep s acts on the rows
/// [`ChaseReflectors::rows`] gives; its v (v[0] = 1, stored) starts at `vectors[(first[s] + t)·b]`, its τ is
/// `tau[first[s] + t]`. B = Q₂TQ₂ᵀ with Q₂ the product of all of them in the order the sequential algorithm
/// applies them (sweep by sweep, step by step).
struct ChaseReflectors<T> {
    n: usize,
    b: usize,
    /// first[s]: the steps of the sweeps before s; first[sweeps] is the total.
    first: Vec<usize>,
    vectors: Vec<T>,
    tau: Vec<T>,
}

/// One sweep's share of [`ChaseReflectors`].
struct SweepReflectors<'a, T> {
    vectors: &'a mut [T],
    tau: &'a mut [T],
}

impl<T: EigenScalar> ChaseReflectors<T> {
    fn new(n: usize, b: usize) -> crate::Result<Self> {
        let sweeps = n.saturating_sub(2);
        let mut first = Vec::with_capacity(sweeps + 1);
        first.push(0);
        for s in 0..sweeps {
            let ed = (s + b).min(n - 1);
            first.push(first[s] + 1 + (n - 1 - ed).div_ceil(b));
        }
        let steps = first[sweeps];
        Ok(ChaseReflectors {
            n,
            b,
            vectors: crate::buffer::zeroed_vec(steps * b)?,
            tau: vec![T::zero(); steps],
            first,
        })
    }

    /// The rows (start, count) on which step t of sweep s acts.
    fn rows(&self, s: usize, t: usize) -> (usize, usize) {
        let ed = (s + self.b).min(self.n - 1);
        if t == 0 {
            (s + 1, ed - s)
        } else {
            let r0 = ed + (t - 1) * self.b + 1;
            (r0, (r0 + self.b).min(self.n) - r0)
        }
    }

    /// Every sweep's share, in order.
    fn sweeps(&mut self) -> Vec<SweepReflectors<'_, T>> {
        let (mut vectors, mut tau) = (&mut self.vectors[..], &mut self.tau[..]);
        self.first
            .windows(2)
            .map(|w| {
                let steps = w[1] - w[0];
                let (v, rest_v) = std::mem::take(&mut vectors).split_at_mut(steps * self.b);
                let (t, rest_t) = std::mem::take(&mut tau).split_at_mut(steps);
                (vectors, tau) = (rest_v, rest_t);
                SweepReflectors { vectors: v, tau: t }
            })
            .collect()
    }

    /// Z ← Q₂Z for the column-major `z` whose columns have n entries each: the reflectors from the last
    /// applied to the first, on blocks of [`CHASE_COLUMNS`] columns, each copied to row-major order so that a
    /// reflector works on whole rows of the block, which stays in cache while every reflector passes over it;
    /// the blocks in parallel.
    fn apply(&self, z: &mut [T], par: Par) {
        use rayon::prelude::*;
        if self.n == 0 {
            return;
        }
        let block = CHASE_COLUMNS * self.n;
        if par.requested() > 1 {
            z.par_chunks_mut(block)
                .for_each(|cols| apply_chase_block(cols, self));
        } else {
            z.chunks_mut(block)
                .for_each(|cols| apply_chase_block(cols, self));
        }
    }
}

/// The columns of Z that [`ChaseReflectors::apply`] takes at a time: 16 columns of n = 4000 in f64 are 512 KiB,
/// and a row of 16 is four AVX2 registers in f64 (two in f32, or one AVX-512 register).
const CHASE_COLUMNS: usize = 16;

crate::simd::widest_vectors! {
    /// Z ← Q₂Z on whole columns of Z (n entries each, consecutive).
    fn apply_chase_block[T: EigenScalar](z: &mut [T], q: &ChaseReflectors<T>)
        = chase_block_with::<T, false>, fused = chase_block_with::<T, true>
}

/// [`apply_chase_block`], with fused multiply–adds where `FUSED` ([`crate::simd::madd`]).
#[inline(always)]
fn chase_block_with<T: EigenScalar, const FUSED: bool>(z: &mut [T], q: &ChaseReflectors<T>) {
    let madd = crate::simd::madd::<T, FUSED>;
    const W: usize = CHASE_COLUMNS;
    let n = q.n;
    // The block's rows, W numbers each (columns past the block's own are zero and stay zero): a reflector on
    // rows r0.. is then w = τ·Σ_i v_i·row_i and row_i −= v_i·w, whole rows at a time, no sums across a vector.
    let mut rows = vec![T::zero(); n * W];
    for (c, col) in z.chunks_exact(n).enumerate() {
        for (row, &x) in rows.chunks_exact_mut(W).zip(col) {
            row[c] = x;
        }
    }
    let sweeps = q.first.len() - 1;
    for s in (0..sweeps).rev() {
        // A sweep's reflectors act on disjoint rows: their order does not matter.
        for (t, step) in (q.first[s]..q.first[s + 1]).enumerate() {
            let tau = q.tau[step];
            if tau == T::zero() {
                continue;
            }
            let (r0, len) = q.rows(s, t);
            let v = &q.vectors[step * q.b..step * q.b + len];
            let block = &mut rows[r0 * W..(r0 + len) * W];
            // Two partial sums (even and odd rows) halve the chains of dependent multiply–adds.
            let (mut w, mut w_odd) = ([T::zero(); W], [T::zero(); W]);
            let mut pairs = block.chunks_exact(2 * W).zip(v.chunks_exact(2));
            for (two_rows, vi) in pairs.by_ref() {
                let (even, odd) = two_rows.split_at(W);
                for c in 0..W {
                    w[c] = madd(vi[0], even[c], w[c]);
                    w_odd[c] = madd(vi[1], odd[c], w_odd[c]);
                }
            }
            if len % 2 == 1 {
                let row = &block[(len - 1) * W..];
                for c in 0..W {
                    w[c] = madd(v[len - 1], row[c], w[c]);
                }
            }
            for c in 0..W {
                w[c] = tau * (w[c] + w_odd[c]);
            }
            for (row, &vi) in block.chunks_exact_mut(W).zip(v) {
                let row: &mut [T; W] = row.try_into().expect("rows of W");
                for c in 0..W {
                    row[c] = madd(-vi, w[c], row[c]);
                }
            }
        }
    }
    for (c, col) in z.chunks_exact_mut(n).enumerate() {
        for (row, x) in rows.chunks_exact(W).zip(col) {
            *x = row[c];
        }
    }
}

/// Steps of sweep s − 1 that must be complete before sweep s takes its step t: those whose rows and columns
/// (s+(t−2)·b ..= s+(t+1)·b − 1 for step t of sweep s − 1) meet step t's, i.e. steps up to t + 2.
const LEAD: usize = 3;

/// Stage 2 on the packed band (`b` subdiagonals, 2b + 1 entries per column): the tridiagonal matrix.
///
/// With several threads, sweep s runs on thread s mod threads, and its step t waits until sweep s − 1 has
/// completed its step t + 2: the steps that share entries then run in the order of the sequential algorithm,
/// the others commute.
fn band_to_tridiagonal<T: EigenScalar>(
    band: &mut [T],
    n: usize,
    b: usize,
    threads: usize,
    keep: Option<&mut ChaseReflectors<T>>,
) -> Tridiagonal<T> {
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
    let ld = 2 * b + 1;
    let sweeps = n.saturating_sub(2);
    let shared = SharedBand {
        ptr: band.as_mut_ptr(),
        len: band.len(),
        ld,
    };
    let slots: Vec<Mutex<Option<SweepReflectors<'_, T>>>> = match keep {
        Some(kept) => kept
            .sweeps()
            .into_iter()
            .map(|k| Mutex::new(Some(k)))
            .collect(),
        None => (0..sweeps).map(|_| Mutex::new(None)).collect(),
    };
    let wanted = threads.clamp(1, 4).min(sweeps.max(1));
    let progress: Vec<AtomicUsize> = (0..sweeps).map(|_| AtomicUsize::new(0)).collect();
    // Helpers wait for `go`: the number of threads that started (or 1 if one failed to start: then the
    // helpers that did start quit and the caller runs every sweep). `aborted` ends every wait after a panic.
    let go = AtomicU8::new(0);
    let aborted = AtomicBool::new(false);
    let wait = |until: &dyn Fn() -> bool| {
        let mut spins = 0u32;
        while !until() {
            assert!(
                !aborted.load(Ordering::Relaxed),
                "another thread of the band reduction panicked"
            );
            spins += 1;
            if spins < 1 << 12 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    };
    let run = |first: usize, threads: usize| {
        let mut work = (
            Vec::with_capacity(b),
            vec![T::zero(); b],
            vec![T::zero(); b],
        );
        for s in (first..sweeps).step_by(threads) {
            let before = |t: usize| {
                if s > 0 && threads > 1 {
                    wait(&|| progress[s - 1].load(Ordering::Acquire) >= t + LEAD);
                }
            };
            let after = |t: usize| progress[s].store(t + 1, Ordering::Release);
            let mut slot = slots[s].lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: `before` orders the steps that share entries (see the function's documentation).
            unsafe { shared.sweep((n, b, s), &mut work, slot.as_mut(), before, after) };
            progress[s].store(usize::MAX, Ordering::Release);
        }
    };
    let guarded = |first: usize, threads: usize| {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(first, threads)));
        if let Err(payload) = result {
            aborted.store(true, Ordering::Relaxed);
            std::panic::resume_unwind(payload);
        }
    };
    if wanted == 1 {
        run(0, 1);
    } else {
        std::thread::scope(|scope| {
            let mut started = 1;
            for first in 1..wanted {
                let (guarded, go, wait) = (&guarded, &go, &wait);
                let helper = std::thread::Builder::new().spawn_scoped(scope, move || {
                    wait(&|| go.load(Ordering::Acquire) != 0);
                    let threads = usize::from(go.load(Ordering::Acquire));
                    if threads > 1 {
                        guarded(first, threads);
                    }
                });
                if helper.is_err() {
                    break;
                }
                started += 1;
            }
            let threads = if started == wanted { wanted } else { 1 };
            go.store(threads as u8, Ordering::Release);
            guarded(0, threads);
        });
    }
    Tridiagonal {
        diagonal: (0..n).map(|j| band[j * ld]).collect(),
        off_diagonal: (0..n.saturating_sub(1)).map(|j| band[j * ld + 1]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::tridiagonal::{tridiagonal_eigenvalues, tridiagonalize};

    fn random_symmetric(n: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let g = Array2::from_shape_fn((n, n), |_| rng.random::<f64>() - 0.5);
        &g + &g.t()
    }

    /// The two-stage tridiagonal matrix has the one-stage one's eigenvalues to 20·n·ε·‖A‖_F, for band widths
    /// from 1 to beyond n and orders that are and are not multiples of them.
    #[test]
    fn eigenvalues_equal_the_one_stage_reduction() {
        for n in [0, 1, 2, 3, 5, 17, 64, 101, 203] {
            let a = random_symmetric(n, n as u64);
            let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let want =
                tridiagonal_eigenvalues(&tridiagonalize(a.view(), Par::Seq).unwrap()).unwrap();
            for b in [1, 2, 3, 8, 16, 32, 250] {
                let t = tridiagonalize_two_stage(a.view(), b, Par::Pool).unwrap();
                let got = tridiagonal_eigenvalues(&t).unwrap();
                let err = got
                    .iter()
                    .zip(&want)
                    .fold(0f64, |m, (g, w)| m.max((g - w).abs()));
                let tol = 20.0 * n.max(1) as f64 * f64::EPSILON * norm.max(1.0);
                assert!(err <= tol, "n = {n}, b = {b}: {err:e} > {tol:e}");
            }
        }
    }

    /// The Frobenius norm of the band of the column-major n×n `a` (b subdiagonals, lower triangle).
    fn band_norm(a: &[f64], n: usize, b: usize) -> f64 {
        let mut norm2 = 0.0;
        for j in 0..n {
            for i in j..(j + b + 1).min(n) {
                let x = a[j * n + i];
                norm2 += if i == j { x * x } else { 2.0 * x * x };
            }
        }
        norm2.sqrt()
    }

    /// Stage 1's band keeps the Frobenius norm of the matrix: what it annihilated below the band is gone.
    #[test]
    fn stage_one_leaves_a_band() {
        let (n, b) = (90, 7);
        let a = random_symmetric(n, 3);
        let mut buf: Vec<f64> = a.t().iter().copied().collect();
        reduce_to_band(&mut buf, n, b, 16, TeamSize::Exact(2), Par::Seq);
        let want = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((band_norm(&buf, n, b) - want).abs() <= 1e-12 * want);
    }

    /// Stage 1's fused pass with tiles smaller than, equal to and not dividing the trailing matrix, on one to
    /// three members: the band keeps the matrix's norm, and its eigenvalues are those of the one-stage reduction
    /// to 20·n·ε·‖A‖_F.
    #[test]
    fn tiles_and_members_do_not_change_stage_one() {
        for (n, b) in [(61, 3), (97, 8), (130, 16)] {
            let a = random_symmetric(n, 11);
            let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let want =
                tridiagonal_eigenvalues(&tridiagonalize(a.view(), Par::Seq).unwrap()).unwrap();
            for tile in [1, 5, 16, 40, 200] {
                for members in 1..=3 {
                    let mut buf: Vec<f64> = a.t().iter().copied().collect();
                    reduce_to_band(&mut buf, n, b, tile, TeamSize::Exact(members), Par::Seq);
                    assert!(
                        (band_norm(&buf, n, b) - norm).abs() <= 1e-12 * norm,
                        "n = {n}, b = {b}, tile = {tile}: the band lost or gained norm"
                    );
                    let packed = pack_band(&buf, n, b);
                    let t = band_to_tridiagonal(&mut packed.clone(), n, b, 1, None);
                    let got = tridiagonal_eigenvalues(&t).unwrap();
                    let err = got
                        .iter()
                        .zip(&want)
                        .fold(0f64, |m, (g, w)| m.max((g - w).abs()));
                    let tol = 20.0 * n as f64 * f64::EPSILON * norm;
                    assert!(
                        err <= tol,
                        "n = {n}, b = {b}, tile = {tile}, {members} members: {err:e} > {tol:e}"
                    );
                }
            }
        }
    }

    /// Q from both stages' reflectors (Q·I, the same to rounding through a row-major Z) is orthogonal and gives
    /// back A as QTQᵀ, to 30·n·ε·‖A‖_F, for band widths 1 to beyond n, one and several tiles, one and two threads.
    #[test]
    fn kept_reflectors_give_q() {
        use ndarray::ShapeBuilder;
        for (n, b) in [
            (0, 3),
            (1, 2),
            (2, 1),
            (3, 2),
            (9, 16),
            (40, 1),
            (64, 8),
            (150, 16),
            (300, 32),
            (430, 16),
        ] {
            let a = random_symmetric(n, 31);
            let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1.0);
            for par in [Par::Seq, Par::Threads(2)] {
                let r = tridiagonalize_two_stage_keeping_q(a.view(), b, par).unwrap();
                // The identity is symmetric: read in column-major order it is column-major.
                let eye = Array2::<f64>::eye(n);
                let mut q =
                    Array2::from_shape_vec((n, n).f(), eye.iter().copied().collect()).unwrap();
                r.apply_q(q.view_mut(), par).unwrap();
                let mut q_rows = Array2::<f64>::eye(n);
                r.apply_q(q_rows.view_mut(), par).unwrap();
                let tol = 30.0 * n.max(1) as f64 * f64::EPSILON;
                let layouts = (&q - &q_rows).iter().fold(0f64, |m, x| m.max(x.abs()));
                assert!(
                    layouts <= tol,
                    "n = {n}, b = {b}: Z's layout changed Q by {layouts:e}"
                );
                let qtq = q.t().dot(&q) - Array2::<f64>::eye(n);
                let orth = qtq.iter().fold(0f64, |m, x| m.max(x.abs()));
                assert!(orth <= tol, "n = {n}, b = {b}: |QᵀQ − I| = {orth:e}");
                let back = q.dot(&r.tridiagonal.to_dense()).dot(&q.t()) - &a;
                let err = back.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert!(err <= tol * norm, "n = {n}, b = {b}: ‖QTQᵀ − A‖ = {err:e}");
            }
        }
    }

    /// Stage 2 on 2, 3 and 4 threads gives the sequential result bit for bit: the steps that run concurrently
    /// touch disjoint entries, and the others keep their order.
    #[test]
    fn threads_do_not_change_stage_two() {
        for (n, b) in [(120, 5), (97, 8), (40, 16), (3, 2)] {
            let a = random_symmetric(n, 5);
            let mut buf: Vec<f64> = a.t().iter().copied().collect();
            reduce_to_band(&mut buf, n, b, 192, TeamSize::Exact(1), Par::Seq);
            let packed = pack_band(&buf, n, b);
            let want = band_to_tridiagonal(&mut packed.clone(), n, b, 1, None);
            for threads in 2..=4 {
                let got = band_to_tridiagonal(&mut packed.clone(), n, b, threads, None);
                assert_eq!(got, want, "n = {n}, b = {b}, {threads} threads");
            }
        }
    }

    /// Every matrix family of the kit (known spectra, Wilkinson, glued Wilkinson, Clement, nearly diagonal,
    /// zero, diagonal) at scale one, in f64 and f32: the eigenvalues of the two-stage tridiagonal matrix within
    /// 50·n·ε·‖A‖ of the known spectrum and of the one-stage reduction's.
    #[test]
    fn the_kit_families() {
        use crate::testing::{check_eigenvalues, families, MatrixSpec, Scale, TestMatrix};
        fn run<T: EigenScalar>(spec: MatrixSpec, b: usize) {
            let m = TestMatrix::<T>::new(spec);
            let t = tridiagonalize_two_stage(m.matrix.view(), b, Par::Pool).unwrap();
            let got =
                tridiagonal_eigenvalues(&t).unwrap_or_else(|e| panic!("{spec:?}, b = {b}: {e}"));
            if let Some(check) = check_eigenvalues(&m, &got, 50.0) {
                assert!(check.holds(), "{spec:?}, b = {b}: {check}");
            }
            let one = tridiagonal_eigenvalues(&tridiagonalize(m.matrix.view(), Par::Seq).unwrap())
                .unwrap();
            let tol = 50.0 * spec.n as f64 * T::EPSILON * m.norm;
            for (g, w) in got.iter().zip(&one) {
                assert!(
                    (g.to_f64() - w.to_f64()).abs() <= tol,
                    "{spec:?}, b = {b}: {g:?} vs {w:?}"
                );
            }
        }
        for family in families() {
            let spec = MatrixSpec {
                family,
                n: 150,
                scale: Scale::Unit,
                seed: 4,
            };
            run::<f64>(spec, 8);
            run::<f32>(spec, 16);
        }
    }

    #[test]
    fn single_precision_agrees() {
        let n = 150;
        let a = random_symmetric(n, 9);
        let want = tridiagonal_eigenvalues(&tridiagonalize(a.view(), Par::Seq).unwrap()).unwrap();
        let t = tridiagonalize_two_stage(a.mapv(|x| x as f32).view(), 16, Par::Seq).unwrap();
        let got = tridiagonal_eigenvalues(&t).unwrap();
        let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (g, w) in got.iter().zip(&want) {
            assert!((f64::from(*g) - w).abs() <= 20.0 * n as f64 * f64::from(f32::EPSILON) * norm);
        }
    }
}
