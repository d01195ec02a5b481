"""Moments, Hermite coefficients and dual kernels against quadrature and closed forms computed in NumPy."""

import math

import numpy as np
import pytest

import deq_kernels as dk
from conftest import gauss_expect, relu_dual


@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_moments_of_tanh_and_erf_equal_quadrature(tau):
    for name, f, df in [
        ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        ("erf", lambda x: np.vectorize(math.erf)(x), lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x)),
    ]:
        m = dk.moments(name, tau)
        m0 = gauss_expect(f, tau)
        assert m["m0"] == pytest.approx(m0, abs=1e-12)
        assert m["m1"] == pytest.approx(gauss_expect(df, tau), rel=1e-10)
        assert m["v"] == pytest.approx(gauss_expect(lambda x: (f(x) - m0) ** 2, tau), rel=1e-10)
        assert m["d"] == pytest.approx(gauss_expect(lambda x: df(x) ** 2, tau), rel=1e-10)


def test_relu_moments_in_closed_form():
    m = dk.moments("relu", 2.0)
    assert m["m0"] == pytest.approx(2.0 / np.sqrt(2 * np.pi), rel=1e-14)
    assert m["m1"] == pytest.approx(0.5, rel=1e-14)
    assert m["v"] == pytest.approx(4.0 * (0.5 - 1 / (2 * np.pi)), rel=1e-14)
    assert m["d"] == pytest.approx(0.5, rel=1e-14)


def test_hermite_coefficients_equal_quadrature():
    x, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / np.sqrt(2 * np.pi)
    s, count = 0.8, 12
    a = dk.hermite_coefficients("tanh", s, count)
    assert a.shape == (count,) and a.dtype == np.float64
    for k in range(count):
        hk = np.polynomial.hermite_e.hermeval(x, [0] * k + [1]) / math.sqrt(math.factorial(k))
        assert a[k] == pytest.approx(np.sum(w * np.tanh(s * x) * hk), abs=1e-12)
    # a1 = s·m1 (the identity of docs/math.md §2).
    assert a[1] == pytest.approx(s * dk.moments("tanh", s)["m1"], rel=1e-12)


@pytest.mark.parametrize("s12", [-0.9, -0.2, 0.0, 0.5, 1.2])
def test_relu_dual_kernel_is_the_arc_cosine_kernel(s12):
    s11, s22 = 1.1, 1.4
    k, kdot = relu_dual(s11, s22, s12)
    assert dk.dual_kernel("relu", s11, s22, s12) == pytest.approx(k, rel=1e-13, abs=1e-15)
    assert dk.dual_kernel("relu", s11, s22, s12, derivative=True) == pytest.approx(kdot, rel=1e-13)


def test_erf_dual_kernel_in_closed_form():
    s11, s22, s12 = 0.7, 1.3, 0.4
    expected = 2 / np.pi * np.arcsin(2 * s12 / np.sqrt((1 + 2 * s11) * (1 + 2 * s22)))
    assert dk.dual_kernel("erf", s11, s22, s12) == pytest.approx(expected, rel=1e-13)


def test_bad_activation_input_raises_value_error():
    with pytest.raises(ValueError, match="unknown activation"):
        dk.moments("swishy", 1.0)
    with pytest.raises(ValueError, match="tau"):
        dk.moments("relu", -1.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        dk.dual_kernel("relu", 1.0, 1.0, 2.0)
    with pytest.raises(ValueError):
        dk.dual_kernel("relu", float("nan"), 1.0, 0.0)
    with pytest.raises(ValueError, match="Hermite"):
        dk.hermite_coefficients("relu", 1.0, 10**9)
