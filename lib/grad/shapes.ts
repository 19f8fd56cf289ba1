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

/** What a shape rule sees: the node, its input shapes and constant inputs. */
export interface ShapeInputs {
  /** The node. */
  n: PreparedNode;
  /** Shape of input i. */
  s(i: number): number[];
  /** Values of constant input i (a `ModelFormatError` if it depends on the image). */
  ints(i: number): number[];
  /** Whether input i is given (not omitted). */
  has(i: number): boolean;
  /** Model name for messages. */
  name: string;
}

/** Output shapes of one op. */
export type ShapeRule = (x: ShapeInputs) => number[][];

/** Ops whose outputs all have the first input's shape. */
const _SAME = [
  "Abs",
  "BatchNormalization",
  "Cast",
  "Ceil",
  "Celu",
  "Clip",
  "Cos",
  "CumSum",
  "Dropout",
  "Elu",
  "Erf",
  "Exp",
  "Floor",
  "Gelu",
  "HardSigmoid",
  "HardSwish",
  "Identity",
  "InstanceNormalization",
  "LayerNormalization",
  "LeakyRelu",
  "Log",
  "LogSoftmax",
  "Mish",
  "Neg",
  "Not",
  "Reciprocal",
  "Relu",
  "Round",
  "ScatterElements",
  "ScatterND",
  "Selu",
  "Sigmoid",
  "Sign",
  "Sin",
  "Softmax",
  "Softplus",
  "Softsign",
  "Sqrt",
  "Tanh",
  "ThresholdedRelu",
];

/** Ops whose output is the numpy broadcast of all inputs. */
const _BROADCAST = [
  "Add",
  "And",
  "Div",
  "Equal",
  "Greater",
  "GreaterOrEqual",
  "Less",
  "LessOrEqual",
  "Max",
  "Mean",
  "Min",
  "Mod",
  "Mul",
  "Or",
  "Pow",
  "PRelu",
  "Sub",
  "Sum",
  "Where",
  "Xor",
];

/** Reductions with `axes` (attribute or input 1), `keepdims` and `noop_with_empty_axes`. */
const _REDUCE = [
  "ReduceL1",
  "ReduceL2",
  "ReduceLogSumExp",
  "ReduceMax",
  "ReduceMean",
  "ReduceMin",
  "ReduceProd",
  "ReduceSum",
  "ReduceSumSquare",
];

/** The axes a reduction node reduces over (all of them when none are given), or none (no-op). */
export function reduceAxes(
  p: NodeLike,
  rank: number,
  axesInput: number[] | undefined,
): number[] {
  const given = axesInput ?? getAttr<number[] | undefined>(p, "axes", undefined);
  if ((!given || given.length === 0) && getAttr<number>(p, "noop_with_empty_axes", 0) === 1) {
    return [];
  }
  return (given && given.length ? given : [...Array(rank).keys()]).map((a) => normAxis(a, rank));
}

function _reduceShape({ n, s, ints, has }: ShapeInputs): number[][] {
  const x = s(0);
  const axes = reduceAxes(n.proto, x.length, has(1) ? ints(1) : undefined);
  const keep = getAttr<number>(n.proto, "keepdims", 1);
  return [
    keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i)),
  ];
}

function _argShape({ n, s }: ShapeInputs): number[][] {
  const x = s(0), ax = normAxis(getAttr<number>(n.proto, "axis", 0), x.length);
  return getAttr<number>(n.proto, "keepdims", 1)
    ? [x.map((d, i) => (i === ax ? 1 : d))]
    : [x.filter((_, i) => i !== ax)];
}

/** A parsed Einsum equation: one letter string per operand and the output's. */
export interface EinsumSpec {
  /** Subscripts per operand, ellipses expanded to letters outside a–z/A–Z. */
  inputs: string[];
  /** Output subscripts. */
  output: string;
}

