#!/usr/bin/env bash
# The main job (until the sweep exists): train ResNet-18 (CIFAR variant, width 0.25) on
# Fashion-MNIST from scratch and print its test accuracy. Extra arguments go to `prunebench train`.
set -euo pipefail
cd "$(dirname "$0")/.."
./cluster/setup.sh
swift build -c release --product prunebench
exec .build/release/prunebench train --model resnet18 --width 0.25 --dataset fashion-mnist \
  --epochs 15 --batch-size 128 --lr 0.1 --schedule cosine --seed 0 --out runs/resnet18-fashion "$@"
