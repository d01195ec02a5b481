#!/usr/bin/env bash
# All eigenpairs by deq-kernels' LAPACK backend (`deqk eig --backend lapack`, which runs dsyevd) and by SciPy's
# `eigh(driver="evd")`, one call each, alternating for ROUNDS rounds on the same matrix. The speed of this
# virtual machine drifts by ±15 % over minutes, more than a 1.1× goal can absorb; alternating puts both in the
# same windows. Prints every pair of times, then the medians and the median of the per-round ratios.
# Needs the matrices of benches/run_eigen_comparison.sh (DATA/K<n>.npy), python3 with numpy and scipy, and the
# system OpenBLAS. Usage: benches/run_eigen_interleaved.sh [sizes, default 1000,2000,4000,8000] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-1000,2000,4000,8000}
ROUNDS=${2:-5}
DATA=${DATA:-bench-data}
cargo build --quiet --release --features openblas --bin deqk
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for n in ${SIZES//,/ }; do
  ours=() scipy=()
  for ((r = 1; r <= ROUNDS; r++)); do
    ours+=("$(target/release/deqk eig --input "$DATA/K$n.npy" --backend lapack --vectors "$OUT/v.npy" \
      --out "$OUT/w.npy" --force --json | python3 -c "import json, sys; print(json.load(sys.stdin)['seconds'])")")
    scipy+=("$(CASES=pairs/scipy.evd REPS=1 python3 benches/eig_scipy.py "$DATA" "$n" \
      | python3 -c "import json, sys; print(json.load(sys.stdin)['seconds'])")")
    echo "n=$n round $r: deq-kernels ${ours[-1]} s, scipy evd ${scipy[-1]} s"
  done
  python3 - "$n" "${ours[*]}" "${scipy[*]}" <<'EOF'
import json, statistics, sys
n, ours, scipy = int(sys.argv[1]), list(map(float, sys.argv[2].split())), list(map(float, sys.argv[3].split()))
print(json.dumps({"n": n, "deq_kernels_median": round(statistics.median(ours), 3),
                  "scipy_evd_median": round(statistics.median(scipy), 3),
                  "ratio_of_medians": round(statistics.median(ours) / statistics.median(scipy), 3),
                  "median_round_ratio": round(statistics.median(o / s for o, s in zip(ours, scipy)), 3)}))
EOF
done
