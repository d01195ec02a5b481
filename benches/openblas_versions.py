"""The same LAPACK routines from two OpenBLAS builds on the same matrix: the system library the `openblas`
feature links (Debian's 0.3.21, called through ctypes) and the one SciPy bundles (through scipy.linalg.lapack).
Separates the library from everything around it when deq-kernels and SciPy disagree on a dense eigensolve.

Usage: python benches/openblas_versions.py K.npy [routine ...]
  routines: sys_sytrd sci_sytrd sys_syevd sci_syevd sys_gemm sci_gemm (default: all), two calls each, one JSON
  line per call (gemm: C = KK, with its rate in GFLOP/s).
  SYSTEM_OPENBLAS overrides the system library's path.
"""
import ctypes
import json
import os
import sys
import time

import numpy as np
from scipy.linalg import blas, lapack

SYSTEM = os.environ.get("SYSTEM_OPENBLAS", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")


def ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def by_ref(v):
    return ctypes.byref(ctypes.c_int(v))


def system_sytrd(lib, a):
    n = a.shape[0]
    d, e, tau = np.empty(n), np.empty(max(n - 1, 1)), np.empty(max(n - 1, 1))
    info = ctypes.c_int(0)
    query = np.empty(1)
    args = lambda work, lwork: (b"L", by_ref(n), ptr(a), by_ref(n), ptr(d), ptr(e), ptr(tau), ptr(work),
                                by_ref(lwork), ctypes.byref(info))
    lib.dsytrd_(*args(query, -1))
    lwork = int(query[0])
    lib.dsytrd_(*args(np.empty(lwork), lwork))
    return info.value


def system_syevd(lib, a):
    n = a.shape[0]
    w = np.empty(n)
    info = ctypes.c_int(0)
    query, iquery = np.empty(1), np.empty(1, dtype=np.int32)
    args = lambda work, lwork, iwork, liwork: (b"V", b"L", by_ref(n), ptr(a), by_ref(n), ptr(w), ptr(work),
                                               by_ref(lwork), ptr(iwork), by_ref(liwork), ctypes.byref(info))
    lib.dsyevd_(*args(query, -1, iquery, -1))
    lwork, liwork = int(query[0]), int(iquery[0])
    lib.dsyevd_(*args(np.empty(lwork), lwork, np.empty(liwork, dtype=np.int32), liwork))
    return info.value


def system_gemm(lib, a):
    n = a.shape[0]
    c = np.empty_like(a)
    one, zero = ctypes.c_double(1.0), ctypes.c_double(0.0)
    lib.dgemm_(b"N", b"N", by_ref(n), by_ref(n), by_ref(n), ctypes.byref(one), ptr(a), by_ref(n), ptr(a),
               by_ref(n), ctypes.byref(zero), ptr(c), by_ref(n))
    return 0


def main():
    k = np.asfortranarray(np.load(sys.argv[1]))
    n = k.shape[0]
    lib = ctypes.CDLL(SYSTEM)
    routines = {
        "sys_sytrd": lambda a: system_sytrd(lib, a),
        "sci_sytrd": lambda a: lapack.dsytrd(a, lower=1, lwork=int(lapack.dsytrd_lwork(n, lower=1)[0]),
                                             overwrite_a=1)[-1],
        "sys_syevd": lambda a: system_syevd(lib, a),
        "sci_syevd": lambda a: lapack.dsyevd(a, compute_v=1, lower=1, overwrite_a=1)[-1],
        "sys_gemm": lambda a: system_gemm(lib, a),
        "sci_gemm": lambda a: (blas.dgemm(1.0, a, a), 0)[1],
    }
    for name in sys.argv[2:] or list(routines):
        for _ in range(2):
            a = k.copy(order="F")
            t = time.perf_counter()
            info = routines[name](a)
            seconds = time.perf_counter() - t
            line = {"n": n, "routine": name, "seconds": round(seconds, 2), "info": int(info)}
            if name.endswith("gemm"):
                line["gflops"] = round(2 * n**3 / seconds / 1e9, 1)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
