#!/usr/bin/env bash
# deq-kernels' dense eigensolvers against NumPy/SciPy's best driver, alternating, on the same matrix.
# The speed of this virtual machine drifts by ±15 % over minutes, more than a 1.1× goal can absorb, so one
# side's numbers measured minutes after the other's do not compare. Here each round runs REPS warm calls of
# `deqk bench-eig` (one process, median per backend and driver) and REPS calls of every NumPy/SciPy driver of the same
# kind (one process, median per driver, best driver taken), the order of the two sides swapped every round.
# BACKENDS (default lapack) and DRIVERS (LAPACK drivers, default auto) choose deq-kernels' side, e.g.
# BACKENDS=lapack,faer DRIVERS=syevd,syevd-2stage KINDS=values.
# Each round gives a ratio ours / SciPy's best driver measured within a minute or so; the summary (one JSON
# line per deq-kernels case) is the median of those ratios. Every round's times are printed.
# Needs python3 with numpy and scipy and the system OpenBLAS. Writes DATA/K<n>.npy (the matrix of
# benches/eigen.rs, seed 7) when missing.
# Usage: benches/run_eigen_interleaved.sh [sizes, default 1000,2000,4000,8000] [rounds, default 5]
#   REPS calls per side per round (default 3), KINDS=values,pairs,top20 (default values,pairs; top20 races
#   deq-kernels' block Lanczos for the 20 largest pairs against SciPy's evr subset and ARPACK at the same
#   tolerance),
#   SCIPY_VALUES / SCIPY_PAIRS: the NumPy/SciPy cases raced (default every driver: values/, pairs/),
#   DTYPE=f32 races single precision on both sides (the f64 matrix rounded once).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-1000,2000,4000,8000}
ROUNDS=${2:-5}
REPS=${REPS:-3}
BACKENDS=${BACKENDS:-lapack}
DRIVERS=${DRIVERS:-auto}
KINDS=${KINDS:-values,pairs}
DATA=${DATA:-bench-data}
DTYPE=${DTYPE:-f64}
mkdir -p "$DATA"
cargo build --quiet --release --features openblas --bin deqk
DEQK=target/release/deqk
echo "== $DTYPE, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"
python3 -c "import numpy, scipy; print('numpy', numpy.__version__, 'scipy', scipy.__version__)"

ours() { # n kind → one JSON line per timed deq-kernels case: the median of REPS calls
  local flag="" drivers=$DRIVERS backends=$BACKENDS
  if [ "$2" = top20 ]; then
    backends=lanczos
    flag="--top 20"
  fi
  if [ "$2" = pairs ]; then # the two-stage driver has no eigenvectors
    flag="--vectors"
    drivers=$(tr , '\n' <<<"$DRIVERS" | grep -v 2stage | paste -sd, -)
  fi
  "$DEQK" bench-eig --input "$DATA/K$1.npy" --backends "$backends" --drivers "${drivers:-auto}" --reps "$REPS" --dtype "$DTYPE" $flag --json \
    | python3 -c "
import json, sys
for r in json.load(sys.stdin)['results']:
    print(json.dumps({'side': 'deq-kernels', 'case': r['backend'] + '.' + r['driver'], 'seconds': r['seconds']}))"
}

scipy() { # n kind → one JSON line per NumPy/SciPy driver: the median of REPS calls
  local cases
  case "$2" in
    pairs) cases=${SCIPY_PAIRS:-pairs/} ;;
    top20) cases=top20/ ;;
    *) cases=${SCIPY_VALUES:-values/} ;;
  esac
  CASES=$cases REPS=$REPS DTYPE=$([ "$DTYPE" = f32 ] && echo float32 || echo float64) python3 benches/eig_scipy.py "$DATA" "$1" \
    | python3 -c "
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(json.dumps({'side': 'scipy', 'case': r['case'], 'seconds': r['seconds']}))"
}

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
for n in ${SIZES//,/ }; do
  if [ ! -f "$DATA/K$n.npy" ]; then
    "$DEQK" bench-eig --n "$n" --seed 7 --backends lapack --save-matrix "$DATA/K$n.npy" >/dev/null
  fi
  for kind in ${KINDS//,/ }; do
    : >"$LOG"
    for ((r = 1; r <= ROUNDS; r++)); do
      if ((r % 2)); then
        { ours "$n" "$kind"; scipy "$n" "$kind"; } | sed "s/^{/{\"round\": $r, /" >>"$LOG"
      else
        { scipy "$n" "$kind"; ours "$n" "$kind"; } | sed "s/^{/{\"round\": $r, /" >>"$LOG"
      fi
      echo "n=$n $kind round $r: $(grep "\"round\": $r," "$LOG" \
        | python3 -c "import json, sys; print(', '.join(f\"{r['case']} {r['seconds']:.4f} s\" for r in map(json.loads, sys.stdin)))")"
    done
    # SciPy's best driver is the one with the lowest median over the rounds (taking each round's fastest
    # would favour SciPy by the noise among its equivalent drivers); the round minimum is reported too.
    python3 - "$n" "$kind" "$REPS" "$LOG" <<'EOF'
import collections, json, statistics, sys
n, kind, reps, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(log)]
sides = {"deq-kernels": collections.defaultdict(dict), "scipy": collections.defaultdict(dict)}
for r in rows:
    sides[r["side"]][r["case"]][r["round"]] = r["seconds"]
theirs = sides["scipy"]
best = min(theirs, key=lambda c: statistics.median(theirs[c].values()))
for case, ours in sides["deq-kernels"].items():
    rounds = sorted(ours)
    ratios = [ours[k] / theirs[best][k] for k in rounds]
    ratios_min = [ours[k] / min(c[k] for c in theirs.values()) for k in rounds]
    print(json.dumps({"n": n, "kind": kind, "ours": case, "rounds": len(rounds), "reps": reps,
                      "ours_median": round(statistics.median(ours.values()), 4),
                      "scipy_best": best, "scipy_best_median": round(statistics.median(theirs[best].values()), 4),
                      "median_round_ratio": round(statistics.median(ratios), 3),
                      "median_round_ratio_vs_round_min": round(statistics.median(ratios_min), 3),
                      "round_ratios": [round(x, 3) for x in ratios]}), flush=True)
EOF
  done
done
