#!/bin/bash
# Makes the bundle that tasks/device_check.sh unpacks on a bare Linux x86-64 machine with an
# NVIDIA GPU (no Deno, no npm, no network): run it here, where Deno, npm and Debian's apt work.
#
#   .devcarry/deno.xz          the Deno binary running this script, xz-compressed
#   .devcarry/*.deb            the Vulkan loader (libvulkan1) for amd64; the GPU driver's ICD
#                              comes from the machine (e.g. /usr/local/nvidia/share/vulkan)
#   .devcarry/deno.lock        the lockfile of exactly those packages
#   .devcarry/deno_dir.tar.xz  a DENO_DIR holding every npm package the checks load, pruned to
#                              linux-x64 binaries (onnxruntime-node, sharp) and to the
#                              onnxruntime-web files of the WebGPU EP
#
# Usage: tasks/make_device_bundle.sh [OUT_DIR=.devcarry]   (.devcarry/ is git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.devcarry}"
mkdir -p "$out"
deno_bin="$(readlink -f "$(command -v deno)")"

echo "deno: $deno_bin ($(deno --version | head -1))"
# (kept when it is already there and newer than the binary: compressing takes a minute)
if [ ! "$out/deno.xz" -nt "$deno_bin" ]; then
  xz -T0 -9 -c "$deno_bin" >"$out/deno.xz.part" && mv "$out/deno.xz.part" "$out/deno.xz"
fi

echo "Vulkan loader (.deb, amd64)"
rm -f "$out"/*.deb
lists="$(mktemp -d)"
opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
mkdir -p "$lists/partial"
apt-get "${opts[@]}" update -qq >/dev/null
(cd "$out" && apt-get "${opts[@]}" download -qq libvulkan1)
rm -rf "$lists"

echo "npm packages (fresh DENO_DIR)"
dd="$(mktemp -d)"
# A lockfile of just these packages: the repository's deno.lock names others (typescript,
# playwright-core) that Deno would want in the cache too.
rm -f "$out/deno.lock"
DENO_DIR="$dd" deno cache --quiet --lock="$out/deno.lock" tasks/device_check.ts tasks/device_check_extract.ts tests/gpu_context_test.ts \
  tests/wgsl_layout_test.ts tests/feature_map_reduce_test.ts tests/som_kernels_test.ts \
  tests/som_test.ts tests/torus_test.ts bench/som_bench.ts bench/feature_map_reduce_bench.ts \
  lib/model/ort.ts
reg="$dd/npm/registry.npmjs.org"
# Prune what a linux-x64 machine never loads.
for p in "$reg"/onnxruntime-node/*/bin/napi-v6/*; do
  [ "$(basename "$p")" = linux ] || rm -rf "$p"
done
rm -rf "$reg"/onnxruntime-node/*/bin/napi-v6/linux/arm64
# The WebGPU EP's bundle and the wasm it loads (1.30: the .asyncify files).
for f in "$reg"/onnxruntime-web/*/dist/*; do
  case "$(basename "$f")" in
    ort.webgpu.bundle.min.mjs | ort-wasm-simd-threaded.asyncify.mjs | ort-wasm-simd-threaded.asyncify.wasm) ;;
    *) rm -f "$f" ;;
  esac
done
find "$reg" -name '*.map' -delete
rm -rf "$reg/typescript" "$reg/playwright-core"
# sharp decodes image files, which the GPU check never does; its native libvips (18 MB) would
# not fit the machine's 64 MiB transfer with Deno and onnxruntime. The packages stay (npm
# resolution wants them), libvips goes, and sharp's entry points become a stub that fails loudly
# if anything calls it.
rm -f "$reg"/@img/sharp-libvips-linux*-x64/*/lib/*.so*
for d in "$reg"/@img/*; do
  case "$(basename "$d")" in
    colour | sharp-linux-x64 | sharp-libvips-linux-x64 | sharp-linuxmusl-x64 | sharp-libvips-linuxmusl-x64) ;;
    *) rm -rf "$d"/*/ ;;
  esac
done
stub='function sharp() { throw new Error("sharp is not in the GPU-check bundle (tasks/make_device_bundle.sh)"); }'
for v in "$reg"/sharp/*/; do
  echo "$stub export default sharp;" >"$v/dist/index.mjs"
  echo "$stub module.exports = sharp;" >"$v/dist/index.cjs"
done
tar -C "$dd" -cf - npm | xz -T0 -9 >"$out/deno_dir.tar.xz.part"
mv "$out/deno_dir.tar.xz.part" "$out/deno_dir.tar.xz"
rm -rf "$dd"
du -sh "$out"/*
