#!/usr/bin/python3
"""The model zoo: one architecture per torchvision classification family, random weights, exported
to ONNX (opset 17, dynamic batch) at a low resolution, with torch references for somscope's
`deno task conformance --zoo`.

For every family FAMILY it writes into --out:
  FAMILY.onnx            the export (input "input" N x 3 x S x S, output "logits")
  FAMILY_input.npy       2 random images in [0, 1] (float32) for layers and codes
  FAMILY_logits.npy      torch logits for them
  FAMILY_tap<i>.npy      forward-hook output of the i-th expected layer (CLS token for ViT)
  FAMILY_tap<i>_codes.npy  its float64 vector codes (SPEC section 2)
  FAMILY_grad_input.npy / _labels.npy / _g32.npy / _g64.npy
                         well-conditioned images for the gradient check: torch float32 and
                         float64 gradients of the summed cross-entropy
  FAMILY.json            arch, size, expected layers, per-image torch float32-vs-float64 error

Random weights are torchvision's default init with a fixed seed, then BatchNorm statistics are
calibrated: one forward pass in training mode over random images (momentum None) sets every
running mean/variance to the batch statistics of its own input, as training would. Without it
some families' activations explode: torchvision's Inception v3 init (truncated normal, std 0.1,
whatever the fan-in) gives logits of ~1e12, where a float32 gradient is dominated by ReLUs that
rounding flips; torch's own float32 gradient is then 1e-3 to 2e-1 away from its float64 one on
every image, and no float32 implementation can be compared with it (see README, "Model zoo").

Images are kept for the gradient check only when torch's float32 gradient is within
--well-conditioned (max-relative) of its float64 gradient, as tools/grad/torch_grads.py does,
and the float64 gradient moves by no more than that when the input moves by --kink-probe (a
ReLU or a MaxPool tie within float32 rounding of its threshold makes any float32 gradient
land on either side; torch's doing so on the float64 side says nothing about another float32
implementation's rounding).

Usage: /usr/bin/python3 tools/conformance/zoo.py --out .cache/zoo [--families a,b]
"""

import argparse
import json
import os
import time

import numpy as np
import torch
import torchvision

from torch_dump import codes, export_onnx, forward_taps  # codes: SPEC section 2, float64

M = torchvision.models

# family -> (constructor, kwargs, input size, expected layers: (module, kind))
# kind "map": N x C x H x W stage output; "cls": token 0 of the N x T x D block output; "nhwc":
# a channels-last N x H x W x C stage output (Swin), compared as N x C x H x W.
# An optional 5th entry is a smaller input size for the gradient check (exported separately as
# FAMILY_grad.onnx): kinks (ReLUs and MaxPool ties within float32 rounding) grow with the number
# of units (at the layer check's size almost no random image of DenseNet or Inception is free of
# them), and torch's float64 backward, the reference, is slow (EfficientNetV2 at 64 px: minutes).
# The gradient graph uses the same ops at any size.
# CNN layers follow MODELS.md rule 2: the last block output at each of the 4 smallest spatial
# sizes above 1x1 (for ResNet, layer1..4).
FAMILIES = {
    "alexnet": (M.alexnet, {}, 224, [("features.1", "map"), ("features.4", "map"),
                                     ("features.11", "map"), ("features.12", "map")]),
    "convnext": (M.convnext_tiny, {}, 64, [(f"features.{i}", "map") for i in (1, 3, 5, 7)], 32),
    "densenet": (M.densenet121, {}, 64, [(f"features.denseblock{i}", "map") for i in range(1, 5)],
                 32),
    "efficientnet": (M.efficientnet_b0, {}, 64, [(f"features.{i}", "map") for i in (2, 3, 5, 6)], 32),
    "efficientnet_v2": (M.efficientnet_v2_s, {}, 64,
                        [(f"features.{i}", "map") for i in (2, 3, 5, 6)], 32),
    "googlenet": (M.googlenet, {"aux_logits": False, "init_weights": True}, 64,
                  [("conv3", "map"), ("inception3b", "map"), ("inception4e", "map"),
                   ("inception5b", "map")], 32),
    "inception_v3": (M.inception_v3, {"aux_logits": False, "init_weights": True}, 96,
                     # at 96 px Mixed_7* are 1x1, so the 4 smallest sizes above 1x1 end at 6e
                     [("Conv2d_3b_1x1", "map"), ("Conv2d_4a_3x3", "map"), ("Mixed_5d", "map"),
                      ("Mixed_6e", "map")], 75),
    "maxvit": (M.maxvit_t, {}, 224, [(f"blocks.{i}", "map") for i in range(4)]),
    "mnasnet": (M.mnasnet0_5, {}, 64, [(f"layers.{i}", "map") for i in (8, 9, 11, 12)], 32),
    "mobilenet_v2": (M.mobilenet_v2, {}, 64, [(f"features.{i}", "map") for i in (3, 6, 13, 16)], 32),
    "mobilenet_v3": (M.mobilenet_v3_small, {}, 64,
                     [("features.2.block.0", "map"), ("features.3", "map"), ("features.8", "map"),
                      ("features.11", "map")]),
    "regnet": (M.regnet_y_400mf, {}, 64, [(f"trunk_output.block{i}", "map") for i in range(1, 5)], 32),
    "resnet": (M.resnet18, {}, 64, [(f"layer{i}", "map") for i in range(1, 5)]),
    "resnext": (M.resnext50_32x4d, {}, 64, [(f"layer{i}", "map") for i in range(1, 5)], 32),
    "shufflenet_v2": (M.shufflenet_v2_x0_5, {}, 64,
                      [("maxpool", "map"), ("stage2", "map"), ("stage3", "map"),
                       ("stage4", "map")], 32),
    "squeezenet": (M.squeezenet1_1, {}, 64, [(f"features.{i}", "map") for i in (1, 4, 7, 12)], 32),
    "swin": (M.swin_t, {}, 64, [(f"features.{i}", "nhwc") for i in (1, 3, 5, 7)]),
    "vgg": (M.vgg11, {}, 224, [(f"features.{i}", "map") for i in (9, 14, 19, 20)], 32),
    "vit": (M.vit_b_16, {"image_size": 64}, 64,
            [(f"encoder.layers.encoder_layer_{i}", "cls") for i in range(12)]),
    "wide_resnet": (M.wide_resnet50_2, {}, 64, [(f"layer{i}", "map") for i in range(1, 5)], 32),
}


