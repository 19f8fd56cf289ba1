/**
 * Derives ONNX graphs for ∂loss/∂input from a forward classifier graph: reverse-mode
 * differentiation over ONNX ops (MODELS.md, "Gradient graphs: the op table"), with the
 * per-example cross-entropy loss, optional input normalisation folded in (SPEC §1), and an
 * optional fused PGD step (SPEC §5), so one attack iteration is one `run()`.
 *
 * @module
 */

import {
  decodeModel,
  DT,
  encodeModel,
  type GraphLike,
  model as modelProto,
  type ModelProto,
  node,
  type NodeLike,
  tensor,
  type TensorLike,
  valueInfo,
} from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { type Const, constValues, type PreparedGraph, type PreparedNode } from "./graph.ts";
import { prepareGraph } from "./prepare.ts";
import { flipConvWeight, GRADIENT_RULES, SUPPORTED_OPS } from "./ops.ts";
import type { GradBuilder } from "./rule_kit.ts";
import { type Normalize, resolveNormalize } from "../model/surgery.ts";

/** Options for {@linkcode deriveGradientGraph} and {@linkcode derivePgdStepGraph}. */
export interface GradientGraphOptions {
  /** Batch size the graph is specialised to (default 1). */
  batch?: number;
  /** Normalisation applied inside the graph to pixels in [0,1] (default `"none"`). */
  normalize?: Normalize;
  /** Runtime: `"cpu"` (node/wasm; default) or `"webgpu"` (MaxPool without Indices). */
  target?: "cpu" | "webgpu";
  /** Tensors of the forward graph to add as outputs (layer taps), under their own names. */
  taps?: string[];
  /** Also output `input_grad` from the PGD step graph (default false). */
  withGradient?: boolean;
  /** Model name for messages. */
  name?: string;
  /**
   * How stride-1 Conv gradients are emitted: `"conv"` (flipped-kernel Conv, default; faster on
   * onnxruntime's CPU EP) or `"convtranspose"` (the op table's form).
   */
  convGrad?: "conv" | "convtranspose";
}

/**
 * Names of the gradient graph's inputs and outputs.
 *
 * @example
 * ```ts
 * import { GRADIENT_GRAPH_IO } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(GRADIENT_GRAPH_IO.inputs, ["input", "labels"]);
 * assertEquals(GRADIENT_GRAPH_IO.outputs, ["logits", "loss", "input_grad"]);
 * ```
 */
export const GRADIENT_GRAPH_IO: Readonly<
  Record<"inputs" | "outputs" | "pgdInputs" | "pgdOutputs", string[]>
> = Object.freeze({
  inputs: ["input", "labels"],
  outputs: ["logits", "loss", "input_grad"],
  pgdInputs: ["x_adv", "labels", "x0", "eps", "step"],
  pgdOutputs: ["x_next", "logits", "loss", "grad_check"],
});

/**
 * Derives the gradient graph of a classifier.
 *
 * The result has inputs `input` (`N×C×H×W` float32, pixels in [0,1] when `normalize` is set) and
 * `labels` (int64 `[N]`) and outputs `logits` (`N×K`), `loss` (per-example cross-entropy, `[N]`),
 * `input_grad` (∂Σloss/∂input, `N×C×H×W`) and any requested taps. Before differentiating, the batch
 * size is fixed, the integer shape sub-graph is evaluated, Identity-on-initializer nodes become
 * aliases and nodes that do not feed the logits (or taps) are dropped.
 *
 * @param model ONNX model bytes or a decoded model.
 * @param options Batch, normalisation, target runtime, taps.
 * @returns The gradient model's bytes.
 * @throws {ModelFormatError} For an unsupported op (naming it, the node and the supported ops) or
 *   a model that is not an `N×C×H×W → N×K` classifier.
 * @throws {RangeError} For a bad batch size, normalisation or tap name.
 * @example Gradient of the toy CNN at batch 2
 * ```ts
 * import { deriveGradientGraph, openGraphSession } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const session = await openGraphSession(deriveGradientGraph(model, { batch: 2 }));
 * const out = await session.run({
 *   input: { data: new Float32Array(2 * 28 * 28).fill(0.5), dims: [2, 1, 28, 28] },
 *   labels: { data: BigInt64Array.of(3n, 7n), dims: [2] },
 * });
 * await session.release();
 * assertEquals([out.logits.length, out.loss.length, out.input_grad.length], [20, 2, 2 * 28 * 28]);
 * ```
 */
