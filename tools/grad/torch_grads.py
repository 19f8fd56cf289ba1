#!/usr/bin/env python3
"""Export a torchvision architecture (random weights) to ONNX and dump torch-autograd references.

Writes DIR/model.onnx (opset 17, dynamic batch) and, for a seeded batch of inputs in [0, 1]:
input.npy (float32 N x 3 x S x S), labels.npy (int64 N), logits.npy (float32 N x K) and
input_grad.npy (float32, d sum-cross-entropy / d input, as advertorch's PGD uses it).
With --normalize imagenet the normalisation is applied in torch before the model, matching
`deriveGradientGraph(..., {normalize: "imagenet"})` on the exported model.

Kinks: an input whose path crosses a ReLU or MaxPool decision within float32 rounding of its
threshold has no float32-reproducible gradient (random-weight ResNet50: torch float32 itself is
1.5% off its own float64 gradient on such an image). Each candidate image is therefore also
differentiated in float64, and only images whose float32 and float64 torch gradients agree to
--well-conditioned (default 1e-5, max-relative) are kept; input_grad64.npy holds their float64
gradients and refs.json how many candidates were skipped.

Used by somscope's gradient conformance check (lib/grad/conformance.ts):

    /usr/bin/python3 tools/grad/torch_grads.py --arch resnet18 --out .cache/grad/resnet18
    deno task conformance   # calls checkGradientConformance(".cache/grad/resnet18/model.onnx", ...)
"""
import argparse
import json
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
    p.add_argument("--well-conditioned", type=float, default=1e-5)
    p.add_argument("--max-candidates", type=int, default=12)
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
    with torch.no_grad():
        k = m(torch.zeros(1, 3, a.size, a.size)).shape[1]
    m64 = build(a.arch, a.seed).double()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def grad(model, x, y, dtype):
        xv = x.to(dtype).clone().requires_grad_(True)
        xin = (xv - mean.to(dtype)) / std.to(dtype) if a.normalize == "imagenet" else xv
        logits = model(xin)
        torch.nn.functional.cross_entropy(logits, y, reduction="sum").backward()
        return logits.detach(), xv.grad

    keep, skipped = [], []
    for c in range(a.max_candidates):
        x = torch.rand(1, 3, a.size, a.size, generator=g)
        y = torch.randint(0, k, (1,), generator=g)
        logits, g32 = grad(m, x, y, torch.float32)
        _, g64 = grad(m64, x, y, torch.float64)
        rel = float((g32.double() - g64).abs().max() / g64.abs().max())
        (keep if rel <= a.well_conditioned else skipped).append((c, rel))
        if rel <= a.well_conditioned:
            keep[-1] = (x, y, logits, g32, g64.float(), rel)
        print(f"candidate {c}: float32 vs float64 torch gradient {rel:.2e}", flush=True)
        if len(keep) == a.batch:
            break
    if len(keep) < a.batch:
        raise SystemExit(f"only {len(keep)} of {a.batch} well-conditioned images in {a.max_candidates} candidates")
    cat = lambda i: torch.cat([t[i] for t in keep]).numpy()
    np.save(os.path.join(a.out, "input.npy"), cat(0).astype(np.float32))
    np.save(os.path.join(a.out, "labels.npy"), cat(1).astype(np.int64))
    np.save(os.path.join(a.out, "logits.npy"), cat(2).astype(np.float32))
    np.save(os.path.join(a.out, "input_grad.npy"), cat(3).astype(np.float32))
    np.save(os.path.join(a.out, "input_grad64.npy"), cat(4).astype(np.float32))
    with open(os.path.join(a.out, "refs.json"), "w") as f:
        json.dump({"arch": a.arch, "batch": a.batch, "size": a.size, "normalize": a.normalize,
                   "seed": a.seed, "kept_rel_f32_f64": [t[5] for t in keep],
                   "skipped": [{"candidate": c, "rel_f32_f64": r} for c, r in skipped],
                   "torch": torch.__version__, "torchvision": torchvision.__version__}, f, indent=1)
    print(f"{a.arch}: kept {len(keep)}, skipped {len(skipped)} ill-conditioned candidates")


if __name__ == "__main__":
    main()
