"""The DEQ Implicit-CK and Implicit-NTK (math §5) the way research code computes them with NumPy: the outer
iteration Sigma <- sigma_a2 * F(Sigma) + sigma_b2 * X X^T over whole n x n matrices until it stops moving, then
G* = F(Sigma*), K* = G* / (1 - sigma_a2 * Fdot(Sigma*)). Same network as benches/implicit_kernels.rs:
sigma_a2 = 0.2, sigma_b2 = 0.8, phi centered at the fixed-point scale tau*, tau0^2 = ||X||_F^2 / n.

F for relu is the centered arc-cosine kernel (math §3). For tanh (odd: no centering) it is Mehler's series
sum_k a_k(s_i) a_k(s_j) rho^k with per-sample Hermite coefficients from Gauss-Hermite quadrature
(numpy.polynomial.hermite_e), K terms, by Horner over n x n matrices.

Usage: python benches/implicit_numpy.py DATA_DIR N1 N2 ...   (DATA_DIR holds X<N>.npy and, for checking,
K<N>_deq_<act>.npy written by `deqk kernel --model deq --kind ntk`). Prints one JSON line per size and
activation: the median of REPS (default 3) timed calls after one untimed warm-up call on the same data, so that
imports, the BLAS thread pool and the first touch of memory are paid before timing, as in criterion's warm-up.
NumPy's products (X Xᵀ) run on all cores through OpenBLAS (leave OPENBLAS_NUM_THREADS unset); its elementwise
passes run on one core, which is NumPy's own limit.
"""
import json
import math
import os
import sys
import time

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

SIGMA_A2, SIGMA_B2 = 0.2, 0.8
TOL = 1e-12
TANH_TERMS = int(os.environ.get("TANH_TERMS", "120"))
REPS = int(os.environ.get("REPS", "3"))
GH_NODES = 200

nodes, weights = hermegauss(GH_NODES)
weights = weights / math.sqrt(2 * math.pi)


def expect(f):
    return float(np.sum(weights * f(nodes)))


def tau_star(act, tau0):
    if act == "relu":
        return math.sqrt(SIGMA_B2 * tau0**2 / (1 - SIGMA_A2 * (0.5 - 0.5 / math.pi)))
    t2 = SIGMA_B2 * tau0**2
    for _ in range(1000):
        t = math.sqrt(t2)
        m0 = expect(lambda x: np.tanh(t * x))
        new = SIGMA_A2 * (expect(lambda x: np.tanh(t * x) ** 2) - m0**2) + SIGMA_B2 * tau0**2
        if abs(new - t2) < 1e-16:
            break
        t2 = new
    return math.sqrt(t2)


def relu_dual(S, c):
    d = np.sqrt(np.diag(S))
    dd = np.outer(d, d)
    rho = np.clip(S / dd, -1.0, 1.0)
    th = np.arccos(rho)
    k = dd * (np.sqrt(1 - rho * rho) + (np.pi - th) * rho) / (2 * np.pi)
    m = d / math.sqrt(2 * math.pi)
    F = k - c * (m[:, None] + m[None, :]) + c * c
    Fd = (np.pi - th) / (2 * np.pi)
    return F, Fd


def hermite_table(f, s, K):
    """a_k(f; s_i) = E[f(s_i xi) h_k(xi)], h_k = He_k / sqrt(k!), for every sample: n x K."""
    h = np.empty((K, GH_NODES))
    h[0] = 1.0
    h[1] = nodes
    for k in range(1, K - 1):
        h[k + 1] = (nodes * h[k] - math.sqrt(k) * h[k - 1]) / math.sqrt(k + 1)
    vals = f(np.outer(s, nodes)) * weights  # n x nodes
    return vals @ h.T


def tanh_dual(S, with_derivative):
    d = np.sqrt(np.diag(S))
    rho = np.clip(S / np.outer(d, d), -1.0, 1.0)
    out = []
    fs = [np.tanh] + ([lambda x: 1 - np.tanh(x) ** 2] if with_derivative else [])
    for f in fs:
        A = hermite_table(f, d, TANH_TERMS)
        acc = np.outer(A[:, -1], A[:, -1])
        for k in range(TANH_TERMS - 2, -1, -1):
            acc *= rho
            acc += np.outer(A[:, k], A[:, k])
        out.append(acc)
    return out[0], (out[1] if with_derivative else None)


def deq_ck_ntk(X, act):
    n = X.shape[0]
    tau0 = math.sqrt(np.sum(X * X) / n)
    t = tau_star(act, tau0)
    c = t / math.sqrt(2 * math.pi) if act == "relu" else 0.0
    B = SIGMA_B2 * (X @ X.T)
    S = B.copy()
    for it in range(1, 10000):
        if act == "relu":
            F, _ = relu_dual(S, c)
        else:
            F, _ = tanh_dual(S, False)
        new = SIGMA_A2 * F + B
        change = np.max(np.abs(new - S))
        S = new
        if change < TOL:
            break
    if act == "relu":
        F, Fd = relu_dual(S, c)
    else:
        F, Fd = tanh_dual(S, True)
    return F, F / (1 - SIGMA_A2 * Fd), it


def main():
    data = sys.argv[1]
    for n in map(int, sys.argv[2:]):
        X = np.load(os.path.join(data, f"X{n}.npy"))
        for act in os.environ.get("ACTIVATIONS", "relu,tanh").split(","):
            deq_ck_ntk(X, act)
            samples = []
            for _ in range(REPS):
                t0 = time.perf_counter()
                G, K, iterations = deq_ck_ntk(X, act)
                samples.append(time.perf_counter() - t0)
            rec = {"n": n, "activation": act, "numpy_seconds": round(sorted(samples)[len(samples) // 2], 3),
                   "samples": [round(t, 3) for t in samples], "iterations": iterations,
                   "cores": os.cpu_count(), "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
            ref = os.path.join(data, f"K{n}_deq_{act}.npy")
            if os.path.exists(ref):
                Kr = np.load(ref)
                rec["max_abs_diff_ntk"] = float(np.max(np.abs(K - Kr)))
            print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
