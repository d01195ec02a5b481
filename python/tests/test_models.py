"""Mixtures, equivalents, the shallow twin, finite width, the SIM and the linear model, each against an
independent computation or a stated Monte-Carlo tolerance."""

import math

import numpy as np
import pytest

import deq_kernels as dk
from conftest import REPO


def test_paper_mixture(rng):
    p = 400
    X, y = dk.gaussian_mixture(p, seed=2)
    assert X.shape == (320, p) and X.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(y), [160, 160])
    # Class a has mean 8e_{8a+1}/√p and covariance (1 + 8a/√p)I/p: check the means (Monte-Carlo, 5σ) and the
    # mean squared norms (E‖x‖² = 64/p + 1 + 8a/√p).
    for a in (0, 1):
        rows = X[y == a]
        assert rows[:, 8 * a].mean() == pytest.approx(8 / math.sqrt(p), abs=5 * math.sqrt(1.5 / p / 160))
        expected = 64 / p + 1 + 8 * a / math.sqrt(p)
        assert np.mean(np.sum(rows**2, axis=1)) == pytest.approx(expected, rel=0.02)


def test_custom_mixture(rng):
    p = 6
    means = np.array([[0.0] * 6, [3.0] + [0.0] * 5])
    full = np.diag([1.0, 2.0, 3.0, 1.0, 1.0, 1.0]) + 0.5 * (np.eye(6, k=1) + np.eye(6, k=-1))
    X, y = dk.gaussian_mixture(p, seed=1, means=means, covariances=[2.0, full], sizes=[4000, 6000])
    np.testing.assert_array_equal(np.bincount(y), [4000, 6000])
    # Sample covariances of √p·x within 5 standard errors (≈ √(2/n)·scale).
    c0 = np.cov(math.sqrt(p) * X[y == 0].T)
    c1 = np.cov(math.sqrt(p) * X[y == 1].T)
    np.testing.assert_allclose(c0, 2.0 * np.eye(6), atol=5 * 2.0 * math.sqrt(2 / 4000))
    np.testing.assert_allclose(c1, full, atol=5 * 3.0 * math.sqrt(2 / 6000))
    with pytest.raises(ValueError):
        dk.gaussian_mixture(p, means=means, covariances=[1.0], sizes=[5, 5])
    with pytest.raises(ValueError):
        dk.gaussian_mixture(5)


def test_deq_equivalent_solves_its_equations():
    e = dk.deq_equivalent("relu", 0.2, 1.0)
    # docs/math.md §5: τ* = 0.926566 for ReLU at σ_a² = 0.2, τ0 = 1; centered ReLU has m1 = ½, so g1 = ¼ and
    # (E2) gives α1 = σ_b²/(1 − σ_a²/4).
    assert e["tau_star"] == pytest.approx(0.926566, abs=5e-7)
    assert e["alpha"][0] == pytest.approx(0.8 / (1 - 0.2 / 4), rel=1e-14)
    assert max(e["residuals"]) < 1e-14
    # ĝ1 = (α1 − σ_b²)/σ_a² is the CK's c1.
    assert e["ck"]["c1"] == pytest.approx((e["alpha"][0] - 0.8) / 0.2, rel=1e-12)
    assert set(e["ntk"]) == {"c1", "c2", "c3", "c0"}