# The kink probe: 1e-6 per pixel by default, well above float32 rounding of a pixel (~6e-8), since
# another float32 implementation's rounding moves activations by more than torch's input
# rounding does (GoogLeNet: a kink 3e-7 away was crossed by onnxruntime and not by torch).
# Families whose random-weight gradient has kinks at nearly every image at that scale get the
# smallest probe at which some images pass (Inception v3: kinks at every scale down to ~1e-7).
KINK_PROBE = {"inception_v3": 1e-7, "resnext": 3e-7, "wide_resnet": 3e-7, "vgg": 3e-7}


def build(family, seed, grad=False):
    ctor, kw, size = FAMILIES[family][:3]
    torch.manual_seed(seed)
    m = ctor(weights=None, **kw)
    if family == "vit":
        # torchvision zero-initialises the ViT head: logits and gradients would be exactly 0.
        torch.nn.init.normal_(m.heads.head.weight, std=0.02)
        torch.nn.init.normal_(m.heads.head.bias, std=0.02)
    if family in ("vgg", "alexnet"):
        # Keep the convolutional trunk; the 4096-wide classifier (0.5 GB for VGG) adds nothing.
        feat = 512 * 7 * 7 if family == "vgg" else 256 * 6 * 6
        if grad and family == "vgg":
            # The gradient check at 32 px: torch cannot export AdaptiveAvgPool2d((7, 7)) of a 1x1
            # map, so this variant pools globally (the same ops otherwise).
            m.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
            feat = 512
        m.classifier = torch.nn.Sequential(torch.nn.Dropout(), torch.nn.Linear(feat, 64),
                                           torch.nn.ReLU(True), torch.nn.Linear(64, 1000))
    bns = [b for b in m.modules() if isinstance(b, torch.nn.modules.batchnorm._BatchNorm)]
    if bns:
        for b in bns:
            b.reset_running_stats()
            b.momentum = None  # cumulative average: the statistics of this one calibration pass
        gen = torch.Generator().manual_seed(seed + 7)
        m.train()
        with torch.no_grad():
            m(torch.rand(8, 3, size, size, generator=gen))
    return m.eval(), size


def _codes_rel(c, ref, blocks):
    """As somscope's codesErr: max, mean and std relative to their block's largest magnitude, the
    centre of mass (already in (0, 1)) absolute; rank-2 taps (their own codes) as a whole."""
    if not blocks:
        return float(np.abs(c - ref).max() / max(np.abs(ref).max(), 1e-30))
    k = c.shape[1] // 4
    out = []
    for b in range(4):
        d = np.abs(c[:, b * k:(b + 1) * k] - ref[:, b * k:(b + 1) * k]).max()
        out.append(d if b == 3 else d / max(np.abs(ref[:, b * k:(b + 1) * k]).max(), 1e-30))
    return float(max(out))


def grads(m, m64, x, y):
    out = []
    for model, dt in ((m, torch.float32), (m64, torch.float64)):
        if dt == torch.float32 and x.dtype == torch.float64:
            out.append(None)
            continue
        xv = x.to(dt).clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(model(xv), y, reduction="sum").backward()
        out.append(xv.grad)
    return out