export function deriveGradientGraph(
  model: Uint8Array | ModelProto,
  options: GradientGraphOptions = {},
): Uint8Array {
  return _cached(model, options, "gradient");
}

/**
 * Derives the fused PGD step graph: inputs `x_adv`, `x0` (`N×C×H×W`), `labels` (int64 `[N]`),
 * `eps` and `step` (float scalars); outputs `x_next =
 * Clip(Min(Max(x_adv + step·Sign(g), x0 − eps), x0 + eps), 0, 1)` where g = ∂Σloss/∂x_adv, and
 * `logits`, `loss` of `x_adv` (before the step), `grad_check` (`[N]`: 0 where g is finite, NaN
 * where any element of an example's gradient is NaN or ±Inf), plus taps and, with
 * `withGradient`, `input_grad`.
 *
 * @param model ONNX model bytes or a decoded model.
 * @param options As for {@linkcode deriveGradientGraph}.
 * @returns The step model's bytes.
 * @throws {ModelFormatError} As {@linkcode deriveGradientGraph}.
 * @throws {RangeError} As {@linkcode deriveGradientGraph}.
 * @example
 * ```ts
 * import { derivePgdStepGraph } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * assertEquals(derivePgdStepGraph(model, { batch: 4 }).length > 0, true);
 * ```
 */
export function derivePgdStepGraph(
  model: Uint8Array | ModelProto,
  options: GradientGraphOptions = {},
): Uint8Array {
  return _cached(model, options, "pgd");
}

/**
 * The specialised forward graph (same preparation, no gradient): input `input`, outputs `logits`
 * and taps. Used to evaluate clean, adversarial and noisy images at the same batch size.
 *
 * @param model ONNX model bytes or a decoded model.
 * @param options Batch, normalisation, taps (target and withGradient are ignored).
 * @returns The forward model's bytes.
 * @throws {ModelFormatError} As {@linkcode deriveGradientGraph}.
 * @throws {RangeError} As {@linkcode deriveGradientGraph}.
 * @example
 * ```ts
 * import { deriveForwardGraph } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * assertEquals(deriveForwardGraph(model, { batch: 1 }).length > 0, true);
 * ```
 */
export function deriveForwardGraph(
  model: Uint8Array | ModelProto,
  options: GradientGraphOptions = {},
): Uint8Array {
  return _cached(model, options, "forward");
}

function _unsupported(pn: { op: string; name: string }, name: string): ModelFormatError {
  return new ModelFormatError(
    `Cannot derive gradient graph for ${name}: op ${pn.op} (node ${pn.name}) is not supported; ` +
      `supported ops: ${SUPPORTED_OPS.join(", ")}`,
  );
}

/**
 * Graphs derived ahead of their use (by `validateModel`, which derives the PGD step graph the
 * attack will ask for), each handed over once to the first identical request: a derivation costs
 * a protobuf decode, the shape folding and an encode (~0.5 s for ResNet18), and nothing is kept
 * after it is taken (derived graphs are as large as the model). Keyed by the bytes object.
 */
const _ahead = new WeakMap<Uint8Array, Map<string, Uint8Array>>();

/**
 * Derives a graph now and keeps it for the first {@linkcode derivePgdStepGraph} (or gradient or
 * forward) call with the same bytes object and options. Internal to lib/grad (validation).
 *
 * @param model Model bytes.
 * @param options As for {@linkcode deriveGradientGraph}.
 * @param mode Which graph.
 * @returns The derived bytes (also kept).
 */
export function _deriveAhead(
  model: Uint8Array,
  options: GradientGraphOptions,
  mode: "gradient" | "pgd" | "forward",
): Uint8Array {
  const out = _build(model, options, mode);
  let m = _ahead.get(model);
  if (!m) _ahead.set(model, m = new Map());
  m.clear(); // one graph ahead per model at most
  m.set(JSON.stringify([mode, options]), out);
  return out;
}

function _cached(
  model: Uint8Array | ModelProto,
  options: GradientGraphOptions,
  mode: "gradient" | "pgd" | "forward",
): Uint8Array {
  if (model instanceof Uint8Array) {
    const m = _ahead.get(model), key = JSON.stringify([mode, options]);
    const ready = m?.get(key);
    if (ready) {
      m!.delete(key);
      return ready;
    }
  }
  return _build(model, options, mode);
}

