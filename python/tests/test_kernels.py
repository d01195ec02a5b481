"""DEQ, Feng–Kolter and MLP kernels against NumPy recursions, the docs' reference values and neural-tangents."""

import json
import math

import numpy as np
import pytest

import deq_kernels as dk
from conftest import REPO, gaussian_rows, relu_dual


def relu_deq_reference(X, sigma_a2, sigma_b2):
    """Σ*, G*, K* of the ReLU DEQ centered at τ* (docs/math.md §5) by plain fixed-point iteration in NumPy."""
    n = X.shape[0]
    gram = X @ X.T
    tau0_sq = np.sum(X * X) / n
    tau_star = math.sqrt(sigma_b2 * tau0_sq / (1 - sigma_a2 * (0.5 - 1 / (2 * math.pi))))
    c = tau_star / math.sqrt(2 * math.pi)  # E[relu(τ*ξ)]
    sigma = sigma_b2 * gram
    for _ in range(500):
        d = np.sqrt(np.diag(sigma))
        k, kdot = relu_dual(d[:, None] ** 2, d[None, :] ** 2, sigma)
        mean = d / math.sqrt(2 * math.pi)  # E[relu(u)] at variance Σ_ii
        g = k - c * (mean[:, None] + mean[None, :]) + c * c
        new = sigma_a2 * g + sigma_b2 * gram
        if np.max(np.abs(new - sigma)) < 1e-15 * np.max(np.abs(sigma)):
            sigma = new
            break
        sigma = new
    d = np.sqrt(np.diag(sigma))
    k, kdot = relu_dual(d[:, None] ** 2, d[None, :] ** 2, sigma)
    mean = d / math.sqrt(2 * math.pi)
    g = k - c * (mean[:, None] + mean[None, :]) + c * c
    return sigma, g, g / (1 - sigma_a2 * kdot)


def relu_mlp_reference(X, depth, w2, b2):
    """CK and NTK of a ReLU MLP by the recursion of docs/math.md §4, in NumPy."""
    sigma = w2 * (X @ X.T) + b2
    theta = sigma.copy()
    for layer in range(depth):
        d = np.sqrt(np.diag(sigma))
        k, kdot = relu_dual(d[:, None] ** 2, d[None, :] ** 2, sigma)
        if layer + 1 == depth:
            return k, k + theta * kdot
        sigma = w2 * k + b2
        theta = sigma + w2 * theta * kdot


def test_relu_deq_equals_a_numpy_fixed_point(rng):
    X = gaussian_rows(rng, 60, 15)
    (nngp, ck, ntk), report = dk.deq_kernels(X, ("nngp", "ck", "ntk"), "relu", 0.2)
    ref = relu_deq_reference(X, 0.2, 0.8)
    for ours, theirs in zip((nngp, ck, ntk), ref):
        assert ours.shape == (60, 60) and ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12 * np.abs(theirs).max())
    assert report["max_residual"] <= 1e-12
    assert report["tau_star"] == pytest.approx(
        math.sqrt(0.8 * np.sum(X * X) / 60 / (1 - 0.2 * (0.5 - 1 / (2 * math.pi)))), rel=1e-12
    )
    assert set(report) >= {"tau0", "contraction", "max_iterations", "mean_iterations", "seconds"}


def test_deq_kernel_spellings_and_defaults(rng):
    X = gaussian_rows(rng, 40, 8)
    (ck, ntk), _ = dk.deq_kernels(X, ("ck", "ntk"))
    np.testing.assert_array_equal(dk.deq_kernel(X), ck)
    np.testing.assert_array_equal(dk.deq_kernel(X, activation="relu", sigma_a2=0.2, kind="ntk"), ntk)
    # Symmetric and positive semi-definite.
    np.testing.assert_array_equal(ck, ck.T)
    assert np.linalg.eigvalsh(ntk).min() > -1e-10
    # Options reach the model: σ_b² and τ₀ change the kernel, the defaults reproduce it.
    assert not np.allclose(dk.deq_kernel(X, sigma_b2=0.5), ck)
    tau0 = math.sqrt(np.sum(X * X) / 40)
    np.testing.assert_allclose(dk.deq_kernel(X, tau0=tau0), ck, rtol=1e-14, atol=1e-15)


def test_layouts_and_dtypes(rng):
    X = gaussian_rows(rng, 50, 12)
    ck = dk.deq_kernel(X, "tanh", 0.3)
    # Fortran order, a non-contiguous view, a list and float32 input all give the same kernel.
    np.testing.assert_array_equal(dk.deq_kernel(np.asfortranarray(X), "tanh", 0.3), ck)
    wide = np.zeros((50, 24))
    wide[:, ::2] = X
    np.testing.assert_array_equal(dk.deq_kernel(wide[:, ::2], "tanh", 0.3), ck)
    np.testing.assert_array_equal(dk.deq_kernel(X.tolist(), "tanh", 0.3), ck)
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(
        dk.deq_kernel(X32, "tanh", 0.3), dk.deq_kernel(X32.astype(np.float64), "tanh", 0.3), rtol=0
    )
    # float32 output: the float64 kernel rounded.
    ck32 = dk.deq_kernel(X, "tanh", 0.3, dtype=np.float32)
    assert ck32.dtype == np.float32
    np.testing.assert_array_equal(ck32, ck.astype(np.float32))
    # A read-only input is read in place.
    Xr = X.copy()
    Xr.setflags(write=False)
    np.testing.assert_array_equal(dk.deq_kernel(Xr, "tanh", 0.3), ck)


