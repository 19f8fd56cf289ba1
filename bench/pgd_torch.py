#!/usr/bin/python3
"""torch's side of bench/pgd_process_bench.ts: PGD as users run it in torch, as one process.

advertorch's LinfPGDAttack loop (rand_init, summed cross-entropy, sign step, clamp to the eps-box
and to [0, 1]) on torchvision ResNet18 (random weights, eval mode, parameters left as they are, as
in a user's script, so autograd also computes their gradients; --freeze turns that off), on the images of --data (images.npy, labels.npy), batch = all of them, with
torch's threads set to --threads. Prints the loop's seconds and the whole process's seconds.
"""
import argparse
import time

T0 = time.time()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--eps", type=float, default=4 / 255)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze", action="store_true",
                    help="parameters requires_grad=False (input gradient only, as somscope)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = getattr(torchvision.models, a.model)(weights=None).eval()
    if a.freeze:
        m.requires_grad_(False)
    x0 = torch.from_numpy(np.load(f"{a.data}/images.npy"))
    y = torch.from_numpy(np.load(f"{a.data}/labels.npy").astype(np.int64))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    eps, alpha = a.eps, a.eps * 2 / 100
    t1 = time.time()
    delta = (torch.rand_like(x0) * 2 - 1) * eps
    delta = (torch.clamp(x0 + delta, 0, 1) - x0).requires_grad_(True)
    for _ in range(a.steps):
        loss = torch.nn.functional.cross_entropy(m((x0 + delta - mean) / std), y, reduction="sum")
        loss.backward()
        with torch.no_grad():
            delta += alpha * delta.grad.sign()
            delta.clamp_(-eps, eps)
            delta.copy_(torch.clamp(x0 + delta, 0, 1) - x0)
        delta.grad.zero_()
    with torch.no_grad():
        adv = m(((x0 + delta) - mean) / std).argmax(1)
    t2 = time.time()
    print(f"torch pgd: loop {t2 - t1:.2f} s, process {t2 - T0:.2f} s, "
          f"adversarial top-1 changed on {int((adv != y).sum())} of {len(y)}")


if __name__ == "__main__":
    main()
