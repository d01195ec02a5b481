"""Exact infinite-width kernels of deep equilibrium models (DEQs) and explicit networks, their spectra and the
tools around them — the Rust library ``deq-kernels`` with NumPy arrays in and out.

Conventions (as in the Rust crate and ``deqk``): a data matrix ``X`` is n×p with one sample per row; variances
are named squared (``sigma_a2`` = σ_a²); activations are named in the crate's syntax (``"relu"``,
``"lrelu:a,b"``, ``"elu:1.0"``, ``"gelu"``, …); kernels come back as full symmetric n×n arrays in float64 or, when
asked with ``dtype="float32"``, float32. Inputs are read in place when they are float64 (float32 for the
eigensolvers) in C or Fortran order; anything else is converted once.

Every computation releases the GIL, so other Python threads keep running; the long ones (kernels, eigensolvers,
SLQ) stop on Ctrl-C and raise ``KeyboardInterrupt``. Bad input raises ``ValueError`` with the crate's one-line
message; a DEQ outside its contraction region or an iteration that does not converge raises
:class:`ConvergenceError` (a ``ValueError``) with the measured ``contraction`` factor.

The mathematics is in the repository's ``docs/math.md``; section numbers below (§5, …) refer to it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._native import HAS_LAPACK, ConvergenceError, __version__

__all__ = [
    "ConvergenceError",
    "HAS_LAPACK",
    "__version__",
    "moments",
    "hermite_coefficients",
    "dual_kernel",
    "deq_kernel",
    "deq_kernels",
    "fk_kernel",
    "fk_kernels",
    "mlp_kernel",
    "mlp_kernels",
    "eigvalsh",
    "eigh",
    "slq",
    "relative_frobenius",
    "operator_norm_distance",
    "wasserstein1",
    "gaussian_mixture",
    "deq_equivalent",
    "mlp_equivalent",
    "equivalent_matrix",
    "equivalent_spectrum",
    "twin",
    "deq_empirical_kernel",
    "mlp_empirical_kernel",
    "sim_kernels",
    "delm_train",
]


def _matrix(a: Any, name: str, dtypes: Tuple[type, ...] = (np.float64,)) -> np.ndarray:
    """``a`` as a 2-D array of one of ``dtypes`` (the first when converting), read in place when it already is one
    in C or Fortran order."""
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows are samples), got shape {arr.shape}")
    if arr.dtype.type not in dtypes:
        arr = arr.astype(dtypes[0])
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return arr


def _dtype(dtype: Any) -> str:
    name = np.dtype(dtype).name
    if name not in ("float64", "float32"):
        raise ValueError(f'dtype must be float64 or float32, got {name}')
    return name


def _kinds(kinds: Any) -> list:
    if isinstance(kinds, str):
        return [kinds]
    return [str(k) for k in kinds]


# --- activations (§2–3) -------------------------------------------------------------------------------------


def moments(activation: str, tau: float) -> Dict[str, Optional[float]]:
    """The Gaussian moments of σ at scale τ > 0, with ξ ~ N(0, 1) (§2):

    m0 = E[σ(τξ)], m1 = E[σ′(τξ)] = E[ξσ(τξ)]/τ, m2 = E[σ″(τξ)] = E[(ξ²−1)σ(τξ)]/τ², v = Var σ(τξ),
    q = E[(σ̄²)″(τξ)] with σ̄ = σ − m0, d = E[σ′(τξ)²] (None when σ′ does not exist).

    The Stein forms need no derivative, so kinks and jumps are exact; closed forms where they exist.
    Returns a dict with keys ``tau, m0, m1, m2, v, q, d``.
    """
    return _native.moments(activation, float(tau))


def hermite_coefficients(activation: str, scale: float, count: int, derivative: bool = False) -> np.ndarray:
    """The first ``count`` normalized Hermite coefficients a_k(σ; s) = E[σ(sξ)h_k(ξ)], k = 0…count−1, at scale
    s ≥ 0 (of σ′ with ``derivative=True``). Identities: a0 = m0, a1 = s·m1, a2 = s²·m2/√2 (§2)."""
    return _native.hermite_coefficients(activation, float(scale), int(count), bool(derivative))


def dual_kernel(activation: str, s11: float, s22: float, s12: float, derivative: bool = False) -> float:
    """The dual kernel E[σ(u)σ(v)] — or E[σ′(u)σ′(v)] with ``derivative=True`` — for (u, v) ~ N(0, Σ),
    Σ = [[s11, s12], [s12, s22]] positive semi-definite (§3). Closed forms where they exist (relu and the
    leaky/linear-rectifier family, erf, gelu, sin, cos, quadratic), 2-D quadrature otherwise."""
    return _native.dual_kernel(activation, float(s11), float(s22), float(s12), bool(derivative))


# --- DEQ kernels (§5) -----------------------------------------------------------------------------------------


def deq_kernels(
    X: Any,
    kinds: Sequence[str] = ("nngp", "ck", "ntk"),
    activation: str = "relu",
    sigma_a2: float = 0.2,
    *,
    sigma_b2: Optional[float] = None,
    tau0: Optional[float] = None,
    centering: str = "tau_star",
    shift: float = 0.0,
    train_input_weights: bool = False,
    dtype: Any = "float64",
) -> Tuple[Tuple[np.ndarray, ...], Dict[str, Any]]:
    """The DEQ z = φ(σ_a·Az + σ_b·Bx)/√m in the infinite-width limit (§5): the fixed points

        Σ* = σ_a²·G* + σ_b²·XXᵀ,   G*_ij = E[φ(u)φ(v)],   Ġ*_ij = E[φ′(u)φ′(v)],   K* = G* ⊘ (11ᵀ − σ_a²·Ġ*)

    with (u, v) ~ N(0, Σ*[{i,j},{i,j}]): ``"nngp"`` is Σ*, ``"ck"`` the Implicit-CK G*, ``"ntk"`` the
    Implicit-NTK K* (B frozen; ``train_input_weights=True`` adds σ_b²(XXᵀ)∘Ġ* ⊘ (11ᵀ − σ_a²Ġ*)). Every entry is
    solved by bracketed Newton to a residual ≤ 1e-12.

    Defaults follow Ling et al. (ICML 2024): σ_b² = 1 − σ_a² (needs 0 < σ_a² < 1; give ``sigma_b2`` otherwise),
    φ = φ0 − E[φ0(τ*ξ)] centered at the fixed-point scale τ*² = σ_a²·v(τ*) + σ_b²τ0², τ0² = ‖X‖_F²/n unless
    ``tau0`` is given (``centering="none"`` or ``"shift"`` with ``shift=c`` instead).

    Returns the matrices in the order of ``kinds`` and the solver's report as a dict (``tau0``, ``tau_star``,
    ``centering``, ``max_residual``, ``contraction``, ``max_iterations``, ``mean_iterations``,
    ``quadrature_fallbacks``, ``seconds``). Raises :class:`ConvergenceError` outside the contraction region
    (its ``contraction`` and ``max_safe`` say how far and which σ_a² is safe).
    """
    matrices, report = _native.deq_kernels(
        _matrix(X, "X"),
        activation,
        float(sigma_a2),
        _kinds(kinds),
        None if sigma_b2 is None else float(sigma_b2),
        None if tau0 is None else float(tau0),
        centering,
        float(shift),
        bool(train_input_weights),
        _dtype(dtype),
    )
    return tuple(matrices), report


def deq_kernel(
    X: Any, activation: str = "relu", sigma_a2: float = 0.2, kind: str = "ck", **options: Any
) -> np.ndarray:
    """One DEQ kernel: ``kind`` is ``"ck"`` (Implicit-CK G*), ``"nngp"`` (Σ*) or ``"ntk"`` (Implicit-NTK K*);
    ``options`` are those of :func:`deq_kernels` (``sigma_b2``, ``tau0``, ``centering``, ``shift``,
    ``train_input_weights``, ``dtype``)."""
    (matrix,), _ = deq_kernels(X, (kind,), activation, sigma_a2, **options)
    return matrix


def fk_kernels(
    X: Any,
    kinds: Sequence[str] = ("nngp", "ntk"),
    activation: str = "relu",
    sigma_w2: float = 0.5,
    sigma_u2: float = 1.0,
    sigma_b2: float = 0.0,
    *,
    input_dim: Optional[float] = None,
    dtype: Any = "float64",
) -> Tuple[Tuple[np.ndarray, ...], Dict[str, Any]]:
    """The Feng–Kolter DEQ f = √(σ_W²/n)·W·σ(f) + √(σ_U²/d)·Ux + σ_b·b (Feng & Kolter, 2020; §5):

        Σ* = σ_W²·E[σ(u)σ(v)] + σ_U²·xᵀy/d + σ_b²,   Σ̇* = σ_W²·E[σ′(u)σ′(v)],   Θ* = Σ* ⊘ (11ᵀ − Σ̇*)

    ``"nngp"`` is Σ*, ``"ntk"`` is Θ*; d is the number of columns of X unless ``input_dim`` is given. Returns
    the matrices and the report, as :func:`deq_kernels`."""
    matrices, report = _native.fk_kernels(
        _matrix(X, "X"),
        activation,
        float(sigma_w2),
        float(sigma_u2),
        float(sigma_b2),
        _kinds(kinds),
        None if input_dim is None else float(input_dim),
        _dtype(dtype),
    )
    return tuple(matrices), report


def fk_kernel(X: Any, activation: str = "relu", kind: str = "nngp", **options: Any) -> np.ndarray:
    """One Feng–Kolter kernel (``"nngp"`` Σ* or ``"ntk"`` Θ*); ``options`` as in :func:`fk_kernels`."""
    (matrix,), _ = fk_kernels(X, (kind,), activation, **options)
    return matrix


# --- explicit networks (§4) -----------------------------------------------------------------------------------


def _layers(depth: int, activation: Any) -> list:
    """One activation name per hidden layer: ``activation`` repeated ``depth`` times, or its list as given."""
    if isinstance(activation, str):
        return [activation] * int(depth)
    names = [str(a) for a in activation]
    if len(names) != int(depth):
        raise ValueError(f"{len(names)} activations given for depth = {depth}; give one per layer")
    return names


def mlp_kernels(
    X: Any,
    depth: int,
    activation: Union[str, Sequence[str]] = "relu",
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    kinds: Sequence[str] = ("ck", "ntk"),
    *,
    train_first_layer: bool = True,
    center: bool = False,
    tau0: Optional[float] = None,
    dtype: Any = "float64",
) -> Tuple[Tuple[np.ndarray, ...], Dict[str, Any]]:
    """The exact kernels of the network x ↦ [Dense(σ_w², σ_b²) → φ] × depth → Dense(1) in the NTK
    parameterization, infinitely wide (§4):

        Σ_1 = σ_w²·XXᵀ + σ_b²,   K_ℓ = E[φ(u)φ(v)],   K̇_ℓ = E[φ′(u)φ′(v)]  ((u, v) from Σ_ℓ),
        Σ_{ℓ+1} = σ_w²·K_ℓ + σ_b²,   Θ_1 = Σ_1,   Θ_{ℓ+1} = Σ_{ℓ+1} + σ_w²·Θ_ℓ ∘ K̇_ℓ,
        NNGP = Σ_L,   CK = K_L,   NTK = K_L + Θ_L ∘ K̇_L.

    The first layer acts on xᵀy itself (neural-tangents divides by p: the same numbers on inputs scaled by √p).
    ``train_first_layer=False`` starts from Θ_1 = 0; ``center=True`` centers every activation at the scale of
    its input. ``activation`` may also be a list with one name per layer. Returns the matrices in the order of
    ``kinds`` and a report dict."""
    matrices, report = _native.mlp_kernels(
        _matrix(X, "X"),
        _layers(depth, activation),
        float(sigma_w2),
        float(sigma_b2),
        _kinds(kinds),
        bool(train_first_layer),
        bool(center),
        None if tau0 is None else float(tau0),
        _dtype(dtype),
    )
    return tuple(matrices), report


def mlp_kernel(
    X: Any,
    depth: int,
    activation: Union[str, Sequence[str]] = "relu",
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    kind: str = "ck",
    **options: Any,
) -> np.ndarray:
    """One kernel of an explicit network (``"ck"``, ``"ntk"`` or ``"nngp"``); see :func:`mlp_kernels`."""
    (matrix,), _ = mlp_kernels(X, depth, activation, sigma_w2, sigma_b2, (kind,), **options)
    return matrix


# --- eigenvalues and spectra ---------------------------------------------------------------------------------


def _symmetric(K: Any, name: str = "K") -> np.ndarray:
    return _matrix(K, name, (np.float64, np.float32))


def eigh(
    K: Any,
    backend: str = "faer",
    top: Optional[int] = None,
    *,
    bottom: Optional[int] = None,
    index: Optional[Tuple[int, int]] = None,
    values: Optional[Tuple[float, float]] = None,
    driver: str = "auto",
) -> Tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and unit eigenvectors (columns) of the symmetric K, float64 or float32:
    KV = VΛ, VᵀV = I to O(n·ε·‖K‖).

    ``backend``: ``"faer"`` (pure Rust: blocked tridiagonalization and divide and conquer), ``"lapack"``
    (OpenBLAS's ``?syevd``/``?syevr``/``?syevd_2stage`` by ``driver``; builds with the ``openblas`` feature, see
    ``HAS_LAPACK``) or ``"lanczos"`` (block Lanczos, extreme eigenpairs only). At most one of ``top`` (the k
    largest), ``bottom`` (the k smallest), ``index=(first, last)`` (ascending positions, inclusive) and
    ``values=(lower, upper)`` (the half-open interval (lower, upper]) selects a part of the spectrum."""
    w, v, _ = _native.eigh(_symmetric(K), backend, driver, True, top, bottom, index, values)
    return w, v