/**
 * Parses an Einsum equation for operands of the given ranks (spaces ignored; an implicit output
 * is the sorted letters that occur once; `...` becomes per-axis placeholder characters, aligned
 * to the right across operands as numpy broadcasting does).
 *
 * @param equation The `equation` attribute.
 * @param ranks Rank of each operand.
 * @returns Letters per operand and for the output.
 * @throws {ModelFormatError} If the equation does not match the operands.
 */
export function parseEinsum(equation: string, ranks: number[]): EinsumSpec {
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") : [eq, undefined];
  const terms = lhs.split(",");
  if (terms.length !== ranks.length) {
    throw new ModelFormatError(
      `Cannot read Einsum "${equation}": it names ${terms.length} operands but the node has ` +
        `${ranks.length}`,
    );
  }
  const ell = Math.max(
    0,
    ...terms.map((t, i) => (t.includes("...") ? ranks[i] - (t.length - 3) : 0)),
  );
  // Placeholders for broadcast (ellipsis) axes: private-use characters, never equation letters.
  const dots = (k: number) =>
    Array.from({ length: k }, (_, j) => String.fromCharCode(0xe000 + ell - k + j)).join("");
  const inputs = terms.map((t, i) => {
    const e = t.includes("...") ? t.replace("...", dots(ranks[i] - (t.length - 3))) : t;
    if (e.length !== ranks[i]) {
      throw new ModelFormatError(
        `Cannot read Einsum "${equation}": operand ${i} has rank ${ranks[i]} but subscripts "${t}"`,
      );
    }
    return e;
  });
  let output: string;
  if (rhs !== undefined) output = rhs.replace("...", dots(ell));
  else {
    const count = new Map<string, number>();
    for (const c of inputs.join("")) count.set(c, (count.get(c) ?? 0) + 1);
    const once = [...count].filter(([c, k]) => k === 1 && c.charCodeAt(0) < 0xe000).map(([c]) => c);
    output = dots(ell) + once.sort().join("");
  }
  return { inputs, output };
}

function _einsumShape({ n, s, name }: ShapeInputs): number[][] {
  const sh = n.inputs.map((_, i) => s(i));
  const spec = parseEinsum(getAttr<string>(n.proto, "equation", ""), sh.map((x) => x.length));
  const size = new Map<string, number>();
  spec.inputs.forEach((t, i) =>
    [...t].forEach((c, k) => {
      const d = sh[i][k], have = size.get(c);
      if (have !== undefined && have !== d && have !== 1 && d !== 1) {
        throw new ModelFormatError(
          `Cannot differentiate ${name}: Einsum ${n.name} gives subscript ${c} sizes ${have} and ${d}`,
        );
      }
      if (have === undefined || have === 1) size.set(c, d);
    })
  );
  return [[...spec.output].map((c) => size.get(c)!)];
}

/** Output shape of Resize from `scales` (input 2) or `sizes` (input 3). */
export function resizeShape(
  p: NodeLike,
  x: number[],
  scales: number[] | undefined,
  sizes: number[] | undefined,
): number[] {
  const axes = getAttr<number[] | undefined>(p, "axes", undefined)?.map((a) =>
    normAxis(a, x.length)
  );
  const policy = getAttr<string>(p, "keep_aspect_ratio_policy", "stretch");
  if (policy !== "stretch") {
    throw new ModelFormatError(
      `Cannot differentiate Resize: keep_aspect_ratio_policy is ${policy} but only stretch is ` +
        "supported",
    );
  }
  const full = (v: number[], fill: number) => {
    if (!axes) return v;
    const out = x.map(() => fill);
    axes.forEach((a, i) => (out[a] = v[i]));
    return out;
  };
  if (sizes && sizes.length) return full(sizes, 0).map((d, i) => (d === 0 ? x[i] : d));
  const sc = full(scales ?? [], 1);
  if (sc.length !== x.length) {
    throw new ModelFormatError(
      `Cannot differentiate Resize: ${sc.length} scales for a rank-${x.length} input`,
    );
  }
  return x.map((d, i) => Math.floor(d * sc[i] + 1e-9));
}

