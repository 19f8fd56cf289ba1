#!/usr/bin/python3
"""Writes an ImageNet-shaped image folder for the extraction benchmarks (no downloads).

Images are ~500x375 (landscape and portrait mixed, like ImageNet's typical sizes), with smooth
random colour fields, edges and a little noise, so that JPEG/PNG files have realistic sizes
(JPEG quality 90: ~60-120 KB; PNG: ~300-500 KB) and decoding costs what real photos cost.

Usage: /usr/bin/python3 bench/make_images.py --out DIR [--format jpeg|png] [--classes 4]
           [--per-class 48] [--seed 0]
Writes DIR/train/class_XXX/img_YYYY.(jpg|png) and two images per class in DIR/val, and DIR/class_index.json
(class folder -> logit index, for `--class-index`) (somscope: `folder:DIR`, split train; torchvision:
`ImageFolder(DIR/train)`); deterministic for a seed.
"""

import argparse
import json
import os

import numpy as np
from PIL import Image


def image(rng, w, h):
    # Low-frequency colour field: bilinear upsampling of a small random grid.
    small = rng.random((6, 8, 3)) * 255
    field = np.asarray(Image.fromarray(small.astype(np.uint8)).resize((w, h), Image.BILINEAR),
                       dtype=np.float32)
    # A few random discs (object-like edges).
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(rng.integers(2, 6)):
        cx, cy, r = rng.random() * w, rng.random() * h, 20 + rng.random() * 120
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        field[mask] = field[mask] * 0.4 + rng.random(3) * 255 * 0.6
    field += rng.normal(0, 6, field.shape)  # sensor-like noise
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--format", choices=["jpeg", "png"], default="jpeg")
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--per-class", type=int, default=48)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    ext = "jpg" if a.format == "jpeg" else "png"
    for split, count in (("train", a.per_class), ("val", 2)):
        for c in range(a.classes):
            d = os.path.join(a.out, split, f"class_{c:03d}")
            os.makedirs(d, exist_ok=True)
            for i in range(count):
                w, h = (500, 375) if rng.random() < 0.75 else (375, 500)
                img = image(rng, w, h)
                path = os.path.join(d, f"img_{i:04d}.{ext}")
                if a.format == "jpeg":
                    img.save(path, quality=90)
                else:
                    img.save(path, compress_level=6)
    # somscope maps class folders to logits through this (the model has 1000 logits).
    with open(os.path.join(a.out, "class_index.json"), "w") as f:
        json.dump({f"class_{c:03d}": c for c in range(a.classes)}, f)
    print(f"wrote {a.classes * a.per_class} {a.format} images to {a.out}/train")

if __name__ == "__main__":
    main()
