/**
 * Torus kernels: cosine distance matrices between all unit weights of 20×20 and 40×40 maps at
 * d = 512 and 2048 (reference baseline, blocked CPU, WebGPU; GFLOP/s = 2·K²·d / mean time, the
 * full-matrix convention although every path computes only the upper triangle), and pairwise
 * torus distances between 50,000 BMU positions and 100 class centres on a 40×40 torus.
 *
 * Run: `deno bench -A bench/torus_bench.ts`
 */
import {
  cosineDistanceMatrix,
  cosineDistanceMatrixGpu,
  cosineDistanceMatrixNative,
  cosineDistanceMatrixReference,
  GpuContext,
  pairwiseTorusDistances,
  pairwiseTorusDistancesGpu,
  Rng,
} from "../mod.ts";

const rng = new Rng(0);
const ctx = await GpuContext.create();
console.error(`adapter: ${ctx.adapter.description} (fallback ${ctx.adapter.isFallbackAdapter})`);

for (const side of [20, 40]) {
  for (const d of [512, 2048]) {
    const K = side * side;
    const w = Float32Array.from({ length: K * d }, () => rng.normal());
    const group = `cosine ${side}×${side} d=${d}`;
    const t0 = performance.now();
    await cosineDistanceMatrixGpu(ctx, w, K, d); // first call: pipeline compilation included
    console.error(`${group}: first WebGPU call ${(performance.now() - t0).toFixed(0)} ms`);
    const slow = K * K * d > 1e9; // the reference takes seconds here: a few iterations suffice
    Deno.bench({
      name: `reference ${group}`,
      group,
      baseline: true,
      ...(slow ? { n: 2, warmup: 0 } : { n: 5, warmup: 1 }),
      fn: () => {
        cosineDistanceMatrixReference(w, K, d);
      },
    });
    Deno.bench({
      name: `cpu ${group}`,
      group,
      ...(slow ? { n: 3, warmup: 1 } : {}),
      fn: () => {
        cosineDistanceMatrix(w, K, d);
      },
    });
    Deno.bench({
      name: `native (onnxruntime-node) ${group}`,
      group,
      fn: async () => {
        await cosineDistanceMatrixNative(w, K, d);
      },
    });
    Deno.bench({
      name: `webgpu ${group}`,
      group,
      ...(slow ? { n: 3, warmup: 1 } : {}),
      fn: async () => {
        await cosineDistanceMatrixGpu(ctx, w, K, d);
      },
    });
  }
}

{
  const m = 40, n = 40, P = 50_000, Q = 100;
  const a = Float32Array.from({ length: 2 * P }, (_, i) => rng.int(i % 2 ? n : m));
  const b = Float32Array.from({ length: 2 * Q }, (_, i) => rng.float() * (i % 2 ? n : m));
  const group = `torus distances ${P}×${Q}`;
  await pairwiseTorusDistancesGpu(ctx, a, b, m, n);
  Deno.bench({
    name: `cpu ${group}`,
    group,
    baseline: true,
    fn: () => {
      pairwiseTorusDistances(a, b, m, n);
    },
  });
  Deno.bench({
    name: `webgpu ${group}`,
    group,
    fn: async () => {
      await pairwiseTorusDistancesGpu(ctx, a, b, m, n);
    },
  });
}
