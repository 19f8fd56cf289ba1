#!/usr/bin/python3
"""The torch/torchvision side of bench/extract_files_bench.ts: a plain extraction loop over an
image folder, as a lab would write it: torchvision ImageFolder (PIL decode), Resize(256),
CenterCrop(224), ToTensor, batches of --batch, ResNet18 forward (the same ONNX-exported random
weights are not needed: a forward pass costs the same for any weights), no taps.

Prints one JSON line: images, seconds of the loop (decode + forward), images/s, threads,
the process's seconds from interpreter start (imports included) and its CPU seconds (all
threads).

Usage: /usr/bin/python3 bench/torch_extract.py --data DIR [--batch 8] [--threads 2]
           [--workers 0] [--model resnet18]
"""

import time

T_START = time.time()

import argparse  # noqa: E402
import json  # noqa: E402

import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision import transforms  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--model", default="resnet18")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                             transforms.ToTensor()])
    ds = torchvision.datasets.ImageFolder(a.data, transform=tf)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=False,
                                     num_workers=a.workers)
    model = getattr(torchvision.models, a.model)().eval()
    n = 0
    t0 = time.time()
    with torch.no_grad():
        for x, _ in dl:
            model(x).argmax(1)
            n += x.shape[0]
    loop = time.time() - t0
    print(json.dumps({"images": n, "loop_s": loop, "images_per_s": n / loop,
                      "threads": torch.get_num_threads(), "workers": a.workers,
                      "process_s": time.time() - T_START,
                      "cpu_s": time.process_time(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
