/**
 * Graph preparation before differentiation: specialise the batch size, infer every tensor's shape,
 * evaluate the integer shape sub-graph (and any other node whose inputs are all constants) in
 * TypeScript, resolve Identity-on-initializer aliases and keep only the nodes that feed the
 * requested outputs.
 *
 * The result lists the float nodes that remain, each with constant inputs resolved and every
 * tensor's shape known, which is what the gradient rules in `ops.ts` need (broadcast axes,
 * `output_padding`, Reshape targets).
 *
 * @module
 */

import {
  DT,
  getAttr,
  type ModelProto,
  type NodeLike,
  tensorData,
  type TensorLike,
} from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";

/** A constant tensor: element type, shape and values (decoded lazily for initializers). */
export interface Const {
  /** ONNX element type. */
  dtype: number;
  /** Shape. */
  dims: number[];
  /** The original tensor, when it came from the model (kept to re-emit without copying). */
  proto?: TensorLike;
  /** Values as numbers (int64 converted; decoded on demand). */
  values?: ArrayLike<number>;
}

/** A node that survives preparation (a plain node with resolved input names). */
export interface PreparedNode {
  /** Operator. */
  op: string;
  /** Node name (for messages). */
  name: string;
  /** Input names (`""` for omitted optional inputs), aliases resolved. */
  inputs: string[];
  /** Output names. */
  outputs: string[];
  /** The original node (attributes). */
  proto: NodeLike;
}

/** A graph ready for differentiation. */
export interface PreparedGraph {
  /** Name of the (specialised) input tensor. */
  input: string;
  /** Input shape `[N, C, H, W]`. */
  inputShape: number[];
  /** Name of the logits tensor. */
  logits: string;
  /** Nodes in topological order that compute the requested outputs. */
  nodes: PreparedNode[];
  /** Constants by name (initializers, Constant nodes, folded values). */
  consts: Map<string, Const>;
  /** Shapes of every non-constant tensor. */
  shapes: Map<string, number[]>;
  /** Element types of every non-constant tensor. */
  types: Map<string, number>;
  /** Tensors that depend on the input. */
  live: Set<string>;
  /** The model's default-domain opset. */
  opset: number;
  /** Resolves a tensor name through Identity aliases. */
  resolve: (t: string) => string;
}

/** Reads a constant's values as numbers (int64 → Number, clamped to ±2^62 for INT64_MAX ends). */
export function constValues(c: Const): ArrayLike<number> {
  if (!c.values) {
    // tensorData's raw path can alias a pooled Node Buffer (Buffer.slice does not copy); give
    // it a private copy of the bytes first.
    const p = c.proto!;
    const raw = p.rawData && p.rawData.length > 0 ? new Uint8Array(p.rawData) : undefined;
    const d = tensorData(raw ? { ...p, rawData: raw } : p);
    if (d instanceof BigInt64Array) {
      const out = new Float64Array(d.length);
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        out[i] = v > 4611686018427387904n
          ? 4611686018427387904
          : v < -4611686018427387904n
          ? -4611686018427387904
          : Number(v);
      }
      c.values = out;
    } else c.values = d;
  }
  return c.values;
}

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

function _strides(dims: number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Index into a broadcast operand for a flat output index. */
function _bcastIndexer(inDims: number[], outDims: number[]): (i: number) => number {
  const r = outDims.length;
  const pad = [...new Array(r - inDims.length).fill(1), ...inDims];
  const os = _strides(outDims), is = _strides(pad);
  return (i) => {
    let j = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(i / os[d]) % outDims[d];
      if (pad[d] !== 1) j += c * is[d];
    }
    return j;
  };
}

const _INT_TYPES = new Set<number>([DT.INT64, DT.INT32, DT.INT8, DT.UINT8, 12, 13, 4, 5]);

function _roundTo(dtype: number, v: number): number {
  if (dtype === DT.FLOAT) return Math.fround(v);
  if (dtype === DT.BOOL) return v ? 1 : 0;
  if (_INT_TYPES.has(dtype)) return Math.trunc(v);
  return v;
}