def export_family(family, out, args):
    t0 = time.time()
    m, size = build(family, args.seed)
    taps = FAMILIES[family][3]
    gen = torch.Generator().manual_seed(args.seed + 1)
    x = torch.rand(2, 3, size, size, generator=gen)
    path = os.path.join(out, f"{family}.onnx")
    export_onnx(m, x, path)
    logits, got32 = forward_taps(m, x, taps)
    np.save(os.path.join(out, f"{family}_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, f"{family}_logits.npy"), logits.numpy().astype(np.float32))
    # torch float32's own error on each tap and its codes (against a float64 forward): deep
    # random-weight networks reach 1e-5 by float32 rounding alone, so the check allows
    # max(1e-5, 3 x this), as for gradients.
    m64, _ = build(family, args.seed)
    m64 = m64.double()
    logits64, got64 = forward_taps(m64, x.double(), taps)
    logits_rel = float((logits.double() - logits64).abs().max() / logits64.abs().max())
    tap_rel, codes_rel = [], []
    for i in range(len(taps)):
        a = got32[i].numpy().astype(np.float32)
        a64 = got64[i].numpy()
        c32, c64 = codes(a), codes(a64)
        tap_rel.append(float(np.abs(a - a64).max() / max(np.abs(a64).max(), 1e-30)))
        codes_rel.append(_codes_rel(c32, c64, a.ndim == 4))
        np.save(os.path.join(out, f"{family}_tap{i}.npy"), a)
        np.save(os.path.join(out, f"{family}_tap{i}_codes.npy"), c32)
    # Gradients: float32 and float64 torch on candidates, kept where float32 is well conditioned.
    k = logits.shape[1]
    gsize = FAMILIES[family][4] if len(FAMILIES[family]) > 4 else size
    if gsize != size:
        m, _ = build(family, args.seed, grad=True)
        m64 = build(family, args.seed, grad=True)[0].double()
        export_onnx(m, torch.zeros(1, 3, gsize, gsize), os.path.join(out, f"{family}_grad.onnx"))
    keep, tried = [], []
    probe = KINK_PROBE.get(family, args.kink_probe)
    for c in range(args.max_candidates):
        xc = torch.rand(1, 3, gsize, gsize, generator=gen)
        yc = torch.randint(0, k, (1,), generator=gen)
        g32, g64 = grads(m, m64, xc, yc)
        rel = float((g32.double() - g64).abs().max() / g64.abs().max())
        # torch's float32 landing on the float64 side of every kink is not enough: another
        # float32 implementation rounds differently. Also require no kink within --kink-probe
        # of the input: the float64 gradient's second difference along a random direction of
        # that size (a smooth network's is O(probe^2); a ReLU or MaxPool tie crossed on one
        # side makes it O(1)).
        moved = 0.0
        if rel <= args.well_conditioned:
            d = torch.randn(xc.shape, generator=gen, dtype=torch.float64) * probe
            gp = grads(m, m64, xc.double() + d, yc)[1]
            gm = grads(m, m64, xc.double() - d, yc)[1]
            moved = float((gp + gm - 2 * g64).abs().max() / g64.abs().max())
        tried.append({"rel_f32_f64": rel, "f64_moves": moved})
        if rel <= args.well_conditioned and moved <= args.kink_tolerance:
            keep.append((xc, yc, g32, g64, rel))
        if len(keep) == args.grad_images:
            break
    if keep:
        cat = lambda i: torch.cat([t[i] for t in keep]).numpy()
        np.save(os.path.join(out, f"{family}_grad_input.npy"), cat(0).astype(np.float32))
        np.save(os.path.join(out, f"{family}_grad_labels.npy"), cat(1).astype(np.int64))
        np.save(os.path.join(out, f"{family}_grad_g32.npy"), cat(2).astype(np.float32))
        np.save(os.path.join(out, f"{family}_grad_g64.npy"), cat(3).astype(np.float64))
    meta = {"family": family, "arch": FAMILIES[family][0].__name__, "size": size,
            "grad_size": gsize,
            "seed": args.seed, "taps": [{"module": mm, "kind": kk} for mm, kk in taps],
            "tap_rel_f32_f64": tap_rel, "codes_rel_f32_f64": codes_rel,
            "logits_rel_f32_f64": logits_rel,
            "grad": {"kept_rel_f32_f64": [t[4] for t in keep], "tried": tried,
                     "threshold": args.well_conditioned, "kink_probe": probe},
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    with open(os.path.join(out, f"{family}.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"zoo {family}: {meta['arch']} at {size}px, {len(keep)} well-conditioned of "
          f"{len(tried)} gradient candidates ({time.time() - t0:.1f} s, "
          f"{os.path.getsize(path) / 1e6:.1f} MB)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grad-images", type=int, default=2)
    ap.add_argument("--max-candidates", type=int, default=12)
    ap.add_argument("--well-conditioned", type=float, default=1e-4)
    ap.add_argument("--kink-tolerance", type=float, default=1e-5)
    ap.add_argument("--kink-probe", type=float, default=1e-6)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for family in args.families.split(","):
        if family not in FAMILIES:
            raise SystemExit(f"zoo: unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
        export_family(family, args.out, args)


if __name__ == "__main__":
    main()
