/**
 * The constant evaluator: computes, in TypeScript, every node whose inputs are all constants (and
 * every `Shape` node, whose value the inferred shapes fix), so the integer shape sub-graph of an
 * exported model disappears before differentiation. One small evaluator per op in
 * {@linkcode CONST_EVALUATORS}; an op without one (or a result too large to fold) stays in the
 * graph for the runtime.
 *
 * @module
 */

import { DT, getAttr, type NodeLike, tensorData, type TensorLike } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { type Const, constValues } from "./graph.ts";
import {
  broadcastShapes,
  normAxis,
  numel,
  reshapeDims,
  sliceParams,
  squeezeDims,
  strides,
} from "./shapes.ts";

/** Folded results larger than this many elements are left to the runtime. */
const _MAX_FOLD = 1 << 20;

const _INT_TYPES = new Set<number>([DT.INT64, DT.INT32, DT.INT8, DT.UINT8, 12, 13, 4, 5]);

const _BOOL_OPS = new Set([
  "Equal",
  "Less",
  "Greater",
  "LessOrEqual",
  "GreaterOrEqual",
  "And",
  "Or",
]);

function _roundTo(dtype: number, v: number): number {
  if (dtype === DT.FLOAT) return Math.fround(v);
  if (dtype === DT.BOOL) return v ? 1 : 0;
  if (_INT_TYPES.has(dtype)) return Math.trunc(v);
  return v;
}

/** Index into a broadcast operand for a flat output index. */
function _bcastIndexer(inDims: number[], outDims: number[]): (i: number) => number {
  const r = outDims.length;
  const pad = [...new Array(r - inDims.length).fill(1), ...inDims];
  const os = strides(outDims), is = strides(pad);
  return (i) => {
    let j = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(i / os[d]) % outDims[d];
      if (pad[d] !== 1) j += c * is[d];
    }
    return j;
  };
}

/** Reads the value of a `Constant` node. */
export function constantNode(n: NodeLike): Const {
  const a = n.attribute?.[0];
  if (!a) throw new ModelFormatError(`Cannot read Constant ${n.name}: it has no value`);
  if (a.name === "value") {
    return { dtype: a.t!.dataType ?? DT.FLOAT, dims: (a.t!.dims ?? []).map(Number), proto: a.t! };
  }
  if (a.name === "value_float") return { dtype: DT.FLOAT, dims: [], values: [a.f ?? 0] };
  if (a.name === "value_floats") {
    return { dtype: DT.FLOAT, dims: [a.floats!.length], values: a.floats! };
  }
  if (a.name === "value_int") return { dtype: DT.INT64, dims: [], values: [Number(a.i ?? 0)] };
  if (a.name === "value_ints") {
    return { dtype: DT.INT64, dims: [a.ints!.length], values: a.ints!.map(Number) };
  }
  throw new ModelFormatError(
    `Cannot read Constant ${n.name}: attribute ${a.name} is not supported`,
  );
}

/** What an evaluator sees: the node and its constant inputs. */
export interface ConstInputs {
  /** The node (attributes). */
  n: NodeLike;
  /** Input names, aliases resolved (`""` for omitted optional inputs). */
  ins: string[];
  /** The i-th input constant. */
  c(i: number): Const;
  /** The i-th input's values. */
  v(i: number): ArrayLike<number>;
  /** The i-th input's values as a number array. */
  ints(i: number): number[];
}

/** Folds one node; `undefined` leaves it to the runtime. */
export type ConstEvaluator = (x: ConstInputs) => Const | undefined;

const _BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => Math.pow(a, b),
  Equal: (a, b) => (a === b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  LessOrEqual: (a, b) => (a <= b ? 1 : 0),
  GreaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  And: (a, b) => (a && b ? 1 : 0),
  Or: (a, b) => (a || b ? 1 : 0),
  Mod: (a, b) => a % b,
};

const _UNARY: Record<string, (a: number) => number> = {
  Sqrt: Math.sqrt,
  Neg: (a) => -a,
  Not: (a) => (a ? 0 : 1),
  Floor: Math.floor,
  Ceil: Math.ceil,
  Abs: Math.abs,
  Reciprocal: (a) => 1 / a,
  Relu: (a) => Math.max(a, 0),
  Exp: Math.exp,
  Log: Math.log,
  Sign: Math.sign,
};