def test_feng_kolter_reference_values():
    # docs/math.md §5: σ(x) = √2·max(0, x), unit vectors with xᵀy = 0.3, xᵀy not divided by d.
    relu2 = f"lrelu:{math.sqrt(2)},0"
    for (w, u, b), xy, (sigma, theta, theta_xx) in [
        ((0.5, 0.4, 0.1), 0.3, (0.536938, 0.813801, 2.0)),
        ((0.8, 0.15, 0.05), 0.3, (0.687824, 1.690597, 5.0)),
        ((0.2, 0.7, 0.1), -0.5, (-0.205543, -0.225085, 1.25)),
    ]:
        X = np.array([[1.0, 0.0], [xy, math.sqrt(1 - xy * xy)]])
        (s, t), report = dk.fk_kernels(X, ("nngp", "ntk"), relu2, w, u, b, input_dim=1.0)
        assert s[0, 1] == pytest.approx(sigma, abs=5e-7)
        assert t[0, 1] == pytest.approx(theta, abs=5e-7)
        assert t[0, 0] == pytest.approx(theta_xx, abs=1e-12)
        assert dk.fk_kernel(X, relu2, "ntk", sigma_w2=w, sigma_u2=u, sigma_b2=b, input_dim=1.0)[0, 1] == t[0, 1]


def test_relu_mlp_equals_the_numpy_recursion(rng):
    X = gaussian_rows(rng, 45, 10)
    (ck, ntk), _ = dk.mlp_kernels(X, 3, "relu", 1.3, 0.1)
    ref_ck, ref_ntk = relu_mlp_reference(X, 3, 1.3, 0.1)
    np.testing.assert_allclose(ck, ref_ck, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ntk, ref_ntk, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(dk.mlp_kernel(X, 3, "relu", 1.3, 0.1, kind="ntk"), ntk)


@pytest.mark.parametrize("name", ["relu", "erf", "gelu", "tanh"])
def test_neural_tangents_reference_values(name):
    # tests/data/nt_reference.json: neural-tangents 0.6.5 on a depth-3 network (benches/nt_reference.py).
    ref = json.loads((REPO / "tests" / "data" / "nt_reference.json").read_text())
    X = np.array(ref["x"])
    (ck, ntk), _ = dk.mlp_kernels(X, ref["depth"], name, ref["sigma_w2"], ref["sigma_b2"])
    for kind, ours in (("ck", ck), ("ntk", ntk)):
        theirs = np.array(ref["kernels"][name][kind])
        # neural-tangents clips arc-cosine arguments and integrates tanh by Gauss–Hermite: 1e-7 relative.
        assert np.abs(ours - theirs).max() / np.abs(theirs).max() < 1e-7


def test_bad_input_raises_value_error(rng):
    X = gaussian_rows(rng, 20, 5)
    with pytest.raises(ValueError, match="2-D"):
        dk.deq_kernel(X[0])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        dk.deq_kernel(bad)
    with pytest.raises(ValueError, match="unknown activation"):
        dk.deq_kernel(X, "relux")
    with pytest.raises(ValueError, match="sigma_a2"):
        dk.deq_kernel(X, sigma_a2=1.5)
    with pytest.raises(ValueError, match="sigma_b2"):
        dk.deq_kernel(X, sigma_a2=0.5, sigma_b2=-1.0)
    with pytest.raises(ValueError):
        dk.deq_kernel(X, kind="ntkk")
    with pytest.raises(ValueError, match="dtype"):
        dk.deq_kernel(X, dtype=np.int32)
    with pytest.raises(ValueError, match="depth"):
        dk.mlp_kernel(X, 0)
    with pytest.raises(ValueError):
        dk.deq_kernels(X, ("ck", "ck"))


def test_outside_the_contraction_region_raises_convergence_error(rng):
    X = gaussian_rows(rng, 30, 5)
    with pytest.raises(dk.ConvergenceError) as info:
        dk.deq_kernel(X, "relu", sigma_a2=3.0, sigma_b2=0.5)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.contraction > 1 and e.parameter == "sigma_a2" and 0 < e.max_safe < 3.0
    assert "not a contraction" in str(e)
    # The same data with a contracting σ_a² has a kernel.
    assert np.isfinite(dk.deq_kernel(X, "relu", sigma_a2=0.5, sigma_b2=0.5)).all()
