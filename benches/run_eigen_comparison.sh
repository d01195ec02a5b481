#!/usr/bin/env bash
# Eigensolver benchmark (criterion, LAPACK backend included) and NumPy/SciPy on the same matrices, one after the
# other, both on all cores (OpenBLAS's default threads = 2 here; rayon's pool = 2). Needs python3 with numpy
# and scipy, and the system OpenBLAS.
# Usage: benches/run_eigen_comparison.sh [dense sizes, default 1000,2000,4000,8000] [SLQ sizes, default 20000]
# (DEQK_EIG_BACKENDS=faer,dsyevd_2stage limits the dense solvers; SLQ= with an empty list skips the density;
# FILTER=eig_pairs limits the criterion groups, CASES=pairs/ the NumPy/SciPy cases, REPS their repetitions.)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-1000,2000,4000,8000}
SLQ=${2-20000}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo
echo "== deq-kernels (criterion, --features openblas)"
DEQK_EIG_DATA=$DATA DEQK_EIG_SIZES=$SIZES DEQK_SLQ_SIZES=$SLQ cargo bench --features openblas --bench eigen -- "${FILTER:-}" 2>&1 \
  | grep -E "^(eig_|lanczos|slq)|time:"
echo "== NumPy / SciPy"
python3 -c "import numpy, scipy; print('numpy', numpy.__version__, 'scipy', scipy.__version__)"
python3 benches/eig_scipy.py "$DATA" ${SIZES//,/ }