function _binary(op: string): ConstEvaluator {
  const f = _BINARY[op];
  return ({ ins, c, v }) => {
    if (ins.length !== 2) return undefined;
    const A = c(0), B = c(1);
    const dims = broadcastShapes(A.dims, B.dims, op);
    const ia = _bcastIndexer(A.dims, dims), ib = _bcastIndexer(B.dims, dims);
    const va = v(0), vb = v(1);
    const dtype = _BOOL_OPS.has(op) ? DT.BOOL : A.dtype;
    const out = new Float64Array(numel(dims));
    for (let i = 0; i < out.length; i++) out[i] = _roundTo(dtype, f(va[ia(i)], vb[ib(i)]));
    return { dtype, dims, values: out };
  };
}

function _unary(op: string): ConstEvaluator {
  const f = _UNARY[op];
  return ({ c, v }) => {
    const A = c(0);
    return {
      dtype: A.dtype,
      dims: A.dims,
      values: Float64Array.from(v(0), (x) => _roundTo(A.dtype, f(x))),
    };
  };
}

function _cast({ n, c, v }: ConstInputs): Const {
  const to = getAttr<number>(n, "to", DT.FLOAT);
  return { dtype: to, dims: c(0).dims, values: Float64Array.from(v(0), (x) => _roundTo(to, x)) };
}

function _where({ c, v }: ConstInputs): Const {
  const dims = broadcastShapes(broadcastShapes(c(0).dims, c(1).dims), c(2).dims);
  const i0 = _bcastIndexer(c(0).dims, dims), i1 = _bcastIndexer(c(1).dims, dims);
  const i2 = _bcastIndexer(c(2).dims, dims);
  const v0 = v(0), v1 = v(1), v2 = v(2);
  const out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) out[i] = v0[i0(i)] ? v1[i1(i)] : v2[i2(i)];
  return { dtype: c(1).dtype, dims, values: out };
}

function _squeeze({ n, ins, c, v, ints }: ConstInputs): Const {
  const A = c(0);
  const axes = ins[1] ? ints(1) : getAttr<number[] | undefined>(n, "axes", undefined);
  return { dtype: A.dtype, dims: squeezeDims(n.opType!, A.dims, axes), values: v(0) };
}

function _reshape({ n, c, v, ints }: ConstInputs): Const {
  return {
    dtype: c(0).dtype,
    dims: reshapeDims(c(0).dims, ints(1), getAttr(n, "allowzero", 0)),
    values: v(0),
  };
}

function _flatten({ n, c, v }: ConstInputs): Const {
  const d = c(0).dims, ax = normAxis(getAttr<number>(n, "axis", 1), d.length);
  return { dtype: c(0).dtype, dims: [numel(d.slice(0, ax)), numel(d.slice(ax))], values: v(0) };
}

function _constantOfShape({ n, ints }: ConstInputs): Const | undefined {
  const dims = ints(0);
  const t = getAttr<TensorLike | undefined>(n, "value", undefined);
  const fill = t ? Number(tensorData(t)[0]) : 0;
  const dtype = t?.dataType ?? DT.FLOAT;
  if (numel(dims) > _MAX_FOLD) return undefined;
  return { dtype, dims, values: new Float64Array(numel(dims)).fill(fill) };
}

function _range({ c, v }: ConstInputs): Const {
  const [s, l, d] = [v(0)[0], v(1)[0], v(2)[0]];
  const cnt = Math.max(Math.ceil((l - s) / d), 0);
  return {
    dtype: c(0).dtype,
    dims: [cnt],
    values: Float64Array.from({ length: cnt }, (_, i) => s + i * d),
  };
}

function _expand({ c, v, ints }: ConstInputs): Const | undefined {
  const dims = broadcastShapes(c(0).dims, ints(1), "Expand");
  if (numel(dims) > _MAX_FOLD) return undefined;
  const ia = _bcastIndexer(c(0).dims, dims), va = v(0);
  return {
    dtype: c(0).dtype,
    dims,
    values: Float64Array.from({ length: numel(dims) }, (_, i) => va[ia(i)]),
  };
}

function _gather({ n, c, v, ints }: ConstInputs): Const {
  const A = c(0), r = A.dims.length, ax = normAxis(getAttr<number>(n, "axis", 0), r);
  const idx = ints(1).map((i) => (i < 0 ? i + A.dims[ax] : i));
  const dims = [...A.dims.slice(0, ax), ...c(1).dims, ...A.dims.slice(ax + 1)];
  const outer = numel(A.dims.slice(0, ax)), inner = numel(A.dims.slice(ax + 1));
  const va = v(0), out = new Float64Array(numel(dims));
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const j of idx) {
      for (let q = 0; q < inner; q++) out[k++] = va[(o * A.dims[ax] + j) * inner + q];
    }
  }
  return { dtype: A.dtype, dims, values: out };
}

