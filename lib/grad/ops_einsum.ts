/**
 * The Einsum gradient: for operand i, ∂L/∂Aᵢ is itself an Einsum of the output gradient with the
 * other operands, producing Aᵢ's subscripts; subscripts only Aᵢ has (summed inside Aᵢ alone) are
 * broadcast back, and axes where Aᵢ broadcasts (size 1 against n) are summed.
 *
 * @module
 */

import { getAttr } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { parseEinsum } from "./shapes.ts";
import { emit1, type GradRule } from "./rule_kit.ts";

const _LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const _einsum: GradRule = (n, dY, b) => {
  const sh = n.inputs.map((t) => b.shape(t)), y = b.shape(n.outputs[0]);
  const eq = getAttr<string>(n.proto, "equation", "");
  const spec = parseEinsum(eq, sh.map((s) => s.length));
  // Ellipsis placeholders become letters the equation does not use (ONNX needs a–z, A–Z).
  const used = new Set([...spec.inputs.join(""), ...spec.output]);
  const free = [..._LETTERS].filter((c) => !used.has(c));
  const map = new Map<string, string>();
  const letter = (c: string) => {
    if (c.charCodeAt(0) < 0xe000) return c;
    if (!map.has(c)) map.set(c, free[map.size]);
    return map.get(c)!;
  };
  const subs = spec.inputs.map((t) => [...t].map(letter).join(""));
  const out = [...spec.output].map(letter).join("");
  const size = new Map<string, number>();
  [...out].forEach((c, k) => size.set(c, y[k]));
  subs.forEach((t, i) =>
    [...t].forEach((c, k) => size.set(c, Math.max(size.get(c) ?? 1, sh[i][k])))
  );
  // The other operands, expanded where they broadcast, so every subscript has one size.
  const full = (i: number) => {
    const want = [...subs[i]].map((c) => size.get(c)!);
    return want.every((d, k) => d === sh[i][k])
      ? n.inputs[i]
      : emit1(b, "Expand", [n.inputs[i], b.i64(want)], {}, want);
  };
  return n.inputs.map((t, i) => {
    if (!b.live(t)) return undefined;
    const s = subs[i];
    if (new Set(s).size !== s.length) {
      throw new ModelFormatError(
        `Cannot differentiate Einsum ${n.name}: operand ${i} repeats a subscript in "${eq}" ` +
          "(diagonals and traces are not supported)",
      );
    }
    const others = n.inputs.map((_, j) => j).filter((j) => j !== i);
    const seen = new Set([...out, ...others.flatMap((j) => [...subs[j]])]);
    const keep = [...s].filter((c) => seen.has(c)).join("");
    const keepShape = [...keep].map((c) => size.get(c)!);
    let g = emit1(
      b,
      "Einsum",
      [dY[0]!, ...others.map(full)],
      { equation: `${[out, ...others.map((j) => subs[j])].join(",")}->${keep}` },
      keepShape,
    );
    const fullShape = [...s].map((c) => size.get(c)!);
    if (keep.length < s.length) {
      const missing = [...s].map((c, k) => (seen.has(c) ? -1 : k)).filter((k) => k >= 0);
      const u = emit1(
        b,
        "Unsqueeze",
        [g, b.i64(missing)],
        {},
        fullShape.map((d, k) => (missing.includes(k) ? 1 : d)),
      );
      g = emit1(b, "Expand", [u, b.i64(fullShape)], {}, fullShape);
    }
    return b.reduceTo(g, fullShape, sh[i]);
  });
};

/** Einsum's rule. */
export const EINSUM_RULES: Readonly<Record<string, GradRule>> = Object.freeze({ Einsum: _einsum });
