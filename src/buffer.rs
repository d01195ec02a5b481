//! Large zero-initialized matrices: on Linux the allocation is marked for transparent huge pages before it is
//! first touched, and it is touched (zeroed) on all threads, so that an n×n kernel matrix of several GB costs
//! one parallel pass over memory instead of millions of 4 KiB page faults.

use ndarray::Array2;
use rayon::prelude::*;

/// Below this many bytes the plain allocator is used.
const LARGE: usize = 1 << 24;

/// An r×c matrix of `T::default()` (zero for floats), in standard layout.
pub fn zeroed_matrix<T: Copy + Default + Send + Sync>(rows: usize, cols: usize) -> Array2<T> {
    let len = rows.checked_mul(cols).expect("matrix size overflows usize");
    let bytes = len * std::mem::size_of::<T>();
    if bytes < LARGE {
        return Array2::from_elem((rows, cols), T::default());
    }
    let mut v: Vec<T> = Vec::with_capacity(len);
    advise_huge_pages(v.as_mut_ptr() as *mut u8, bytes);
    v.spare_capacity_mut()
        .par_chunks_mut(1 << 16)
        .for_each(|c| {
            for x in c {
                x.write(T::default());
            }
        });
    // SAFETY: every element of the capacity was initialized above.
    unsafe { v.set_len(len) };
    Array2::from_shape_vec((rows, cols), v).expect("length matches shape")
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