def eigvalsh(
    K: Any,
    backend: str = "faer",
    top: Optional[int] = None,
    *,
    bottom: Optional[int] = None,
    index: Optional[Tuple[int, int]] = None,
    values: Optional[Tuple[float, float]] = None,
    driver: str = "auto",
) -> np.ndarray:
    """The eigenvalues of the symmetric K, ascending, in K's precision; arguments as in :func:`eigh`
    (``top=k`` gives the k largest, still ascending)."""
    w, _, _ = _native.eigh(_symmetric(K), backend, driver, False, top, bottom, index, values)
    return w


def slq(
    K: Any, probes: int = 10, steps: int = 80, block: Optional[int] = None, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """The spectral density of the symmetric K by stochastic Lanczos quadrature: nodes θ and weights w with
    Σ w = 1 such that Σ_k w_k f(θ_k) ≈ tr f(K)/n, from ``probes`` random probes of ``steps`` Lanczos steps each
    (Ubaru, Chen & Saad, 2017). Matrix-free: K is read by products only."""
    nodes, weights, _ = _native.slq(_symmetric(K), int(probes), int(steps), block, int(seed))
    return nodes, weights


def relative_frobenius(A: Any, B: Any) -> float:
    """‖A − B‖_F / ‖B‖_F of two matrices of one dtype."""
    A, B = _same_dtype(A, B)
    return _native.relative_frobenius(A, B)


def operator_norm_distance(A: Any, B: Any) -> float:
    """‖A − B‖₂, the operator norm of the difference of two symmetric matrices of one dtype."""
    A, B = _same_dtype(A, B)
    return _native.operator_norm_distance(A, B)


def wasserstein1(a: Any, b: Any) -> float:
    """The Wasserstein-1 distance between the empirical measures of two sets of eigenvalues (any sizes):
    ∫ |F_a(x) − F_b(x)| dx."""
    return _native.wasserstein1(
        np.asarray(a, dtype=np.float64).ravel().tolist(), np.asarray(b, dtype=np.float64).ravel().tolist()
    )


def _same_dtype(A: Any, B: Any) -> Tuple[np.ndarray, np.ndarray]:
    A, B = _symmetric(A, "A"), _symmetric(B, "B")
    if A.dtype != B.dtype:
        A, B = A.astype(np.float64), B.astype(np.float64)
    return A, B


# --- Gaussian mixtures and the high-dimensional equivalents (§6) ---------------------------------------------


def gaussian_mixture(
    p: int,
    n: Optional[int] = None,
    seed: int = 0,
    *,
    means: Any = None,
    covariances: Optional[Sequence[Any]] = None,
    sizes: Optional[Sequence[int]] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Samples x_i = (μ_a + C_a^{1/2} z_i)/√p of a K-class Gaussian mixture in dimension p, class by class:
    returns X (n×p, rows are samples) and the integer labels.

    Without ``means``, the paper's mixture (§6): two classes, n = ⌊0.8p⌋ samples unless given,
    μ_a = 8·e_{8(a−1)+1}, C_a = (1 + 8(a−1)/√p)·I_p. Otherwise ``means`` (K×p, unscaled), ``covariances`` (per
    class a number c for c·I, a vector for a diagonal, or a p×p matrix) and ``sizes`` describe the classes."""
    if means is not None:
        means = np.ascontiguousarray(means, dtype=np.float64)
        covariances = [
            c if np.isscalar(c) else np.ascontiguousarray(c, dtype=np.float64) for c in (covariances or [])
        ]
        sizes = [int(s) for s in (sizes or [])]
    elif covariances is not None or sizes is not None:
        raise ValueError("give means, covariances and sizes together (or none of them for the paper's mixture)")
    return _native.gaussian_mixture(int(p), n, int(seed), means, covariances, sizes)


def deq_equivalent(
    activation: str = "relu", sigma_a2: float = 0.2, tau0: float = 1.0, sigma_b2: Optional[float] = None
) -> Dict[str, Any]:
    """The DEQ's four equations on data of scale τ0 (§6), with g1 = m1², g2 = m2², g4 = q of the centered φ at
    τ*:

        (E1) τ*² = σ_a²·v(τ*) + σ_b²τ0²        (E2) α1 = σ_a²·g1·α1 + σ_b²
        (E3) α2 = σ_a²(g1·α2 + ¼g2·α4²), α4 = ½σ_a²·g4·α4 + σ_b²        (E4) α3 = σ_a²(g1·α3 + ½g2·α1²)

    Returns a dict: ``tau_star``, ``alpha`` (α1…α4), ``residuals``, ``moments``, ``beta``, ``kappa2`` and the
    coefficients (c1, c2, c3, c0) of the equivalents K̃ = c1·XXᵀ + c2·uuᵀ + c3·JTJᵀ/p + c0·I of Σ*
    (``"nngp"``), G* (``"ck"``) and K* (``"ntk"``)."""
    s_b2 = None if sigma_b2 is None else float(sigma_b2)
    return _native.deq_equivalent(activation, float(sigma_a2), float(tau0), s_b2)


def mlp_equivalent(
    activations: Sequence[str], tau0: float = 1.0, train_first_layer: bool = True
) -> Dict[str, Any]:
    """The equivalent coefficients of the centered unit-variance network with these hidden layers (§4,
    Gu et al. 2022): per-layer moments, α, β, κ² and the (c1, c2, c3, c0) of its CK and NTK."""
    if isinstance(activations, str):
        activations = [activations]
    return _native.mlp_equivalent([str(a) for a in activations], float(tau0), bool(train_first_layer))


def _coefficients(c: Any) -> List[float]:
    if isinstance(c, dict):
        return [float(c["c1"]), float(c["c2"]), float(c["c3"]), float(c["c0"])]
    values = [float(v) for v in c]
    if len(values) != 4:
        raise ValueError("coefficients are (c1, c2, c3, c0) or a dict with those keys")
    return values


def equivalent_matrix(X: Any, labels: Any, coefficients: Any) -> np.ndarray:
    """K̃(c1, c2, c3, c0) = c1·XXᵀ + c2·uuᵀ + c3·JTJᵀ/p + c0·Iₙ as a dense n×n matrix, with u, T and J
    estimated without bias from the labelled data (§6). ``coefficients``: (c1, c2, c3, c0) or a dict such as
    ``deq_equivalent(...)["ck"]``."""
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    return _native.equivalent_matrix(_matrix(X, "X"), lab, _coefficients(coefficients))


def equivalent_spectrum(X: Any, labels: Any, coefficients: Any) -> np.ndarray:
    """All n eigenvalues of K̃ (ascending) from its low-rank structure, without forming the n×n matrix."""
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    return _native.equivalent_spectrum(_matrix(X, "X"), lab, _coefficients(coefficients))


# --- the shallow twin (§7) -----------------------------------------------------------------------------------


def twin(
    activation: str = "relu",
    sigma_a2: float = 0.2,
    tau0: float = 1.0,
    kind: str = "ck",
    *,
    sigma_b2: Optional[float] = None,
    starts: int = 64,
    seed: int = 0,
    accept: float = 1e-10,
) -> Dict[str, Any]:
    """The shallow explicit network whose equivalent CK or NTK equals the DEQ's (§7): the family chosen, the
    targets, every distinct solution (smallest residual first) or the reason there is none, and the best
    solution's ``network`` (activation names per layer, whether the first layer is trained, τ0). Its exact
    kernel is ``mlp_kernel(X, len(acts), acts, kind=kind, center=True, train_first_layer=…, tau0=τ0)``."""
    s_b2 = None if sigma_b2 is None else float(sigma_b2)
    return _native.twin(
        activation, float(sigma_a2), float(tau0), kind, s_b2, int(starts), int(seed), float(accept)
    )


# --- finite width (§8) ---------------------------------------------------------------------------------------


def deq_empirical_kernel(
    X: Any,
    width: int,
    draws: int = 1,
    kind: str = "ck",
    activation: str = "relu",
    sigma_a2: float = 0.2,
    *,
    sigma_b2: Optional[float] = None,
    weights: str = "gaussian",
    seed: int = 0,
    dtype: Any = "float64",
) -> Tuple[np.ndarray, Dict[str, Any]]:
    """The empirical CK ZZᵀ or NTK (ZZᵀ) ⊘ (11ᵀ − σ_a²·dZdZᵀ) of random DEQs of width m (fixed point by Anderson
    acceleration), averaged over ``draws``; ``weights`` is ``"gaussian"``, ``"rademacher"`` or
    ``"ternary:S"``. Returns the kernel and a report dict."""
    s_b2 = None if sigma_b2 is None else float(sigma_b2)
    return _native.deq_empirical_kernel(
        _matrix(X, "X"), int(width), int(draws), kind, activation, float(sigma_a2), s_b2, weights, int(seed),
        _dtype(dtype),
    )


def mlp_empirical_kernel(
    X: Any,
    activations: Union[str, Sequence[str]],
    width: int,
    draws: int = 1,
    kind: str = "ck",
    *,
    depth: Optional[int] = None,
    train_first_layer: bool = True,
    center: bool = True,
    weights: str = "gaussian",
    seed: int = 0,
    dtype: Any = "float64",
) -> Tuple[np.ndarray, Dict[str, Any]]:
    """The empirical CK or NTK of random unit-variance MLPs of width m with these hidden layers (a name and
    ``depth``, or one name per layer), activations centered at their input scale unless ``center=False``,
    averaged over ``draws``."""
    layers = _layers(depth if depth is not None else (1 if isinstance(activations, str) else len(activations)),
                     activations)
    return _native.mlp_empirical_kernel(
        _matrix(X, "X"), layers, int(width), int(draws), kind, bool(train_first_layer), bool(center), weights,
        int(seed), _dtype(dtype),
    )


# --- the stable invariant model (§10) and the deep equilibrium linear model (§9) -----------------------------


def sim_kernels(
    X: Any,
    classes: int,
    kinds: Sequence[str] = ("ck", "ntk"),
    tier: str = "single",
    *,
    bandwidth: Optional[float] = None,
    sigma_w2: float = 2.0,
    sigma_b2: float = 0.1,
    sigma_v2: float = 1.0,
    sigma_u2: float = 1.0,
) -> Tuple[np.ndarray, ...]:
    """The exact infinite-width CK and NTK of a random stable invariant model (Konishi & Kawahara) with one or two
    tiers (§10) on X, as float64 n×n matrices in the order of ``kinds``."""
    return tuple(
        _native.sim_kernels(
            _matrix(X, "X"), int(classes), _kinds(kinds), tier, bandwidth, float(sigma_w2), float(sigma_b2),
            float(sigma_v2), float(sigma_u2),
        )
    )


def delm_train(
    X: Any,
    labels: Any,
    classes: int,
    *,
    width: Optional[int] = None,
    gamma: float = 0.5,
    loss: str = "square",
    iterations: int = 200,
    step: Optional[float] = None,
    seed: int = 0,
) -> Dict[str, Any]:
    """Gradient descent on the deep equilibrium linear model z = γ·σ(A)z + φ(x), f(x) = Bz* with σ the column-wise
    softmax (§9), from a random start, on the features φ (X itself, or ``width`` random features
    tanh(VXᵀ/√p)), with ``loss`` ``"square"`` or
    ``"cross_entropy"`` and a fixed ``step`` (Armijo backtracking when None). Returns the losses, the gap to the
    shallow optimum L* = min_W L(WΦ), the steps, the observed linear rate and, for the square loss, the bound."""
    lab = np.ascontiguousarray(labels, dtype=np.int64)
    return _native.delm_train(
        _matrix(X, "X"), lab, int(classes), width, float(gamma), loss, int(iterations),
        None if step is None else float(step), int(seed),
    )
