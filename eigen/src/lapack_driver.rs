//! LAPACK's symmetric eigensolvers through the system OpenBLAS, called directly (not through
//! ndarray-linalg, whose `eigh` uses the slow `dsyev`): `?syevd` (divide and conquer), `?syevd_2stage`
//! (two-stage tridiagonalization, eigenvalues only) and `?syevr` (MRRR, index and value ranges).
//!
//! A row-major symmetric matrix is its own transpose, so it is handed to LAPACK as the column-major upper
//! triangle without a transposition; the copy LAPACK overwrites is the only n×n allocation besides the
//! eigenvectors.

use ndarray::{Array2, ArrayView2, ShapeBuilder};

use crate::buffer::{copied_vec, zeroed_vec};
use crate::tolerance::SYMMETRY;
use crate::{
    check_symmetric, select, EigenDecomposition, EigenRequest, EigenScalar, Error, LapackDriver,
    Result, Subset, SymmetricEigensolver,
};

/// From this size on the two-stage tridiagonalization is the faster way to all eigenvalues. With Debian's
/// OpenBLAS 0.3.21 its time is bimodal: at n = 4000 2.8–3.3 s or 5.4–6.1 s against 3.4–4.0 s for `?syevd`, at
/// n = 8000 18.5 s or 27–29 s against 28–34 s (docs/benchmarks.md); at n = 2000 it is 2× slower.
const TWO_STAGE_FROM: usize = 6000;

/// LAPACK's drivers through the system OpenBLAS (feature `openblas`); [`LapackDriver`] chooses the routine.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct LapackEigen {
    /// The routine that answers requests.
    pub driver: LapackDriver,
}

impl LapackEigen {
    /// The solver with this routine.
    pub fn with_driver(driver: LapackDriver) -> Self {
        LapackEigen { driver }
    }
}

/// The precisions LAPACK has routines for (f32 and f64), with those routines; a supertrait of
/// [`crate::Real`] in builds with LAPACK, so every [`EigenScalar`] reaches them.
pub trait LapackScalar: Sized {
    #[doc(hidden)]
    const SYEVD: &'static str;
    #[doc(hidden)]
    const SYEVD_2STAGE: &'static str;
    #[doc(hidden)]
    const SYEVR: &'static str;
    #[doc(hidden)]
    /// ?syevd or ?syevd_2stage (workspace query with lwork = −1 first).
    #[allow(clippy::too_many_arguments)]
    unsafe fn syevd(
        two_stage: bool,
        jobz: u8,
        n: i32,
        a: &mut [Self],
        w: &mut [Self],
        work: &mut [Self],
        lwork: i32,
        iwork: &mut [i32],
        liwork: i32,
        info: &mut i32,
    );
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn syevr(
        jobz: u8,
        range: u8,
        n: i32,
        a: &mut [Self],
        vl: Self,
        vu: Self,
        il: i32,
        iu: i32,
        m: &mut i32,
        w: &mut [Self],
        z: &mut [Self],
        ldz: i32,
        isuppz: &mut [i32],
        work: &mut [Self],
        lwork: i32,
        iwork: &mut [i32],
        liwork: i32,
        info: &mut i32,
    );
}

macro_rules! lapack_scalar {
    ($t:ty, $syevd:ident, $syevd2:ident, $syevr:ident) => {
        impl LapackScalar for $t {
            const SYEVD: &'static str = stringify!($syevd);
            const SYEVD_2STAGE: &'static str = stringify!($syevd2);
            const SYEVR: &'static str = stringify!($syevr);
            unsafe fn syevd(
                two_stage: bool,
                jobz: u8,
                n: i32,
                a: &mut [Self],
                w: &mut [Self],
                work: &mut [Self],
                lwork: i32,
                iwork: &mut [i32],
                liwork: i32,
                info: &mut i32,
            ) {
                if two_stage {
                    lapack::$syevd2(jobz, b'U', n, a, n, w, work, lwork, iwork, liwork, info)
                } else {
                    lapack::$syevd(jobz, b'U', n, a, n, w, work, lwork, iwork, liwork, info)
                }
            }
            unsafe fn syevr(
                jobz: u8,
                range: u8,
                n: i32,
                a: &mut [Self],
                vl: Self,
                vu: Self,
                il: i32,
                iu: i32,
                m: &mut i32,
                w: &mut [Self],
                z: &mut [Self],
                ldz: i32,
                isuppz: &mut [i32],
                work: &mut [Self],
                lwork: i32,
                iwork: &mut [i32],
                liwork: i32,
                info: &mut i32,
            ) {
                lapack::$syevr(
                    jobz, range, b'U', n, a, n, vl, vu, il, iu, 0.0, m, w, z, ldz, isuppz, work,
                    lwork, iwork, liwork, info,
                )
            }
        }
    };
}

lapack_scalar!(f64, dsyevd, dsyevd_2stage, dsyevr);
lapack_scalar!(f32, ssyevd, ssyevd_2stage, ssyevr);

fn lapack_error(routine: &str, info: i32) -> Error {
    Error::Backend {
        backend: "lapack",
        detail: format!("{routine} returned info = {info}"),
    }
}