function _normAxis(a: number, r: number): number {
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

/** Options for {@linkcode prepareGraph}. */
export interface PrepareOptions {
  /** Batch size to specialise. */
  batch: number;
  /** Extra nodes to place before the model's first node (e.g. normalisation), already aliased. */
  prelude?: NodeLike[];
  /** The name the prelude's first input uses (default: the model input's name). */
  inputName?: string;
  /** Tensors besides the logits to keep (layer taps). */
  taps?: string[];
  /** Model name for messages. */
  name?: string;
  /** Ops allowed to remain after folding (others raise `unsupported`). */
  supported?: Set<string>;
  /** Builds the error for an op outside `supported`. */
  unsupported?: (n: { op: string; name: string }) => Error;
}

/**
 * Prepares a decoded model for differentiation (see the module doc).
 *
 * @param m The decoded model.
 * @param options Batch, prelude, taps.
 * @returns The prepared graph.
 * @throws {ModelFormatError} If the model has no single image input, dynamic non-batch
 *   dimensions, an unsupported opset, or a shape that cannot be inferred.
 * @throws {RangeError} If a tap names no tensor of the graph.
 */
export function prepareGraph(m: ModelProto, options: PrepareOptions): PreparedGraph {
  const g = m.graph!;
  const name = options.name ?? "model";
  const opset = Number(
    m.opsetImport?.find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 0,
  );
  if (opset < 13) {
    throw new ModelFormatError(
      `Cannot prepare ${name} for gradients: opset is ${opset} but expected 13..21 (re-export ` +
        "with opset_version=17)",
    );
  }
  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? []) {
    consts.set(t.name!, {
      dtype: t.dataType ?? DT.FLOAT,
      dims: (t.dims ?? []).map(Number),
      proto: t,
    });
  }
  const inputs = (g.input ?? []).filter((v) => !consts.has(v.name!));
  if (inputs.length !== 1) {
    throw new ModelFormatError(
      `Cannot prepare ${name} for gradients: it has ${inputs.length} non-initializer inputs ` +
        `(${inputs.map((v) => v.name).join(", ")}) but expected 1 image input`,
    );
  }
  const inVi = inputs[0];
  const dims = inVi.type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) {
    throw new ModelFormatError(
      `Cannot prepare ${name} for gradients: input ${inVi.name} has rank ${dims.length} but ` +
        "expected 4 (N×C×H×W)",
    );
  }
  const inputShape = [options.batch];
  for (let i = 1; i < 4; i++) {
    const d = dims[i].dimValue;
    if (d === undefined || d === null || Number(d) <= 0) {
      throw new ModelFormatError(
        `Cannot prepare ${name} for gradients: input ${inVi.name} dimension ${i} is dynamic ` +
          `(${dims[i].dimParam ?? "?"}) but expected a fixed C, H and W`,
      );
    }
    inputShape.push(Number(d));
  }
  const modelInput = inVi.name!;
  const inputName = options.inputName ?? modelInput;
  const logits = g.output?.[0]?.name;
  if (!logits) throw new ModelFormatError(`Cannot prepare ${name} for gradients: it has no output`);

  const alias = new Map<string, string>();
  const res = (n: string) => {
    let x = n;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  const shapes = new Map<string, number[]>([[inputName, inputShape]]);
  const types = new Map<string, number>([[inputName, DT.FLOAT]]);
  const live = new Set<string>([inputName]);
  const kept: PreparedNode[] = [];
  const shapeOf = (t: string): number[] => {
    const s = shapes.get(t) ?? consts.get(t)?.dims;
    if (!s) {
      throw new ModelFormatError(
        `Cannot prepare ${name}: tensor ${t} is used before it is produced`,
      );
    }
    return s;
  };
  const typeOf = (t: string): number => types.get(t) ?? consts.get(t)?.dtype ?? DT.FLOAT;

  const all = [...(options.prelude ?? []), ...(g.node ?? [])];
  for (const n of _topoSort(all, new Set([inputName, ...consts.keys()]), name)) {
    const op = n.opType ?? "";
    if (n.domain && n.domain !== "ai.onnx") {
      throw new ModelFormatError(
        `Cannot prepare ${name} for gradients: node ${n.name} uses domain ${n.domain} (op ${op}); ` +
          "expected the default ONNX domain",
      );
    }
    const ins = (n.input ?? []).map((x) => (x === "" ? "" : res(x)));
    const outs = n.output ?? [];
    if (op === "Constant") {
      consts.set(outs[0], _constantNode(n));
      continue;
    }
    if (op === "Identity" || (op === "Dropout" && outs.length === 1)) {
      alias.set(outs[0], ins[0]);
      continue;
    }
    const allConst = ins.every((x) => x === "" || consts.has(x));
    if (op === "Shape" || allConst) {
      const v = _evalConst(n, ins, consts, shapeOf);
      if (v) {
        consts.set(outs[0], v);
        continue;
      }
    }
    const pn: PreparedNode = {
      op,
      name: n.name ?? outs[0],
      inputs: ins,
      outputs: [...outs],
      proto: n,
    };
    if (options.supported && !options.supported.has(op)) {
      throw options.unsupported?.(pn) ??
        new ModelFormatError(`Cannot prepare ${name}: op ${op} is not supported`);
    }
    const outShapes = inferShapes(pn, shapeOf, (t) => consts.get(t), name);
    outs.forEach((o, i) => {
      if (o === "") return;
      shapes.set(o, outShapes[i]);
      types.set(o, _outType(op, ins, typeOf, pn));
    });
    if (ins.some((x) => live.has(x))) { for (const o of outs) live.add(o); }
    kept.push(pn);
  }

  const wanted = [res(logits), ...(options.taps ?? []).map(res)];
  for (const t of wanted) {
    if (!shapes.has(t) && !consts.has(t)) {
      throw new RangeError(`Cannot tap tensor ${t}: no tensor of that name in ${name}`);
    }
  }
  // Keep only nodes that the wanted outputs need.
  const need = new Set(wanted);
  const nodes: PreparedNode[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const pn = kept[i];
    if (pn.outputs.some((o) => need.has(o))) {
      nodes.push(pn);
      for (const x of pn.inputs) if (x) need.add(x);
    }
  }
  nodes.reverse();
  return {
    input: inputName,
    inputShape,
    logits: res(logits),
    nodes,
    consts,
    shapes,
    types,
    live,
    opset,
    resolve: res,
  };
}

