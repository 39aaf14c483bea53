#!/usr/bin/env bash
# Every GPU measurement of benchmarks/ in one run (about 8 minutes on one H200), results as JSON under one folder.
#
#   bash benchmarks/gpu.sh                 # results under $OUT if set, else ./gpu_results
#   BUDGET=420 bash benchmarks/gpu.sh      # a tighter global time guard (seconds)
#
# Each measurement runs in its own process; a failure or timeout is written to its JSON file and the
# others still run (benchmarks/gpu_run.py). The CPU smoke variant: python benchmarks/gpu_run.py --smoke.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-gpu_results}"
PYTHON="${PYTHON:-python}"
if [ -x .venv/bin/python ] && [ "${PYTHON}" = "python" ]; then PYTHON=.venv/bin/python; fi
mkdir -p "${OUT_DIR}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "${OUT_DIR}/nvidia-smi.csv" 2>&1 || true
"${PYTHON}" benchmarks/gpu_run.py --out "${OUT_DIR}" --budget "${BUDGET:-480}" --device "${DEVICE:-cuda}" "$@"
