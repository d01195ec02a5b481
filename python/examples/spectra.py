"""The main job's CK spectra figure (`deqk reproduce`, spectra_ck.png) from Python with matplotlib: the DEQ's
Implicit-CK G* on the paper's Gaussian mixture (p = 1024, n = 819; ReLU, σ_a² = 0.2), its high-dimensional
equivalent Ḡ, the designed shallow twin, an unmatched two-layer ReLU network and a finite-width DEQ (width
2000, 2 draws), as overlaid eigenvalue histograms with the relative operator-norm distance of each to G*.

Run (after `pip install ./python matplotlib`):  python python/examples/spectra.py [OUT.png] [P]
"""

import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import deq_kernels as dk  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "spectra_ck.png"
    p = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    X, labels = dk.gaussian_mixture(p, seed=0)
    tau0 = math.sqrt(np.sum(X * X) / X.shape[0])

    G = dk.deq_kernel(X, "relu", 0.2, kind="ck")
    kernels = {"DEQ G*": G}
    kernels["equivalent Ḡ"] = dk.equivalent_matrix(X, labels, dk.deq_equivalent("relu", 0.2, tau0)["ck"])
    twin = dk.twin("relu", 0.2, tau0, "ck")
    if twin["feasible"]:
        net = twin["network"]
        acts = net["activations"]
        kernels["designed twin"] = dk.mlp_kernel(
            X, len(acts), acts, kind="ck", center=True, train_first_layer=net["train_first_layer"], tau0=tau0
        )
    kernels["unmatched 2-layer ReLU"] = dk.mlp_kernel(X, 2, "relu", kind="ck", center=True, tau0=tau0)
    kernels["finite-width DEQ (m = 2000)"], _ = dk.deq_empirical_kernel(X, 2000, draws=2)

    norm = dk.eigvalsh(G, backend="lanczos", top=1)[-1]
    spectra = {name: dk.eigvalsh(K) for name, K in kernels.items()}
    top = max(w[-1] for w in spectra.values())
    bulk = np.quantile(spectra["DEQ G*"], 0.98)
    bins = np.linspace(min(w[0] for w in spectra.values()), 1.2 * bulk, 60)

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, w in spectra.items():
        label = name
        if name != "DEQ G*":
            label += f"  (‖·−G*‖₂/‖G*‖₂ = {dk.operator_norm_distance(kernels[name], G) / norm:.1e})"
        # G* wide and pale underneath: the designed twin's spectrum lies on it.
        style = {"color": "black", "linewidth": 4, "alpha": 0.3} if name == "DEQ G*" else {"linewidth": 1.5}
        ax.hist(w, bins=bins, density=True, histtype="step", label=label, **style)
        print(f"{name:32} λ_max = {w[-1]:.4f}")
    ax.set_xlabel("eigenvalue (bulk; largest outlier at %.2f)" % top)
    ax.set_ylabel("density")
    ax.set_title(f"CK spectra, Gaussian mixture p = {p}, n = {X.shape[0]}, ReLU DEQ σ_a² = 0.2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
