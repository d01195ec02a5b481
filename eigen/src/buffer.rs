//! Large zero-initialized matrices. The memory comes zeroed from the operating system (no pass of our own), is
//! marked for transparent huge pages on Linux before anything touches it, and is first touched by whatever
//! fills it — on all threads — so that an n×n kernel matrix of several GB costs 2 MiB page faults spread over
//! the workers instead of millions of 4 KiB ones on one thread.

use ndarray::Array2;

use crate::{Error, Result};

/// Below this many bytes the plain allocator is used.
const LARGE: usize = 1 << 24;

/// An r×c matrix of zeros, in standard layout; [`Error::Allocation`] when the memory is not there.
pub fn zeroed_matrix<T: crate::Real>(rows: usize, cols: usize) -> Result<Array2<T>> {
    let len = rows.checked_mul(cols).ok_or(Error::Allocation {
        what: "matrix",
        bytes: None,
    })?;
    Ok(Array2::from_shape_vec((rows, cols), zeroed_vec(len)?).expect("length matches shape"))
}

/// `len` zeros, on huge pages when large, as NumPy's large arrays are (LAPACK's copies and workspaces, whose
/// Householder reductions stream the whole matrix once per column; the measured effect is within this machine's
/// run-to-run drift, docs/benchmarks.md); [`Error::Allocation`] when the memory is not there.
pub fn zeroed_vec<T: crate::Real>(len: usize) -> Result<Vec<T>> {
    let too_large = |bytes| Error::Allocation {
        what: "buffer",
        bytes,
    };
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .ok_or(too_large(None))?;
    if bytes < LARGE {
        return Ok(vec![T::default(); len]);
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| too_large(Some(bytes)))?;
    // SAFETY: the layout has non-zero size; all-zero bits are 0.0 for f32 and f64 (the only `Real` types), so the
    // zeroed allocation is a valid [T; len], and the Vec takes ownership with the same layout.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout);
        if ptr.is_null() {
            return Err(too_large(Some(bytes)));
        }
        advise_huge_pages(ptr, bytes);
        Ok(Vec::from_raw_parts(ptr as *mut T, len, len))
    }
}

/// The entries of `a` in logical (row-major) order, on huge pages when large: the working copy that an
/// in-place reduction (LAPACK's, the blocked tridiagonalization's) overwrites.
pub fn copied_vec<T: crate::Real>(a: ndarray::ArrayView2<T>) -> Result<Vec<T>> {
    let mut buf = zeroed_vec::<T>(a.len())?;
    buf.iter_mut().zip(a.iter()).for_each(|(d, &x)| *d = x);
    Ok(buf)
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + bytes) / HUGE * HUGE;
    if end > start {
        // SAFETY: [start, end) lies inside an allocation this process owns; madvise only changes how the
        // kernel backs it, and a failure is harmless (the pages stay 4 KiB).
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_are_zeroed_and_writable() {
        for len in [0, 7, (LARGE / 8) + 12345] {
            let mut v = zeroed_vec::<f64>(len).unwrap();
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0.0));
            v.iter_mut().enumerate().for_each(|(i, x)| *x = i as f64);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as f64));
        }
        let m = zeroed_matrix::<f32>(2048, 2049).unwrap();
        assert_eq!(m.dim(), (2048, 2049));
        assert!(m.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn impossible_sizes_are_errors() {
        assert!(matches!(
            zeroed_matrix::<f64>(usize::MAX / 2, 3),
            Err(Error::Allocation { bytes: None, .. })
        ));
        // 2⁶² bytes: the size is representable, the memory is not.
        assert!(matches!(
            zeroed_vec::<f64>(1 << 59),
            Err(Error::Allocation { bytes: Some(_), .. })
        ));
    }
}
