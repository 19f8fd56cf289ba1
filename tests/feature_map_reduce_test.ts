import {
  codeDimension,
  DataFormatError,
  reduceFeatureMaps,
  reduceFeatureMapsCpu,
  reduceFeatureMapsGpu,
  reduceFeatureMapsGpuToBuffer,
  reduceFeatureMapsReference,
  Rng,
} from "../mod.ts";
import { _plan } from "../lib/codes/feature_map_reduce.ts";
import { assert, assertArrayClose, assertEquals, assertRejects, assertThrows } from "./asserts.ts";
import { withGpu } from "./gpu_helper.ts";

// Tolerances, stated once. The reference accumulates in float64 and rounds once to float32.
// The CPU path also accumulates in float64 (different order): within 2 float32 ulps.
const CPU_ABS = 1e-6, CPU_REL = 2.5e-7;
// The GPU accumulates in float32 (strided partial sums + tree). Measured on llvmpipe at ResNet18
// tap sizes: worst 1.2e-7 absolute. Asserted: 5e-6 absolute + 5e-6 relative, which leaves room
// for other reduction orders on other adapters.
const GPU_ABS = 5e-6, GPU_REL = 5e-6;

/** Mixed-sign activations, like post-BN pre-ReLU maps, with some exact zeros (ReLU). */
function activations(seed: number, length: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => {
    const v = rng.normal() * 1.5 + 0.3;
    return rng.float() < 0.2 ? 0 : v;
  });
}

const SHAPES: number[][] = [
  [3, 5, 7, 9], // nothing a multiple of anything
  [2, 3, 1, 1], // H·W = 1
  [1, 1, 1, 13],
  [4, 7, 3, 11],
  [2, 17, 13, 13], // 169 values: several strides of a 64-wide workgroup, with a ragged end
  [1, 2, 56, 56],
  [5, 4, 1, 7],
];

Deno.test("reduceFeatureMapsReference() computes max, mean, population std and com by hand", () => {
  // One 2×3 map: values 0..5 minus 2.
  const map = new Float32Array([-2, -1, 0, 1, 2, 3]);
  const flat = reduceFeatureMapsReference(map, [1, 1, 2, 3]);
  const mean = 0.5,
    std = Math.sqrt([-2, -1, 0, 1, 2, 3].reduce((a, v) => a + (v - mean) ** 2, 0) / 6);
  // w = [0,0,0,1,2,3]; Σw = 6; Σ w (i+0.5) = 3.5 + 9 + 16.5 = 29; com = 29 / (6·6)
  assertEquals(Array.from(flat), [3, 0.5, std, 29 / 36].map(Math.fround));
  const xy = reduceFeatureMapsReference(map, [1, 1, 2, 3], { com: "xy" });
  // row centre: all weight in row 1 → 1.5/2; column centre: (1·0.5 + 2·1.5 + 3·2.5)/6/3
  assertEquals(Array.from(xy), [3, 0.5, std, 0.75, 11 / 18].map(Math.fround));
});

Deno.test("the CPU path matches the reference on random inputs, flat and xy (±1e-6 + 2.5e-7·|x|)", () => {
  SHAPES.forEach((shape, k) => {
    const data = activations(100 + k, shape.reduce((a, b) => a * b));
    for (const com of ["flat", "xy"] as const) {
      const ref = reduceFeatureMapsReference(data, shape, { com });
      const cpu = reduceFeatureMapsCpu(data, shape, { com });
      assertEquals(ref.length, shape[0] * codeDimension(shape, com));
      assertArrayClose(cpu, ref, CPU_ABS, CPU_REL, `${shape} ${com}`);
    }
  });
});

Deno.test("zero maps give max 0, mean 0, std 0, com 0.5; all-negative maps give com 0.5", () => {
  const shape = [2, 3, 4, 5];
  const zeros = new Float32Array(120);
  const negative = new Float32Array(120).fill(-0.75);
  for (const f of [reduceFeatureMapsReference, reduceFeatureMapsCpu]) {
    assertEquals(Array.from(f(zeros, shape)), [
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5],
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5],
    ]);
    const neg = f(negative, shape, { com: "xy" });
    assertEquals(Array.from(neg.subarray(0, 15)), [
      ...[-0.75, -0.75, -0.75, -0.75, -0.75, -0.75, 0, 0, 0],
      ...[0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    ]);
  }
});

