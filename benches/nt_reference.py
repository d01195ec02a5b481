"""Reference kernels from neural-tangents 0.6.5 (jax 0.4.30, CPU, float64) for tests/integration/nt_reference.rs.

Network: stax.serial([Dense(1, W_std, b_std), phi] * 3, Dense(1, 1, 0)) in the NTK parameterization, with the
inputs multiplied by sqrt(p) because neural-tangents divides x.y by the input dimension.
Run:  python benches/nt_reference.py > tests/data/nt_reference.json
"""
import json
import math

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

SIGMA_W2, SIGMA_B2, DEPTH = 1.3, 0.1, 3
rng = np.random.default_rng(20261123)
n, p = 7, 5
x = rng.normal(size=(n, p)) / math.sqrt(p)
x[3] = -x[0]              # correlation -1
x[4] = x[1] * 1.5         # correlation +1, different norm


def activation(name):
    if name == "relu":
        return stax.Relu()
    if name == "erf":
        return stax.Erf()
    if name == "gelu":
        return stax.Gelu(approximate=False)
    if name == "tanh":
        return stax.ElementwiseNumerical(jnp.tanh, deg=400, df=lambda t: 1 - jnp.tanh(t) ** 2)
    raise ValueError(name)


out = {"sigma_w2": SIGMA_W2, "sigma_b2": SIGMA_B2, "depth": DEPTH, "x": x.tolist(), "kernels": {}}
for name in ["relu", "erf", "gelu", "tanh"]:
    layers = []
    for _ in range(DEPTH):
        layers += [stax.Dense(1, W_std=math.sqrt(SIGMA_W2), b_std=math.sqrt(SIGMA_B2)), activation(name)]
    layers += [stax.Dense(1, W_std=1.0, b_std=0.0)]
    _, _, kernel_fn = stax.serial(*layers)
    k = kernel_fn(jnp.asarray(x * math.sqrt(p)), None, ("nngp", "ntk"))
    out["kernels"][name] = {"ck": np.asarray(k.nngp).tolist(), "ntk": np.asarray(k.ntk).tolist()}
print(json.dumps(out, indent=1))
