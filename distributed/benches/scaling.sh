#!/usr/bin/env bash
# Single-node runs of deqk-mpi against the single-process deqk, alternating in rounds (docs/distributed.md,
# "Measured here"): the DEQ's Implicit-NTK (ReLU) filled in block-cyclic layout and all its eigenvalues
# (p?syevr) or pairs (p?syevd), at n = 2000, 4000, 8000 with 1 and 2 processes, and the weak-scaling pair
# (n²/P fixed: n = 4000 on 1 process, n = 5657 on 2). Prints one line per run: what, n, P, seconds.
#
#   cargo build --release -p deqk -p deq-distributed && distributed/benches/scaling.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
bin=target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mpi="mpirun --oversubscribe --bind-to none --mca mpi_yield_when_idle 1"
seconds() {
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}
for n in 2000 4000 5657 8000; do
    $bin/deqk gmm --p 784 --n "$n" --seed 1 --out "$work/X$n.npy" --labels "$work/y$n.npy" --force >/dev/null
done
kernel_args() { echo "--model deq --activation relu --kind ntk --input $work/X$1.npy --force"; }
for round in $(seq "$rounds"); do
    for n in 2000 4000 8000; do
        # shellcheck disable=SC2046
        echo "kernel deqk n=$n P=1 rayon=2 $(seconds $bin/deqk kernel $(kernel_args "$n") --out "$work/K$n.npy")"
        for p in 1 2; do
            # shellcheck disable=SC2046
            echo "kernel deqk-mpi n=$n P=$p $(RAYON_NUM_THREADS=$((2 / p)) seconds $mpi -np $p $bin/deqk-mpi kernel $(kernel_args "$n") --out "$work/Km$n.npy")"
            echo "eigenvalues deqk-mpi n=$n P=$p $(seconds $mpi -np $p $bin/deqk-mpi eig --input "$work/Km$n.npy" --out "$work/w.npy" --force)"
            if [ "$n" -le 4000 ]; then
                echo "eigenpairs deqk-mpi n=$n P=$p $(seconds $mpi -np $p $bin/deqk-mpi eig --input "$work/Km$n.npy" --out "$work/w.npy" --vectors "$work/V.npy" --force)"
            fi
        done
        echo "eigenvalues deqk(faer) n=$n P=1 $(seconds $bin/deqk eig --input "$work/K$n.npy" --out "$work/w1.npy" --force)"
    done
    # Weak scaling: the same n²/P on 1 and 2 processes.
    # shellcheck disable=SC2046
    echo "weak kernel deqk-mpi n=4000 P=1 $(RAYON_NUM_THREADS=1 seconds $mpi -np 1 $bin/deqk-mpi kernel $(kernel_args 4000) --out "$work/Kw.npy")"
    # shellcheck disable=SC2046
    echo "weak kernel deqk-mpi n=5657 P=2 $(RAYON_NUM_THREADS=1 seconds $mpi -np 2 $bin/deqk-mpi kernel $(kernel_args 5657) --out "$work/Kw.npy")"
    # shellcheck disable=SC2046
    echo "weak kernel deqk n=4000 P=1 rayon=1 $(RAYON_NUM_THREADS=1 seconds $bin/deqk kernel $(kernel_args 4000) --out "$work/Kw1.npy")"
    echo "weak eigenvalues deqk-mpi n=4000 P=1 $(seconds $mpi -np 1 $bin/deqk-mpi eig --input "$work/Km4000.npy" --out "$work/w.npy" --force)"
    # shellcheck disable=SC2046
    RAYON_NUM_THREADS=1 $mpi -np 2 $bin/deqk-mpi kernel $(kernel_args 5657) --out "$work/Km5657.npy" >/dev/null
    echo "weak eigenvalues deqk-mpi n=5657 P=2 $(seconds $mpi -np 2 $bin/deqk-mpi eig --input "$work/Km5657.npy" --out "$work/w.npy" --force)"
done
