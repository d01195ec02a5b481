//! Parallel passes over one triangle of a symmetric matrix stored in full.

use ndarray::Array2;
use rayon::prelude::*;

const BLOCK: usize = 64;

struct SharedPtr<T>(*mut T);
unsafe impl<T: Send> Send for SharedPtr<T> {}
unsafe impl<T: Send> Sync for SharedPtr<T> {}

/// Copy the strict lower triangle onto the upper one, in cache-sized blocks on all threads.
pub fn mirror_lower_to_upper<T: Copy + Send + Sync>(a: &mut Array2<T>) {
    let n = a.nrows();
    assert_eq!(n, a.ncols(), "mirror_lower_to_upper needs a square matrix");
    if !a.is_standard_layout() {
        for i in 0..n {
            for j in 0..i {
                a[[j, i]] = a[[i, j]];
            }
        }
        return;
    }
    let ptr = SharedPtr(a.as_mut_ptr());
    let nb = n.div_ceil(BLOCK);
    (0..nb).into_par_iter().for_each(|bi| {
        let p = &ptr;
        let i0 = bi * BLOCK;
        let i1 = (i0 + BLOCK).min(n);
        for bj in bi..nb {
            let j0 = bj * BLOCK;
            let j1 = (j0 + BLOCK).min(n);
            for i in i0..i1 {
                for j in j0.max(i + 1)..j1 {
                    // SAFETY: writes go to (i, j) with i < j (upper triangle, rows of this block only), reads
                    // come from (j, i) in the lower triangle, which no task writes.
                    unsafe { *p.0.add(i * n + j) = *p.0.add(j * n + i) };
                }
            }
        }
    });
}