Deno.test("ties for the max and a single positive value at either end give exact results", () => {
  // Map 0: the max 2 occurs three times. Map 1: only the last value is positive → com = (8.5)/9.
  // Map 2: only the first value is positive → com = 0.5/9.
  const data = new Float32Array([
    ...[2, -1, 2, 0, 2, -3, 1, 1, 0],
    ...[-1, -1, -1, -1, -1, -1, -1, -1, 5],
    ...[7, 0, 0, 0, 0, 0, 0, 0, 0],
  ]);
  for (const f of [reduceFeatureMapsReference, reduceFeatureMapsCpu]) {
    const flat = f(data, [1, 3, 3, 3]);
    assertEquals(Array.from(flat.subarray(0, 3)), [2, 5, 7]);
    assertEquals(flat[9 + 1], Math.fround(8.5 / 9));
    assertEquals(flat[9 + 2], Math.fround(0.5 / 9));
    const xy = f(data, [1, 3, 3, 3], { com: "xy" });
    // Map 0: row weights 4, 2, 2 and column weights 3, 3, 2 out of Σw = 8.
    assertEquals(
      Array.from(xy.subarray(9, 15)),
      [10 / 24, 2.5 / 3, 0.5 / 3, 11 / 24, 2.5 / 3, 0.5 / 3].map(Math.fround),
    );
  }
});

Deno.test("rank-2 tensors pass through unchanged, as a copy", () => {
  const data = activations(5, 4 * 6);
  for (const f of [reduceFeatureMapsReference, reduceFeatureMapsCpu]) {
    const out = f(data, [4, 6]);
    assertEquals(Array.from(out), Array.from(data));
    assert(out !== data);
  }
  assertEquals(codeDimension([4, 6], "xy"), 6);
});

Deno.test("NaN or ±Inf activations throw DataFormatError naming example and channel", () => {
  const shape = [5, 20, 3, 3];
  for (const [value, word] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
    const data = activations(9, 900);
    data[(3 * 20 + 17) * 9 + 4] = value as number;
    data[(4 * 20 + 2) * 9] = NaN; // a later map too: the first one is named
    for (const f of [reduceFeatureMapsReference, reduceFeatureMapsCpu]) {
      for (const com of ["flat", "xy"] as const) {
        assertThrows(
          () => f(data, shape, { com }),
          DataFormatError,
          `Cannot reduce feature maps: example 3 channel 17 contains ${word}`,
        );
      }
    }
  }
  const codes = activations(9, 12);
  codes[7] = NaN;
  assertThrows(() => reduceFeatureMapsCpu(codes, [3, 4]), DataFormatError, "example 1 column 3");
  assertThrows(() => reduceFeatureMapsReference(codes, [3, 4]), DataFormatError, "example 1");
});

Deno.test("bad shapes, lengths, com modes and backend names are RangeErrors", async () => {
  const data = new Float32Array(24);
  assertThrows(() => reduceFeatureMapsCpu(data, [2, 3, 4]), RangeError, "expected [N, C, H, W]");
  assertThrows(() => reduceFeatureMapsCpu(data, [2, 3, 0, 4]), RangeError, "0 at axis 2");
  assertThrows(() => reduceFeatureMapsCpu(data, [2, 3, 2, 1]), RangeError, "needs 12");
  assertThrows(() => reduceFeatureMapsReference(data, [2, 3, 2, 2.5]), RangeError, "2.5");
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => reduceFeatureMapsCpu(data, [2, 3, 2, 2], { com: "polar" as any }),
    RangeError,
    '"flat", "xy"',
  );
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => reduceFeatureMaps(data, [2, 3, 2, 2], { backend: "cuda" as any }),
    RangeError,
    'backend is "cuda" but expected one of "auto", "webgpu", "cpu", "reference"',
  );
  await assertRejects(
    () => reduceFeatureMaps(data, [2, 3, 2, 2], { backend: "webgpu" }),
    TypeError,
    "needs options.ctx",
  );
  assertEquals(reduceFeatureMapsCpu(new Float32Array(0), [0, 3, 2, 2]).length, 0);
});

Deno.test("reduceFeatureMaps() runs the chosen CPU backend", async () => {
  const shape = [3, 5, 7, 9];
  const data = activations(11, 945);
  assertEquals(
    await reduceFeatureMaps(data, shape, { backend: "reference", com: "xy" }),
    reduceFeatureMapsReference(data, shape, { com: "xy" }),
  );
  assertEquals(await reduceFeatureMaps(data, shape), reduceFeatureMapsCpu(data, shape));
});