fn to_i32(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::Shape {
        what: format!("n = {n} exceeds LAPACK's 32-bit index range"),
    })
}

/// The workspace length to pass to LAPACK: the larger of what the query returned (in the matrix's own
/// precision, so rounded in f32 above 2²⁴, and a float that a cast would saturate) and the documented minimum,
/// computed in integers; an error when it does not fit LAPACK's 32-bit `lwork` (n ≥ 32 767 for ?syevd with
/// vectors).
fn workspace(routine: &str, queried: f64, minimum: u128) -> Result<i32> {
    let queried = if queried.is_finite() && queried > 0.0 {
        // Exact below 2^53; larger values fail the range check below either way.
        queried.ceil() as u128
    } else {
        0
    };
    let length = queried.max(minimum).max(1);
    i32::try_from(length).map_err(|_| Error::Shape {
        what: format!(
            "{routine} needs a workspace of {length} entries, more than LAPACK's 32-bit lwork allows; \
             use the faer backend (no such limit) or Lanczos for a few eigenvalues"
        ),
    })
}

/// The documented minimum workspaces of ?syevd: (lwork, liwork) = (1 + 6n + 2n², 3 + 5n) with vectors,
/// (2n + 1, 1) without.
fn syevd_minimum(n: usize, vectors: bool) -> (u128, u128) {
    let n = n as u128;
    if vectors {
        (1 + 6 * n + 2 * n * n, 3 + 5 * n)
    } else {
        (2 * n + 1, 1)
    }
}

/// All eigenvalues (and vectors) by ?syevd or ?syevd_2stage.
fn by_syevd<T: EigenScalar>(
    a: ArrayView2<T>,
    vectors: bool,
    two_stage: bool,
) -> Result<(Vec<T>, Option<Array2<T>>)> {
    let n = a.nrows();
    let ni = to_i32(n)?;
    let mut buf = copied_vec(a)?;
    let mut w = vec![T::zero(); n];
    let jobz = if vectors { b'V' } else { b'N' };
    let (mut info, mut qwork, mut qiwork) = (0, [T::zero()], [0]);
    // SAFETY: the buffers have the sizes LAPACK documents; the first call only queries the workspace.
    unsafe {
        T::syevd(
            two_stage,
            jobz,
            ni,
            &mut buf,
            &mut w,
            &mut qwork,
            -1,
            &mut qiwork,
            -1,
            &mut info,
        );
    }
    let routine = if two_stage { T::SYEVD_2STAGE } else { T::SYEVD };
    if info != 0 {
        return Err(lapack_error(routine, info));
    }
    let (min_work, min_iwork) = syevd_minimum(n, vectors);
    let lwork = workspace(routine, qwork[0].to_f64(), min_work)?;
    let liwork = workspace(routine, f64::from(qiwork[0]), min_iwork)?;
    let mut work = zeroed_vec::<T>(lwork.max(1) as usize)?;
    let mut iwork = vec![0; liwork.max(1) as usize];
    // SAFETY: as above, with the workspace LAPACK asked for.
    unsafe {
        T::syevd(
            two_stage, jobz, ni, &mut buf, &mut w, &mut work, lwork, &mut iwork, liwork, &mut info,
        );
    }
    if info != 0 {
        return Err(lapack_error(routine, info));
    }
    let vecs = vectors.then(|| Array2::from_shape_vec((n, n).f(), buf).expect("n×n"));
    Ok((w, vecs))
}

/// A subset by ?syevr: RANGE = 'A', 'I' (1-based il..iu) or 'V' ((vl, vu]).
fn by_syevr<T: EigenScalar>(
    a: ArrayView2<T>,
    subset: &Subset,
    vectors: bool,
) -> Result<(Vec<T>, Option<Array2<T>>)> {
    let n = a.nrows();
    let ni = to_i32(n)?;
    let (range, vl, vu, il, iu, cap) = match subset {
        Subset::Values { lower, upper } => {
            (b'V', T::from_f64(*lower), T::from_f64(*upper), 1, 1, n)
        }
        other => match other.index_range(n)? {
            Some((first, last)) if last + 1 - first < n => (
                b'I',
                T::zero(),
                T::zero(),
                to_i32(first + 1)?,
                to_i32(last + 1)?,
                last + 1 - first,
            ),
            Some(_) => (b'A', T::zero(), T::zero(), 1, 1, n),
            None => return Ok((Vec::new(), vectors.then(|| Array2::zeros((n, 0))))),
        },
    };
    let mut buf = copied_vec(a)?;
    let mut w = vec![T::zero(); n];
    let ldz = ni.max(1);
    let mut z = zeroed_vec::<T>(if vectors { n * cap.max(1) } else { 1 })?;
    let mut isuppz = vec![0; 2 * cap.max(1)];
    let jobz = if vectors { b'V' } else { b'N' };
    let (mut m, mut info, mut qwork, mut qiwork) = (0, 0, [T::zero()], [0]);
    // SAFETY: the buffers have the sizes LAPACK documents for ?syevr; the first call only queries the
    // workspace.
    unsafe {
        T::syevr(
            jobz,
            range,
            ni,
            &mut buf,
            vl,
            vu,
            il,
            iu,
            &mut m,
            &mut w,
            &mut z,
            ldz,
            &mut isuppz,
            &mut qwork,
            -1,
            &mut qiwork,
            -1,
            &mut info,
        );
    }
    if info != 0 {
        return Err(lapack_error(T::SYEVR, info));
    }
    // ?syevr's documented minimums: lwork = 26n, liwork = 10n.
    let lwork = workspace(T::SYEVR, qwork[0].to_f64(), 26 * n as u128)?;
    let liwork = workspace(T::SYEVR, f64::from(qiwork[0]), 10 * n as u128)?;
    let mut work = zeroed_vec::<T>(lwork.max(1) as usize)?;
    let mut iwork = vec![0; liwork.max(1) as usize];
    // SAFETY: as above, with the workspace LAPACK asked for.
    unsafe {
        T::syevr(
            jobz,
            range,
            ni,
            &mut buf,
            vl,
            vu,
            il,
            iu,
            &mut m,
            &mut w,
            &mut z,
            ldz,
            &mut isuppz,
            &mut work,
            lwork,
            &mut iwork,
            liwork,
            &mut info,
        );
    }
    if info != 0 {
        return Err(lapack_error(T::SYEVR, info));
    }
    let m = m.max(0) as usize;
    w.truncate(m);
    let vecs = vectors.then(|| {
        z.truncate(n * m);
        Array2::from_shape_vec((n, m).f(), z).expect("n×m")
    });
    Ok((w, vecs))
}

