/**
 * Struct layouts shared by TypeScript and WGSL, defined once on the TypeScript side as a table of
 * `(name, scalar type)` fields in WGSL order, and packed into the bytes a uniform or storage
 * buffer holds. Every field is a 4-byte scalar (`u32`, `i32`, `f32`), so WGSL places field `i`
 * at byte `4i` and an array element of the struct at a stride of `4·fields` rounded up to the
 * struct's alignment (4, or 16 inside a uniform array). `tests/wgsl_layout_test.ts` parses each
 * kernel's WGSL `struct` and checks it against its table, so the two cannot drift apart.
 *
 * @module
 */

/** A 4-byte WGSL scalar type. */
export type WgslScalar = "u32" | "i32" | "f32";

/** A struct of 4-byte scalars: its WGSL name and its fields in declaration order. */
export interface StructLayout {
  /** The WGSL struct name. */
  readonly name: string;
  /** `[field name as in WGSL, type]`, in declaration order. */
  readonly fields: readonly (readonly [string, WgslScalar])[];
  /** Bytes of one struct: `4 · fields.length`. */
  readonly bytes: number;
}

/**
 * Declares a layout.
 *
 * @param name The WGSL struct name.
 * @param fields `[name, type]` pairs in WGSL declaration order.
 * @returns The layout.
 * @throws {RangeError} On an empty or repeated field name.
 *
 * @example
 * ```ts
 * import { structLayout } from "./layout.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(structLayout("P", [["a", "u32"], ["b", "f32"]]).bytes, 8);
 * ```
 */
export function structLayout(
  name: string,
  fields: readonly (readonly [string, WgslScalar])[],
): StructLayout {
  const seen = new Set<string>();
  for (const [f] of fields) {
    if (!f || seen.has(f)) {
      throw new RangeError(`Cannot declare struct ${name}: field name "${f}" is empty or repeated`);
    }
    seen.add(f);
  }
  return Object.freeze({ name, fields: Object.freeze([...fields]), bytes: 4 * fields.length });
}

/**
 * Packs structs into bytes: element `i` of `values` at byte `i · stride`, field `j` at `4j`
 * within it. Missing fields (e.g. padding) are zero; booleans become 0/1.
 *
 * @param layout The layout.
 * @param values One record per struct, keyed by field name.
 * @param stride Bytes per element. Default `layout.bytes`.
 * @returns The bytes (at least one element's worth, zeroed when `values` is empty).
 * @throws {RangeError} On a key that is not a field of the layout.
 *
 * @example
 * ```ts
 * import { packStructs, structLayout } from "./layout.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const L = structLayout("P", [["n", "u32"], ["x", "f32"]]);
 * const b = packStructs(L, [{ n: 3, x: 0.5 }]);
 * assertEquals([new Uint32Array(b)[0], new Float32Array(b)[1]], [3, 0.5]);
 * ```
 */
export function packStructs(
  layout: StructLayout,
  values: readonly Readonly<Record<string, number | boolean>>[],
  stride: number = layout.bytes,
): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(1, values.length) * stride);
  const u = new Uint32Array(buf), i32 = new Int32Array(buf), f = new Float32Array(buf);
  const index = new Map(layout.fields.map(([name, type], j) => [name, { j, type }]));
  values.forEach((v, e) => {
    const base = (e * stride) / 4;
    for (const key of Object.keys(v)) {
      const field = index.get(key);
      if (!field) {
        throw new RangeError(
          `Cannot pack struct ${layout.name}: "${key}" is not a field (fields: ${
            layout.fields.map(([n]) => n).join(", ")
          })`,
        );
      }
      const x = Number(v[key]);
      if (field.type === "f32") f[base + field.j] = x;
      else if (field.type === "i32") i32[base + field.j] = x;
      else u[base + field.j] = x;
    }
  });
  return buf;
}
