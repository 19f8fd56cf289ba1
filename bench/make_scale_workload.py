#!/usr/bin/python3
"""The ImageNet-shaped synthetic workload of bench/scale_bench.ts (no downloads).

Writes into --out:
  model.onnx      a small CNN with 1000 logits: torchvision's ResNet layout (BasicBlock,
                  [1, 1, 1, 1] blocks, widths 64/128/256/512, so layer1..layer4 = CL1..CL4 with
                  codes of 256/512/1024/2048 dimensions, like ResNet18's), random weights with
                  BatchNorm statistics randomised, input N x 3 x 32 x 32, opset 17
  train/cNNNN/*.png, val/cNNNN/*.png
                  1000 class folders x --per-class 32x32 RGB PNGs per split; each class has its
                  own colour pattern plus noise, so SOMs and analyses see structure

Deterministic for a seed. Usage:
  /usr/bin/python3 bench/make_scale_workload.py --out DIR --per-class N [--classes 1000]
"""

import argparse
import os

import numpy as np
import torch
import torchvision
from PIL import Image


def make_model(path, classes, seed):
    torch.manual_seed(seed)
    m = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [1, 1, 1, 1],
                                         num_classes=classes).eval()
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
    x = torch.rand(2, 3, 32, 32)
    torch.onnx.export(m, x, path, opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}},
                      do_constant_folding=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-class", type=int, required=True)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    make_model(os.path.join(a.out, "model.onnx"), a.classes, a.seed)
    rng = np.random.default_rng(a.seed)
    yy, xx = np.mgrid[0:32, 0:32]
    for c in range(a.classes):
        base = rng.random(3) * 200
        fx, fy = rng.random(2) * 0.6
        pattern = (np.sin(xx * fx + yy * fy)[:, :, None] * 40 + base[None, None, :])
        for split in ("train", "val"):
            d = os.path.join(a.out, split, f"c{c:04d}")
            os.makedirs(d, exist_ok=True)
            for i in range(a.per_class):
                img = pattern + rng.normal(0, 25, (32, 32, 3))
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                    os.path.join(d, f"{i:03d}.png"), compress_level=1)
    print(f"wrote {a.out}: model.onnx, {a.classes} classes x {a.per_class} images x 2 splits")


if __name__ == "__main__":
    main()
