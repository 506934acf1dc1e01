#!/usr/bin/env bash
# ImageNet-style input pipeline throughput: prunebench's loader beside torchvision's DataLoader
# (PIL backend) on the same synthetic JPEG folder, same number of workers, same batch, in one run;
# prints both and the ratio. Then ResNet-50 training at 224 fed by the loader: the share of step
# time spent waiting for data.
#
#   TORCH_PYTHON=/path/to/venv/bin/python bench/data-loading.sh
#   THREADS=2 BATCH=64 bench/data-loading.sh
#
# The Python side needs torch, torchvision, Pillow and numpy (also used to write the folder).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
BATCH=${BATCH:-64}
TORCH_PYTHON=${TORCH_PYTHON:-/work/venv/bin/python}
DIR=${DIR:-/tmp/prunebench-jpegs}
swift build -c release --product prunebench >&2
[ -d "$DIR" ] || "$TORCH_PYTHON" bench/reference/make_jpeg_folder.py "$DIR" >&2
echo "# $(date -u +%FT%TZ)  $(nproc) cores  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for t in imagenet-train imagenet-eval; do
  ours=$(.build/release/prunebench bench data --root "$DIR" --transform $t --threads "$THREADS" --batch "$BATCH")
  flag=""; [ $t = imagenet-eval ] && flag="--eval"
  theirs=$("$TORCH_PYTHON" bench/reference/torch_data_loading.py --root "$DIR" --workers "$THREADS" --batch "$BATCH" $flag | tail -n 1)
  python3 -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); x,y=a["images_per_second"],b["images_per_second"]; print("%-15s prunebench %7.1f img/s   torchvision %7.1f img/s   ratio %.2fx   (%s workers, batch %s)" % (sys.argv[3], x, y, x / y, sys.argv[4], a["batch"]))' "$ours" "$theirs" $t "$THREADS"
done
.build/release/prunebench bench data --root "$DIR" --threads "$THREADS" --batch 32 --batches 6 --train-model resnet50 \
  | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); w,t=r["data_wait_seconds"],r["train_step_seconds"]; print("resnet50 @224 training, batch 32: data wait %.2f s of %.1f s (%.1f%%)" % (w, w + t, 100 * r["data_wait_fraction"]))'
