"""Time NumPy and SciPy (OpenBLAS) symmetric eigensolvers on the matrices benches/eigen.rs writes
(DEQK_EIG_DATA=DIR cargo bench --bench eigen): all eigenvalues (numpy.linalg.eigvalsh, scipy.linalg.eigh with
eigvals_only and each driver) and all eigenpairs (numpy.linalg.eigh, scipy.linalg.eigh per driver), and the
20 largest pairs (scipy.linalg.eigh subset_by_index with driver evr, and scipy.sparse.linalg.eigsh, i.e. ARPACK,
asked for the same relative accuracy as deq-kernels' block Lanczos: tol = 1.5e-10, ARPACK's criterion being a
Ritz residual of at most tol·|θ|, deq-kernels' at most 1.5e-10·max|θ|).

Usage: python benches/eig_scipy.py DIR N1 N2 ...   Prints one JSON line per measurement (median of `REPS`,
default 3; with `CASES=pairs/scipy.evd,values/` only the cases whose names start with one of the given prefixes;
with `DTYPE=float32` the matrix is cast to single precision first, so that LAPACK's s-routines run).
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy.linalg as sl
import scipy.sparse.linalg as ssl

REPS = int(os.environ.get("REPS", "3"))
# deq-kernels' LanczosParams default tolerance (eigen::lanczos): the same accuracy asked of ARPACK.
LANCZOS_TOL = 1.5e-10
CASES = [c for c in os.environ.get("CASES", "").split(",") if c]
DTYPE = np.dtype(os.environ.get("DTYPE", "float64"))


def sample_times(f):
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return times


def main():
    d = sys.argv[1]
    for n in map(int, sys.argv[2:]):
        K = np.load(os.path.join(d, f"K{n}.npy")).astype(DTYPE)
        cases = {
            "values/numpy.eigvalsh": lambda: np.linalg.eigvalsh(K),
            "values/scipy.evd": lambda: sl.eigh(K, eigvals_only=True, driver="evd"),
            "values/scipy.evr": lambda: sl.eigh(K, eigvals_only=True, driver="evr"),
            "values/scipy.ev": lambda: sl.eigh(K, eigvals_only=True, driver="ev"),
            "pairs/numpy.eigh": lambda: np.linalg.eigh(K),
            "pairs/scipy.evd": lambda: sl.eigh(K, driver="evd"),
            "pairs/scipy.evr": lambda: sl.eigh(K, driver="evr"),
            "top20/scipy.evr": lambda: sl.eigh(K, subset_by_index=[n - 20, n - 1], driver="evr"),
            "top20/scipy.eigsh": lambda: ssl.eigsh(K, k=20, which="LA", tol=LANCZOS_TOL),
        }
        for name, f in cases.items():
            if CASES and not any(name.startswith(c) for c in CASES):
                continue
            times = sample_times(f)
            print(json.dumps({"n": n, "case": name, "seconds": round(statistics.median(times), 4),
                              "samples": [round(t, 4) for t in times]}), flush=True)


if __name__ == "__main__":
    main()
