//! Symmetric eigenproblems of a [`DistributedMatrix`] by ScaLAPACK (docs/distributed.md, "Spectra"):
//! `p?syevr` (MRRR) for eigenvalues — all or an index range; `p?syevd` (divide and conquer) for eigenpairs, the
//! faster and the more robust on clustered spectra. The lower
//! triangle is read; the matrix is overwritten. Eigenvalues come back on every process, ascending; eigenvectors
//! as a distributed n×n matrix.

use std::os::raw::c_char;

use mpi::collective::SystemOperation;
use mpi::traits::*;

use crate::ffi;
use crate::matrix::{DistributedMatrix, Element};
use crate::{agree, Error, Result};

/// Which eigenvalues, by index in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EigenRange {
    /// All n.
    All,
    /// Indices `lo..hi` (0-based, ascending order), e.g. the top k: `n − k..n`.
    Index(usize, usize),
}

impl EigenRange {
    /// The k largest eigenvalues of an n×n matrix.
    pub fn top(k: usize, n: usize) -> Self {
        EigenRange::Index(n.saturating_sub(k), n)
    }

    fn check(self, n: usize) -> Result<(i32, i32, bool)> {
        match self {
            EigenRange::All => Ok((1, n as i32, false)),
            EigenRange::Index(lo, hi) if lo < hi && hi <= n => Ok((lo as i32 + 1, hi as i32, true)),
            EigenRange::Index(lo, hi) => Err(Error::Layout(format!(
                "eigenvalue indices {lo}..{hi} are not a non-empty range within 0..{n}"
            ))),
        }
    }
}

/// Element types ScaLAPACK's symmetric eigensolvers (and PBLAS' transpose) take.
pub trait ScalapackEigen: Element {
    /// p?syevd.
    ///
    /// # Safety
    /// The arguments of `pdsyevd_`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn syevd(
        n: i32,
        a: *mut Self,
        desca: &[i32; 9],
        w: *mut Self,
        z: *mut Self,
        descz: &[i32; 9],
        work: *mut Self,
        lwork: i32,
        iwork: *mut i32,
        liwork: i32,
        info: &mut i32,
    );
    /// PBLAS p?tran on n×n matrices: C ← β·C + α·Aᵀ.
    ///
    /// # Safety
    /// The arguments of `pdtran_` (m = n, ia = ja = ic = jc = `first`).
    #[allow(clippy::too_many_arguments)]
    unsafe fn tran(
        n: i32,
        alpha: Self,
        a: *const Self,
        desca: &[i32; 9],
        beta: Self,
        c: *mut Self,
        descc: &[i32; 9],
        first: i32,
    );
    /// p?syevr for eigenvalues only (JOBZ = 'N'; Z is not referenced).
    ///
    /// # Safety
    /// The arguments of `pdsyevr_`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn syevr(
        range: (i32, i32, bool),
        n: i32,
        a: *mut Self,
        desca: &[i32; 9],
        found: &mut (i32, i32),
        w: *mut Self,
        z: *mut Self,
        descz: &[i32; 9],
        work: *mut Self,
        lwork: i32,
        iwork: *mut i32,
        liwork: i32,
        info: &mut i32,
    );
}

