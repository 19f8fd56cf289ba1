/**
 * Shape inference for prepared graphs: numpy broadcasting, Conv/pool window geometry, the shape
 * rules of Reshape, Squeeze/Unsqueeze and Slice, and {@linkcode inferShapes}, which gives every
 * output shape of a float node from its input shapes and constant inputs. The gradient rules in
 * `ops.ts` use the same helpers (broadcast axes, `output_padding`, Reshape targets).
 *
 * @module
 */

import { getAttr, type NodeLike } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { type Const, constValues, type PreparedNode } from "./graph.ts";

/** Number of elements of a shape. */
export function numel(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Broadcasts shapes with numpy rules. */
export function broadcastShapes(a: number[], b: number[], where = "broadcast"): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ModelFormatError(
        `Cannot prepare graph: ${where} shapes [${a}] and [${b}] do not broadcast`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Row-major strides of a shape. */
export function strides(dims: number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** A possibly negative axis as an index into a rank-`r` shape. */
export function normAxis(a: number, r: number): number {
  return a < 0 ? a + r : a;
}

/** Conv/pool output spatial sizes and explicit pads, from attributes. */
export function windowGeometry(
  node: NodeLike,
  inSpatial: number[],
  kernel: number[],
): { pads: number[]; strides: number[]; dilations: number[]; out: number[] } {
  const k = kernel.length;
  const strides = getAttr<number[]>(node, "strides", new Array(k).fill(1));
  const dilations = getAttr<number[]>(node, "dilations", new Array(k).fill(1));
  let pads = getAttr<number[]>(node, "pads", new Array(2 * k).fill(0));
  const autoPad = getAttr<string>(node, "auto_pad", "NOTSET");
  const ceil = getAttr<number>(node, "ceil_mode", 0) === 1;
  if (autoPad === "VALID") pads = new Array(2 * k).fill(0);
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    pads = new Array(2 * k).fill(0);
    for (let i = 0; i < k; i++) {
      const o = Math.ceil(inSpatial[i] / strides[i]);
      const total = Math.max(
        0,
        (o - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - inSpatial[i],
      );
      const small = Math.floor(total / 2);
      pads[i] = autoPad === "SAME_UPPER" ? small : total - small;
      pads[i + k] = total - pads[i];
    }
  }
  const out = inSpatial.map((h, i) => {
    const span = h + pads[i] + pads[i + k] - dilations[i] * (kernel[i] - 1) - 1;
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ONNX/torch: the last window must start inside the input or left padding.
    if (ceil && (o - 1) * strides[i] >= h + pads[i]) o--;
    return o;
  });
  return { pads, strides, dilations, out };
}

/** Output shape of Squeeze/Unsqueeze. */
export function squeezeDims(op: string, dims: number[], axes: number[] | undefined): number[] {
  if (op === "Squeeze") {
    const ax = (axes ?? dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0))
      .map((a) => normAxis(a, dims.length));
    return dims.filter((_, i) => !ax.includes(i));
  }
  const r = dims.length + axes!.length;
  const ax = axes!.map((a) => normAxis(a, r));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(ax.includes(i) ? 1 : dims[k++]);
  return out;
}

/** Output shape of Reshape (0 copies, −1 infers). */
export function reshapeDims(dims: number[], shape: number[], allowzero = 0): number[] {
  const out = shape.map((s, i) => (s === 0 && !allowzero ? dims[i] : s));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = numel(out.filter((_, i) => i !== neg));
    out[neg] = known === 0 ? 0 : numel(dims) / known;
  }
  if (numel(out) !== numel(dims) || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelFormatError(`Cannot reshape [${dims}] to [${shape}]: element counts differ`);
  }
  return out;
}

/** Per-axis slice parameters (start, step, length) for every axis of `dims`. */
export function sliceParams(
  dims: number[],
  starts: number[],
  ends: number[],
  axes?: number[],
  steps?: number[],
): { start: number; step: number; len: number }[] {
  const r = dims.length;
  const out = dims.map((d) => ({ start: 0, step: 1, len: d }));
  (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
    const a = normAxis(a0, r), d = dims[a];
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new ModelFormatError("Cannot slice: a step is 0");
    let s = starts[i], e = ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const len = Math.max(0, Math.ceil((e - s) / step));
    out[a] = { start: s, step, len };
  });
  return out;
}

/**
 * Infers the output shapes of a float node from its input shapes and constant inputs.
 *
 * @param n The node.
 * @param shapeOf Shape of a tensor.
 * @param constOf Constant of a tensor, if it is one.
 * @param name Model name for messages.
 * @returns One shape per output.
 * @throws {ModelFormatError} For an op whose shape rule is unknown (the op is then unsupported).
 */