function _build(
  model: Uint8Array | ModelProto,
  options: GradientGraphOptions,
  mode: "gradient" | "pgd" | "forward",
): Uint8Array {
  const name = options.name ?? "model";
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(
      `Cannot derive gradient graph: batch is ${batch} but must be an integer ≥ 1`,
    );
  }
  const target = options.target ?? "cpu";
  if (target !== "cpu" && target !== "webgpu") {
    throw new RangeError(
      `Cannot derive gradient graph: target is "${target}" but must be cpu or webgpu`,
    );
  }
  const m: ModelProto = model instanceof Uint8Array ? decodeModel(model, name) : model;
  const g0 = m.graph!;
  const ext = (g0.initializer ?? []).find((t) => t.dataLocation === 1);
  if (ext) {
    throw new ModelFormatError(
      `Cannot derive gradient graph for ${name}: tensor "${ext.name}" keeps its data in an ` +
        "external file; expected a self-contained model: pass the bytes of loadModel(path), " +
        "which reads and inlines external data",
    );
  }
  const inName = mode === "pgd" ? "x_adv" : "input";
  const reserved = new Set([
    "input",
    "labels",
    "loss",
    "input_grad",
    "x_adv",
    "x0",
    "eps",
    "step",
    "x_next",
    "grad_check",
  ]);
  const modelInput = (g0.input ?? []).find((v) =>
    !(g0.initializer ?? []).some((t) => t.name === v.name)
  )?.name;
  for (const n of g0.node ?? []) {
    for (const o of n.output ?? []) {
      if (reserved.has(o)) {
        throw new ModelFormatError(
          `Cannot derive gradient graph for ${name}: tensor name "${o}" is reserved for the gradient ` +
            `graph's interface (${[...reserved].join(", ")}); rename it in the model`,
        );
      }
    }
  }
  // Normalisation prelude: pixels in [0,1] → (x − mean)/std → the model's own input.
  const norm = resolveNormalize(options.normalize, null);
  const prelude: NodeLike[] = [];
  const extra: TensorLike[] = [];
  const pixels = "__somscope/normalized";
  if (norm) {
    const c = norm.mean.length;
    extra.push(tensor("__somscope/mean", [1, c, 1, 1], Float32Array.from(norm.mean)));
    extra.push(tensor("__somscope/std", [1, c, 1, 1], Float32Array.from(norm.std)));
    prelude.push(node("Sub", [inName, "__somscope/mean"], ["__somscope/centered"]));
    prelude.push(node("Div", ["__somscope/centered", "__somscope/std"], [pixels]));
  }
  const inputGraph: GraphLike = {
    ...g0,
    initializer: [...(g0.initializer ?? []), ...extra],
  };
  // Route the model's input name to the prelude's output (or to the new input name).
  const entry = norm ? pixels : inName;
  const renamed: NodeLike[] = (g0.node ?? []).map((n) => ({
    ...n,
    input: (n.input ?? []).map((x) => (x === modelInput ? entry : x)),
  }));
  const mm = { ...m, graph: { ...inputGraph, node: renamed } } as ModelProto;
  const logitsName0 = g0.output?.[0]?.name;
  if (logitsName0 === modelInput) {
    throw new ModelFormatError(`Cannot derive gradient graph for ${name}: its output is its input`);
  }
  const pg = prepareGraph(mm, {
    batch,
    prelude,
    inputName: inName,
    taps: options.taps,
    name,
    supported: new Set(SUPPORTED_OPS),
    unsupported: (pn) => _unsupported(pn, name),
  });
  if (norm && pg.inputShape[1] !== norm.mean.length) {
    throw new RangeError(
      `Cannot normalize ${name}: mean/std have ${norm.mean.length} channels but the model input has ` +
        `${pg.inputShape[1]}`,
    );
  }
  const y = pg.shapes.get(pg.logits);
  if (!y || y.length !== 2 || y[0] !== batch) {
    throw new ModelFormatError(
      `Cannot derive gradient graph for ${name}: output ${pg.logits} has shape [${y}] but expected ` +
        `[${batch}, K] logits`,
    );
  }
  if (!pg.live.has(pg.logits)) {
    throw new ModelFormatError(
      `Cannot derive gradient graph for ${name}: the logits do not depend on the input`,
    );
  }
  return _emit(pg, options, mode, m, target);
}

/** The graph under construction: nodes, constants and shapes, with fresh-name generation. */
interface _Out {
  nodes: NodeLike[];
  consts: Map<string, Const>;
  usedConsts: Set<string>;
  shapes: Map<string, number[]>;
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  /** MaxPool node name → its Indices output. */
  indices: Map<string, string>;
  fresh(hint: string): string;
  addConst(dtype: number, values: ArrayLike<number>, dims: number[]): string;
  push(n: NodeLike): void;
}

