#!/usr/bin/python3
"""Export torchvision classifiers with random weights to ONNX and dump torch forward-hook outputs.

Used by `deno task conformance` (tasks/conformance.ts) and by the extraction benchmark
(bench/extract_bench.ts, which only needs resnet18 at 224 without hooks).

For every model NAME it writes into --out:
  NAME.onnx                  opset 17, dynamic batch, input "input" (N x 3 x S x S), output "logits"
  NAME_input.npy             the random inputs in [0, 1] (float32, N x 3 x S x S)
  NAME_logits.npy            torch logits for those inputs
  NAME_tap<i>.npy            forward-hook output of the i-th expected composite layer
                             (ViT: the CLS token, i.e. token 0 of the block output, N x D)
  NAME_tap<i>_codes.npy      vector codes of that tap (SPEC section 2, float64 reference;
                             rank-2 taps are their own codes)
  NAME.json                  {"model", "taps": [{"module", "kind"}], "size", "n"}

Random weights: torchvision's default init with a fixed seed; BatchNorm running statistics and
affine parameters are randomised (otherwise they are the identity and hide mistakes); the ViT
head is re-initialised (torchvision zero-initialises it, which makes logits exactly 0); VGG19's
classifier is shrunk (the real one is 550 MB).

Usage: /usr/bin/python3 tools/conformance/export_torchvision.py --out .cache/conformance \
           [--models resnet18,resnet50,densenet121,vgg19,vit_b_16] [--size 224] [--n 2] \
           [--seed 0] [--no-hooks]
"""

import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_dump import dump_taps, export_onnx  # noqa: E402

# module path -> "map" (N x C x H x W, reduced to vector codes) or "cls" (token 0 of N x T x D)
TAPS = {
    "resnet18": [("layer1", "map"), ("layer2", "map"), ("layer3", "map"), ("layer4", "map")],
    "resnet50": [("layer1", "map"), ("layer2", "map"), ("layer3", "map"), ("layer4", "map")],
    "densenet121": [(f"features.denseblock{i}", "map") for i in range(1, 5)],
    # last ReLU of blocks 3, 4, 5 (before pooling) and pool5 (MODELS.md rule 2)
    "vgg19": [("features.17", "map"), ("features.26", "map"), ("features.35", "map"),
              ("features.36", "map")],
    "vit_b_16": [(f"encoder.layers.encoder_layer_{i}", "cls") for i in range(12)],
}


def randomise(model, name, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)
    if name.startswith("vit"):
        head = model.heads.head
        head.weight.data.copy_(torch.randn(head.weight.shape, generator=gen) * 0.02)
        head.bias.data.copy_(torch.randn(head.bias.shape, generator=gen) * 0.02)
    if name == "vgg19":
        model.classifier = torch.nn.Sequential(
            torch.nn.Linear(512 * 7 * 7, 64), torch.nn.ReLU(True), torch.nn.Dropout(),
            torch.nn.Linear(64, 64), torch.nn.ReLU(True), torch.nn.Dropout(),
            torch.nn.Linear(64, 1000))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="resnet18,resnet50,densenet121,vgg19,vit_b_16")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-hooks", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for name in args.models.split(","):
        torch.manual_seed(args.seed)
        gen = torch.Generator().manual_seed(args.seed + 1)
        model = getattr(torchvision.models, name)(weights=None)
        with torch.no_grad():
            randomise(model, name, gen)
        model.eval()
        x = torch.rand(args.n, 3, args.size, args.size, generator=gen)
        path = os.path.join(args.out, f"{name}.onnx")
        export_onnx(model, x, path)
        print(f"exported {path} ({os.path.getsize(path) / 1e6:.1f} MB)", flush=True)
        if args.no_hooks:
            continue
        dump_taps(model, name, x, TAPS[name], args.out,
                  {"size": args.size, "n": args.n, "seed": args.seed})


if __name__ == "__main__":
    main()
