#!/bin/bash
# The GPU check (issue 14 point 7): on a Linux x86-64 machine with an NVIDIA GPU and nothing
# installed, unpacks what it is given (the bundle of tasks/make_device_bundle.sh: an
# xz-compressed Deno, the Vulkan loader .deb, a DENO_DIR of npm packages) into a temp folder —
# nothing is written outside it and the checkout — and runs tasks/device_check.ts: the WGSL
# kernels against their references, the SOM training/top-k and feature-map benches, and ResNet18
# extraction through onnxruntime-web's WebGPU EP with the codes reduced on the GPU. Writes one
# JSON of results. Aims at under 5 minutes on a hardware GPU.
#
# Usage: tasks/device_check.sh [BUNDLE=.devcarry] [RESULT_JSON=${OUT:-.}/device_check.json]
# Environment: DEVICE_CHECK_BUDGET_S (default 270: the checks' own time limit, unpacking aside),
#   DEVICE_CHECK_IMAGES (ResNet18 images, default 64), VK_DRIVER_FILES (else found below).
# Without a bundle it uses the deno on PATH and its cache (e.g. to test it on llvmpipe).
set -uo pipefail
t0=$(date +%s.%N)
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bundle="$(cd "${1:-.devcarry}" 2>/dev/null && pwd || echo "${1:-.devcarry}")"
result="${2:-${OUT:-.}/device_check.json}"
mkdir -p "$(dirname "$result")" && result="$(cd "$(dirname "$result")" && pwd)/$(basename "$result")"
work="$(mktemp -d /tmp/somscope_device.XXXXXX)"
trap 'rm -rf "$work"' EXIT
log() { echo "device_check: $*" >&2; }

# 1. Deno.
if [ -f "$bundle/deno.xz" ]; then
  xz -dc "$bundle/deno.xz" >"$work/deno" && chmod +x "$work/deno" || { log "cannot unpack deno"; exit 1; }
  deno="$work/deno"
elif command -v deno >/dev/null; then
  deno="$(command -v deno)"
else
  log "no $bundle/deno.xz and no deno on PATH"
  exit 1
fi

# 2. The Vulkan loader, unpacked into the temp folder (not into /), found through LD_LIBRARY_PATH.
shopt -s nullglob
debs=("$bundle"/*.deb)
if [ ${#debs[@]} -gt 0 ]; then
  mkdir -p "$work/root"
  for f in "${debs[@]}"; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$f" "$work/root"
    else # ar + tar: a .deb is an ar archive holding data.tar.*
      (cd "$work" && ar x "$f" && tar -C "$work/root" -xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary)
    fi
  done
  export LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# The driver's Vulkan ICD: the machine's NVIDIA driver folder, else the usual places.
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
fi

# 3. The npm packages.
if [ -f "$bundle/deno_dir.tar.xz" ]; then
  mkdir -p "$work/deno_dir"
  xz -dc "$bundle/deno_dir.tar.xz" | tar -C "$work/deno_dir" -xf - || { log "cannot unpack deno_dir"; exit 1; }
  export DENO_DIR="$work/deno_dir"
  cached=(--cached-only)
  [ -f "$bundle/deno.lock" ] && cached+=("--lock=$(cd "$bundle" && pwd)/deno.lock")
else
  cached=()
fi
# The checks run in a copy of the checkout whose deno.lock is the bundle's: test children that
# start `deno run` without --cached-only then find every package of their lockfile cached.
if [ -f "$bundle/deno.lock" ]; then
  mkdir -p "$work/tree"
  tar -C "$root" --exclude=./.devcarry --exclude=./.cache --exclude=./runs --exclude=./.git -cf - . |
    tar -C "$work/tree" -xf -
  cp "$bundle/deno.lock" "$work/tree/deno.lock"
  cd "$work/tree"
fi
mkdir -m 700 -p "$work/xdg"
export XDG_RUNTIME_DIR="$work/xdg" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
unpacked=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
log "unpacked in ${unpacked} s (deno $("$deno" --version | head -1 | cut -d' ' -f2))"

# 4. ResNet18 (torchvision layout, random weights) made on the machine when Python has torch.
model=""
for py in python3 /usr/bin/python3; do
  if "$py" -c "import torch, torchvision" 2>/dev/null; then
    if "$py" tools/conformance/export_torchvision.py --models resnet18 --no-hooks --out "$work/models" \
      >"$work/export.log" 2>&1; then
      model="$work/models/resnet18.onnx"
    else
      log "ResNet18 export failed: $(tail -3 "$work/export.log")"
    fi
    break
  fi
done

"$deno" run -A "${cached[@]}" --no-check tasks/device_check.ts --out "$result" --deno "$deno" \
  --model "$model" --unpack-seconds "$unpacked" "--deno-flags=${cached[*]}"
