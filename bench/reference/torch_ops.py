"""PyTorch CPU per-op reference timings for prunebench's speed benchmarks.

  conv2d  the convolutions of the CIFAR ResNet-18 at width 0.25 on 1x28x28
          inputs, batch 128 (bias-free, as in the model): forward, and
          forward+backward (grad of weight, and of input except for the stem,
          whose input needs no grad in training).
          GFLOP/s counts 2 FLOP per MAC: fwd = 2*MACs, fwd+bwd = 6*MACs (4*MACs
          for the stem). MACs include taps on zero padding (the usual count),
          so small maps can show more than the machine's peak: on a 4x4 map a
          3x3 pad-1 conv does only (10/12)^2 = 69% of the counted MACs.
  sgemm   torch.mm of square float32 NxN @ NxN (MKL in the PyPI wheels), and
          the same through numpy.matmul (OpenBLAS bundled with numpy) for
          comparison; GFLOP/s = 2*N^3 / time.

One JSON line per measurement; each time is the median of --reps timed runs
after warm-up. The first line reports which conv kernel aten dispatched to.

Reference only: the product never depends on Python. Venv setup: see the
docstring of torch_train_throughput.py. Run (from the repo root):

  /work/venv-ref/bin/python bench/reference/torch_ops.py --threads 2
  # options: --reps 10 --only conv|sgemm --sizes 1024,4096 --no-numpy --tuned-malloc
  # (--tuned-malloc: see torch_train_throughput.py; large-activation convs are
  #  dominated by page faults without it)
"""
import argparse
import json
import os
import sys
import time

# OpenBLAS (numpy) reads its thread count at load time, so set it before import.
_t = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
os.environ.setdefault("OPENBLAS_NUM_THREADS", _t)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_throughput import malloc_mode, reexec_with_tuned_malloc  # noqa: E402


BATCH = 128
# name: (cin, cout, k, stride, H_in) -- ResNet-18 w=0.25 on 28x28 (widths 16/32/64/128)
CONVS = [
    ("stem 1->16 3x3 s1 28", 1, 16, 3, 1, 28),
    ("16->16 3x3 s1 28", 16, 16, 3, 1, 28),
    ("16->32 3x3 s2 28->14", 16, 32, 3, 2, 28),
    ("16->32 1x1 s2 28->14 (shortcut)", 16, 32, 1, 2, 28),
    ("32->32 3x3 s1 14", 32, 32, 3, 1, 14),
    ("32->64 3x3 s2 14->7", 32, 64, 3, 2, 14),
    ("32->64 1x1 s2 14->7 (shortcut)", 32, 64, 1, 2, 14),
    ("64->64 3x3 s1 7", 64, 64, 3, 1, 7),
    ("64->128 3x3 s2 7->4", 64, 128, 3, 2, 7),
    ("64->128 1x1 s2 7->4 (shortcut)", 64, 128, 1, 2, 7),
    ("128->128 3x3 s1 4", 128, 128, 3, 1, 4),
]


def bench(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def emit(**kw):
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "malloc": malloc_mode(), **kw}), flush=True)


def conv_kernel_name():
    """Which aten conv implementation runs for a typical fp32 NCHW conv."""
    x, w = torch.randn(BATCH, 16, 28, 28), torch.randn(16, 16, 3, 3)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        F.conv2d(x, w, padding=1)
    names = {e.key for e in prof.key_averages()}
    return sorted(n for n in names if "conv" in n.lower())


def run_convs(reps):
    emit(op="info", mkldnn_available=torch.backends.mkldnn.is_available(),
         cpu_capability=torch.backends.cpu.get_cpu_capability(), conv_ops_seen=conv_kernel_name())
    for name, cin, cout, k, s, h in CONVS:
        pad = k // 2
        x = torch.randn(BATCH, cin, h, h)
        w = torch.randn(cout, cin, k, k, requires_grad=True)
        stem = name.startswith("stem")
        x.requires_grad_(not stem)
        ho = (h + 2 * pad - k) // s + 1
        macs = BATCH * cout * ho * ho * cin * k * k
        with torch.no_grad():
            fwd, fwd_min = bench(lambda: F.conv2d(x, w, stride=s, padding=pad), reps)
        gy = torch.randn(BATCH, cout, ho, ho)

        def fb():
            x.grad = w.grad = None
            F.conv2d(x, w, stride=s, padding=pad).backward(gy)
        fwdbwd, fwdbwd_min = bench(fb, reps)
        bwd_factor = 4 if stem else 6
        emit(op="conv2d", name=name, batch=BATCH, cin=cin, cout=cout, k=k, stride=s, pad=pad,
             hw_in=h, hw_out=ho, macs=macs,
             fwd_ms=round(fwd * 1e3, 4), fwd_ms_min=round(fwd_min * 1e3, 4),
             fwd_gflops=round(2 * macs / fwd / 1e9, 2),
             fwdbwd_ms=round(fwdbwd * 1e3, 4), fwdbwd_ms_min=round(fwdbwd_min * 1e3, 4),
             fwdbwd_gflops=round(bwd_factor * macs / fwdbwd / 1e9, 2),
             input_grad=not stem)


def run_sgemm(sizes, reps, with_numpy):
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        r = max(3, reps if n <= 2048 else reps // 2)
        med, best = bench(lambda: torch.mm(a, b), r)
        emit(op="sgemm", impl="torch.mm", n=n, ms=round(med * 1e3, 3), ms_min=round(best * 1e3, 3),
             gflops=round(2 * n**3 / med / 1e9, 2), gflops_best=round(2 * n**3 / best / 1e9, 2))
        if with_numpy:
            an, bn = a.numpy(), b.numpy()
            med, best = bench(lambda: an @ bn, r)
            emit(op="sgemm", impl="numpy.matmul", numpy=np.__version__,
                 openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
                 openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"),
                 n=n, ms=round(med * 1e3, 3), ms_min=round(best * 1e3, 3),
                 gflops=round(2 * n**3 / med / 1e9, 2), gflops_best=round(2 * n**3 / best / 1e9, 2))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tuned-malloc", action="store_true",
                   help="re-run with glibc malloc tunables that stop mmap/munmap churn")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--only", choices=["conv", "sgemm"])
    p.add_argument("--sizes", default="1024,4096", help="comma-separated sgemm N")
    p.add_argument("--no-numpy", action="store_true", help="skip the numpy/OpenBLAS sgemm rows")
    args = p.parse_args()
    if args.tuned_malloc:
        reexec_with_tuned_malloc()
    torch.set_num_threads(args.threads)
    if args.only != "sgemm":
        run_convs(args.reps)
    if args.only != "conv":
        run_sgemm([int(s) for s in args.sizes.split(",")], args.reps, not args.no_numpy)


if __name__ == "__main__":
    main()