function _output(pg: PreparedGraph): _Out {
  let counter = 0;
  const constCache = new Map<string, string>();
  const o: _Out = {
    nodes: [],
    consts: new Map<string, Const>(pg.consts),
    usedConsts: new Set<string>(),
    shapes: new Map(pg.shapes),
    inputs: [valueInfo(pg.input, DT.FLOAT, pg.inputShape)],
    outputs: [],
    indices: new Map<string, string>(),
    fresh: (hint) => `grad/${hint}_${counter++}`,
    addConst: (dtype, values, dims) => {
      const key = values.length <= 16 ? `${dtype}|${dims}|${Array.from(values)}` : "";
      if (key && constCache.has(key)) return constCache.get(key)!;
      const nm = o.fresh("const");
      o.consts.set(nm, { dtype, dims, values });
      if (key) constCache.set(key, nm);
      return nm;
    },
    push: (n) => {
      for (const i of n.input ?? []) if (o.consts.has(i)) o.usedConsts.add(i);
      o.nodes.push(n);
    },
  };
  return o;
}

function _emit(
  pg: PreparedGraph,
  options: GradientGraphOptions,
  mode: "gradient" | "pgd" | "forward",
  m: ModelProto,
  target: "cpu" | "webgpu",
): Uint8Array {
  const o = _output(pg);
  _emitForward(o, pg, mode !== "forward" && target === "cpu");
  _emitForwardOutputs(o, pg, options.taps ?? []);
  if (mode !== "forward") {
    const b = _gradBuilder(o, pg, target, options.convGrad ?? "conv");
    const dlogits = _emitLoss(o, pg, b);
    const gIn = _backward(pg, b, dlogits, options.name ?? "model");
    const [N, C, H, W] = pg.inputShape;
    if (mode === "gradient" || options.withGradient) {
      o.push(node("Identity", [gIn], ["input_grad"]));
      o.outputs.push(valueInfo("input_grad", DT.FLOAT, [N, C, H, W]));
    }
    if (mode === "pgd") _emitPgdStep(o, b, gIn, [N, C, H, W]);
  }
  const opset = Math.max(17, pg.opset);
  const g: GraphLike = {
    name: `${m.graph?.name ?? "model"}_${mode}`,
    node: o.nodes,
    initializer: _initializers(o),
    input: o.inputs,
    output: o.outputs,
  };
  return encodeModel(modelProto(g, { opset, irVersion: Math.max(8, Number(m.irVersion ?? 8)) }));
}

/** Forward nodes (MaxPool re-emitted with Indices on CPU targets when its gradient is needed). */
function _emitForward(o: _Out, pg: PreparedGraph, maxPoolIndices: boolean): void {
  for (const pn of pg.nodes) {
    const outs = [...pn.outputs];
    if (maxPoolIndices && pn.op === "MaxPool" && pg.live.has(pn.inputs[0])) {
      if (outs.length < 2 || !outs[1]) {
        outs[1] = o.fresh("maxpool_indices");
        o.shapes.set(outs[1], o.shapes.get(outs[0])!);
      }
      o.indices.set(pn.name, outs[1]);
    }
    o.push({ ...pn.proto, input: pn.inputs, output: outs });
  }
}

/** The `logits` output and the taps, under their own names. */
function _emitForwardOutputs(o: _Out, pg: PreparedGraph, taps: string[]): void {
  const K = pg.shapes.get(pg.logits)![1];
  if (pg.logits !== "logits") o.push(node("Identity", [pg.logits], ["logits"]));
  o.outputs.push(valueInfo("logits", DT.FLOAT, [pg.inputShape[0], K]));
  for (const t of new Set(taps)) {
    const src = pg.resolve(t);
    const shp = o.shapes.get(src) ?? o.consts.get(src)?.dims;
    if (t === "logits") continue;
    if (src !== t || t === pg.logits) o.push(node("Identity", [src], [t]));
    o.outputs.push(valueInfo(t, DT.FLOAT, shp!));
  }
}

