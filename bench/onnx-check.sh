#!/usr/bin/env bash
# Exports the checkpoints of a small smoke sweep (the ResNet-18 and ViT bases and pruned models)
# as ONNX with probes and checks every file in onnxruntime (bench/reference/check_onnx.py).
#   TORCH_PYTHON=/path/to/venv/bin/python bench/onnx-check.sh [BUILD_DIR]
# The venv needs onnx, onnxruntime and numpy. BUILD_DIR defaults to .build/release.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.build/release}/prunebench"
PY="${TORCH_PYTHON:-python3}"
OUT="$(mktemp -d /tmp/prunebench-onnx.XXXXXX)"
"$BIN" sweep --local 1 --artifacts "$OUT/art" --profile smoke \
    --leaderboard cifar100.resnet18.global_protected --leaderboard cifar100.vgg19.global_protected \
    --leaderboard imagenet.vit_s16.global_protected --speedup 2 --method l1 --method taylor > "$OUT/sweep.log" 2>&1
for ckpt in "$OUT"/art/local*/*/model.safetensors; do
    dir="$(dirname "$ckpt")"
    "$BIN" export "$ckpt" --format onnx --out "$dir/model.onnx" --probe "$dir/probe.safetensors" > /dev/null
    name="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$dir/result.json")"
    printf '%s: ' "$name"
    "$PY" bench/reference/check_onnx.py "$dir/model.onnx" "$dir/probe.safetensors" | sed 's/^[^:]*: //'
done
rm -rf "$OUT"
