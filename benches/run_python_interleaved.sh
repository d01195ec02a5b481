#!/usr/bin/env bash
# The DEQ's Implicit-NTK from Python against the same call from Rust, alternating processes round by round:
# each round runs examples/time_deq_kernel.rs and benches/python_deq_timing.py on one .npy file (one warm-up
# call and REPS timed calls each) and prints both medians and their ratio.
#
# Usage: benches/run_python_interleaved.sh X.npy [ROUNDS] [REPS] [PYTHON]
# PYTHON: an interpreter with deq_kernels installed (pip install ./python); default python3.
set -euo pipefail
cd "$(dirname "$0")/.."
x=${1:?usage: benches/run_python_interleaved.sh X.npy [ROUNDS] [REPS] [PYTHON]}
rounds=${2:-5}
reps=${3:-3}
python=${4:-python3}
cargo build -q --release --features io --example time_deq_kernel
for round in $(seq 1 "$rounds"); do
    rust=$(target/release/examples/time_deq_kernel "$x" "$reps")
    py=$("$python" benches/python_deq_timing.py "$x" "$reps")
    "$python" -c "import json, sys; r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2]); \
print(f'round {sys.argv[3]}: n = {r[\"n\"]}  rust {r[\"median_s\"]:.3f} s  python {p[\"median_s\"]:.3f} s  python/rust {p[\"median_s\"] / r[\"median_s\"]:.3f}')" \
        "$rust" "$py" "$round"
done
