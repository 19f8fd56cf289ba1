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
import {
  type Const,
  constValues,
  type PreparedGraph,
  type PreparedNode,
  prepareGraph,
} from "./fold.ts";
import { flipConvWeight, type GradBuilder, GRADIENT_RULES, SUPPORTED_OPS } from "./ops.ts";
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Normalize,
  parseNormalize,
  resolveNormalize,
} from "../model/surgery.ts";

/**
 * ImageNet channel statistics (torchvision).
 *
 * @example
 * ```ts
 * import { IMAGENET_NORMALIZATION } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(IMAGENET_NORMALIZATION.mean, [0.485, 0.456, 0.406]);
 * assertEquals(IMAGENET_NORMALIZATION.std, [0.229, 0.224, 0.225]);
 * ```
 */
export const IMAGENET_NORMALIZATION: { mean: number[]; std: number[] } = Object.freeze({
  mean: [...IMAGENET_MEAN],
  std: [...IMAGENET_STD],
}) as { mean: number[]; std: number[] };

/** Input normalisation: none, ImageNet's, or explicit per-channel mean and std. */
export type Normalization = Normalize;

/** Options for {@linkcode deriveGradientGraph} and {@linkcode derivePgdStepGraph}. */
export interface GradientGraphOptions {
  /** Batch size the graph is specialised to (default 1). */
  batch?: number;
  /** Normalisation applied inside the graph to pixels in [0,1] (default `"none"`). */
  normalize?: Normalization;
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
  pgdOutputs: ["x_next", "logits", "loss"],
});

/**
 * Parses a normalisation option: `none`, `imagenet`, or `m1,m2,m3/s1,s2,s3` (also `mean,std` for
 * one channel); the same parser as {@linkcode parseNormalize}.
 *
 * @param text The option text.
 * @returns The normalisation.
 * @throws {RangeError} If the text is none of these, or a std is not positive.
 * @example
 * ```ts
 * import { parseNormalization } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(parseNormalization("0.5,0.5,0.5/0.25,0.25,0.25"), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
 * ```
 */
export function parseNormalization(text: string): Normalization {
  return parseNormalize(text);
}

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
  return _build(model, options, "gradient");
}