function _topoSort(nodes: NodeLike[], available: Set<string>, name: string): NodeLike[] {
  const have = new Set(available);
  const ready = (n: NodeLike) => (n.input ?? []).every((x) => x === "" || have.has(x));
  // Fast path: already sorted (exporters emit topological order).
  if (
    nodes.every((n) => {
      const ok = ready(n);
      for (const o of n.output ?? []) have.add(o);
      return ok;
    })
  ) return nodes;
  const out: NodeLike[] = [];
  const pending = [...nodes];
  const done = new Set(available);
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const n = pending[i];
      if ((n.input ?? []).every((x) => x === "" || done.has(x))) {
        out.push(n);
        for (const o of n.output ?? []) done.add(o);
        pending.splice(i--, 1);
        progress = true;
      }
    }
  }
  if (pending.length) {
    const n = pending[0];
    const missing = (n.input ?? []).filter((x) => x && !done.has(x));
    throw new ModelFormatError(
      `Cannot prepare ${name}: node ${n.name} (${n.opType}) needs ${missing.join(", ")} which no ` +
        "node produces (a cycle or a missing initializer)",
    );
  }
  return out;
}

function _constantNode(n: NodeLike): Const {
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

function _outType(
  op: string,
  ins: string[],
  typeOf: (t: string) => number,
  n: PreparedNode,
): number {
  if (op === "Cast") return getAttr<number>(n.proto, "to", DT.FLOAT);
  if (op === "Shape" || op === "ArgMax" || op === "ArgMin") return DT.INT64;
  if (op === "Equal" || op === "Less" || op === "Greater" || op === "Not") return DT.BOOL;
  if (op === "Where") return typeOf(ins[1]);
  return typeOf(ins[0]);
}

const _MAX_FOLD = 1 << 20;

/** Evaluates a node whose inputs are all constants (or a Shape); undefined if not evaluable here. */
function _evalConst(
  n: NodeLike,
  ins: string[],
  consts: Map<string, Const>,
  shapeOf: (t: string) => number[],
): Const | undefined {
  const op = n.opType!;
  const c = (i: number) => consts.get(ins[i])!;
  const v = (i: number) => constValues(c(i));
  const ints = (i: number) => Array.from(v(i), Number);
  if (op === "Shape") {
    const s = shapeOf(ins[0]);
    const r = s.length;
    let start = getAttr<number>(n, "start", 0), end = getAttr<number>(n, "end", r);
    start = Math.min(Math.max(_normAxis(start, r), 0), r);
    end = Math.min(Math.max(_normAxis(end, r), 0), r);
    const vals = s.slice(start, end);
    return { dtype: DT.INT64, dims: [vals.length], values: vals };
  }
  if (n.output!.length !== 1) return undefined;
  // Big float tensors (weights) are left to the runtime.
  for (let i = 0; i < ins.length; i++) if (ins[i] && numel(c(i).dims) > _MAX_FOLD) return undefined;
  const bin: Record<string, (a: number, b: number) => number> = {
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
  const un: Record<string, (a: number) => number> = {
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
  if (op in bin && ins.length === 2) {
    const A = c(0), B = c(1);
    const dims = broadcastShapes(A.dims, B.dims, op);
    const ia = _bcastIndexer(A.dims, dims), ib = _bcastIndexer(B.dims, dims);
    const va = v(0), vb = v(1);
    const dtype = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"]
        .includes(op)
      ? DT.BOOL
      : A.dtype;
    const f = bin[op];
    const out = new Float64Array(numel(dims));
    for (let i = 0; i < out.length; i++) out[i] = _roundTo(dtype, f(va[ia(i)], vb[ib(i)]));
    return { dtype, dims, values: out };
  }
  if (op in un) {
    const A = c(0), va = v(0), f = un[op];
    return {
      dtype: A.dtype,
      dims: A.dims,
      values: Float64Array.from(va, (x) => _roundTo(A.dtype, f(x))),
    };
  }
  switch (op) {
    case "Cast": {
      const to = getAttr<number>(n, "to", DT.FLOAT);
      return {
        dtype: to,
        dims: c(0).dims,
        values: Float64Array.from(v(0), (x) => _roundTo(to, x)),
      };
    }
    case "Where": {
      const dims = broadcastShapes(broadcastShapes(c(0).dims, c(1).dims), c(2).dims);
      const i0 = _bcastIndexer(c(0).dims, dims), i1 = _bcastIndexer(c(1).dims, dims);
      const i2 = _bcastIndexer(c(2).dims, dims);
      const v0 = v(0), v1 = v(1), v2 = v(2);
      const out = new Float64Array(numel(dims));
      for (let i = 0; i < out.length; i++) out[i] = v0[i0(i)] ? v1[i1(i)] : v2[i2(i)];
      return { dtype: c(1).dtype, dims, values: out };
    }
    case "Unsqueeze":
    case "Squeeze": {
      const A = c(0);
      const axes = ins[1] ? ints(1) : getAttr<number[] | undefined>(n, "axes", undefined);
      return { dtype: A.dtype, dims: squeezeDims(op, A.dims, axes), values: v(0) };
    }
    case "Reshape":
      return {
        dtype: c(0).dtype,
        dims: reshapeDims(c(0).dims, ints(1), getAttr(n, "allowzero", 0)),
        values: v(0),
      };
    case "Flatten": {
      const d = c(0).dims, ax = _normAxis(getAttr<number>(n, "axis", 1), d.length);
      return { dtype: c(0).dtype, dims: [numel(d.slice(0, ax)), numel(d.slice(ax))], values: v(0) };
    }
    case "ConstantOfShape": {
      const dims = ints(0);
      const t = getAttr<TensorLike | undefined>(n, "value", undefined);
      const fill = t ? Number(tensorData(t)[0]) : 0;
      const dtype = t?.dataType ?? DT.FLOAT;
      if (numel(dims) > _MAX_FOLD) return undefined;
      return { dtype, dims, values: new Float64Array(numel(dims)).fill(fill) };
    }
    case "Range": {
      const [s, l, d] = [v(0)[0], v(1)[0], v(2)[0]];
      const cnt = Math.max(Math.ceil((l - s) / d), 0);
      return {
        dtype: c(0).dtype,
        dims: [cnt],
        values: Float64Array.from({ length: cnt }, (_, i) => s + i * d),
      };
    }
    case "Expand": {
      const dims = broadcastShapes(c(0).dims, ints(1), "Expand");
      if (numel(dims) > _MAX_FOLD) return undefined;
      const ia = _bcastIndexer(c(0).dims, dims), va = v(0);
      return {
        dtype: c(0).dtype,
        dims,
        values: Float64Array.from({ length: numel(dims) }, (_, i) => va[ia(i)]),
      };
    }
    case "Gather": {
      const A = c(0), r = A.dims.length, ax = _normAxis(getAttr<number>(n, "axis", 0), r);
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
    case "Concat": {
      const parts = ins.map((_, i) => c(i));
      const r = parts[0].dims.length, ax = _normAxis(getAttr<number>(n, "axis", 0), r);
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
    case "Slice": {
      const A = c(0);
      const sl = sliceParams(
        A.dims,
        ints(1),
        ints(2),
        ins[3] ? ints(3) : undefined,
        ins[4] ? ints(4) : undefined,
      );
      const dims = sl.map((s) => s.len);
      const st = _strides(A.dims), os = _strides(dims);
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
    case "Transpose": {
      const A = c(0), r = A.dims.length;
      const perm = getAttr<number[]>(n, "perm", [...Array(r).keys()].reverse());
      const dims = perm.map((p) => A.dims[p]);
      const st = _strides(A.dims), os = _strides(dims), va = v(0);
      const out = new Float64Array(numel(dims));
      for (let i = 0; i < out.length; i++) {
        let j = 0;
        for (let d = 0; d < r; d++) j += (Math.floor(i / os[d]) % dims[d]) * st[perm[d]];
        out[i] = va[j];
      }
      return { dtype: A.dtype, dims, values: out };
    }
  }
  return undefined;
}

/** Output shape of Squeeze/Unsqueeze. */
export function squeezeDims(op: string, dims: number[], axes: number[] | undefined): number[] {
  if (op === "Squeeze") {
    const ax = (axes ?? dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0))
      .map((a) => _normAxis(a, dims.length));
    return dims.filter((_, i) => !ax.includes(i));
  }
  const r = dims.length + axes!.length;
  const ax = axes!.map((a) => _normAxis(a, r));
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
    const a = _normAxis(a0, r), d = dims[a];
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
      const axes = n.inputs[3] ? ints(3).map((a) => _normAxis(a, r)) : [...Array(r).keys()];
      const out = [...x];
      axes.forEach((a, i) => (out[a] += pads[i] + pads[i + axes.length]));
      return [out];
    }
    case "Flatten": {
      const x = s0(), ax = _normAxis(getAttr<number>(p, "axis", 1), x.length);
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
      const ax = _normAxis(getAttr<number>(p, "axis", 0), sh[0].length);
      const out = [...sh[0]];
      out[ax] = sh.reduce((a, s) => a + s[ax], 0);
      return [out];
    }
    case "Split": {
      const x = s0(), ax = _normAxis(getAttr<number>(p, "axis", 0), x.length);
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
      const x = s0(), ax = _normAxis(getAttr<number>(p, "axis", 0), x.length);
      return [[...x.slice(0, ax), ...shapeOf(n.inputs[1]), ...x.slice(ax + 1)]];
    }
    case "ReduceMean":
    case "ReduceSum": {
      const x = s0();
      const axes0 = n.inputs[1] ? ints(1) : getAttr<number[] | undefined>(p, "axes", undefined);
      const axes = (axes0 ?? [...x.keys()]).map((a) => _normAxis(a, x.length));
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
