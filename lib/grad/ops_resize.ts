/**
 * The Resize gradient. With static shapes every ONNX Resize mode (nearest, linear, cubic) is
 * separable: along each resized axis the output is `R·x` for a constant out×in matrix R, so the
 * gradient is `Rᵀ·g` axis by axis, emitted as MatMuls with R built here exactly as the ONNX spec
 * (and onnxruntime) define the coordinate transformation, the nearest rounding, edge clamping and
 * the cubic kernel.
 *
 * @module
 */

import { getAttr, type NodeLike } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { resizeShape } from "./shapes.ts";
import { emit1, type GradRule, ints } from "./rule_kit.ts";

/** The source coordinate of output index `o` on one axis (ONNX `coordinate_transformation_mode`). */
function _source(mode: string, o: number, scale: number, len: number, out: number): number {
  switch (mode) {
    case "half_pixel":
      return (o + 0.5) / scale - 0.5;
    case "half_pixel_symmetric": {
      const adj = out / (scale * len), offset = (len * (1 - adj)) / 2;
      return offset + (o + 0.5) / scale - 0.5;
    }
    case "pytorch_half_pixel":
      return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case "align_corners":
      return out === 1 ? 0 : (o * (len - 1)) / (out - 1);
    case "asymmetric":
      return o / scale;
    case "tf_half_pixel_for_nn":
      return (o + 0.5) / scale;
  }
  throw new ModelFormatError(
    `Cannot differentiate Resize: coordinate_transformation_mode ${mode} is not supported`,
  );
}

function _nearest(mode: string, x: number): number {
  switch (mode) {
    case "round_prefer_floor":
      return x % 1 === 0.5 || x % 1 === -0.5 ? Math.floor(x) : Math.round(x);
    case "round_prefer_ceil":
      return Math.round(x);
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
  }
  throw new ModelFormatError(`Cannot differentiate Resize: nearest_mode ${mode} is not supported`);
}

function _cubic(a: number, r: number): number[] {
  const w = (t: number) => {
    const u = Math.abs(t);
    if (u <= 1) return ((a + 2) * u - (a + 3)) * u * u + 1;
    if (u < 2) return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
    return 0;
  };
  return [w(r + 1), w(r), w(1 - r), w(2 - r)];
}

/**
 * The out×in interpolation matrix of one axis (row-major), as onnxruntime computes Resize.
 *
 * @param p The Resize node (attributes).
 * @param len Input length of the axis.
 * @param out Output length.
 * @param scale The scale of the axis (given, or out/len when sizes were given).
 * @returns `out × len` weights.
 */
export function resizeMatrix(p: NodeLike, len: number, out: number, scale: number): Float64Array {
  const mode = getAttr<string>(p, "mode", "nearest");
  const ct = getAttr<string>(p, "coordinate_transformation_mode", "half_pixel");
  const R = new Float64Array(out * len);
  const clamp = (i: number) => Math.min(Math.max(i, 0), len - 1);
  for (let o = 0; o < out; o++) {
    const x = _source(ct, o, scale, len, out);
    if (mode === "nearest") {
      R[o * len + clamp(_nearest(getAttr<string>(p, "nearest_mode", "round_prefer_floor"), x))] = 1;
    } else if (mode === "linear") {
      const xc = Math.min(Math.max(x, 0), len - 1), i0 = Math.floor(xc), r = xc - i0;
      R[o * len + i0] += 1 - r;
      R[o * len + clamp(i0 + 1)] += r;
    } else if (mode === "cubic") {
      const i0 = Math.floor(x), w = _cubic(getAttr<number>(p, "cubic_coeff_a", -0.75), x - i0);
      const excl = getAttr<number>(p, "exclude_outside", 0) === 1;
      let sum = 0;
      for (let k = 0; k < 4; k++) {
        const i = i0 - 1 + k;
        if (excl && (i < 0 || i >= len)) continue;
        R[o * len + clamp(i)] += w[k];
        sum += w[k];
      }
      if (excl) { for (let i = 0; i < len; i++) R[o * len + i] /= sum; }
    } else {
      throw new ModelFormatError(
        `Cannot differentiate Resize: mode ${mode} is not supported (nearest, linear, cubic)`,
      );
    }
  }
  return R;
}

const _resize: GradRule = (n, dY, b) => {
  const p = n.proto, x = b.shape(n.inputs[0]), r = x.length;
  if (getAttr<number>(p, "antialias", 0) !== 0) {
    throw new ModelFormatError(`Cannot differentiate Resize ${n.name}: antialias is set`);
  }
  const c = (i: number) => {
    const k = n.inputs[i] ? b.constOf(n.inputs[i]) : undefined;
    return k ? ints(k) : undefined;
  };
  const scales = c(2), sizes = c(3);
  const y = resizeShape(p, x, scales, sizes);
  const axes = getAttr<number[] | undefined>(p, "axes", undefined)?.map((a) => (a < 0 ? a + r : a));
  const scaleOf = (a: number) => {
    if (sizes && sizes.length) return y[a] / x[a];
    const k = axes ? axes.indexOf(a) : a;
    return k >= 0 && scales && k < scales.length ? scales[k] : 1;
  };
  let g = dY[0]!, cur = [...y];
  for (let a = r - 1; a >= 0; a--) {
    const R = resizeMatrix(p, x[a], y[a], scaleOf(a));
    if (y[a] === x[a] && R.every((v, k) => v === (Math.floor(k / x[a]) === k % x[a] ? 1 : 0))) {
      continue; // identity along this axis
    }
    const to = cur.map((d, i) => (i === a ? x[a] : d));
    if (a === r - 1) {
      g = emit1(b, "MatMul", [g, b.f32(R, [y[a], x[a]])], {}, to);
    } else if (a === r - 2) {
      g = emit1(b, "MatMul", [b.f32(_transposed(R, y[a], x[a]), [x[a], y[a]]), g], {}, to);
    } else {
      const perm = [...Array(r).keys()].map((i) => (i === a ? r - 1 : i === r - 1 ? a : i));
      const t = emit1(b, "Transpose", [g], { perm }, perm.map((q) => cur[q]));
      const m = emit1(b, "MatMul", [t, b.f32(R, [y[a], x[a]])], {}, perm.map((q) => to[q]));
      g = emit1(b, "Transpose", [m], { perm }, to);
    }
    cur = to;
  }
  return [g];
};

function _transposed(R: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(R.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = R[i * cols + j];
  return t;
}

/** Resize's rule. */
export const RESIZE_RULES: Readonly<Record<string, GradRule>> = Object.freeze({ Resize: _resize });