/** The {@linkcode GradBuilder} the rules of `ops.ts` emit through. */
function _gradBuilder(
  o: _Out,
  pg: PreparedGraph,
  target: "cpu" | "webgpu",
  convGrad: "conv" | "convtranspose",
): GradBuilder {
  const flipped = new Map<string, string>();
  const premask = _reluIntoMaxPool(pg, target);
  const b: GradBuilder = {
    target,
    convGrad,
    flippedWeight: (w, group) => {
      const key = `${w}|${group}`;
      if (!flipped.has(key)) {
        const c = o.consts.get(w)!;
        const f = flipConvWeight(constValues(c), c.dims, group);
        const nm = o.fresh("flipped");
        o.consts.set(nm, { dtype: DT.FLOAT, dims: f.dims, values: f.values });
        flipped.set(key, nm);
      }
      return flipped.get(key)!;
    },
    shape: (t) => {
      const s = o.shapes.get(t) ?? o.consts.get(t)?.dims;
      if (!s) throw new Error(`internal: no shape for ${t}`);
      return s;
    },
    constOf: (t) => (pg.live.has(t) ? undefined : o.consts.get(t)),
    live: (t) => t !== "" && pg.live.has(t),
    emit: (op, ins, attrs = {}, k = 1) => {
      const outs = Array.from({ length: k }, () => o.fresh(op.toLowerCase()));
      o.push(node(op, ins, outs, attrs as Record<string, never>));
      return outs;
    },
    f32: (values, dims) => o.addConst(DT.FLOAT, Float32Array.from(values), dims),
    i64: (values, dims) => o.addConst(DT.INT64, values, dims ?? [values.length]),
    reduceTo: (gr, from, to) => {
      if (from.length === to.length && from.every((d, i) => d === to[i])) return gr;
      const lead = from.length - to.length;
      const axes: number[] = [];
      for (let i = 0; i < from.length; i++) {
        if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
      }
      let out = gr;
      if (axes.length) {
        out = b.emit("ReduceSum", [gr, b.i64(axes)], { keepdims: 1 })[0];
        o.shapes.set(out, from.map((d, i) => (axes.includes(i) ? 1 : d)));
      }
      if (lead > 0) {
        const r = b.emit("Reshape", [out, b.i64(to)])[0];
        o.shapes.set(r, to);
        out = r;
      }
      return out;
    },
    setShape: (t, s) => void o.shapes.set(t, s),
    maxPoolIndices: (pn) => o.indices.get(pn.name),
    reluIntoMaxPool: (t) => premask.has(t),
  };
  return b;
}

/** Relu outputs read by exactly one node, a MaxPool, on the CPU target (see `GradBuilder`). */
function _reluIntoMaxPool(pg: PreparedGraph, target: "cpu" | "webgpu"): Set<string> {
  const out = new Set<string>();
  if (target !== "cpu") return out;
  const readers = new Map<string, PreparedNode[]>();
  for (const pn of pg.nodes) {
    for (const i of new Set(pn.inputs)) readers.set(i, [...(readers.get(i) ?? []), pn]);
  }
  for (const pn of pg.nodes) {
    const t = pn.outputs[0], r = readers.get(t);
    if (pn.op !== "Relu" || t === pg.logits || r?.length !== 1 || r[0].op !== "MaxPool") continue;
    if (r[0].inputs[0] === t && r[0].inputs.indexOf(t, 1) < 0) out.add(t);
  }
  return out;
}

/**
 * The `labels` input and per-example cross-entropy `loss` output; returns ∂Σloss/∂logits =
 * softmax(z) − onehot(y).
 */
function _emitLoss(o: _Out, pg: PreparedGraph, b: GradBuilder): string {
  const [N, K] = pg.shapes.get(pg.logits)!;
  const labels2 = b.emit("Unsqueeze", ["labels", b.i64([1])])[0];
  const logp = b.emit("LogSoftmax", [pg.logits], { axis: 1 })[0];
  const picked = b.emit("GatherElements", [logp, labels2], { axis: 1 })[0];
  o.push(node("Neg", [b.emit("Reshape", [picked, b.i64([N])])[0]], ["loss"]));
  const prob = b.emit("Softmax", [pg.logits], { axis: 1 })[0];
  const range = b.i64([...Array(K).keys()], [1, K]);
  const onehot = b.emit("Cast", [b.emit("Equal", [labels2, range])[0]], { to: DT.FLOAT })[0];
  const dlogits = b.emit("Sub", [prob, onehot])[0];
  b.setShape(dlogits, [N, K]);
  o.inputs.push(valueInfo("labels", DT.INT64, [N]));
  o.outputs.push(valueInfo("loss", DT.FLOAT, [N]));
  return dlogits;
}

