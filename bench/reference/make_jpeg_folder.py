"""Writes a synthetic ImageNet-like image folder for the data-loading benchmark.

CLASSES x PER_CLASS JPEGs (quality 90, 4:2:0), sizes drawn around ImageNet's typical 500x375:
smooth random colour fields (low-resolution noise upscaled bicubically) plus fine noise, so that
the entropy per pixel is photo-like. Seeded: the same arguments give the same files.

    python make_jpeg_folder.py OUT_DIR [--classes 8] [--per-class 64]
"""
import argparse
import os

import numpy as np
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--classes", type=int, default=8)
p.add_argument("--per-class", type=int, default=64)
a = p.parse_args()
rng = np.random.default_rng(0)
for c in range(a.classes):
    d = os.path.join(a.out, f"n{c:08d}")
    os.makedirs(d, exist_ok=True)
    for i in range(a.per_class):
        w, h = int(rng.integers(350, 640)), int(rng.integers(280, 500))
        coarse = rng.integers(0, 256, size=(h // 24 + 2, w // 24 + 2, 3), dtype=np.uint8)
        field = np.asarray(Image.fromarray(coarse).resize((w, h), Image.BICUBIC), dtype=np.int16)
        field += rng.integers(-12, 13, size=(h, w, 3), dtype=np.int16)
        Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).save(os.path.join(d, f"{c}_{i:04d}.JPEG"), quality=90)
print(f"wrote {a.classes * a.per_class} images under {a.out}")
