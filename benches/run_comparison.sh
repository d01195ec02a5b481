#!/usr/bin/env bash
# Run the explicit-kernel benchmark and neural-tangents on the same data, one after the other.
# Needs a Python with neural-tangents 0.6.5, jax/jaxlib 0.4.30 and tf2jax 0.3.6 as $NT_PYTHON.
# Usage: NT_PYTHON=/path/to/python benches/run_comparison.sh [sizes, default 1000,4000,10000]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-1000,4000,10000}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
cargo build --release --quiet
for n in ${SIZES//,/ }; do
  ./target/release/deqk gmm --p 784 --n "$n" --seed 7 --out "$DATA/X$n.npy" --labels "$DATA/y$n.npy" --force >/dev/null
  if [ "$n" -le 4000 ]; then
    for a in relu erf gelu tanh; do
      ./target/release/deqk kernel --model mlp --depth 3 --activation "$a" --sigma-w2 1 --sigma-b2 0.1 \
        --kind ntk --input "$DATA/X$n.npy" --out "$DATA/K${n}_$a.npy" --force >/dev/null
    done
  fi
done
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo
echo "== deq-kernels (criterion)"
DEQK_BENCH_SIZES=$SIZES cargo bench --bench explicit_kernels 2>&1 | grep -E "^explicit|time:"
echo "== neural-tangents"
"${NT_PYTHON:-python3}" benches/nt_bench.py "$DATA" ${SIZES//,/ } 2>/dev/null
