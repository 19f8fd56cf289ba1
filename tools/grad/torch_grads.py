#!/usr/bin/env python3
"""Export a torchvision architecture (random weights) to ONNX and dump torch-autograd references.

Writes DIR/model.onnx (opset 17, dynamic batch) and, for a seeded batch of inputs in [0, 1]:
input.npy (float32 N x 3 x S x S), labels.npy (int64 N), logits.npy (float32 N x K) and
input_grad.npy (float32, d sum-cross-entropy / d input, as advertorch's PGD uses it).
With --normalize imagenet the normalisation is applied in torch before the model, matching
`deriveGradientGraph(..., {normalize: "imagenet"})` on the exported model.

Used by somscope's gradient conformance check (lib/grad/conformance.ts):

    /usr/bin/python3 tools/grad/torch_grads.py --arch resnet18 --out .cache/grad/resnet18
    deno task conformance   # calls checkGradientConformance(".cache/grad/resnet18/model.onnx", ...)
"""
import argparse
import os

import numpy as np
import torch
import torchvision


def build(arch: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    m = getattr(torchvision.models, arch)(weights=None)
    if arch.startswith("vit"):
        # torchvision zero-initialises the ViT head: logits and gradients would be exactly 0.
        torch.nn.init.normal_(m.heads.head.weight, std=0.02)
        torch.nn.init.normal_(m.heads.head.bias, std=0.02)
    return m.eval()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True, help="torchvision constructor, e.g. resnet18")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--normalize", choices=["none", "imagenet"], default="none")
    p.add_argument("--no-export", action="store_true", help="only dump references")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    m = build(a.arch, a.seed)
    if not a.no_export:
        dummy = torch.zeros(1, 3, a.size, a.size)
        torch.onnx.export(
            m, dummy, os.path.join(a.out, "model.onnx"), opset_version=17,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.rand(a.batch, 3, a.size, a.size, generator=g)
    with torch.no_grad():
        k = m(torch.zeros(1, 3, a.size, a.size)).shape[1]
    y = torch.randint(0, k, (a.batch,), generator=g)
    xv = x.clone().requires_grad_(True)
    xin = xv
    if a.normalize == "imagenet":
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        xin = (xv - mean) / std
    logits = m(xin)
    loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum")
    loss.backward()
    np.save(os.path.join(a.out, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(a.out, "labels.npy"), y.numpy().astype(np.int64))
    np.save(os.path.join(a.out, "logits.npy"), logits.detach().numpy().astype(np.float32))
    np.save(os.path.join(a.out, "input_grad.npy"), xv.grad.numpy().astype(np.float32))
    print(f"{a.arch}: logits {tuple(logits.shape)}, |grad|max {xv.grad.abs().max().item():.3e}")


if __name__ == "__main__":
    main()
