"""The Python side of benches/run_python_interleaved.sh: deq_kernels.deq_kernel(X, "relu", 0.2, kind="ntk") on
a `.npy` file, one untimed warm-up call, then REPS timed calls (wall time of the Python call, argument
conversion and the returned array included), one JSON line with their median — the same protocol as
examples/time_deq_kernel.rs.

Run: python benches/python_deq_timing.py X.npy [REPS]
"""

import json
import statistics
import sys
import time

import numpy as np

import deq_kernels as dk


def main():
    X = np.load(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    dk.deq_kernel(X, "relu", 0.2, kind="ntk")
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        K = dk.deq_kernel(X, "relu", 0.2, kind="ntk")
        samples.append(time.perf_counter() - start)
        del K
    print(json.dumps({"n": X.shape[0], "median_s": round(statistics.median(samples), 4),
                      "samples": [round(s, 4) for s in samples]}))


if __name__ == "__main__":
    main()