Deno.test("_plan() covers every map once with aligned bindings inside the limit", () => {
  for (const [N, C, H, W, dim] of [[7, 3, 3, 3, 12], [5, 11, 1, 1, 55], [4, 64, 7, 7, 256]]) {
    for (const [limit, align] of [[256, 32], [1000, 256], [4096, 256], [1 << 20, 256]]) {
      let chunks;
      try {
        chunks = _plan({ N, C, H, W, dim, rank: 4, xy: dim === 5 * C }, limit, align);
      } catch (e) {
        assert(e instanceof RangeError && 2 * dim * 4 + align > limit, String(e));
        continue;
      }
      let next = 0;
      for (const ch of chunks) {
        assertEquals(ch.mapStart, next);
        next += ch.maps;
        assert(ch.inOffset % align === 0 && ch.outOffset % align === 0);
        assert(ch.inSize <= limit && ch.outSize <= limit, `${limit}: ${ch.inSize} ${ch.outSize}`);
        assertEquals(ch.inOffset + ch.inBase * 4, ch.mapStart * H * W * 4);
        assertEquals(ch.rowStart, Math.floor(ch.mapStart / C));
        const lastRow = Math.floor((ch.mapStart + ch.maps - 1) / C);
        assertEquals(ch.outOffset + ch.outSize, (lastRow + 1) * dim * 4);
      }
      assertEquals(next, N * C);
      if (N * C * H * W * 4 > limit) assert(chunks.length > 1);
    }
  }
});

// ---- WebGPU (llvmpipe here and on CI) ----

Deno.test("the WebGPU kernel matches the reference on random inputs, both entry points, flat and xy (±5e-6 + 5e-6·|x|)", async () => {
  await withGpu(async (ctx) => {
    for (const [k, shape] of SHAPES.entries()) {
      const data = activations(200 + k, shape.reduce((a, b) => a * b));
      for (const com of ["flat", "xy"] as const) {
        const ref = reduceFeatureMapsReference(data, shape, { com });
        for (const [small, wg] of [[0, 64], [1 << 30, 64], [0, 1], [0, 256], [1 << 30, 16]]) {
          const gpu = await reduceFeatureMapsGpu(ctx, data, shape, {
            com,
            smallMapThreshold: small,
            workgroupSize: wg,
          });
          assertArrayClose(gpu, ref, GPU_ABS, GPU_REL, `${shape} ${com} small=${small} wg=${wg}`);
        }
      }
    }
  });
});

Deno.test("std is two-pass: maps with a large offset keep their small spread on CPU and GPU", async () => {
  // Values 1000 + 0.1·N(0,1): E[a²] − E[a]² in float32 would lose every digit of σ² = 0.01
  // (float32 spacing at 1e6 is 0.06); two passes about the mean keep it to ~1e-4 relative.
  const rng = new Rng(21);
  const shape = [2, 3, 17, 19];
  const data = Float32Array.from({ length: 2 * 3 * 17 * 19 }, () => 1000 + 0.1 * rng.normal());
  const ref = reduceFeatureMapsReference(data, shape);
  const std = (codes: Float32Array) =>
    Array.from({ length: 6 }, (_, k) => codes[Math.floor(k / 3) * 12 + 6 + (k % 3)]);
  for (const s of std(ref)) assert(s > 0.08 && s < 0.12, `reference std ${s}`);
  assertArrayClose(std(reduceFeatureMapsCpu(data, shape)), std(ref), 0, 1e-6);
  await withGpu(async (ctx) => {
    for (const small of [0, 1 << 30]) {
      const gpu = await reduceFeatureMapsGpu(ctx, data, shape, { smallMapThreshold: small });
      assertArrayClose(std(gpu), std(ref), 0, 1e-3, `smallMapThreshold ${small}`);
    }
  });
});

Deno.test("the WebGPU kernel gives zero/constant maps std 0 and com 0.5, ties the exact max", async () => {
  await withGpu(async (ctx) => {
    const data = new Float32Array([
      ...new Float32Array(9),
      ...new Float32Array(9).fill(-2),
      ...[2, -1, 2, 0, 2, -3, 1, 1, 0],
    ]);
    for (const small of [0, 100]) {
      const out = await reduceFeatureMapsGpu(ctx, data, [1, 3, 3, 3], { smallMapThreshold: small });
      assertEquals(Array.from(out.subarray(0, 3)), [0, -2, 2]);
      assertEquals(Array.from(out.subarray(6, 11)), [0, 0, out[8], 0.5, 0.5]);
    }
  });
});