macro_rules! scalapack_eigen {
    ($t:ty, $evd:ident, $evr:ident, $tran:ident) => {
        impl ScalapackEigen for $t {
            unsafe fn tran(
                n: i32,
                alpha: Self,
                a: *const Self,
                desca: &[i32; 9],
                beta: Self,
                c: *mut Self,
                descc: &[i32; 9],
                first: i32,
            ) {
                ffi::$tran(
                    &n,
                    &n,
                    &alpha,
                    a,
                    &first,
                    &first,
                    desca.as_ptr(),
                    &beta,
                    c,
                    &first,
                    &first,
                    descc.as_ptr(),
                )
            }

            unsafe fn syevd(
                n: i32,
                a: *mut Self,
                desca: &[i32; 9],
                w: *mut Self,
                z: *mut Self,
                descz: &[i32; 9],
                work: *mut Self,
                lwork: i32,
                iwork: *mut i32,
                liwork: i32,
                info: &mut i32,
            ) {
                let one = 1i32;
                ffi::$evd(
                    c"V".as_ptr() as *const c_char,
                    c"L".as_ptr() as *const c_char,
                    &n,
                    a,
                    &one,
                    &one,
                    desca.as_ptr(),
                    w,
                    z,
                    &one,
                    &one,
                    descz.as_ptr(),
                    work,
                    &lwork,
                    iwork,
                    &liwork,
                    info,
                    1,
                    1,
                )
            }

            unsafe fn syevr(
                (il, iu, indexed): (i32, i32, bool),
                n: i32,
                a: *mut Self,
                desca: &[i32; 9],
                found: &mut (i32, i32),
                w: *mut Self,
                z: *mut Self,
                descz: &[i32; 9],
                work: *mut Self,
                lwork: i32,
                iwork: *mut i32,
                liwork: i32,
                info: &mut i32,
            ) {
                let one = 1i32;
                let zero: $t = 0.0;
                let range = if indexed { c"I" } else { c"A" };
                ffi::$evr(
                    c"N".as_ptr() as *const c_char,
                    range.as_ptr() as *const c_char,
                    c"L".as_ptr() as *const c_char,
                    &n,
                    a,
                    &one,
                    &one,
                    desca.as_ptr(),
                    &zero,
                    &zero,
                    &il,
                    &iu,
                    &mut found.0,
                    &mut found.1,
                    w,
                    z,
                    &one,
                    &one,
                    descz.as_ptr(),
                    work,
                    &lwork,
                    iwork,
                    &liwork,
                    info,
                    1,
                    1,
                    1,
                )
            }
        }
    };
}

scalapack_eigen!(f64, pdsyevd_, pdsyevr_, pdtran_);
scalapack_eigen!(f32, pssyevd_, pssyevr_, pstran_);

/// A workspace size a query returned in floating point, as an integer: rounded up, with room for the
/// rounding of f32 (whose 24-bit significand cannot hold sizes above 2²⁴ exactly), refused above 2³¹ − 1.
fn workspace_size<T: Element>(queried: T, routine: &'static str) -> Result<i32> {
    let v = queried.to_f64();
    let v = if T::BYTES == 4 {
        (v * (1.0 + 4.0 * f32::EPSILON as f64)).ceil() + 1.0
    } else {
        v.ceil()
    };
    if !(v.is_finite() && v >= 1.0 && v <= i32::MAX as f64) {
        return Err(Error::Layout(format!(
            "{routine} asks for a workspace of {v} elements, beyond the 2^31 − 1 its 32-bit indices allow; run on more processes"
        )));
    }
    Ok(v as i32)
}

fn scalapack_error(routine: &'static str, info: i32, n: usize) -> Error {
    let meaning = if info < 0 {
        let arg = -info;
        if arg > 100 {
            format!("entry {} of argument {} is invalid", arg % 100, arg / 100)
        } else {
            format!("argument {arg} is invalid")
        }
    } else if routine.ends_with("syevd") {
        format!(
            "the divide-and-conquer solver failed to converge on eigenvalue {} of {n}",
            info / (n as i32 + 1)
        )
    } else {
        "the MRRR solver failed (code 1: internal error; 2: a tridiagonal block did not converge)"
            .into()
    };
    Error::Scalapack {
        routine,
        info,
        meaning,
    }
}

/// The eigenvalues `range` of the symmetric `a` (lower triangle read, `a` overwritten), ascending, on every
/// process (collective).
pub fn eigenvalues<T: ScalapackEigen>(
    a: &mut DistributedMatrix<'_, T>,
    range: EigenRange,
) -> Result<Vec<T>> {
    solve(a, range, false).map(|(w, _)| w)
}

/// Eigenpairs of a [`DistributedMatrix`]: the values of a range, ascending, and all n eigenvectors of which
/// columns `columns` belong to them.
pub struct EigenPairs<'g, T: Element> {
    /// The eigenvalues asked for, ascending, on every process.
    pub values: Vec<T>,
    /// All eigenvectors, distributed (n×n).
    pub vectors: DistributedMatrix<'g, T>,
    /// The columns of `vectors` that go with `values`.
    pub columns: std::ops::Range<usize>,
}

