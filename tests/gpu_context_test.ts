import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { GpuContext, gpuPolicy, GpuValidationError } from "../mod.ts";
import { gpuContextOrSkip, withGpu } from "./gpu_helper.ts";

Deno.test("GpuContext reports adapter facts and runs a kernel with override constants", async () => {
  await withGpu(async (ctx) => {
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
  });
});

Deno.test("GpuContext turns WGSL compile errors into GpuValidationError", async () => {
  await withGpu(async (ctx) => {
    await assertRejects(() => ctx.pipeline("broken", "fn main( {"), GpuValidationError, "broken");
  });
});

Deno.test("GpuContext can wrap an existing device without destroying it", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  const shared = await GpuContext.create({ device: ctx.device });
  shared.dispose();
  assert(!ctx.lost, "disposing a wrapping context must not destroy the device");
  ctx.dispose();
});

Deno.test("gpuPolicy(): WGSL exactly on a hardware adapter, with the reason; none without a context", async () => {
  assertEquals(gpuPolicy(undefined), { wgsl: false, reason: "no GPU context" });
  await withGpu(async (ctx) => {
    const p = gpuPolicy(ctx);
    assertEquals(p.wgsl, !ctx.adapter.isFallbackAdapter);
    assert(p.reason.startsWith(p.wgsl ? "hardware adapter (" : "software adapter ("), p.reason);
    assert(p.reason.includes(ctx.adapter.description), p.reason);
    const auto = await GpuContext.auto();
    assert(auto.ctx !== undefined, "an adapter exists, so auto makes a context");
    assertEquals(auto.policy, gpuPolicy(auto.ctx));
    auto.ctx!.dispose();
  });
});

Deno.test("readMany() reads several buffer ranges back in one call, offsets and odd sizes included", async () => {
  await withGpu(async (ctx) => {
    const a = ctx.upload(new Float32Array([1, 2, 3, 4]), "a");
    const b = ctx.upload(new Uint8Array([9, 8, 7, 6, 5]), "b");
    const [x, y, z] = await ctx.readMany([
      { buffer: a, byteLength: 8, byteOffset: 8 },
      { buffer: b, byteLength: 5 },
      { buffer: a, byteLength: 0 },
    ]);
    assertEquals(Array.from(new Float32Array(x)), [3, 4]);
    assertEquals(Array.from(new Uint8Array(y)), [9, 8, 7, 6, 5]);
    assertEquals(z.byteLength, 0);
    ctx.release(a, b);
  });
});

Deno.test("a lease gives its buffers back to the pool when its block ends, also on an error", async () => {
  await withGpu(async (ctx) => {
    let held: GPUBuffer | undefined;
    let uniform: GPUBuffer | undefined;
    try {
      using own = ctx.lease();
      held = own.upload(new Float32Array(12), "leased");
      uniform = own.uniform(new Uint32Array(4), "leased uniform");
      throw new Error("kernel failed");
    } catch (e) {
      assertEquals((e as Error).message, "kernel failed");
    }
    // The pooled buffer is reused by the next acquire of the same size …
    const again = ctx.acquire(48, "again");
    assert(again === held, "the leased buffer went back to the pool");
    ctx.release(again);
    // … and the uniform was destroyed: binding it now is a validation error.
    const code = `@group(0) @binding(0) var<uniform> u: vec4u;
@group(0) @binding(1) var<storage, read_write> o: array<u32>;
@compute @workgroup_size(1) fn main() { o[0] = u.x; }`;
    const p = await ctx.pipeline("lease_probe", code);
    const out = ctx.acquire(16, "out");
    await assertRejects(
      () =>
        ctx.dispatch("lease_probe", [{
          pipeline: p,
          entries: [{ binding: 0, resource: { buffer: uniform! } }, {
            binding: 1,
            resource: { buffer: out },
          }],
          workgroups: [1],
        }]),
      GpuValidationError,
    );
    ctx.release(out);
  });
});

Deno.test("a GPU context prints nothing on stderr without XDG_RUNTIME_DIR: Mesa gets a private 0700 dir, removed at exit", async () => {
  if (!(await gpuContextOrSkip().then((c) => (c?.dispose(), c !== undefined)))) return;
  for (const xdg of [undefined, "", "relative/dir", "/nonexistent/somscope"]) {
    const env = Deno.env.toObject();
    delete env.XDG_RUNTIME_DIR;
    if (xdg !== undefined) env.XDG_RUNTIME_DIR = xdg;
    const cmd = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./gpu_runtime_dir_child.ts", import.meta.url).pathname],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertEquals(stderr, "", `XDG_RUNTIME_DIR=${JSON.stringify(xdg)}: stderr must be empty`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    const tmp = Deno.realPathSync(Deno.env.get("TMPDIR") ?? "/tmp");
    assert(r.dir.startsWith(`${tmp}/somscope-runtime-`), r.dir);
    assertEquals(r.mode, 0o700);
    assert(!(await Deno.stat(r.dir).then(() => true, () => false)), `${r.dir} was not removed`);
  }
  // A valid XDG_RUNTIME_DIR is kept as it is.
  const mine = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./gpu_runtime_dir_child.ts", import.meta.url).pathname],
      env: { XDG_RUNTIME_DIR: mine },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(out.stderr), "");
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout).trim()).dir, mine);
  } finally {
    await Deno.remove(mine, { recursive: true });
  }
});