/**
 * Derives the fused PGD step graph: inputs `x_adv`, `x0` (`N×C×H×W`), `labels` (int64 `[N]`),
 * `eps` and `step` (float scalars); outputs `x_next =
 * Clip(Min(Max(x_adv + step·Sign(g), x0 − eps), x0 + eps), 0, 1)` where g = ∂Σloss/∂x_adv, and
 * `logits`, `loss` of `x_adv` (before the step), plus taps and, with `withGradient`, `input_grad`.
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
  return _build(model, options, "pgd");
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
  return _build(model, options, "forward");
}

function _unsupported(pn: { op: string; name: string }, name: string): ModelFormatError {
  return new ModelFormatError(
    `Cannot derive gradient graph for ${name}: op ${pn.op} (node ${pn.name}) is not supported; ` +
      `supported ops: ${SUPPORTED_OPS.join(", ")}`,
  );
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

function _emit(
  pg: PreparedGraph,
  options: GradientGraphOptions,
  mode: "gradient" | "pgd" | "forward",
  m: ModelProto,
  target: "cpu" | "webgpu",
): Uint8Array {
  const [N, C, H, W] = pg.inputShape;
  const K = pg.shapes.get(pg.logits)![1];
  const nodes: NodeLike[] = [];
  const consts = new Map<string, Const>(pg.consts);
  const usedConsts = new Set<string>();
  const shapes = new Map(pg.shapes);
  let counter = 0;
  const fresh = (hint: string) => `grad/${hint}_${counter++}`;
  const constCache = new Map<string, string>();
  const addConst = (dtype: number, values: ArrayLike<number>, dims: number[]): string => {
    const key = values.length <= 16 ? `${dtype}|${dims}|${Array.from(values)}` : "";
    if (key && constCache.has(key)) return constCache.get(key)!;
    const nm = fresh("const");
    consts.set(nm, { dtype, dims, values });
    if (key) constCache.set(key, nm);
    return nm;
  };
  const indices = new Map<string, string>();
  const pushNode = (n: NodeLike) => {
    for (const i of n.input ?? []) if (consts.has(i)) usedConsts.add(i);
    nodes.push(n);
  };

  // Forward nodes (MaxPool re-emitted with Indices on CPU targets when its gradient is needed).
  for (const pn of pg.nodes) {
    const outs = [...pn.outputs];
    if (
      mode !== "forward" && pn.op === "MaxPool" && target === "cpu" && pg.live.has(pn.inputs[0])
    ) {
      if (outs.length < 2 || !outs[1]) {
        outs[1] = fresh("maxpool_indices");
        shapes.set(outs[1], shapes.get(outs[0])!);
      }
      indices.set(pn.name, outs[1]);
    }
    pushNode({ ...pn.proto, input: pn.inputs, output: outs });
  }
  const outputs: ReturnType<typeof valueInfo>[] = [];
  const inputs: ReturnType<typeof valueInfo>[] = [valueInfo(pg.input, DT.FLOAT, pg.inputShape)];
  const emitOut = (src: string, dst: string, shape: number[]) => {
    if (src !== dst) pushNode(node("Identity", [src], [dst]));
    outputs.push(valueInfo(dst, DT.FLOAT, shape));
  };
  emitOut(pg.logits, "logits", [N, K]);
  for (const t of new Set(options.taps ?? [])) {
    const src = pg.resolve(t);
    const shp = shapes.get(src) ?? consts.get(src)?.dims;
    if (t === "logits") continue;
    if (src !== t || t === pg.logits) pushNode(node("Identity", [src], [t]));
    outputs.push(valueInfo(t, DT.FLOAT, shp!));
  }

  if (mode !== "forward") {
    const flipped = new Map<string, string>();
    const b: GradBuilder = {
      target,
      convGrad: options.convGrad ?? "conv",
      flippedWeight: (w, group) => {
        const key = `${w}|${group}`;
        if (!flipped.has(key)) {
          const c = consts.get(w)!;
          const f = flipConvWeight(constValues(c), c.dims, group);
          const nm = fresh("flipped");
          consts.set(nm, { dtype: DT.FLOAT, dims: f.dims, values: f.values });
          flipped.set(key, nm);
        }
        return flipped.get(key)!;
      },
      shape: (t) => {
        const s = shapes.get(t) ?? consts.get(t)?.dims;
        if (!s) throw new Error(`internal: no shape for ${t}`);
        return s;
      },
      constOf: (t) => (pg.live.has(t) ? undefined : consts.get(t)),
      live: (t) => t !== "" && pg.live.has(t),
      emit: (op, ins, attrs = {}, k = 1) => {
        const outs = Array.from({ length: k }, () => fresh(op.toLowerCase()));
        pushNode(node(op, ins, outs, attrs as Record<string, never>));
        return outs;
      },
      f32: (values, dims) => addConst(DT.FLOAT, Float32Array.from(values), dims),
      i64: (values, dims) => addConst(DT.INT64, values, dims ?? [values.length]),
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
          shapes.set(out, from.map((d, i) => (axes.includes(i) ? 1 : d)));
        }
        if (lead > 0) {
          const r = b.emit("Reshape", [out, b.i64(to)])[0];
          shapes.set(r, to);
          out = r;
        }
        return out;
      },
      setShape: (t, s) => void shapes.set(t, s),
      maxPoolIndices: (pn) => indices.get(pn.name),
    };
    // Loss: per-example cross-entropy; dlogits = softmax(z) − onehot(y) for the summed loss.
    const labels2 = b.emit("Unsqueeze", ["labels", b.i64([1])])[0];
    const logp = b.emit("LogSoftmax", [pg.logits], { axis: 1 })[0];
    const picked = b.emit("GatherElements", [logp, labels2], { axis: 1 })[0];
    pushNode(node("Neg", [b.emit("Reshape", [picked, b.i64([N])])[0]], ["loss"]));
    const prob = b.emit("Softmax", [pg.logits], { axis: 1 })[0];
    const range = b.i64([...Array(K).keys()], [1, K]);
    const onehot = b.emit("Cast", [b.emit("Equal", [labels2, range])[0]], { to: DT.FLOAT })[0];
    const dlogits = b.emit("Sub", [prob, onehot])[0];
    shapes.set(dlogits, [N, K]);
    inputs.push(valueInfo("labels", DT.INT64, [N]));
    outputs.push(valueInfo("loss", DT.FLOAT, [N]));

    const grads = new Map<string, string[]>([[pg.logits, [dlogits]]]);
    const acc = (t: string): string | undefined => {
      const gs = grads.get(t);
      if (!gs || gs.length === 0) return undefined;
      if (gs.length === 1) return gs[0];
      const s = b.emit("Sum", gs)[0];
      shapes.set(s, b.shape(t));
      grads.set(t, [s]);
      return s;
    };
    for (let i = pg.nodes.length - 1; i >= 0; i--) {
      const pn: PreparedNode = pg.nodes[i];
      if (!pn.inputs.some((x) => b.live(x))) continue;
      const dY = pn.outputs.map((o) => (o ? acc(o) : undefined));
      if (dY.every((d) => d === undefined)) continue;
      const rule = GRADIENT_RULES[pn.op];
      if (!rule) throw _unsupported(pn, options.name ?? "model");
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
    if (mode === "gradient" || options.withGradient) {
      pushNode(node("Identity", [gIn], ["input_grad"]));
      outputs.push(valueInfo("input_grad", DT.FLOAT, [N, C, H, W]));
    }
    if (mode === "pgd") {
      const upd = b.emit("Add", ["x_adv", b.emit("Mul", ["step", b.emit("Sign", [gIn])[0]])[0]])[0];
      const lo = b.emit("Sub", ["x0", "eps"])[0], hi = b.emit("Add", ["x0", "eps"])[0];
      const box = b.emit("Min", [b.emit("Max", [upd, lo])[0], hi])[0];
      pushNode(node("Clip", [box, b.f32([0], []), b.f32([1], [])], ["x_next"]));
      inputs.push(valueInfo("x0", DT.FLOAT, [N, C, H, W]));
      inputs.push(valueInfo("eps", DT.FLOAT, []));
      inputs.push(valueInfo("step", DT.FLOAT, []));
      outputs.unshift(valueInfo("x_next", DT.FLOAT, [N, C, H, W]));
    }
  }

  const initializer: TensorLike[] = [];
  for (const nm of usedConsts) {
    const c = consts.get(nm)!;
    if (c.proto && c.proto.name === nm && !c.values) {
      initializer.push(c.proto);
    } else if (c.proto && !c.values) {
      initializer.push({ ...c.proto, name: nm });
    } else {
      initializer.push(_constTensor(nm, c));
    }
  }
  const opset = Math.max(17, pg.opset);
  const g: GraphLike = {
    name: `${m.graph?.name ?? "model"}_${mode}`,
    node: nodes,
    initializer,
    input: inputs,
    output: outputs,
  };
  return encodeModel(modelProto(g, { opset, irVersion: Math.max(8, Number(m.irVersion ?? 8)) }));
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
