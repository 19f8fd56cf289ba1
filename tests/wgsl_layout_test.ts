// Every TypeScript table of a uniform/storage struct layout against the WGSL struct it packs:
// the WGSL is parsed, so a field added, removed, renamed, retyped or reordered on either side
// fails here. Also: the SOM kernels' size overrides have no WGSL defaults and are exactly the
// keys TypeScript sets.

import { assertEquals } from "./asserts.ts";
import type { StructLayout } from "../lib/gpu/layout.ts";
import { SOM_BATCH, SOM_DIMS, SOM_KERNEL_SIZES } from "../lib/som/webgpu_backend.ts";
import { TORUS_PARAMS } from "../lib/geometry/torus.ts";
import { COSINE_PARAMS } from "../lib/geometry/cosine.ts";
import { _PARAM_FIELDS } from "../lib/codes/feature_map_reduce.ts";

const shader = (name: string) => Deno.readTextFile(new URL(`../shaders/${name}`, import.meta.url));

/** `[field, type]` of `struct name { … }` in WGSL source (comments stripped). */
function wgslStruct(src: string, name: string): [string, string][] {
  const code = src.replace(/\/\/[^\n]*/g, "");
  const m = code.match(new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`));
  if (!m) throw new Error(`struct ${name} not found`);
  return m[1].split(",").map((f) => f.trim()).filter(Boolean).map((f) => {
    const [field, type] = f.split(":").map((x) => x.trim());
    return [field, type];
  });
}

/** Override constants declared without a default. */
function requiredOverrides(src: string): string[] {
  const code = src.replace(/\/\/[^\n]*/g, "");
  return [...code.matchAll(/override\s+(\w+)\s*:\s*\w+\s*;/g)].map((m) => m[1]).sort();
}

function check(layout: StructLayout, src: string): void {
  const fields = wgslStruct(src, layout.name);
  assertEquals(fields, layout.fields.map(([n, t]) => [n, t]), `struct ${layout.name}`);
  // All 4-byte scalars, so field i is at byte 4i and the struct is 4·fields bytes.
  for (const [, t] of fields) assertEquals(["u32", "i32", "f32"].includes(t), true, t);
  assertEquals(layout.bytes, 4 * fields.length);
}

Deno.test("SOM Dims and Batch tables match the structs of shaders/som_common.wgsl", async () => {
  const src = await shader("som_common.wgsl");
  check(SOM_DIMS, src);
  check(SOM_BATCH, src);
  assertEquals(SOM_BATCH.bytes, 16, "the batch table is indexed with a 16-byte stride");
});

Deno.test("torus_distances and cosine_matrix Params tables match their WGSL structs", async () => {
  check(TORUS_PARAMS, await shader("torus_distances.wgsl"));
  check(COSINE_PARAMS, await shader("cosine_matrix.wgsl"));
});

Deno.test("feature_map_reduce's Params field list matches its WGSL struct (all u32)", async () => {
  const fields = wgslStruct(await shader("feature_map_reduce.wgsl"), "Params");
  const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  assertEquals(fields, _PARAM_FIELDS.map((f) => [snake(f), "u32"]));
});

Deno.test("the SOM kernels' size overrides have no WGSL default and are the ones TypeScript sets", async () => {
  const common = await shader("som_common.wgsl");
  const bmu = requiredOverrides(common + (await shader("som_bmu.wgsl")));
  const update = requiredOverrides(common + (await shader("som_update.wgsl")));
  assertEquals([...new Set([...bmu, ...update])].sort(), Object.keys(SOM_KERNEL_SIZES).sort());
  assertEquals(bmu, ["ROWS", "WG"]);
  assertEquals(update, ["COLS", "WG"]);
});

Deno.test("the test's WGSL struct parser reads fields, types and ignores comments", () => {
  const src = "struct P {\n  a: u32, // x: f32,\n  b_c: f32,\n}\n";
  assertEquals(wgslStruct(src, "P"), [["a", "u32"], ["b_c", "f32"]]);
  assertEquals(requiredOverrides("override A: u32;\noverride B: u32 = 1u;\n// override C: u32;"), [
    "A",
  ]);
});