impl<T: EigenScalar> SymmetricEigensolver<T> for LapackEigen {
    fn name(&self) -> &'static str {
        "lapack"
    }

    /// Everything but eigenvectors from [`LapackDriver::Syevd2Stage`].
    fn supports(&self, request: &EigenRequest) -> bool {
        !(self.driver == LapackDriver::Syevd2Stage && request.vectors)
    }

    fn solve(&self, a: ArrayView2<T>, request: &EigenRequest) -> Result<EigenDecomposition<T>> {
        if !SymmetricEigensolver::<T>::supports(self, request) {
            return Err(Error::Unsupported {
                backend: "lapack:syevd-2stage",
                request: "eigenvectors",
                instead: "use lapack:syevd or lapack:syevr for eigenpairs",
            });
        }
        check_symmetric(a, SYMMETRY)?;
        let n = a.nrows();
        request.subset.index_range(n)?;
        if n == 0 {
            return select(
                Vec::new(),
                request.vectors.then(|| Array2::zeros((0, 0).f())),
                &request.subset,
                "lapack",
            );
        }
        let whole = matches!(request.subset, Subset::All);
        let (values, vectors, routine) = match self.driver {
            LapackDriver::Auto if whole && !request.vectors && n >= TWO_STAGE_FROM => {
                let (w, v) = by_syevd(a, false, true)?;
                (w, v, T::SYEVD_2STAGE)
            }
            LapackDriver::Auto if whole => {
                let (w, v) = by_syevd(a, request.vectors, false)?;
                (w, v, T::SYEVD)
            }
            LapackDriver::Auto | LapackDriver::Syevr => {
                let (w, v) = by_syevr(a, &request.subset, request.vectors)?;
                return Ok(EigenDecomposition {
                    values: w,
                    vectors: v,
                    driver: T::SYEVR,
                });
            }
            LapackDriver::Syevd => {
                let (w, v) = by_syevd(a, request.vectors, false)?;
                (w, v, T::SYEVD)
            }
            LapackDriver::Syevd2Stage => {
                let (w, v) = by_syevd(a, false, true)?;
                (w, v, T::SYEVD_2STAGE)
            }
        };
        select(values, vectors, &request.subset, routine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_are_integers_at_least_the_documented_minimum() {
        // f32's query rounds 1 + 6n + 2n² to a multiple of 4 at n = 5000 (50 030 001 → 50 030 000): the
        // integer minimum wins.
        let n = 5000;
        let (work, iwork) = syevd_minimum(n, true);
        assert_eq!((work, iwork), (50_030_001, 25_003));
        let rounded = f64::from(work as f32);
        assert!(rounded < work as f64);
        assert_eq!(workspace("ssyevd", rounded, work).unwrap(), 50_030_001);
        // A larger query is kept, a negative or NaN one ignored.
        assert_eq!(workspace("dsyevr", 1e6, 26 * 10).unwrap(), 1_000_000);
        assert_eq!(workspace("dsyevr", f64::NAN, 260).unwrap(), 260);
        assert_eq!(workspace("dsyevr", -5.0, 0).unwrap(), 1);
        // Past 2³¹ − 1 (n = 32 767 with vectors): a typed error instead of a saturated cast.
        let (work, _) = syevd_minimum(32_767, true);
        assert!(matches!(
            workspace("dsyevd", work as f64, work),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            workspace("dsyevd", 1e300, 1),
            Err(Error::Shape { .. })
        ));
        assert!(workspace("dsyevd", 0.0, syevd_minimum(32_766, true).0).is_ok());
    }
}
