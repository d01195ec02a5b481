//! Two-stage tridiagonalization for eigenvalues: dense → band by blocked Householder transformations whose
//! trailing updates are matrix–matrix products, then band → tridiagonal by bulge chasing (Bischof, Lang & Sun,
//! ACM TOMS 26(4), 2000; the sweep structure of LAPACK's `?sytrd_sy2sb` and `?sytrd_sb2st`, Haidar, Ltaief &
//! Dongarra 2011).
//!
//! **Stage 1.** For the panel of columns k..k+b, the QR factorization of the block below the band,
//! A[k+b.., k..k+b] = Q·[R; 0] with Q = I − VTVᵀ (V unit lower trapezoidal, T upper triangular: the compact WY
//! form), leaves R inside the band and transforms the trailing matrix A₂₂ = A[k+b.., k+b..] into QᵀA₂₂Q =
//! A₂₂ − VWᵀ − WVᵀ with Y = A₂₂VT and W = Y − ½·V(Tᵀ(VᵀY)): one symmetric product and one symmetric rank-2b
//! update, both by faer's GEMM kernels. Its 4n³/3 flops are those of the one-stage reduction, all in
//! matrix–matrix products.
//!
//! **Stage 2.** Sweep s annihilates column s below its subdiagonal with one reflector on rows s+1..s+b, applied
//! from both sides to the diagonal block. Applying it from the right to the b rows below fills them (the bulge);
//! a second reflector annihilates the bulge's first column and is applied from the left to the rest of those
//! rows and from both sides to the next diagonal block, and so on to the end of the matrix. The rest of each
//! bulge lies where the next sweep's reflectors act and is annihilated by them. The band is stored by columns
//! with room for the bulge (2b + 1 entries per column), so every operation runs over contiguous memory.
//! About 6b·n² flops.

use ndarray::ArrayView2;

use super::tridiagonal::{dot, householder, Tridiagonal};
use super::EigenScalar;
use crate::buffer::copied_vec;
use crate::Par;

/// T = QᵀAQ for a symmetric A by the two stages with band width `band` ≥ 1 (the upper triangle of the
/// row-major input is read, as in [`super::tridiagonal::tridiagonalize`]). Q is not formed. The products of
/// stage 1 run on the threads `par` allows; stage 2 runs its sweeps on as many threads (at most 4), pipelined.
pub fn tridiagonalize_two_stage<T: EigenScalar>(
    a: ArrayView2<T>,
    band: usize,
    par: Par,
) -> crate::Result<Tridiagonal<T>> {
    let n = crate::check_square(a.dim())?;
    if band == 0 {
        return Err(crate::Error::Shape {
            what: "the band of a two-stage reduction has at least one subdiagonal".into(),
        });
    }
    // The row-major matrix read as column-major: its lower triangle is the input's upper triangle.
    let mut buf = copied_vec(a)?;
    reduce_to_band(&mut buf, n, band, par);
    let mut packed = pack_band(&buf, n, band);
    drop(buf);
    Ok(band_to_tridiagonal(&mut packed, n, band, par.requested()))
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

/// The rows × cols column-major matrix starting at `p[0]` with column stride `stride`.
fn mat<T: EigenScalar>(p: &[T], rows: usize, cols: usize, stride: usize) -> faer::MatRef<'_, T> {
    faer::MatRef::from_column_major_slice_with_stride(p, rows, cols, stride)
}

fn mat_mut<T: EigenScalar>(
    p: &mut [T],
    rows: usize,
    cols: usize,
    stride: usize,
) -> faer::MatMut<'_, T> {
    faer::MatMut::from_column_major_slice_with_stride_mut(p, rows, cols, stride)
}

