#!/usr/bin/env bash
# Training throughput (forward + backward + SGD step, batch 128) of prunebench and PyTorch on the
# same machine, same threads, same shapes, in one run; prints both and the ratio.
#
#   bench/train-throughput.sh                 # both configs, 2 threads
#   THREADS=1 ITERS=20 bench/train-throughput.sh
#   TORCH_PYTHON=/path/to/venv/bin/python bench/train-throughput.sh
#
# The PyTorch side needs a Python with torch (see bench/reference/torch_train_throughput.py for
# the venv); without one, only prunebench's figures are printed. Run on an otherwise idle machine:
# OpenMP programs sharing cores slow each other down badly.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
ITERS=${ITERS:-30}
TORCH_PYTHON=${TORCH_PYTHON:-/work/venv-ref/bin/python}
swift build -c release --product prunebench >&2
out=$(mktemp -d)
echo "# $(date -u +%FT%TZ)  $(nproc) cores  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>}"
for cfg in "r18-w0.25 0.25 1 28 10" "r18-w1.0 1.0 3 32 100"; do
  set -- $cfg
  .build/release/prunebench bench train --threads "$THREADS" --width "$2" --channels "$3" --resolution "$4" \
    --classes "$5" --iterations "$ITERS" > "$out/$1.swift.json"
  if [ -x "$TORCH_PYTHON" ] && "$TORCH_PYTHON" -c 'import torch' 2>/dev/null; then
    "$TORCH_PYTHON" bench/reference/torch_train_throughput.py --threads "$THREADS" --config "$1" --iters "$ITERS" \
      | tail -n 1 > "$out/$1.torch.json"
  fi
done
python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
print(f"{'config':<10} {'prunebench img/s':>17} {'GFLOP/s':>8} {'RSS MB':>7} {'pytorch img/s':>14} {'GFLOP/s':>8} {'RSS MB':>7} {'ratio':>6}")
for cfg in ["r18-w0.25", "r18-w1.0"]:
    s = json.load(open(os.path.join(d, cfg + ".swift.json")))
    tp = os.path.join(d, cfg + ".torch.json")
    t = json.load(open(tp)) if os.path.exists(tp) and os.path.getsize(tp) else None
    row = f"{cfg:<10} {s['imagesPerSecond']:>17.0f} {s['gflops']:>8.1f} {s['peakRSSMegabytes']:>7.0f}"
    if t:
        row += f" {t['img_per_s']:>14.0f} {t['gflops']:>8.1f} {t['peak_rss_mb']:>7.0f} {s['imagesPerSecond'] / t['img_per_s']:>6.2f}"
    print(row)
PY
