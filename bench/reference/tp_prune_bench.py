"""Torch-Pruning 1.6.1 reference timing for prunebench's pruning benchmark.

Two measurements, each printed as a JSON line:

1. `--case speedup2`: the golden case `resnet18_c28_w025_l2_global_speedup2` (Torch-Pruning CIFAR ResNet-18, width 0.25,
1x28x28, 10 classes; GroupMagnitudeImportance(p=2), global, pruning_ratio 1.0, 400 iterative steps,
max_pruning_ratio 0.9, classifier ignored) as reproduce/main.py::progressive_pruning does: step(), recount
MACs, stop at the first step reaching 2x. Prints one JSON line with the pruner construction time, the
pruning time (steps + MAC recounts) and the per-step mean, and checks MACs against the golden case.
2. `--case r50-step`: one global L2 step (ratio 0.5, one iterative step: scoring, thresholding,
   removal) on ResNet-50 in torchvision's layout (3x224x224, 1000 classes, fc ignored), seeded weights.

  /work/venv-ref/bin/python bench/reference/tp_prune_bench.py --threads 2 \
      --weights Tests/Fixtures/golden/resnet18_c28_w025_l2_global_r050/input.safetensors

Reference only: the product never depends on Python.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch_pruning as tp
from safetensors.torch import load_file

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_train_throughput import ResNet  # noqa: E402


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5: stride on the 3x3), same module names."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet50(nn.Module):
    """torchvision.models.resnet50's layout and forward."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, layers = 64, []
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
            mods = [Bottleneck(inplanes, planes, stride, down)] + [Bottleneck(planes * 4, planes) for _ in range(blocks - 1)]
            layers.append(nn.Sequential(*mods))
            inplanes = planes * 4
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def r50_step(args):
    torch.manual_seed(0)
    model = ResNet50().eval()
    example = torch.zeros(1, 3, 224, 224)
    base_macs, _ = tp.utils.count_ops_and_params(model, example)
    t0 = time.perf_counter()
    pruner = tp.pruner.BasePruner(model, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                  global_pruning=True, pruning_ratio=0.5, iterative_steps=1, ignored_layers=[model.fc])
    t1 = time.perf_counter()
    pruner.step()
    t2 = time.perf_counter()
    macs, params = tp.utils.count_ops_and_params(model, example)
    print(json.dumps({"framework": "torch-pruning", "case": "r50-step", "threads": args.threads,
                      "construct_s": t1 - t0, "step_s": t2 - t1, "macs_before": base_macs, "macs_after": macs,
                      "params_after": params}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--case", choices=["speedup2", "r50-step"], default="speedup2")
    p.add_argument("--weights", help="input.safetensors of the speedup2 golden case")
    p.add_argument("--target", type=float, default=2.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.case == "r50-step":
        return r50_step(args)
    model = ResNet(width=0.25, in_channels=1, num_classes=10)
    model.load_state_dict(load_file(args.weights), strict=False)  # num_batches_tracked is not in the fixture
    model.eval()
    example = torch.zeros(1, 1, 28, 28)
    base_macs, base_params = tp.utils.count_ops_and_params(model, example)
    t0 = time.perf_counter()
    pruner = tp.pruner.BasePruner(model, example, importance=tp.importance.GroupMagnitudeImportance(p=2),
                                  global_pruning=True, pruning_ratio=1.0, iterative_steps=400,
                                  max_pruning_ratio=0.9, ignored_layers=[model.linear])
    t1 = time.perf_counter()
    steps, macs = 0, base_macs
    step_seconds = 0.0
    for _ in range(400):
        s0 = time.perf_counter()
        pruner.step()
        step_seconds += time.perf_counter() - s0
        steps += 1
        macs, params = tp.utils.count_ops_and_params(model, example)
        if base_macs / macs >= args.target:
            break
    t2 = time.perf_counter()
    print(json.dumps({"framework": "torch-pruning", "case": "speedup2", "version": getattr(tp, "__version__", "?"), "torch": torch.__version__,
                      "threads": args.threads, "steps": steps, "macs_before": base_macs, "macs_after": macs,
                      "speedup": base_macs / macs, "construct_s": t1 - t0, "prune_total_s": t2 - t1,
                      "mean_step_s": step_seconds / steps, "golden_macs_after": 14246396}))


if __name__ == "__main__":
    main()