/// Stage 1 on the column-major n×n `a` (lower triangle): afterwards a[i, j] = 0 for i > j + b, and the band
/// holds a matrix orthogonally similar to the input.
fn reduce_to_band<T: EigenScalar>(a: &mut [T], n: usize, b: usize, par: Par) {
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    let faer_par = par.faer();
    let mut k = 0;
    while k + b + 2 <= n {
        let p0 = k + b;
        let m = n - p0;
        let r = b.min(m - 1);
        // QR of the panel a[p0.., k..k+r]: reflector j on rows p0+j.., kept in V (m × r, explicit zeros and
        // unit diagonal); R stays in the panel's top rows.
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
            a[col + 1..(k + j + 1) * n]
                .iter_mut()
                .for_each(|x| *x = T::zero());
        }
        // T of Q = H₀⋯H_{r−1} = I − VTVᵀ (LAPACK's ?larft, forward, columnwise).
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
        let a22 = p0 * n + p0;
        // Y = A₂₂V: the stored lower triangle times V plus its strict transpose times V.
        let mut y = vec![T::zero(); m * r];
        {
            let lower = mat(&a[a22..], m, m, n);
            let vm = mat(&v, m, r, m);
            tri_matmul(
                mat_mut(&mut y, m, r, m),
                BlockStructure::Rectangular,
                faer::Accum::Replace,
                lower,
                BlockStructure::TriangularLower,
                vm,
                BlockStructure::Rectangular,
                T::one(),
                faer_par,
            );
            tri_matmul(
                mat_mut(&mut y, m, r, m),
                BlockStructure::Rectangular,
                faer::Accum::Add,
                lower.transpose(),
                BlockStructure::StrictTriangularUpper,
                vm,
                BlockStructure::Rectangular,
                T::one(),
                faer_par,
            );
        }
        // W = YT − ½V(Tᵀ(Vᵀ·YT)).
        let mut w = vec![T::zero(); m * r];
        tri_matmul(
            mat_mut(&mut w, m, r, m),
            BlockStructure::Rectangular,
            faer::Accum::Replace,
            mat(&y, m, r, m),
            BlockStructure::Rectangular,
            mat(&tf, r, r, r),
            BlockStructure::TriangularUpper,
            T::one(),
            faer_par,
        );
        let mut vtw = vec![T::zero(); r * r];
        faer::linalg::matmul::matmul(
            mat_mut(&mut vtw, r, r, r),
            faer::Accum::Replace,
            mat(&v, m, r, m).transpose(),
            mat(&w, m, r, m),
            T::one(),
            faer::Par::Seq,
        );
        let mut z = vec![T::zero(); r * r];
        faer::linalg::matmul::matmul(
            mat_mut(&mut z, r, r, r),
            faer::Accum::Replace,
            mat(&tf, r, r, r).transpose(),
            mat(&vtw, r, r, r),
            T::one(),
            faer::Par::Seq,
        );
        faer::linalg::matmul::matmul(
            mat_mut(&mut w, m, r, m),
            faer::Accum::Add,
            mat(&v, m, r, m),
            mat(&z, r, r, r),
            T::from_f64(-0.5),
            faer_par,
        );
        // A₂₂ −= VWᵀ + WVᵀ = [V W]·[W V]ᵀ on the lower triangle, one product of inner dimension 2r.
        let mut vw = v;
        vw.extend_from_slice(&w);
        let mut wv = w;
        wv.extend_from_slice(&vw[..m * r]);
        tri_matmul(
            mat_mut(&mut a[a22..], m, m, n),
            BlockStructure::TriangularLower,
            faer::Accum::Add,
            mat(&vw, m, 2 * r, m),
            BlockStructure::Rectangular,
            mat(&wv, m, 2 * r, m).transpose(),
            BlockStructure::Rectangular,
            -T::one(),
            faer_par,
        );
        k += b;
    }
}

