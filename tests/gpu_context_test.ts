import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { GpuContext, GpuValidationError } from "../mod.ts";
import { gpuContextOrSkip } from "./gpu_helper.ts";

Deno.test("GpuContext reports adapter facts and runs a kernel with override constants", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  try {
    assert(typeof ctx.adapter.isFallbackAdapter === "boolean");
    assert(ctx.adapter.maxStorageBufferBindingSize > 0);
    const code = `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
override ADD: f32 = 0.0;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&a)) { a[g.x] = a[g.x] * 2.0 + ADD; }
}`;
    const p1 = await ctx.pipeline("double_add", code, { ADD: 1 });
    assert(p1 === await ctx.pipeline("double_add", code, { ADD: 1 }), "pipeline is cached");
    const buf = ctx.upload(new Float32Array([1, 2, 3, 4, 5]), "x");
    await ctx.dispatch("double_add", [{
      pipeline: p1,
      entries: [{ binding: 0, resource: { buffer: buf, size: 20 } }],
      workgroups: [1],
    }]);
    assertEquals(Array.from(new Float32Array(await ctx.read(buf, 20))), [3, 5, 7, 9, 11]);
    ctx.release(buf);
  } finally {
    ctx.dispose();
  }
});

Deno.test("GpuContext turns WGSL compile errors into GpuValidationError", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  try {
    await assertRejects(() => ctx.pipeline("broken", "fn main( {"), GpuValidationError, "broken");
  } finally {
    ctx.dispose();
  }
});

Deno.test("GpuContext can wrap an existing device without destroying it", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  const shared = await GpuContext.create({ device: ctx.device });
  shared.dispose();
  assert(!ctx.lost, "disposing a wrapping context must not destroy the device");
  ctx.dispose();
});