Deno.test("the WebGPU kernel splits inputs over an artificially small binding limit, from arrays and GPU buffers", async () => {
  await withGpu(async (ctx) => {
    const align = ctx.limits.minStorageBufferOffsetAlignment;
    for (const shape of [[7, 3, 3, 3], [5, 11, 1, 1], [3, 13, 5, 7]]) {
      const total = shape.reduce((a, b) => a * b);
      const data = activations(300 + total, total);
      const buffer = ctx.upload(data, "test input");
      try {
        for (const com of ["flat", "xy"] as const) {
          const whole = await reduceFeatureMapsGpu(ctx, data, shape, { com });
          const dim = codeDimension(shape, com);
          const limit = 2 * dim * 4 + 2 * align; // about the smallest that works
          assert(Math.max(total, shape[0] * dim) * 4 > limit, "the test must need several chunks");
          for (const input of [data, buffer]) {
            const split = await reduceFeatureMapsGpu(ctx, input, shape, {
              com,
              maxBindingBytes: limit,
            });
            // Each map is reduced by the same arithmetic whatever the chunk: bit-identical.
            assertEquals(split, whole, `${shape} ${com} ${input === data ? "array" : "buffer"}`);
          }
          assertArrayClose(
            whole,
            reduceFeatureMapsReference(data, shape, { com }),
            GPU_ABS,
            GPU_REL,
          );
        }
      } finally {
        ctx.release(buffer);
      }
    }
  });
});

Deno.test("the WebGPU kernel reports NaN/±Inf with example and channel, also when split or read from a buffer", async () => {
  await withGpu(async (ctx) => {
    const shape = [5, 20, 3, 3];
    for (const [value, word] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
      const data = activations(9, 900);
      data[(3 * 20 + 17) * 9 + 4] = value as number;
      data[(4 * 20 + 2) * 9] = NaN;
      const buffer = ctx.upload(data, "test input");
      try {
        for (const input of [data, buffer]) {
          for (const opts of [{}, { smallMapThreshold: 0 }, { maxBindingBytes: 1024 }]) {
            await assertRejects(
              () => reduceFeatureMapsGpu(ctx, input, shape, opts),
              DataFormatError,
              `Cannot reduce feature maps: example 3 channel 17 contains ${word}`,
            );
          }
        }
      } finally {
        ctx.release(buffer);
      }
    }
    const codes = new Float32Array(12);
    codes[7] = Infinity;
    await assertRejects(
      () => reduceFeatureMapsGpu(ctx, codes, [3, 4]),
      DataFormatError,
      "example 1 column 3 contains Infinity",
    );
  });
});

Deno.test("GPU-buffer input feeds every backend; the buffer variant leaves codes on the GPU", async () => {
  await withGpu(async (ctx) => {
    const shape = [4, 7, 3, 11];
    const data = activations(17, 4 * 7 * 33);
    const buffer = ctx.upload(data, "test input");
    try {
      const ref = reduceFeatureMapsReference(data, shape);
      assertEquals(
        await reduceFeatureMaps(buffer, shape, { backend: "cpu", ctx }),
        reduceFeatureMapsCpu(data, shape),
      );
      assertEquals(await reduceFeatureMaps(buffer, shape, { backend: "reference", ctx }), ref);
      const gpu = await reduceFeatureMaps(buffer, shape, { backend: "webgpu", ctx });
      assertArrayClose(gpu, ref, GPU_ABS, GPU_REL);
      const left = await reduceFeatureMapsGpuToBuffer(ctx, buffer, shape);
      assertEquals(left.shape, [4, 28]);
      assertEquals(new Float32Array(await ctx.read(left.buffer, 4 * 28 * 4)), gpu);
      ctx.release(left.buffer);
      // Rank 2 on the GPU: a finite copy.
      assertEquals(await reduceFeatureMapsGpu(ctx, buffer, [12, 77]), data);
      await assertRejects(
        () => reduceFeatureMapsGpu(ctx, buffer, [4, 7, 3, 12]),
        RangeError,
        "needs 4032",
      );
      await assertRejects(
        () => reduceFeatureMaps(buffer, shape, { backend: "cpu" }),
        TypeError,
        "needs options.ctx",
      );
      // auto on a fallback adapter is the CPU path (bit-identical to it).
      if (ctx.adapter.isFallbackAdapter) {
        assertEquals(
          await reduceFeatureMaps(data, shape, { ctx }),
          reduceFeatureMapsCpu(data, shape),
        );
      }
      assertEquals((await reduceFeatureMapsGpu(ctx, new Float32Array(0), [0, 3, 2, 2])).length, 0);
    } finally {
      ctx.release(buffer);
    }
  });
});
