/**
 * Feature-map reduction at ResNet18-at-224 tap sizes (N = 8): reference (baseline), fast CPU,
 * WebGPU from a Float32Array (upload + kernel + readback) and WebGPU from a resident GPUBuffer
 * (kernel + readback, the onnxruntime-web "gpu-buffer" case). Throughput in GB/s of input read:
 * bytes = N·C·H·W·4 divided by the mean time (see bench/RESULTS.md).
 *
 * Run: `deno bench -A bench/feature_map_reduce_bench.ts`
 */
import {
  GpuContext,
  reduceFeatureMapsCpu,
  reduceFeatureMapsGpu,
  reduceFeatureMapsReference,
  Rng,
} from "../mod.ts";

const TAPS: [string, number[]][] = [
  ["layer1 64×56×56", [8, 64, 56, 56]],
  ["layer2 128×28×28", [8, 128, 28, 28]],
  ["layer3 256×14×14", [8, 256, 14, 14]],
  ["layer4 512×7×7", [8, 512, 7, 7]],
];

const rng = new Rng(0);
const ctx = await GpuContext.create();
console.error(`adapter: ${ctx.adapter.description} (fallback ${ctx.adapter.isFallbackAdapter})`);

for (const [name, shape] of TAPS) {
  const total = shape.reduce((a, b) => a * b);
  const data = Float32Array.from({ length: total }, () => Math.max(0, rng.normal()) - 0.1);
  const resident = ctx.upload(data, "bench input");
  // Pipeline compilation (first call) is reported apart from the steady state.
  const t0 = performance.now();
  await reduceFeatureMapsGpu(ctx, data, shape);
  const mb = (total * 4 / 1e6).toFixed(1);
  console.error(
    `${name}: ${mb} MB input; first WebGPU call ${(performance.now() - t0).toFixed(1)} ms`,
  );
  const group = name;
  Deno.bench({
    name: `reference ${name}`,
    group,
    baseline: true,
    n: 5,
    warmup: 1,
    fn: () => {
      reduceFeatureMapsReference(data, shape);
    },
  });
  Deno.bench({
    name: `cpu ${name}`,
    group,
    fn: () => {
      reduceFeatureMapsCpu(data, shape);
    },
  });
  Deno.bench({
    name: `webgpu (array in) ${name}`,
    group,
    fn: async () => {
      await reduceFeatureMapsGpu(ctx, data, shape);
    },
  });
  Deno.bench({
    name: `webgpu (GPUBuffer in) ${name}`,
    group,
    fn: async () => {
      await reduceFeatureMapsGpu(ctx, resident, shape);
    },
  });
}