function _windowShape({ n, s }: ShapeInputs): number[][] {
  const x = s(0);
  const geo = windowGeometry(n.proto, x.slice(2), getAttr<number[]>(n.proto, "kernel_shape", []));
  return n.outputs.map(() => [x[0], x[1], ...geo.out]);
}

function _convTransposeShape({ n, s }: ShapeInputs): number[][] {
  const x = s(0), w = s(1), p = n.proto, k = w.slice(2), r = k.length;
  const group = getAttr<number>(p, "group", 1);
  const st = getAttr<number[]>(p, "strides", new Array(r).fill(1));
  const dil = getAttr<number[]>(p, "dilations", new Array(r).fill(1));
  const pads = getAttr<number[]>(p, "pads", new Array(2 * r).fill(0));
  const op = getAttr<number[]>(p, "output_padding", new Array(r).fill(0));
  const given = getAttr<number[] | undefined>(p, "output_shape", undefined);
  const autoPad = getAttr<string>(p, "auto_pad", "NOTSET");
  if (given || (autoPad !== "NOTSET" && autoPad !== "VALID")) {
    throw new ModelFormatError(
      `Cannot differentiate ConvTranspose ${n.name}: output_shape/auto_pad ${autoPad} are not ` +
        "supported (give pads)",
    );
  }
  const sp = x.slice(2).map((h, i) =>
    st[i] * (h - 1) + op[i] + dil[i] * (k[i] - 1) + 1 - pads[i] - pads[i + r]
  );
  return [[x[0], w[1] * group, ...sp]];
}