export function inferShapes(
  n: PreparedNode,
  shapeOf: (t: string) => number[],
  constOf: (t: string) => Const | undefined,
  name = "model",
): number[][] {
  const p = n.proto, s0 = () => shapeOf(n.inputs[0]);
  const ints = (i: number) => Array.from(constValues(_needConst(n, i, constOf)), Number);
  switch (n.op) {
    case "Relu":
    case "Erf":
    case "Sqrt":
    case "Tanh":
    case "Sigmoid":
    case "Neg":
    case "Exp":
    case "Abs":
    case "Softmax":
    case "LogSoftmax":
    case "LayerNormalization":
    case "BatchNormalization":
    case "Cast":
    case "Identity":
    case "Dropout":
    case "Clip":
    case "LeakyRelu":
    case "Reciprocal":
      return n.outputs.map(() => s0());
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Pow":
    case "Max":
    case "Min":
    case "Equal":
    case "Less":
    case "Greater":
      return [broadcastShapes(s0(), shapeOf(n.inputs[1]), `${n.op} ${n.name}`)];
    case "Where":
      return [broadcastShapes(broadcastShapes(s0(), shapeOf(n.inputs[1])), shapeOf(n.inputs[2]))];
    case "Sum": {
      return [n.inputs.map(shapeOf).reduce((a, b) => broadcastShapes(a, b))];
    }
    case "Conv": {
      const x = s0(), w = shapeOf(n.inputs[1]);
      const geo = windowGeometry(p, x.slice(2), w.slice(2));
      return [[x[0], w[0], ...geo.out]];
    }
    case "MaxPool":
    case "AveragePool": {
      const x = s0();
      const geo = windowGeometry(p, x.slice(2), getAttr<number[]>(p, "kernel_shape", []));
      return n.outputs.map(() => [x[0], x[1], ...geo.out]);
    }
    case "GlobalAveragePool":
    case "GlobalMaxPool": {
      const x = s0();
      return [[x[0], x[1], ...x.slice(2).map(() => 1)]];
    }
    case "Pad": {
      const x = s0();
      const pads = n.inputs[1] ? ints(1) : getAttr<number[]>(p, "pads", []);
      const r = x.length;
      const axes = n.inputs[3] ? ints(3).map((a) => normAxis(a, r)) : [...Array(r).keys()];
      const out = [...x];
      axes.forEach((a, i) => (out[a] += pads[i] + pads[i + axes.length]));
      return [out];
    }
    case "Flatten": {
      const x = s0(), ax = normAxis(getAttr<number>(p, "axis", 1), x.length);
      return [[numel(x.slice(0, ax)), numel(x.slice(ax))]];
    }
    case "Reshape":
      return [reshapeDims(s0(), ints(1), getAttr(p, "allowzero", 0))];
    case "Squeeze":
    case "Unsqueeze":
      return [squeezeDims(n.op, s0(), n.inputs[1] ? ints(1) : getAttr(p, "axes", undefined))];
    case "Expand":
      return [broadcastShapes(s0(), ints(1), `Expand ${n.name}`)];
    case "Gemm": {
      const a = s0(), b = shapeOf(n.inputs[1]);
      const ta = getAttr<number>(p, "transA", 0), tb = getAttr<number>(p, "transB", 0);
      return [[ta ? a[1] : a[0], tb ? b[0] : b[1]]];
    }
    case "MatMul": {
      const a = s0(), b = shapeOf(n.inputs[1]);
      if (a.length < 2 || b.length < 2) {
        throw new ModelFormatError(
          `Cannot differentiate ${name}: MatMul ${n.name} has a 1-D operand ([${a}] × [${b}]); ` +
            "expected rank ≥ 2 operands",
        );
      }
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), `MatMul ${n.name}`);
      return [[...batch, a[a.length - 2], b[b.length - 1]]];
    }
    case "Transpose": {
      const x = s0();
      const perm = getAttr<number[]>(p, "perm", [...Array(x.length).keys()].reverse());
      return [perm.map((q) => x[q])];
    }
    case "Concat": {
      const sh = n.inputs.map(shapeOf);
      const ax = normAxis(getAttr<number>(p, "axis", 0), sh[0].length);
      const out = [...sh[0]];
      out[ax] = sh.reduce((a, s) => a + s[ax], 0);
      return [out];
    }
    case "Split": {
      const x = s0(), ax = normAxis(getAttr<number>(p, "axis", 0), x.length);
      const sizes = n.inputs[1] ? ints(1) : getAttr<number[] | undefined>(p, "split", undefined) ??
        _evenSplit(x[ax], n.outputs.length);
      return sizes.map((s) => x.map((d, i) => (i === ax ? s : d)));
    }
    case "Slice": {
      const sl = sliceParams(
        s0(),
        ints(1),
        ints(2),
        n.inputs[3] ? ints(3) : undefined,
        n.inputs[4] ? ints(4) : undefined,
      );
      return [sl.map((s) => s.len)];
    }
    case "Gather": {
      const x = s0(), ax = normAxis(getAttr<number>(p, "axis", 0), x.length);
      return [[...x.slice(0, ax), ...shapeOf(n.inputs[1]), ...x.slice(ax + 1)]];
    }
    case "ReduceMean":
    case "ReduceSum": {
      const x = s0();
      const axes0 = n.inputs[1] ? ints(1) : getAttr<number[] | undefined>(p, "axes", undefined);
      const axes = (axes0 ?? [...x.keys()]).map((a) => normAxis(a, x.length));
      const keep = getAttr<number>(p, "keepdims", 1);
      return [
        keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)),
      ];
    }
  }
  throw new ModelFormatError(
    `Cannot differentiate ${name}: op ${n.op} (node ${n.name}) is not supported`,
  );
}

function _evenSplit(d: number, k: number): number[] {
  const c = Math.ceil(d / k);
  return Array.from({ length: k }, (_, i) => Math.min(c, d - i * c));
}

function _needConst(n: PreparedNode, i: number, constOf: (t: string) => Const | undefined): Const {
  const c = constOf(n.inputs[i]);
  if (!c) {
    throw new ModelFormatError(
      `Cannot differentiate: input ${i} (${n.inputs[i]}) of ${n.op} node ${n.name} must be a ` +
        "constant after shape folding but depends on the image input",
    );
  }
  return c;
}