/// The band's entry (i, j), i ≥ j, is `band[j·ld + i − j]`; column j's entries from row `row` on, `len` of
/// them, are one contiguous slice.
#[inline]
fn column_range(ld: usize, j: usize, row: usize, len: usize) -> std::ops::Range<usize> {
    let start = j * ld + row - j;
    start..start + len
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
    /// Column j's `len` entries from row `row` on.
    ///
    /// # Safety
    /// No other live reference to these entries exists, on this thread or another.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    unsafe fn col(&self, j: usize, row: usize, len: usize) -> &mut [T] {
        let r = column_range(self.ld, j, row, len);
        assert!(r.end <= self.len, "band column out of range");
        // SAFETY: in bounds (checked above); exclusive by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), len) }
    }

    /// D ← HDH for the symmetric block D = A[s0..s0+len, s0..s0+len] (lower triangle), H = I − τvvᵀ;
    /// `scratch` holds at least v.len() numbers.
    ///
    /// # Safety
    /// The block is owned by the calling step.
    unsafe fn two_sided(&self, s0: usize, v: &[T], tau: T, scratch: &mut [T]) {
        let len = v.len();
        if tau == T::zero() {
            return;
        }
        let y = &mut scratch[..len];
        y.iter_mut().for_each(|y| *y = T::zero());
        for c in 0..len {
            // SAFETY: within the owned block.
            let col = unsafe { self.col(s0 + c, s0 + c, len - c) };
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
            // SAFETY: within the owned block.
            let col = unsafe { self.col(s0 + c, s0 + c, len - c) };
            let (vc, yc) = (v[c], y[c]);
            col.iter_mut()
                .zip(v[c..].iter().zip(&y[c..]))
                .for_each(|(d, (&vr, &yr))| *d -= vr * yc + yr * vc);
        }
    }

    /// Column j's entries rows..rows+len turned into the reflector that annihilates all but the first: the
    /// first becomes β and the rest zero; v (v[0] = 1) and τ are returned through `v`.
    ///
    /// # Safety
    /// The entries are owned by the calling step.
    unsafe fn reflector(&self, j: usize, row: usize, len: usize, v: &mut Vec<T>) -> T {
        // SAFETY: owned by the caller.
        let x = unsafe { self.col(j, row, len) };
        let (beta, tau) = householder(x);
        v.clear();
        v.extend_from_slice(x);
        x[0] = beta;
        x[1..].iter_mut().for_each(|x| *x = T::zero());
        tau
    }

    /// Sweep s (annihilating column s below its subdiagonal and chasing the bulge to the end), calling
    /// `before(t)` before its step t and `after(t)` after it. Step t ≥ 1 owns rows and columns
    /// s+1+(t−1)·b ..= s+(t+1)·b; step 0 owns s ..= s+b.
    ///
    /// # Safety
    /// `before(t)` returns only once no other thread touches the entries step t owns.
    unsafe fn sweep(
        &self,
        n: usize,
        b: usize,
        s: usize,
        work: &mut (Vec<T>, Vec<T>, Vec<T>),
        mut before: impl FnMut(usize),
        mut after: impl FnMut(usize),
    ) {
        let (v, u, scratch) = work;
        let (mut st, mut ed) = (s + 1, (s + b).min(n - 1));
        before(0);
        // SAFETY (all blocks below): owned by the current step, by `before`'s contract.
        let mut tau = unsafe { self.reflector(s, st, ed - st + 1, v) };
        unsafe { self.two_sided(st, v, tau, scratch) };
        after(0);
        let mut step = 1;
        while ed + 1 < n {
            before(step);
            let (r0, r1) = (ed + 1, (ed + b).min(n - 1));
            let rows = r1 - r0 + 1;
            let cols = ed - st + 1;
            // The rows below: B ← BH (the bulge appears), u = Bv first.
            let u = &mut u[..rows];
            u.iter_mut().for_each(|x| *x = T::zero());
            for (c, &vc) in v[..cols].iter().enumerate() {
                let bc = unsafe { self.col(st + c, r0, rows) };
                u.iter_mut().zip(bc.iter()).for_each(|(u, &x)| *u += vc * x);
            }
            for (c, &vc) in v[..cols].iter().enumerate() {
                let s = tau * vc;
                let bc = unsafe { self.col(st + c, r0, rows) };
                bc.iter_mut().zip(u.iter()).for_each(|(x, &u)| *x -= s * u);
            }
            // The bulge's first column defines the next reflector; the rest of the rows get it from the left.
            tau = unsafe { self.reflector(st, r0, rows, v) };
            if tau != T::zero() {
                for c in 1..cols {
                    let bc = unsafe { self.col(st + c, r0, rows) };
                    let w = tau * dot(v, bc);
                    bc.iter_mut().zip(v.iter()).for_each(|(x, &v)| *x -= w * v);
                }
            }
            unsafe { self.two_sided(r0, v, tau, scratch) };
            after(step);
            (st, ed) = (r0, r1);
            step += 1;
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
) -> Tridiagonal<T> {
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
    let ld = 2 * b + 1;
    let sweeps = n.saturating_sub(2);
    let shared = SharedBand {
        ptr: band.as_mut_ptr(),
        len: band.len(),
        ld,
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
            // SAFETY: `before` orders the steps that share entries (see the function's documentation).
            unsafe { shared.sweep(n, b, s, &mut work, before, after) };
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

    /// Stage 1 leaves exact zeros below the band and keeps the Frobenius norm.
    #[test]
    fn stage_one_leaves_a_band() {
        let (n, b) = (90, 7);
        let a = random_symmetric(n, 3);
        let mut buf: Vec<f64> = a.t().iter().copied().collect();
        reduce_to_band(&mut buf, n, b, Par::Seq);
        let mut norm2 = 0.0;
        for j in 0..n {
            for i in j..n {
                let x = buf[j * n + i];
                if i > j + b {
                    assert_eq!(x, 0.0, "({i}, {j}) outside the band");
                }
                norm2 += if i == j { x * x } else { 2.0 * x * x };
            }
        }
        let want = a.iter().map(|x| x * x).sum::<f64>();
        assert!((norm2 - want).abs() <= 1e-12 * want);
    }

    /// Stage 2 on 2, 3 and 4 threads gives the sequential result bit for bit: the steps that run concurrently
    /// touch disjoint entries, and the others keep their order.
    #[test]
    fn threads_do_not_change_stage_two() {
        for (n, b) in [(120, 5), (97, 8), (40, 16), (3, 2)] {
            let a = random_symmetric(n, 5);
            let mut buf: Vec<f64> = a.t().iter().copied().collect();
            reduce_to_band(&mut buf, n, b, Par::Seq);
            let packed = pack_band(&buf, n, b);
            let want = band_to_tridiagonal(&mut packed.clone(), n, b, 1);
            for threads in 2..=4 {
                let got = band_to_tridiagonal(&mut packed.clone(), n, b, threads);
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
