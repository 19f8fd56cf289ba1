"""Shared by export_torchvision.py, toy_models.py and zoo.py: the float64 vector-code reference,
the ONNX export, the forward hooks on the taps and the dump of what they saw.

For a model NAME, `export_onnx` writes NAME.onnx (opset 17, dynamic batch, input "input", output
"logits") and `dump_taps` writes NAME_input.npy, NAME_logits.npy, NAME_tap<i>.npy,
NAME_tap<i>_codes.npy and NAME.json (see export_torchvision.py for what they hold).
"""

import json
import os

import numpy as np
import torch


def codes(a):
    """Vector codes of SPEC section 2 in float64: [max, mean, std, com] per channel."""
    a = a.astype(np.float64)
    if a.ndim == 2:
        return a
    n, c = a.shape[:2]
    f = a.reshape(n, c, -1)
    hw = f.shape[2]
    mx = f.max(axis=2)
    mean = f.mean(axis=2)
    std = np.sqrt(((f - mean[:, :, None]) ** 2).mean(axis=2))
    w = np.maximum(f, 0)
    sw = w.sum(axis=2)
    pos = (np.arange(hw) + 0.5)[None, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        com = (w * pos).sum(axis=2) / (hw * sw)
    com[sw == 0] = 0.5
    return np.concatenate([mx, mean, std, com], axis=1)


def export_onnx(model, x, path):
    """Exports `model` traced on the first row of `x` to `path` with a dynamic batch axis."""
    torch.onnx.export(model, x[:1], path, opset_version=17, input_names=["input"],
                      output_names=["logits"], do_constant_folding=True,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def _tap_view(t, kind):
    """A hooked module output as a layer: token 0 for "cls", N x C x H x W for a channels-last
    "nhwc" stage output, the output itself otherwise."""
    if kind == "cls":
        return t[:, 0]
    return t.permute(0, 3, 1, 2).contiguous() if kind == "nhwc" else t


def forward_taps(model, x, taps):
    """Runs `model` on `x` (no gradients) with a forward hook on every (module, kind) of `taps`;
    returns the logits and the hooked outputs (see `_tap_view`), detached copies, in taps order."""
    got = {}
    mods = dict(model.named_modules())
    hooks = []
    for i, (mod, kind) in enumerate(taps):
        def hook(_m, _inp, out, i=i, kind=kind):
            got[i] = _tap_view(out.detach().clone(), kind)
        hooks.append(mods[mod].register_forward_hook(hook))
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    return logits, [got[i] for i in range(len(taps))]


def dump_taps(model, name, x, taps, out, meta):
    """Runs `model` on `x` with a forward hook on every (module, kind) of `taps` and writes the
    inputs, logits, hook outputs ("cls": token 0 only), their codes and NAME.json into `out`;
    `meta` ({"size", "n", "seed"}) goes into the JSON between "model" and "taps"."""
    logits, got = forward_taps(model, x, taps)
    np.save(os.path.join(out, f"{name}_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}_logits.npy"), logits.numpy().astype(np.float32))
    for i, t in enumerate(got):
        a = t.numpy().astype(np.float32)
        np.save(os.path.join(out, f"{name}_tap{i}.npy"), a)
        np.save(os.path.join(out, f"{name}_tap{i}_codes.npy"), codes(a))
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump({"model": name, **meta, "taps": [{"module": m, "kind": k} for m, k in taps]},
                  f, indent=2)
