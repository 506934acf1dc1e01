"""PyTorch CPU training-throughput reference for prunebench's speed benchmarks.

Measures forward + backward + SGD step (momentum 0.9, weight decay 5e-4,
cross-entropy loss) in images/s for the CIFAR-style ResNet-18 of Torch-Pruning's
CIFAR model zoo, with a width multiplier w:

  r18-w0.25  w=0.25, input 1x28x28, 10 classes,  batch 128
  r18-w1.0   w=1.0,  input 3x32x32, 100 classes, batch 128

Inputs are random tensors (no data loading is timed). Each config runs in its
own subprocess so that peak RSS (ru_maxrss) is per config. One JSON line per
config on stdout. The model layout is NCHW contiguous (what users run);
--channels-last switches to torch.channels_last.

Reference only: the product never depends on Python.

Create the venv (outside the repo). On our machines /opt/wheels holds a CPU-only
torch wheel that pip's find-links picks up; elsewhere `pip install torch` from
PyPI works too (it also pulls the large nvidia-* wheels; CPU kernels are the same):

  python3 -m venv /work/venv-ref
  /work/venv-ref/bin/pip install "torch==2.13.0+cpu" torch-pruning safetensors numpy

Run (from the repo root):

  /work/venv-ref/bin/python bench/reference/torch_train_throughput.py --threads 2
  # options: --config r18-w0.25 --warmup 3 --iters 20 --channels-last --tuned-malloc

--tuned-malloc sets MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ so glibc stops
returning every large activation buffer to the OS (page faults on every op);
the default run (no flag) is what users get out of the box.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "4000000000", "MALLOC_TRIM_THRESHOLD_": "4000000000"}


def reexec_with_tuned_malloc():
    """glibc malloc mmaps/munmaps every large activation buffer, so each op pays
    page faults; these tunables (read at process start) keep freed memory in the
    heap instead. Re-executes this script once with them set."""
    if any(os.environ.get(k) != v for k, v in TUNED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **TUNED_MALLOC})


def malloc_mode():
    return "glibc-no-mmap" if os.environ.get("MALLOC_MMAP_THRESHOLD_") else "glibc-default"

CONFIGS = {  # name: (width, (C, H, W), classes, batch, default timed iterations)
    "r18-w0.25": (0.25, (1, 28, 28), 10, 128, 30),
    "r18-w1.0": (1.0, (3, 32, 32), 100, 128, 8),
}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet (Torch-Pruning CIFAR zoo layout) with a width multiplier."""

    def __init__(self, num_blocks=(2, 2, 2, 2), width=1.0, in_channels=3, num_classes=10):
        super().__init__()
        widths = [int(round(c * width)) for c in (64, 128, 256, 512)]
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(widths[0], num_blocks[0], 1)
        self.layer2 = self._make_layer(widths[1], num_blocks[1], 2)
        self.layer3 = self._make_layer(widths[2], num_blocks[2], 2)
        self.layer4 = self._make_layer(widths[3], num_blocks[3], 2)
        self.linear = nn.Linear(widths[3], num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def forward_macs(model, chw):
    """Per-image forward MACs of Conv2d and Linear layers only."""
    total = 0

    def hook(m, inp, out):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total += kh * kw * (m.in_channels // m.groups) * m.out_channels * out.shape[2] * out.shape[3]
        else:
            total += m.in_features * m.out_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *chw))
    model.train()
    for h in hs:
        h.remove()
    return total


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_config(name, args):
    width, chw, classes, batch, default_iters = CONFIGS[name]
    iters = args.iters or default_iters
    rss_before = max_rss_mb()
    torch.manual_seed(0)
    model = ResNet(width=width, in_channels=chw[0], num_classes=classes)
    macs = forward_macs(model, chw)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(batch, *chw).contiguous(memory_format=fmt)
    y = torch.randint(0, classes, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    times = []
    t0 = time.perf_counter()
    for _ in range(iters):
        t = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    img_s = batch * iters / total
    times.sort()
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "model": "resnet18-cifar", "config": name, "width": width, "input": list(chw),
        "classes": classes, "batch": batch, "memory_format": "channels_last" if args.channels_last else "nchw",
        "malloc": malloc_mode(),
        "warmup": args.warmup, "iters": iters,
        "img_per_s": round(img_s, 2),
        "ms_per_iter": round(1000 * total / iters, 3),
        "ms_per_iter_min": round(1000 * times[0], 3),
        "ms_per_iter_median": round(1000 * times[len(times) // 2], 3),
        "fwd_macs_per_img": macs, "mac_count": "conv+linear only (BN, ReLU, pool, add excluded)",
        "train_gflop_per_iter": round(6 * macs * batch / 1e9, 3),  # 3x forward MACs x 2 FLOP/MAC
        "gflops": round(6 * macs * img_s / 1e9, 2),  # achieved GFLOP/s by that count
        "peak_rss_mb": round(max_rss_mb(), 1), "rss_before_model_mb": round(rss_before, 1),
        "final_loss": round(loss.item(), 4),
    }), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tuned-malloc", action="store_true",
                   help="re-run with glibc malloc tunables that stop mmap/munmap churn")
    p.add_argument("--config", choices=sorted(CONFIGS), help="run one config in this process")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=0, help="timed iterations (0 = per-config default)")
    p.add_argument("--channels-last", action="store_true")
    args = p.parse_args()
    if args.tuned_malloc:
        reexec_with_tuned_malloc()
    torch.set_num_threads(args.threads)
    if args.config:
        run_config(args.config, args)
        return
    for name in CONFIGS:  # one subprocess per config so peak RSS is per config
        subprocess.run([sys.executable, __file__, "--config", name] + sys.argv[1:], check=True)


if __name__ == "__main__":
    main()
