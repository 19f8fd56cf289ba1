/**
 * The extraction step of `tasks/device_check.ts`: ResNet18 at 224 (batch 8) through
 * onnxruntime-web's WebGPU EP, taps left on the GPU and reduced there by the WGSL kernel, on
 * seeded random images; then the first 8 images through onnxruntime-node (CPU, codes reduced in
 * TypeScript) to check the GPU's codes and predictions. Prints one JSON line.
 *
 * Usage: deno run -A tasks/device_check_extract.ts RESNET18.onnx [IMAGES=64]
 *
 * @module
 */

import { GpuContext, gpuPolicy } from "../lib/gpu/context.ts";
import { loadModel } from "../lib/model/load.ts";
import { extractCodes } from "../lib/extract/extract.ts";
import { Rng } from "../lib/rng.ts";
import { memoryImages } from "./memory_images.ts";

const [path, count] = Deno.args;
const n = Number(count ?? 64);
const per = 3 * 224 * 224;
const rng = new Rng(0);
const pixels = Float32Array.from({ length: Math.min(n, 64) * per }, () => rng.float());
// A distinct identity per run: each one computes (no cache hit between them).
const data = (size: number, tag: string) =>
  memoryImages(pixels, () => `device-check-random-${tag}-${size}`, size);

const model = await loadModel(path);
const ctx = await GpuContext.create();
const policy = gpuPolicy(ctx);
const cacheDir = await Deno.makeTempDir({ prefix: "somscope_device_codes_" });
try {
  const ix = Array.from({ length: n }, (_, i) => i);
  const opts = { batchSize: 8, cacheDir, progress: false as const };
  // Warm-up (session creation, shader compilation) on one batch, apart from the timed run.
  const t0 = performance.now();
  await extractCodes(model, data(8, "warm-up"), ix.slice(0, 8), {
    ...opts,
    runtime: "webgpu",
    ctx,
  });
  const warm = (performance.now() - t0) / 1000;
  const gpu = await extractCodes(model, data(n, "webgpu"), ix, { ...opts, runtime: "webgpu", ctx });
  const cpu = await extractCodes(model, data(8, "node"), ix.slice(0, 8), {
    ...opts,
    runtime: "node",
  });
  const errors = gpu.layers.map((l, li) => {
    const ref = cpu.layers[li].codes, got = l.codes.subarray(0, ref.length);
    let scale = 0, worst = 0;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
    return { layer: l.label, dim: l.dim, maxAbsError: worst, relativeToMax: worst / scale };
  });
  const agree = gpu.predictions.subarray(0, 8).every((p, i) => p === cpu.predictions[i]);
  const tolerance = 1e-3;
  console.log(JSON.stringify({
    ok: gpu.runtime?.kind === "webgpu" && cpu.runtime?.kind === "node" &&
      errors.every((e) => e.relativeToMax <= tolerance) && agree,
    policy,
    runtime: gpu.runtime,
    images: n,
    warmupSeconds: warm,
    forwardSeconds: gpu.timings.forward,
    imagesPerSecond: n / gpu.timings.forward,
    tapsReducedOn: gpu.runtime?.kind === "webgpu"
      ? "GPU (WGSL feature_map_reduce, gpu-buffer taps)"
      : "CPU",
    checkAgainstNode: { images: 8, tolerance, errors, predictionsAgree: agree },
  }));
} finally {
  ctx.dispose();
  await Deno.remove(cacheDir, { recursive: true });
}
