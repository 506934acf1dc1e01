"""Loads a prunebench checkpoint into PyTorch and evaluates it on Fashion-MNIST's test set.

Checks the "our checkpoints open in PyTorch" contract end to end: `load_state_dict(strict=True)`
into Torch-Pruning's CIFAR ResNet-18 definition (the one in torch_train_throughput.py), then the
test accuracy, which must equal the one prunebench reported in the checkpoint's metadata.

  /work/venv-ref/bin/python bench/reference/check_interop.py runs/resnet18-fashion/model.safetensors

Reference only: the product never depends on Python.
"""
import gzip
import json
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_train_throughput import ResNet  # noqa: E402


def fashion_test(directory="/usr/share/datasets/fashion-mnist"):
    with gzip.open(f"{directory}/t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{directory}/t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(x.astype(np.float32)) / 255 - 0.2860) / 0.3530
    return x, torch.from_numpy(y.astype(np.int64))


def main(path):
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    spec = json.loads(meta["prunebench.model"])
    assert spec["arch"] == "resnet18" and spec["variant"] == "cifar", spec
    model = ResNet(width=spec["width"], in_channels=spec["input_shape"][0], num_classes=spec["num_classes"])
    missing_unexpected = model.load_state_dict(load_file(path), strict=True)
    model.eval()
    x, y = fashion_test()
    with torch.no_grad():
        correct = sum((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item() for i in range(0, len(y), 500))
    ours = float(meta.get("prunebench.test_accuracy", "nan"))
    print(json.dumps({"load_state_dict": str(missing_unexpected), "pytorch_test_accuracy": correct / len(y),
                      "prunebench_test_accuracy": ours}))


if __name__ == "__main__":
    main(sys.argv[1])
