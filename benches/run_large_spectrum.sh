#!/bin/sh
# One machine at its limit: an exact DEQ kernel at large n, its top eigenpairs by block Lanczos and its spectral
# density by stochastic Lanczos quadrature, as three deqk processes that each hold one n×n matrix at most
# (docs/benchmarks.md, "One machine at its limit"). Prints each step's wall time and peak resident memory, the
# latter also as a multiple of n²·(element bytes).
#
#   benches/run_large_spectrum.sh N DTYPE [ACTIVATION]     e.g. 50000 f32, 20000 f64
#
# DIR (default /tmp/deqk-large) holds the data, the kernel and the outputs; DEQK (default: the release build
# of this workspace) is the binary. The kernel file is removed at the end unless KEEP=1.
set -eu
N=$1
DTYPE=$2
ACT=${3:-relu}
DIR=${DIR:-/tmp/deqk-large}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${DEQK:-}" ]; then
    cargo build --release -q -p deqk --manifest-path "$ROOT/Cargo.toml"
    DEQK=$ROOT/target/release/deqk
fi
case $DTYPE in f32) BYTES=4 ;; f64) BYTES=8 ;; *) echo "DTYPE is f32 or f64" >&2; exit 2 ;; esac
mkdir -p "$DIR"
X=$DIR/X$N.npy
K=$DIR/K${N}_${ACT}_$DTYPE.npy
TAG=${N}_${ACT}_$DTYPE

step() {
    name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$@" > "$DIR/$name-$TAG.log"
    read -r secs kb < "$DIR/time.txt"
    python3 -c "import sys; s, kb, n, b = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]); \
print(f'{sys.argv[5]:<9} {s:8.1f} s   peak {kb / 1e6:6.2f} GB = {kb * 1e3 / (n * n * b):.3f} n²·{b} B')" \
        "$secs" "$kb" "$N" "$BYTES" "$name"
}

[ -f "$X" ] || "$DEQK" gmm --p 784 --n "$N" --seed 7 --out "$X" --labels "$DIR/y$N.npy" > /dev/null
echo "n = $N, p = 784, $DTYPE, DEQ CK ($ACT, σ_a² = 0.2), $(nproc) threads"
step kernel "$DEQK" kernel --model deq --activation "$ACT" --kind ck --input "$X" --out "$K" --dtype "$DTYPE" --force
step lanczos "$DEQK" eig --input "$K" --backend lanczos --top 20 --dtype "$DTYPE" \
    --out "$DIR/top20-$TAG.npy" --vectors "$DIR/top20-vectors-$TAG.npy" --force --json
step slq "$DEQK" spectrum --input "$K" --slq --dtype "$DTYPE" --plot "$DIR/density-$TAG.png" --force --json
[ "${KEEP:-0}" = 1 ] || rm -f "$K"
