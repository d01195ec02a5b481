"""Time neural-tangents 0.6.5 (jax 0.4.30, CPU, float64) on the network of benches/explicit_kernels.rs:
depth 3, sigma_w2 = 1, sigma_b2 = 0.1, CK (nngp) + NTK, data from `deqk gmm --p 784 --n N --seed 7`.

Usage: [NT_TANH_DEG=64] [NT_ONLY=tanh] [NT_REPS=3] python benches/nt_bench.py DATA_DIR N1 N2 ...   (DATA_DIR holds X<N>.npy and, for checking, K<N>_<act>.npy)
Prints one JSON line per measurement.
"""
import json
import math
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

SIGMA_W2, SIGMA_B2, DEPTH = 1.0, 0.1, 3


def network(name, deg=int(os.environ.get("NT_TANH_DEG", "64"))):
    act = {
        "relu": lambda: stax.Relu(),
        "erf": lambda: stax.Erf(),
        "gelu": lambda: stax.Gelu(approximate=False),
        "tanh": lambda: stax.ElementwiseNumerical(jnp.tanh, deg=deg, df=lambda t: 1 - jnp.tanh(t) ** 2),
    }[name]
    layers = []
    for _ in range(DEPTH):
        layers += [stax.Dense(1, W_std=math.sqrt(SIGMA_W2), b_std=math.sqrt(SIGMA_B2)), act()]
    layers += [stax.Dense(1, W_std=1.0, b_std=0.0)]
    return jax.jit(stax.serial(*layers)[2], static_argnames="get")


def main():
    data_dir, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
    for n in sizes:
        x = np.load(os.path.join(data_dir, f"X{n}.npy"))
        xs = jnp.asarray(x * math.sqrt(x.shape[1]))
        names = os.environ.get("NT_ONLY", "relu,erf,gelu,tanh").split(",")
        for name in names:
            if name == "tanh" and n > 1000:
                print(json.dumps({"n": n, "activation": name, "skipped": "quadrature path needs ~60 GB at n = 2000"}))
                continue
            fn = network(name)
            try:
                t0 = time.perf_counter()
                k = fn(xs, None, get=("nngp", "ntk"))
                k.ntk.block_until_ready()
                first = time.perf_counter() - t0
                runs = []
                for _ in range(int(os.environ.get("NT_REPS", "3" if n <= 4000 else "2"))):
                    t0 = time.perf_counter()
                    k = fn(xs, None, get=("nngp", "ntk"))
                    k.ntk.block_until_ready()
                    runs.append(time.perf_counter() - t0)
                rec = {"n": n, "activation": name, "first_call_s": first, "median_s": float(np.median(runs))}
                ref = os.path.join(data_dir, f"K{n}_{name}.npy")
                if os.path.exists(ref):
                    ours = np.load(ref)
                    theirs = np.asarray(k.ntk)
                    rec["max_rel_diff_ntk"] = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
                print(json.dumps(rec), flush=True)
            except Exception as e:  # noqa: BLE001
                print(json.dumps({"n": n, "activation": name, "error": str(e)[:200]}), flush=True)


if __name__ == "__main__":
    main()
