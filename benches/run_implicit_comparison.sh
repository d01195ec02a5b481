#!/usr/bin/env bash
# Implicit-kernel benchmark (criterion), peak memory of single runs, and the NumPy outer iteration, on the same
# data, one after the other. Needs python3 with numpy.
# Usage: benches/run_implicit_comparison.sh [sizes, default 1000,4000,10000,20000] [numpy sizes, default 1000,4000]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-1000,4000,10000,20000}
NUMPY_SIZES=${2:-1000,4000}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
cargo build --release --quiet --examples
for n in ${NUMPY_SIZES//,/ }; do
  ./target/release/deqk gmm --p 784 --n "$n" --seed 7 --out "$DATA/X$n.npy" --labels "$DATA/y$n.npy" --force >/dev/null
  for a in relu tanh; do
    ./target/release/deqk kernel --model deq --activation "$a" --kind ntk \
      --input "$DATA/X$n.npy" --out "$DATA/K${n}_deq_$a.npy" --force >/dev/null
  done
done
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo
echo "== deq-kernels (criterion)"
DEQK_BENCH_SIZES=$SIZES cargo bench --bench implicit_kernels 2>&1 | grep -E "^implicit|time:"
echo "== peak memory and agreement with the outer iteration (one process per run)"
for n in ${SIZES//,/ }; do
  for a in relu tanh; do
    if [ "$n" -le 4000 ]; then ref=--reference; else ref=; fi
    ./target/release/examples/implicit_vs_reference "$n" "$a" $ref
  done
done
echo "== NumPy outer iteration"
python3 benches/implicit_numpy.py "$DATA" ${NUMPY_SIZES//,/ }
