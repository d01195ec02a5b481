"""Shared fixtures: data in the crate's conventions (rows are samples) and NumPy references."""

import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def rng():
    return np.random.default_rng(20261204)


def gaussian_rows(rng, n, p, norm2=1.0):
    """n samples in p dimensions with E‖x‖² = norm2."""
    return rng.standard_normal((n, p)) * np.sqrt(norm2 / p)


def relu_dual(s11, s22, s12):
    """E[relu(u)relu(v)] and E[relu′(u)relu′(v)] for (u, v) ~ N(0, Σ): the arc-cosine kernel of degree 1
    (Cho & Saul, 2009), written independently of the crate."""
    norm = np.sqrt(s11 * s22)
    rho = np.clip(s12 / norm, -1.0, 1.0)
    # arccos has an infinite slope at 1: a diagonal entry's ρ = 1 − ε would give θ ≈ √(2ε) ≈ 1e-8.
    theta = np.where(rho > 1 - 1e-12, 0.0, np.arccos(rho))
    k = norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
    kdot = (np.pi - theta) / (2 * np.pi)
    return k, kdot


def gauss_expect(f, tau):
    """E[f(τξ)], ξ ~ N(0, 1), by SciPy's adaptive quadrature (Gauss–Hermite rules converge slowly for tanh at
    large τ, whose poles approach the real axis)."""
    from scipy.integrate import quad

    density = lambda x: f(tau * x) * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    value, _ = quad(density, -40, 40, points=[0.0], epsabs=1e-15, epsrel=1e-13, limit=400)
    return value
