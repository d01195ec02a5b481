#!/usr/bin/env bash
# deq-kernels' explicit CK + NTK against neural-tangents, alternating round by round on the same data: in each
# round one process of each side (the order swapped every round) makes one untimed warm-up call (for
# neural-tangents the compiling call) and REPS timed calls, and reports their median. The summary line per size
# and activation gives the median over rounds of ours / theirs and every round's ratio, so that the machine's
# drift between runs (neural-tangents' relu at n = 4000 took 0.98 s in one run and 1.47 s in another) shows as
# spread instead of deciding the comparison.
# Needs a Python with neural-tangents 0.6.5, jax/jaxlib 0.4.30 and tf2jax 0.3.6 as $NT_PYTHON.
# Usage: NT_PYTHON=/path/to/python benches/run_nt_interleaved.sh [sizes, default 4000] [rounds, default 5]
#   ACTIVATIONS (default relu,erf,gelu), REPS timed calls per process (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-4000}
ROUNDS=${2:-5}
REPS=${REPS:-3}
ACTIVATIONS=${ACTIVATIONS:-relu,erf,gelu}
DATA=${DATA:-bench-data}
NT_PYTHON=${NT_PYTHON:-python3}
mkdir -p "$DATA"
cargo build --quiet --release --features io --example time_explicit_kernels --bin deqk
OURS=target/release/examples/time_explicit_kernels
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
"$NT_PYTHON" -c "import jax, neural_tangents; print('jax', jax.__version__, 'neural-tangents', neural_tangents.__version__)" 2>/dev/null
for n in ${SIZES//,/ }; do
  [ -f "$DATA/X$n.npy" ] || target/release/deqk gmm --p 784 --n "$n" --seed 7 --out "$DATA/X$n.npy" \
    --labels "$DATA/y$n.npy" >/dev/null
  for a in ${ACTIVATIONS//,/ }; do
    rows=()
    for ((r = 1; r <= ROUNDS; r++)); do
      ours() { "$OURS" "$DATA/X$n.npy" "$a" "$REPS" | python3 -c "import json,sys; print(json.load(sys.stdin)['median_s'])"; }
      theirs() { NT_ONLY=$a NT_REPS=$REPS "$NT_PYTHON" benches/nt_bench.py "$DATA" "$n" 2>/dev/null \
        | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['median_s'])"; }
      if ((r % 2)); then o=$(ours); t=$(theirs); else t=$(theirs); o=$(ours); fi
      echo "n=$n $a round $r: deq-kernels $o s, neural-tangents $t s"
      rows+=("$o $t")
    done
    printf '%s\n' "${rows[@]}" | python3 -c "
import json, statistics, sys
pairs = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
ratios = [o / t for o, t in pairs]
print(json.dumps({'n': $n, 'activation': '$a', 'rounds': len(pairs), 'reps': $REPS,
                  'ours_median_s': round(statistics.median(o for o, _ in pairs), 4),
                  'nt_median_s': round(statistics.median(t for _, t in pairs), 4),
                  'median_round_ratio': round(statistics.median(ratios), 3),
                  'round_ratios': [round(x, 3) for x in ratios]}))"
  done
done