/** Shape rules by op type. */
export const SHAPE_RULES: Readonly<Record<string, ShapeRule>> = Object.freeze({
  ...Object.fromEntries(
    _SAME.map((op) => [op, ({ n, s }: ShapeInputs) => n.outputs.map(() => s(0))]),
  ),
  ...Object.fromEntries(_BROADCAST.map((op) => [op, ({ n, s }: ShapeInputs) => [
    n.inputs.map((_, i) => s(i)).reduce((a, b) => broadcastShapes(a, b, `${n.op} ${n.name}`)),
  ]])),
  ...Object.fromEntries(_REDUCE.map((op) => [op, _reduceShape])),
  ArgMax: _argShape,
  ArgMin: _argShape,
  Conv: ({ n, s }) => {
    const x = s(0), w = s(1);
    const geo = windowGeometry(n.proto, x.slice(2), w.slice(2));
    return [[x[0], w[0], ...geo.out]];
  },
  ConvTranspose: _convTransposeShape,
  MaxPool: _windowShape,
  AveragePool: _windowShape,
  GlobalAveragePool: ({ s }) => [[s(0)[0], s(0)[1], ...s(0).slice(2).map(() => 1)]],
  GlobalMaxPool: ({ s }) => [[s(0)[0], s(0)[1], ...s(0).slice(2).map(() => 1)]],
  Pad: ({ n, s, ints, has }) => {
    const x = s(0), r = x.length;
    const pads = has(1) ? ints(1) : getAttr<number[]>(n.proto, "pads", []);
    const axes = has(3) ? ints(3).map((a) => normAxis(a, r)) : [...Array(r).keys()];
    const out = [...x];
    axes.forEach((a, i) => (out[a] += pads[i] + pads[i + axes.length]));
    return [out];
  },
  Flatten: ({ n, s }) => {
    const x = s(0), ax = normAxis(getAttr<number>(n.proto, "axis", 1), x.length);
    return [[numel(x.slice(0, ax)), numel(x.slice(ax))]];
  },
  Reshape: ({ n, s, ints }) => [reshapeDims(s(0), ints(1), getAttr(n.proto, "allowzero", 0))],
  Squeeze: ({ n, s, ints, has }) => [
    squeezeDims(n.op, s(0), has(1) ? ints(1) : getAttr(n.proto, "axes", undefined)),
  ],
  Unsqueeze: ({ n, s, ints, has }) => [
    squeezeDims(n.op, s(0), has(1) ? ints(1) : getAttr(n.proto, "axes", undefined)),
  ],
  Expand: ({ n, s, ints }) => [broadcastShapes(s(0), ints(1), `Expand ${n.name}`)],
  Tile: ({ s, ints }) => [s(0).map((d, i) => d * ints(1)[i])],
  Gemm: ({ n, s }) => {
    const a = s(0), b = s(1);
    const ta = getAttr<number>(n.proto, "transA", 0), tb = getAttr<number>(n.proto, "transB", 0);
    return [[ta ? a[1] : a[0], tb ? b[0] : b[1]]];
  },
  MatMul: ({ n, s, name }) => {
    const a = s(0), b = s(1);
    if (a.length < 2 || b.length < 2) {
      throw new ModelFormatError(
        `Cannot differentiate ${name}: MatMul ${n.name} has a 1-D operand ([${a}] × [${b}]); ` +
          "expected rank ≥ 2 operands",
      );
    }
    const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), `MatMul ${n.name}`);
    return [[...batch, a[a.length - 2], b[b.length - 1]]];
  },
  Einsum: _einsumShape,
  Transpose: ({ n, s }) => {
    const x = s(0);
    const perm = getAttr<number[]>(n.proto, "perm", [...Array(x.length).keys()].reverse());
    return [perm.map((q) => x[q])];
  },
  Concat: ({ n, s }) => {
    const sh = n.inputs.map((_, i) => s(i));
    const ax = normAxis(getAttr<number>(n.proto, "axis", 0), sh[0].length);
    const out = [...sh[0]];
    out[ax] = sh.reduce((a, q) => a + q[ax], 0);
    return [out];
  },
  Split: ({ n, s, ints, has }) => {
    const x = s(0), ax = normAxis(getAttr<number>(n.proto, "axis", 0), x.length);
    const sizes = has(1) ? ints(1) : getAttr<number[] | undefined>(n.proto, "split", undefined) ??
      _evenSplit(x[ax], n.outputs.length);
    return sizes.map((q) => x.map((d, i) => (i === ax ? q : d)));
  },
  Slice: ({ s, ints, has }) => [
    sliceParams(s(0), ints(1), ints(2), has(3) ? ints(3) : undefined, has(4) ? ints(4) : undefined)
      .map((q) => q.len),
  ],
  Gather: ({ n, s }) => {
    const x = s(0), ax = normAxis(getAttr<number>(n.proto, "axis", 0), x.length);
    return [[...x.slice(0, ax), ...s(1), ...x.slice(ax + 1)]];
  },
  GatherElements: ({ s }) => [s(1)],
  GatherND: ({ n, s }) => {
    const x = s(0), idx = s(1), bd = getAttr<number>(n.proto, "batch_dims", 0);
    return [[...idx.slice(0, -1), ...x.slice(bd + idx[idx.length - 1])]];
  },
  Resize: ({ n, s, ints, has }) => [
    resizeShape(n.proto, s(0), has(2) ? ints(2) : undefined, has(3) ? ints(3) : undefined),
  ],
});

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
  const rule = Object.hasOwn(SHAPE_RULES, n.op) ? SHAPE_RULES[n.op] : undefined;
  if (!rule) {
    throw new ModelFormatError(
      `Cannot differentiate ${name}: op ${n.op} (node ${n.name}) is not supported`,
    );
  }
  return rule({
    n,
    s: (i) => shapeOf(n.inputs[i]),
    ints: (i) => Array.from(constValues(_needConst(n, i, constOf)), Number),
    has: (i) => !!n.inputs[i],
    name,
  });
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
