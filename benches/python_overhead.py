"""The cost of crossing from Python into deq_kernels: per-call time of calls whose Rust work is negligible.

Run (after `pip install ./python` into the active environment):
    python benches/python_overhead.py
Prints the median over 20 batches of 2000 calls of each call, in microseconds. The Rust work inside each is a
few microseconds at most (a 2×2 kernel, one dual-kernel value, a 3×3 eigenproblem), so the figures bound the
overhead from above: argument conversion, the GIL released and re-taken, and for the kernel and eigen calls the
worker thread that makes them interruptible.
"""

import statistics
import time

import numpy as np

import deq_kernels as dk


def per_call_us(call, calls=2000, batches=20):
    for _ in range(200):
        call()
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times), min(times)


def main():
    X = np.array([[1.0, 0.0, 0.5], [0.2, 0.9, 0.0]])
    K = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.1], [0.0, 0.1, 3.0]])
    rows = [
        ("dual_kernel('relu', 1, 1, 0.5)", lambda: dk.dual_kernel("relu", 1.0, 1.0, 0.5)),
        ("moments('tanh', 1.0)", lambda: dk.moments("tanh", 1.0)),
        ("deq_kernel(X 2×3)", lambda: dk.deq_kernel(X)),
        ("mlp_kernel(X 2×3, depth 3)", lambda: dk.mlp_kernel(X, 3)),
        ("eigvalsh(K 3×3)", lambda: dk.eigvalsh(K)),
        ("numpy.linalg.eigvalsh(K 3×3), for scale", lambda: np.linalg.eigvalsh(K)),
    ]
    print(f"{'call':45} {'median µs':>10} {'best µs':>10}")
    for name, call in rows:
        median, best = per_call_us(call)
        print(f"{name:45} {median:10.1f} {best:10.1f}")


if __name__ == "__main__":
    main()