/** Reverse-mode sweep over the forward nodes; returns the input gradient's name. */
function _backward(pg: PreparedGraph, b: GradBuilder, dlogits: string, name: string): string {
  const grads = new Map<string, string[]>([[pg.logits, [dlogits]]]);
  const acc = (t: string): string | undefined => {
    const gs = grads.get(t);
    if (!gs || gs.length === 0) return undefined;
    if (gs.length === 1) return gs[0];
    const s = b.emit("Sum", gs)[0];
    b.setShape(s, b.shape(t));
    grads.set(t, [s]);
    return s;
  };
  for (let i = pg.nodes.length - 1; i >= 0; i--) {
    const pn: PreparedNode = pg.nodes[i];
    if (!pn.inputs.some((x) => b.live(x))) continue;
    const dY = pn.outputs.map((o) => (o ? acc(o) : undefined));
    if (dY.every((d) => d === undefined)) continue;
    const rule = GRADIENT_RULES[pn.op];
    if (!rule) throw _unsupported(pn, name);
    const dX = rule(pn, dY, b);
    pn.inputs.forEach((x, k) => {
      if (!b.live(x) || !dX[k]) return;
      if (!grads.has(x)) grads.set(x, []);
      grads.get(x)!.push(dX[k]!);
    });
  }
  const gIn = acc(pg.input);
  if (!gIn) {
    throw new ModelFormatError("Cannot derive gradient graph: no gradient reaches the input");
  }
  return gIn;
}

/**
 * The fused PGD update `x_next` and its `x0`, `eps`, `step` inputs, plus `grad_check`: per
 * example Σ 0·g, which is 0 when the gradient is finite and NaN when any element is NaN or ±Inf
 * (Sign would hide an infinite gradient in `x_next`).
 */
function _emitPgdStep(o: _Out, b: GradBuilder, gIn: string, shape: number[]): void {
  const upd = b.emit("Add", ["x_adv", b.emit("Mul", ["step", b.emit("Sign", [gIn])[0]])[0]])[0];
  const lo = b.emit("Sub", ["x0", "eps"])[0], hi = b.emit("Add", ["x0", "eps"])[0];
  const box = b.emit("Min", [b.emit("Max", [upd, lo])[0], hi])[0];
  o.push(node("Clip", [box, b.f32([0], []), b.f32([1], [])], ["x_next"]));
  o.inputs.push(valueInfo("x0", DT.FLOAT, shape));
  o.inputs.push(valueInfo("eps", DT.FLOAT, []));
  o.inputs.push(valueInfo("step", DT.FLOAT, []));
  o.outputs.unshift(valueInfo("x_next", DT.FLOAT, shape));
  const zeroed = b.emit("Mul", [gIn, b.f32([0], [])])[0];
  o.push(node("ReduceSum", [zeroed, b.i64([1, 2, 3])], ["grad_check"], { keepdims: 0 }));
  o.outputs.push(valueInfo("grad_check", DT.FLOAT, [shape[0]]));
}

/** The constants the emitted nodes use, as initializers (model tensors re-emitted uncopied). */
function _initializers(o: _Out): TensorLike[] {
  const initializer: TensorLike[] = [];
  for (const nm of o.usedConsts) {
    const c = o.consts.get(nm)!;
    if (c.proto && c.proto.name === nm && !c.values) {
      initializer.push(c.proto);
    } else if (c.proto && !c.values) {
      initializer.push({ ...c.proto, name: nm });
    } else {
      initializer.push(_constTensor(nm, c));
    }
  }
  return initializer;
}

function _constTensor(name: string, c: Const): TensorLike {
  const v = c.values!;
  switch (c.dtype) {
    case DT.FLOAT:
      return tensor(name, c.dims, Float32Array.from(v));
    case DT.DOUBLE:
      return tensor(name, c.dims, Float64Array.from(v));
    case DT.INT32:
      return tensor(name, c.dims, Int32Array.from(v));
    case DT.INT64:
      return tensor(
        name,
        c.dims,
        BigInt64Array.from(
          Array.from(v, (x) => BigInt(Math.trunc(Math.max(Math.min(x, 9.2e18), -9.2e18)))),
        ),
      );
    case DT.BOOL:
    case DT.UINT8:
      return tensor(name, c.dims, Uint8Array.from(v), c.dtype);
  }
  throw new ModelFormatError(
    `Cannot write constant ${name}: element type ${c.dtype} is not supported`,
  );
}
