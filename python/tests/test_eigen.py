"""Eigenvalues, eigenpairs, SLQ and the spectrum distances against NumPy and SciPy."""

import numpy as np
import pytest

import deq_kernels as dk


def symmetric(rng, n, dtype=np.float64):
    a = rng.standard_normal((n, n))
    return ((a + a.T) / 2).astype(dtype)


@pytest.mark.parametrize("n", [5, 120, 450])
def test_eigvalsh_equals_numpy(rng, n):
    K = symmetric(rng, n)
    w = dk.eigvalsh(K)
    assert w.dtype == np.float64 and np.all(np.diff(w) >= 0)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(K), atol=1e-12 * n * np.abs(w).max())


def test_float32_stays_float32(rng):
    K = symmetric(rng, 300, np.float32)
    w = dk.eigvalsh(K)
    assert w.dtype == np.float32
    reference = np.linalg.eigvalsh(K.astype(np.float64))
    np.testing.assert_allclose(w, reference, atol=50 * 300 * np.finfo(np.float32).eps * np.abs(reference).max())


def test_top_k_by_every_backend(rng):
    K = symmetric(rng, 400)
    full = np.linalg.eigvalsh(K)
    backends = ["faer", "lanczos"] + (["lapack"] if dk.HAS_LAPACK else [])
    for backend in backends:
        w = dk.eigvalsh(K, backend=backend, top=6)
        np.testing.assert_allclose(w, full[-6:], rtol=1e-9, err_msg=backend)
    np.testing.assert_allclose(dk.eigvalsh(K, bottom=3), full[:3], rtol=1e-10)
    np.testing.assert_allclose(dk.eigvalsh(K, index=(10, 14)), full[10:15], rtol=1e-10)
    inside = full[(full > -1.0) & (full <= 1.0)]
    np.testing.assert_allclose(dk.eigvalsh(K, values=(-1.0, 1.0)), inside, rtol=1e-10)


def test_eigh_residual_and_orthogonality(rng):
    n = 350
    K = symmetric(rng, n)
    w, V = dk.eigh(K)
    eps = np.finfo(np.float64).eps
    assert np.abs(K @ V - V * w).max() <= 50 * n * eps * np.abs(w).max()
    assert np.abs(V.T @ V - np.eye(n)).max() <= 50 * n * eps
    w5, V5 = dk.eigh(K, backend="lanczos", top=5)
    assert V5.shape == (n, 5)
    assert np.abs(K @ V5 - V5 * w5).max() < 1e-8 * np.abs(w).max()


def test_fortran_order_input(rng):
    K = symmetric(rng, 200)
    np.testing.assert_array_equal(dk.eigvalsh(np.asfortranarray(K)), dk.eigvalsh(K))


def test_slq_is_a_probability_measure_matching_the_trace(rng):
    n = 500
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.linspace(0.0, 2.0, n)
    K = (Q * lam) @ Q.T
    K = (K + K.T) / 2
    nodes, weights = dk.slq(K, probes=20, steps=40, seed=3)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert nodes.min() >= -1e-8 and nodes.max() <= 2.0 + 1e-8
    # Σ w θ estimates tr(K)/n = 1 with a Monte-Carlo error of order √(2/(probes·n))·‖λ‖ (≈ 0.03 here).
    assert np.sum(weights * nodes) == pytest.approx(1.0, abs=0.1)


def test_distances_against_numpy_and_scipy(rng):
    from scipy.stats import wasserstein_distance

    A, B = symmetric(rng, 80), symmetric(rng, 80)
    assert dk.relative_frobenius(A, B) == pytest.approx(np.linalg.norm(A - B) / np.linalg.norm(B), rel=1e-12)
    assert dk.operator_norm_distance(A, B) == pytest.approx(np.linalg.norm(A - B, 2), rel=1e-10)
    a, b = rng.standard_normal(300), rng.standard_normal(200) + 0.5
    assert dk.wasserstein1(a, b) == pytest.approx(wasserstein_distance(a, b), rel=1e-12)


def test_bad_eigen_input(rng):
    K = symmetric(rng, 30)
    with pytest.raises(ValueError, match="symmetric"):
        dk.eigvalsh(K + np.triu(np.ones((30, 30)), 1))
    with pytest.raises(ValueError):
        dk.eigvalsh(rng.standard_normal((30, 20)))
    bad = K.copy()
    bad[2, 2] = np.inf
    with pytest.raises(ValueError):
        dk.eigvalsh(bad)
    with pytest.raises(ValueError, match="backend"):
        dk.eigvalsh(K, backend="magma")
    with pytest.raises(ValueError):
        dk.eigvalsh(K, top=3, bottom=3)
    with pytest.raises(ValueError):
        dk.eigvalsh(K, backend="lanczos")
    if not dk.HAS_LAPACK:
        with pytest.raises(ValueError, match="openblas"):
            dk.eigvalsh(K, backend="lapack")