def test_equivalent_matrix_and_spectrum(rng):
    X, y = dk.gaussian_mixture(128, seed=3)
    n = X.shape[0]
    np.testing.assert_allclose(dk.equivalent_matrix(X, y, (1, 0, 0, 0)), X @ X.T, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(dk.equivalent_matrix(X, y, (0, 0, 0, 1)), np.eye(n))
    c = dk.deq_equivalent("relu", 0.2, math.sqrt(np.sum(X * X) / n))["ck"]
    K = dk.equivalent_matrix(X, y, c)
    np.testing.assert_allclose(dk.equivalent_spectrum(X, y, c), np.linalg.eigvalsh(K), atol=1e-11)


def test_the_equivalent_and_the_twin_approximate_the_deq():
    X, y = dk.gaussian_mixture(512, seed=0)
    tau0 = math.sqrt(np.sum(X * X) / X.shape[0])
    G = dk.deq_kernel(X)
    norm = np.linalg.norm(G, 2)
    # The equivalent is exact as p → ∞ with an error of order p^(−1/2) (docs/math.md §6): 0.04 at p = 512.
    Gbar = dk.equivalent_matrix(X, y, dk.deq_equivalent("relu", 0.2, tau0)["ck"])
    assert dk.operator_norm_distance(G, Gbar) / norm < 0.08
    # The designed network matches the DEQ's equivalent exactly, so its kernel is far closer than the equivalent.
    t = dk.twin("relu", 0.2, tau0, "ck")
    assert t["feasible"] and t["solutions"][0]["residual"] <= 1e-10
    net = t["network"]
    acts = net["activations"]
    Gt = dk.mlp_kernel(X, len(acts), acts, kind="ck", center=True,
                       train_first_layer=net["train_first_layer"], tau0=tau0)
    assert dk.operator_norm_distance(G, Gt) / norm < 1e-3
    # …and its equivalent's coefficients are the targets.
    eq = dk.mlp_equivalent(acts, tau0, net["train_first_layer"])["ck"]
    for key in ("c1", "c2", "c3", "c0"):
        assert eq[key] == pytest.approx(t["targets"][key], abs=1e-9)


def test_finite_width_converges_like_one_over_root_width():
    X, _ = dk.gaussian_mixture(256, n=80, seed=5)
    G = dk.deq_kernel(X)
    errors = []
    for width in (300, 4800):
        Ge, report = dk.deq_empirical_kernel(X, width, draws=2, seed=7)
        assert report["width"] == width and report["max_forward_residual"] < 1e-8
        errors.append(np.linalg.norm(Ge - G) / np.linalg.norm(G))
    # 16× the width: the error falls by about 4 (Monte-Carlo, between 2 and 8).
    assert 2 < errors[0] / errors[1] < 8, errors
    acts = ["relu", "relu"]
    exact = dk.mlp_kernel(X, 2, acts, kind="ck", center=True)
    errors = []
    for width in (300, 4800):
        Me, _ = dk.mlp_empirical_kernel(X, acts, width, draws=2, seed=1)
        errors.append(np.linalg.norm(Me - exact) / np.linalg.norm(exact))
    assert 2 < errors[0] / errors[1] < 8, errors


def test_sim_kernels_are_symmetric_positive_definite():
    X, _ = dk.gaussian_mixture(64, n=50, seed=1)
    ck, ntk = dk.sim_kernels(X, 2)
    for K in (ck, ntk):
        np.testing.assert_array_equal(K, K.T)
        assert np.linalg.eigvalsh(K).min() > 0
    # The NTK adds the (positive semi-definite) gradient terms to the CK.
    assert np.linalg.eigvalsh(ntk - ck).min() > -1e-10
    with pytest.raises(ValueError):
        dk.sim_kernels(X, 2, ("nngp",))


def test_delm_reaches_the_least_squares_optimum(rng):
    X, y = dk.gaussian_mixture(64, n=200, seed=4)
    Xs = np.ascontiguousarray(X[:, :12])
    r = dk.delm_train(Xs, y, 2, iterations=300)
    # L* = min_W ½‖Y − WΦ‖² with Φ = Xᵀ and one-hot Y, by NumPy's least squares.
    Y = np.eye(2)[y].T
    W, *_ = np.linalg.lstsq(Xs, Y.T, rcond=None)
    l_star = 0.5 * np.sum((Y - W.T @ Xs.T) ** 2)
    assert r["l_star"] == pytest.approx(l_star, rel=1e-9)
    assert r["loss_gap"][-1] < 1e-3 * r["loss_gap"][0]
    with pytest.raises(ValueError, match="label"):
        dk.delm_train(Xs, y + 5, 2)


def test_the_spectra_example_runs(tmp_path):
    pytest.importorskip("matplotlib")
    import runpy
    import sys

    out = tmp_path / "spectra.png"
    argv = sys.argv
    sys.argv = ["spectra.py", str(out), "128"]
    try:
        runpy.run_path(str(REPO / "python" / "examples" / "spectra.py"), run_name="__main__")
    finally:
        sys.argv = argv
    assert out.stat().st_size > 10_000


def deqk_binary():
    """The newest deqk command line built in this checkout (cargo test or cargo build put it under target/)."""
    built = [REPO / "target" / profile / "deqk" for profile in ("release", "debug")]
    built = [path for path in built if path.exists()]
    if not built:
        pytest.skip("no deqk binary under target/ (cargo build -p deqk)")
    return max(built, key=lambda path: path.stat().st_mtime)


@pytest.mark.parametrize("kind", ["ck", "ntk"])
def test_sim_kernels_equal_the_command_line(tmp_path, kind):
    import subprocess

    X, _ = dk.gaussian_mixture(32, n=40, seed=6)
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "K.npy"
    subprocess.run(
        [str(deqk_binary()), "kernel", "--model", "sim", "--kind", kind, "--input", str(tmp_path / "X.npy"),
         "--out", str(out)],
        check=True, capture_output=True,
    )
    (ours,) = dk.sim_kernels(X, 2, (kind,))
    np.testing.assert_allclose(ours, np.load(out), rtol=1e-13, atol=1e-15)
