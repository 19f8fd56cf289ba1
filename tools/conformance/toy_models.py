#!/usr/bin/python3
"""Make the tiny test models in tests/data/models/ (committed; each well under 1 MB).

  toy_cnn.onnx   1 x 28 x 28 grey input, stem + 3 residual stages at 28, 14, 7 (so CL1..CL3),
                 BatchNorm (folded by the exporter), global pooling, 10 logits
  toy_vit.onnx   torchvision VisionTransformer layout with a 1-channel 7x7 patch embedding:
                 28 x 28 grey input, 16 patches + CLS token, width 32, 2 encoder blocks, 10 logits

Beside each model: NAME_input.npy (3 random inputs in [0, 1]), NAME_logits.npy, and
NAME_tap<i>.npy / NAME_tap<i>_codes.npy (torch forward-hook outputs of the composite layers and
their float64 vector codes), NAME.json (hook module names). Random weights, seed 0.

Usage: /usr/bin/python3 tools/conformance/toy_models.py [--out tests/data/models]
"""

import argparse
import os
import sys

import torch
from torch import nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_dump import dump_taps, export_onnx  # noqa: E402


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ToyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.stage1 = Block(8, 8, 1)
        self.stage2 = Block(8, 16, 2)
        self.stage3 = Block(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def toy_vit():
    m = torchvision.models.vision_transformer.VisionTransformer(
        image_size=28, patch_size=7, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
        num_classes=10)
    m.conv_proj = nn.Conv2d(1, 32, kernel_size=7, stride=7)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    specs = [
        ("toy_cnn", ToyCnn, [("stage1", "map"), ("stage2", "map"), ("stage3", "map")]),
        ("toy_vit", toy_vit, [("encoder.layers.encoder_layer_0", "cls"),
                              ("encoder.layers.encoder_layer_1", "cls")]),
    ]
    for name, make, taps in specs:
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(1)
        model = make()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    c = m.num_features
                    m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                    m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                    m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                    m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
            if name == "toy_vit":
                h = model.heads.head
                h.weight.copy_(torch.randn(h.weight.shape, generator=gen) * 0.1)
                h.bias.copy_(torch.randn(h.bias.shape, generator=gen) * 0.1)
        model.eval()
        x = torch.rand(3, 1, 28, 28, generator=gen)
        path = os.path.join(args.out, f"{name}.onnx")
        export_onnx(model, x, path)
        dump_taps(model, name, x, taps, args.out, {"size": 28, "n": 3, "seed": 0})
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
