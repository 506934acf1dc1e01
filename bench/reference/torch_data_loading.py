"""torchvision's ImageNet training input pipeline on an image folder, timed like `prunebench bench data`.

ImageFolder (PIL loader) + RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize,
DataLoader(batch, shuffle, num_workers=WORKERS, drop_last), one warm-up batch not timed; prints one
JSON line. WORKERS=0 decodes in the main process. Each worker process runs torch with one thread.

    python torch_data_loading.py --root DIR --workers 2 --batch 64 [--batches N] [--eval]
"""
import argparse
import json
import time

import torch
from torchvision import datasets, transforms

p = argparse.ArgumentParser()
p.add_argument("--root", required=True)
p.add_argument("--workers", type=int, default=2)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--batches", type=int)
p.add_argument("--eval", action="store_true", help="Resize(256) + CenterCrop(224) instead of the training transform")
a = p.parse_args()
torch.set_num_threads(1)
norm = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
if a.eval:
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
else:
    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
ds = datasets.ImageFolder(a.root, transform=tf)
loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True,
                                     worker_init_fn=lambda _: torch.set_num_threads(1))
total = min((a.batches + 1) if a.batches else len(loader), len(loader))
it = iter(loader)
images = 0
for n in range(total):
    x, y = next(it)
    if n == 0:
        start = time.perf_counter()
        continue
    images += x.shape[0]
seconds = time.perf_counter() - start
print(json.dumps({"framework": "torchvision", "torch": torch.__version__, "workers": a.workers, "batch": a.batch,
                  "transform": "imagenet-eval" if a.eval else "imagenet-train", "images": images, "seconds": seconds,
                  "images_per_second": images / seconds,
                  "images_per_second_per_core": images / seconds / max(a.workers, 1)}, sort_keys=True))
