# Type stubs of the compiled module deq_kernels._native (python/src/). The public, documented API is
# deq_kernels/__init__.py, which calls these with normalized arguments.

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str
HAS_LAPACK: bool

class ConvergenceError(ValueError):
    contraction: Optional[float]
    max_safe: Optional[float]
    parameter: Optional[str]
    iterations: Optional[int]
    residual: Optional[float]

def moments(activation: str, tau: float) -> Dict[str, Optional[float]]: ...
def hermite_coefficients(
    activation: str, scale: float, count: int, derivative: bool = False
) -> npt.NDArray[np.float64]: ...
def dual_kernel(
    activation: str, s11: float, s22: float, s12: float, derivative: bool = False
) -> float: ...
def deq_kernels(
    x: npt.NDArray[np.float64],
    activation: str = "relu",
    sigma_a2: float = 0.2,
    kinds: List[str] = ["ck"],
    sigma_b2: Optional[float] = None,
    tau0: Optional[float] = None,
    centering: str = "tau_star",
    shift: float = 0.0,
    train_input_weights: bool = False,
    dtype: str = "float64",
) -> Tuple[List[npt.NDArray[Any]], Dict[str, Any]]: ...
def fk_kernels(
    x: npt.NDArray[np.float64],
    activation: str = "relu",
    sigma_w2: float = 0.5,
    sigma_u2: float = 1.0,
    sigma_b2: float = 0.0,
    kinds: List[str] = ["nngp"],
    input_dim: Optional[float] = None,
    dtype: str = "float64",
) -> Tuple[List[npt.NDArray[Any]], Dict[str, Any]]: ...
def mlp_kernels(
    x: npt.NDArray[np.float64],
    activations: List[str],
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    kinds: List[str] = ["ck"],
    train_first_layer: bool = True,
    center: bool = False,
    tau0: Optional[float] = None,
    dtype: str = "float64",
) -> Tuple[List[npt.NDArray[Any]], Dict[str, Any]]: ...
def eigh(
    a: npt.NDArray[Any],
    backend: str = "faer",
    driver: str = "auto",
    vectors: bool = False,
    top: Optional[int] = None,
    bottom: Optional[int] = None,
    index: Optional[Tuple[int, int]] = None,
    values: Optional[Tuple[float, float]] = None,
) -> Tuple[npt.NDArray[Any], Optional[npt.NDArray[Any]], Dict[str, Any]]: ...
def slq(
    a: npt.NDArray[Any], probes: int = 10, steps: int = 80, block: Optional[int] = None, seed: int = 0
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], Dict[str, Any]]: ...
def relative_frobenius(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float: ...
def operator_norm_distance(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float: ...
def wasserstein1(a: List[float], b: List[float]) -> float: ...
def gaussian_mixture(
    p: int,
    n: Optional[int] = None,
    seed: int = 0,
    means: Optional[npt.NDArray[np.float64]] = None,
    covariances: Optional[List[Any]] = None,
    sizes: Optional[List[int]] = None,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def deq_equivalent(
    activation: str = "relu", sigma_a2: float = 0.2, tau0: float = 1.0, sigma_b2: Optional[float] = None
) -> Dict[str, Any]: ...
def mlp_equivalent(activations: List[str], tau0: float = 1.0, train_first_layer: bool = True) -> Dict[str, Any]: ...
def equivalent_matrix(
    x: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], coefficients: List[float]
) -> npt.NDArray[np.float64]: ...
def equivalent_spectrum(
    x: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], coefficients: List[float]
) -> npt.NDArray[np.float64]: ...
def twin(
    activation: str = "relu",
    sigma_a2: float = 0.2,
    tau0: float = 1.0,
    kind: str = "ck",
    sigma_b2: Optional[float] = None,
    starts: int = 64,
    seed: int = 0,
    accept: float = 1e-10,
) -> Dict[str, Any]: ...
def deq_empirical_kernel(
    x: npt.NDArray[np.float64],
    width: int,
    draws: int = 1,
    kind: str = "ck",
    activation: str = "relu",
    sigma_a2: float = 0.2,
    sigma_b2: Optional[float] = None,
    weights: str = "gaussian",
    seed: int = 0,
    dtype: str = "float64",
) -> Tuple[npt.NDArray[Any], Dict[str, Any]]: ...
def mlp_empirical_kernel(
    x: npt.NDArray[np.float64],
    activations: List[str],
    width: int,
    draws: int = 1,
    kind: str = "ck",
    train_first_layer: bool = True,
    center: bool = True,
    weights: str = "gaussian",
    seed: int = 0,
    dtype: str = "float64",
) -> Tuple[npt.NDArray[Any], Dict[str, Any]]: ...
def sim_kernels(
    x: npt.NDArray[np.float64],
    classes: int,
    kinds: List[str] = ["ck", "ntk"],
    tier: str = "single",
    bandwidth: Optional[float] = None,
    sigma_w2: float = 2.0,
    sigma_b2: float = 0.1,
    sigma_v2: float = 1.0,
    sigma_u2: float = 1.0,
) -> List[npt.NDArray[np.float64]]: ...
def delm_train(
    x: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    classes: int,
    width: Optional[int] = None,
    gamma: float = 0.5,
    loss: str = "square",
    iterations: int = 200,
    step: Optional[float] = None,
    seed: int = 0,
) -> Dict[str, Any]: ...