/// The eigenpairs `range` of the symmetric `a` (overwritten), collective: all pairs by p?syevd, then the range
/// selected. p?syevr would compute only the range, but ScaLAPACK 2.2.1's p?syevr hands its back-transformation
/// (p?ormtr) a workspace that routine refuses for some shapes (n = 97 in blocks of 16 on one process), prints a
/// message and returns wrong eigenvectors with INFO = 0; p?syevd has no such case (docs/distributed.md).
pub fn eigenpairs<'g, T: ScalapackEigen>(
    a: &mut DistributedMatrix<'g, T>,
    range: EigenRange,
) -> Result<EigenPairs<'g, T>> {
    let n = a.shape().0;
    let (lo, hi) = match range {
        EigenRange::All => (0, n),
        EigenRange::Index(lo, hi) => (lo, hi),
    };
    agree(a.grid().comm(), range.check(n))?;
    let (w, z) = solve(a, EigenRange::All, true)?;
    Ok(EigenPairs {
        values: w[lo..hi].to_vec(),
        vectors: z.expect("vectors asked for"),
        columns: lo..hi,
    })
}

/// Eigenvalues `range` by p?syevr, or with `vectors` all eigenpairs by p?syevd (`range` is then
/// [`EigenRange::All`]).
#[allow(clippy::type_complexity)]
fn solve<'g, T: ScalapackEigen>(
    a: &mut DistributedMatrix<'g, T>,
    range: EigenRange,
    vectors: bool,
) -> Result<(Vec<T>, Option<DistributedMatrix<'g, T>>)> {
    let grid = a.grid();
    let comm = grid.comm();
    let (m, n) = a.shape();
    agree(
        comm,
        if m == n {
            Ok(())
        } else {
            Err(Error::Layout(format!("a {m}x{n} matrix is not square")))
        },
    )?;
    let checked = agree(comm, range.check(n))?;
    debug_assert!(!vectors || range == EigenRange::All);
    let mut z = if vectors {
        Some(DistributedMatrix::<T>::zeros(grid, (n, n), a.block_size())?)
    } else {
        None
    };
    let mut w = vec![T::default(); n];
    let wptr = w.as_mut_ptr();
    let mut dummy = [T::default(); 1];
    let (zptr, descz) = match z.as_mut() {
        Some(z) => {
            let (p, d) = z.raw();
            (p, *d)
        }
        None => (dummy.as_mut_ptr(), *a.raw().1),
    };
    let (aptr, desca) = {
        let (p, d) = a.raw();
        (p, *d)
    };
    let routine = match (vectors, T::BYTES) {
        (true, 8) => "pdsyevd",
        (true, _) => "pssyevd",
        (false, 8) => "pdsyevr",
        (false, _) => "pssyevr",
    };
    let n32 = n as i32;
    let mut found = (0i32, 0i32);
    let call = |work: *mut T, lwork: i32, iwork: *mut i32, liwork: i32, found: &mut (i32, i32)| {
        let mut info = 0;
        // SAFETY: the descriptors describe `a` and `z` (or `a` twice when z is not referenced), `w` holds n,
        // and the workspaces hold lwork and liwork elements (one each for a query).
        unsafe {
            if vectors {
                T::syevd(
                    n32, aptr, &desca, wptr, zptr, &descz, work, lwork, iwork, liwork, &mut info,
                )
            } else {
                T::syevr(
                    checked, n32, aptr, &desca, found, wptr, zptr, &descz, work, lwork, iwork,
                    liwork, &mut info,
                )
            }
        }
        info
    };
    let (mut wq, mut iq) = ([T::default(); 1], [0i32; 1]);
    let info = call(wq.as_mut_ptr(), -1, iq.as_mut_ptr(), -1, &mut found);
    let sizes = if info != 0 {
        Err(scalapack_error(routine, info, n))
    } else {
        workspace_size(wq[0], routine).map(|lw| (lw, iq[0].max(1)))
    };
    // Every process needs the largest workspace any of them asked for.
    let (lwork, liwork) = agree(comm, sizes)?;
    let mine = [lwork, liwork];
    let mut most = [0i32; 2];
    comm.all_reduce_into(&mine[..], &mut most[..], SystemOperation::max());
    let mut work = vec![T::default(); most[0] as usize];
    let mut iwork = vec![0i32; most[1] as usize];
    let info = call(
        work.as_mut_ptr(),
        most[0],
        iwork.as_mut_ptr(),
        most[1],
        &mut found,
    );
    agree(
        comm,
        if info == 0 {
            Ok(())
        } else {
            Err(scalapack_error(routine, info, n))
        },
    )?;
    let count = if vectors || range == EigenRange::All {
        n
    } else {
        found.0 as usize
    };
    w.truncate(count);
    Ok((w, z))
}