function _concat({ n, ins, c, v }: ConstInputs): Const {
  const parts = ins.map((_, i) => c(i));
  const r = parts[0].dims.length, ax = normAxis(getAttr<number>(n, "axis", 0), r);
  const dims = [...parts[0].dims];
  dims[ax] = parts.reduce((a, p) => a + p.dims[ax], 0);
  const outer = numel(dims.slice(0, ax)), inner = numel(dims.slice(ax + 1));
  const out = new Float64Array(numel(dims));
  let k = 0;
  for (let o = 0; o < outer; o++) {
    parts.forEach((p, i) => {
      const vp = v(i), len = p.dims[ax] * inner;
      for (let q = 0; q < len; q++) out[k++] = vp[o * len + q];
    });
  }
  return { dtype: parts[0].dtype, dims, values: out };
}

function _slice({ ins, c, v, ints }: ConstInputs): Const {
  const A = c(0);
  const sl = sliceParams(
    A.dims,
    ints(1),
    ints(2),
    ins[3] ? ints(3) : undefined,
    ins[4] ? ints(4) : undefined,
  );
  const dims = sl.map((s) => s.len);
  const st = strides(A.dims), os = strides(dims);
  const va = v(0), out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) {
    let j = 0;
    for (let d = 0; d < dims.length; d++) {
      const q = Math.floor(i / os[d]) % dims[d];
      j += (sl[d].start + q * sl[d].step) * st[d];
    }
    out[i] = va[j];
  }
  return { dtype: A.dtype, dims, values: out };
}

function _transpose({ n, c, v }: ConstInputs): Const {
  const A = c(0), r = A.dims.length;
  const perm = getAttr<number[]>(n, "perm", [...Array(r).keys()].reverse());
  const dims = perm.map((p) => A.dims[p]);
  const st = strides(A.dims), os = strides(dims), va = v(0);
  const out = new Float64Array(numel(dims));
  for (let i = 0; i < out.length; i++) {
    let j = 0;
    for (let d = 0; d < r; d++) j += (Math.floor(i / os[d]) % dims[d]) * st[perm[d]];
    out[i] = va[j];
  }
  return { dtype: A.dtype, dims, values: out };
}

/** The evaluator of each foldable op (single-output nodes with constant inputs). */
export const CONST_EVALUATORS: Readonly<Record<string, ConstEvaluator>> = Object.freeze({
  ...Object.fromEntries(Object.keys(_BINARY).map((op) => [op, _binary(op)])),
  ...Object.fromEntries(Object.keys(_UNARY).map((op) => [op, _unary(op)])),
  Cast: _cast,
  Where: _where,
  Unsqueeze: _squeeze,
  Squeeze: _squeeze,
  Reshape: _reshape,
  Flatten: _flatten,
  ConstantOfShape: _constantOfShape,
  Range: _range,
  Expand: _expand,
  Gather: _gather,
  Concat: _concat,
  Slice: _slice,
  Transpose: _transpose,
});

/** The value of a `Shape` node (with its `start`/`end` attributes) from the inferred shape. */
function _shape(n: NodeLike, s: number[]): Const {
  const r = s.length;
  let start = getAttr<number>(n, "start", 0), end = getAttr<number>(n, "end", r);
  start = Math.min(Math.max(normAxis(start, r), 0), r);
  end = Math.min(Math.max(normAxis(end, r), 0), r);
  const vals = s.slice(start, end);
  return { dtype: DT.INT64, dims: [vals.length], values: vals };
}

/**
 * Evaluates a node whose inputs are all constants, or a `Shape` node.
 *
 * @param n The node.
 * @param ins Its input names, aliases resolved.
 * @param consts Constants by name.
 * @param shapeOf Shape of a tensor (for `Shape`).
 * @returns The folded constant, or `undefined` if the node is not evaluable here (no evaluator,
 *   several outputs, or an operand or result too large to fold).
 */
export function evalConst(
  n: NodeLike,
  ins: string[],
  consts: Map<string, Const>,
  shapeOf: (t: string) => number[],
): Const | undefined {
  const op = n.opType!;
  if (op === "Shape") return _shape(n, shapeOf(ins[0]));
  if (n.output!.length !== 1) return undefined;
  const c = (i: number) => consts.get(ins[i])!;
  // Big float tensors (weights) are left to the runtime.
  for (let i = 0; i < ins.length; i++) if (ins[i] && numel(c(i).dims) > _MAX_FOLD) return undefined;
  const f = Object.hasOwn(CONST_EVALUATORS, op) ? CONST_EVALUATORS[op] : undefined;
  if (!f) return undefined;
  const v = (i: number) => constValues(c(i));
  return f({ n, ins, c, v, ints: (i) => Array.from(v(i), Number) });
}
