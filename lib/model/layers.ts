/**
 * Candidate layers of a model and the automatic composite layers (MODELS.md, "Finding the
 * composite layers from the graph alone"): cut tensors from the graph, their shapes from one
 * run with the candidates added as outputs, and aliases `CL1..CL4` (CNNs) or `cls0..clsN`
 * (ViT-style models).
 *
 * @module
 */

import { getAttr, type GraphLike, type NodeLike } from "../onnx/proto.ts";
import type { LoadedModel } from "./load.ts";
import { prepareModel } from "./surgery.ts";
import { createRuntime, type RuntimeChoice } from "./runtime.ts";

/** A cut tensor: every input→logits path passes through it. */
export interface CutTensor {
  /** Tensor name. */
  name: string;
  /** Operator that produced it. */
  op: string;
  /** Producing node's name. */
  node: string;
  /** Position in topological (file) order among the cut tensors. */
  index: number;
}

/** A candidate layer with its shape at the probed input size. */
export interface LayerCandidate extends CutTensor {
  /** Shape for a batch of 1 at the probed input size. */
  shape: number[];
  /** The proposed alias (`CL1`, `cls3`, …), if this tensor is an automatic layer. */
  alias?: string;
}

/** A resolved layer to extract. */
export interface LayerSpec {
  /** Label used for files and tables: the alias, or the tensor name. */
  label: string;
  /** Tensor name in the graph. */
  tensor: string;
  /** Take token 0 (`N×T×D` → `N×D`, ViT CLS). */
  token0: boolean;
  /** The tensor is channels-last `N×H×W×C` (Swin), tapped transposed to `N×C×H×W`. */
  channelsLast?: boolean;
  /** Shape of the tap for a batch of 1 (after taking token 0). */
  shape: number[];
}

/** What {@linkcode listLayers} finds. */
export interface LayerList {
  /** `"cnn"`, `"vit"`, or `"other"` (no automatic layers). */
  family: "cnn" | "vit" | "other";
  /** Input size probed, `[C, H, W]`. */
  inputShape: [number, number, number];
  /** Every cut tensor (except the input and the logits), in graph order, with shapes. */
  candidates: LayerCandidate[];
  /** Automatic layers in depth order (what `--layers auto` selects). */
  auto: LayerSpec[];
}

/** Options for {@linkcode listLayers}. */
export interface ListLayersOptions {
  /** Input height/width for models with a symbolic size. Default: the model's, else 224. */
  inputSize?: number | [number, number];
  /** Channels for a model with symbolic channels. Default 3. */
  channels?: number;
  /** Runtime for the shape probe. Default `"node"` (falls back to wasm via `"auto"`). */
  runtime?: RuntimeChoice;
}

const JOINS = new Set(["Add", "Concat", "Sum"]);
const SHAPE_ONLY = new Set(["Shape", "Size"]);
const NON_FLOAT = new Set([
  "Shape",
  "Size",
  "ArgMax",
  "ArgMin",
  "NonZero",
  "Equal",
  "Greater",
  "GreaterOrEqual",
  "Less",
  "LessOrEqual",
  "Not",
  "And",
  "Or",
  "Xor",
  "IsNaN",
  "IsInf",
]);
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

/**
 * Finds the cut tensors of a graph (MODELS.md rule 1): walking nodes in file (topological)
 * order and keeping the set of live float activations — tensors computed from the input's
 * values, not only its shape, with consumers still to run — a node's output is a cut if right
 * after it is produced it is the only live activation.
 *
 * @param graph The model graph.
 * @param inputName The image input.
 * @returns Cut tensors in graph order (the input itself excluded).
 * @example
 * ```ts
 * import { findCutTensors, loadModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await loadModel("tests/data/models/toy_cnn.onnx");
 * const cuts = findCutTensors(model.proto.graph!, model.input.name);
 * assertEquals(cuts[0].name, "/stem/stem.0/Conv_output_0");
 * assertEquals(cuts.at(-1)?.name, "logits");
 * ```
 */
export function findCutTensors(graph: GraphLike, inputName: string): CutTensor[] {
  const nodes = graph.node ?? [];
  const act = new Set<string>([inputName]);
  const producer = new Map<string, NodeLike>();
  const isShapeUse = (n: NodeLike) => SHAPE_ONLY.has(n.opType ?? "");
  for (const n of nodes) {
    const op = n.opType ?? "";
    const dataIn = isShapeUse(n) ? [] : (n.input ?? []).filter((x) => act.has(x));
    let floatOut = !NON_FLOAT.has(op);
    if (op === "Cast") floatOut = FLOAT_TYPES.has(getAttr<number>(n, "to", 0));
    for (const o of n.output ?? []) {
      if (!o) continue;
      producer.set(o, n);
      if (dataIn.length > 0 && floatOut) act.add(o);
    }
  }
  // Pending data consumers of each activation.
  const pending = new Map<string, number>();
  for (const n of nodes) {
    if (isShapeUse(n)) continue;
    for (const x of new Set(n.input ?? [])) {
      if (act.has(x)) pending.set(x, (pending.get(x) ?? 0) + 1);
    }
  }
  const outputs = new Set((graph.output ?? []).map((o) => o.name!));
  const live = new Set<string>();
  if ((pending.get(inputName) ?? 0) > 0) live.add(inputName);
  const cuts: CutTensor[] = [];
  for (const n of nodes) {
    if (!isShapeUse(n)) {
      for (const x of new Set(n.input ?? [])) {
        if (!act.has(x)) continue;
        const left = (pending.get(x) ?? 0) - 1;
        pending.set(x, left);
        if (left <= 0) live.delete(x);
      }
    }
    const made: string[] = [];
    for (const o of n.output ?? []) {
      if (o && act.has(o) && ((pending.get(o) ?? 0) > 0 || outputs.has(o))) {
        live.add(o);
        made.push(o);
      }
    }
    if (made.length === 1 && live.size === 1) {
      cuts.push({ name: made[0], op: n.opType ?? "", node: n.name ?? "", index: cuts.length });
    }
  }
  return cuts;
}

/**
 * Lists the candidate layers of a model with their shapes, and proposes the automatic ones.
 *
 * CNNs (MODELS.md rule 2): 4-D cut tensors grouped by spatial size, the 4 smallest sizes above
 * 1×1 kept (fewer if the model has fewer stages); at each size the last cut made by a join
 * (Add/Concat) — or that join's Relu when the Relu is its only consumer — else the last cut at
 * that size that is not a copy (Identity, Dropout, 1×1/stride-1 pooling; for VGG19 this is
 * pool5, not the `avgpool` that repeats it). ViT-style models (rule 3, recognised by 3-D cut tensors made by Add, the residual
 * stream): the embedding Add is dropped and every second Add is a block output; its token 0 is
 * the CLS token, aliases `cls0..clsN`.
 *
 * @param model A loaded model.
 * @param options Input size for symbolic models, probe runtime.
 * @returns Family, candidates with shapes and aliases, and the automatic layers.
 * @throws {RangeError} If the input size is not a positive integer.
 *
 * @example
 * ```ts
 * import { listLayers, loadModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const layers = await listLayers(await loadModel("tests/data/models/toy_cnn.onnx"));
 * assertEquals(layers.family, "cnn");
 * assertEquals(layers.auto.map((l) => [l.label, l.shape]), [
 *   ["CL1", [1, 8, 28, 28]],
 *   ["CL2", [1, 16, 14, 14]],
 *   ["CL3", [1, 32, 7, 7]],
 * ]);
 * ```
 */
export async function listLayers(
  model: LoadedModel,
  options: ListLayersOptions = {},
): Promise<LayerList> {
  const graph = model.proto.graph!;
  const inputShape = _inputShape(model, options);
  const cuts = findCutTensors(graph, model.input.name).filter((c) => c.name !== model.logits.name);
  const shapes = await probeShapes(model, cuts.map((c) => c.name), inputShape, options.runtime);
  const candidates: LayerCandidate[] = cuts.map((c) => ({ ...c, shape: shapes[c.name] }));
  const consumers = _consumers(graph);
  const byName = new Map(candidates.map((c) => [c.name, c]));
  const nodeOf = new Map<string, NodeLike>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) nodeOf.set(o, n);

  const adds3 = candidates.filter((c) => c.shape.length === 3 && c.op === "Add");
  let family: LayerList["family"] = "other";
  const auto: LayerSpec[] = [];
  if (adds3.length >= 2) {
    family = "vit";
    // Embedding Add + two per block: an odd count has the embedding Add first.
    const blocks = adds3.filter((_, i) => (adds3.length % 2 === 1 ? i % 2 === 0 && i > 0 : i % 2));
    blocks.forEach((c, i) => {
      c.alias = `cls${i}`;
      auto.push({ label: c.alias, tensor: c.name, token0: true, shape: [c.shape[0], c.shape[2]] });
    });
  } else {
    // Feature maps keep the input's aspect ratio (window-partitioned tensors such as MaxViT's
    // [B, windows, tokens, C] do not) and its batch of 1; channels-last maps (Swin's stages,
    // N×H×W×C) pass the same test on axes 1 and 2 instead of 2 and 3.
    const [, H, W] = inputShape;
    const fits = (h: number, w: number) =>
      h * w > 1 && h <= H && w <= W && Math.abs(h * W - w * H) <= Math.max(H, W);
    const last = new Set<string>();
    const maps = candidates.filter((c) => {
      if (c.shape.length !== 4 || c.shape[0] !== 1) return false;
      if (fits(c.shape[2], c.shape[3])) return true;
      if (!fits(c.shape[1], c.shape[2])) return false;
      last.add(c.name);
      return true;
    });
    const hw = (c: LayerCandidate) =>
      last.has(c.name) ? [c.shape[1], c.shape[2]] : [c.shape[2], c.shape[3]];
    const sizes = [...new Set(maps.map((c) => hw(c).join("x")))]
      .map((k) => k.split("x").map(Number))
      .sort((a, b) => a[0] * a[1] - b[0] * b[1])
      .slice(0, 4)
      .reverse();
    if (sizes.length > 0) family = "cnn";
    sizes.forEach(([h, w], i) => {
      const at = maps.filter((c) => hw(c)[0] === h && hw(c)[1] === w);
      const joins = at.filter((c) => JOINS.has(c.op));
      const real = at.filter((c) => !_isNoOp(nodeOf.get(c.name)));
      let pick = (real.length ? real : at)[(real.length ? real : at).length - 1];
      if (joins.length > 0) {
        pick = joins[joins.length - 1];
        const cons = consumers.get(pick.name) ?? [];
        if (cons.length === 1 && cons[0].opType === "Relu") {
          const relu = byName.get(cons[0].output![0]);
          if (relu) pick = relu;
        }
        // A later cut that only re-lays-out a join (ShuffleNet's channel shuffle, MaxViT's
        // departition of its attention stream) is the same stage output, rearranged.
        const later = at.filter((c) => c.index > pick.index && _relayoutOfJoin(c.name, nodeOf));
        if (later.length) pick = later[later.length - 1];
      }
      pick.alias = `CL${i + 1}`;
      const cl = last.has(pick.name), [n1, a, b, c] = pick.shape;
      auto.push({
        label: pick.alias,
        tensor: pick.name,
        token0: false,
        ...(cl ? { channelsLast: true } : {}),
        shape: cl ? [n1, c, a, b] : pick.shape,
      });
    });
  }
  return { family, inputShape, candidates, auto };
}

/**
 * Resolves a layer selection: `"auto"`, aliases (`CL1`, `cls3`), tensor names, or a mix,
 * comma-separated or as an array. A named 3-D tensor is tapped at token 0.
 *
 * @param model The model.
 * @param list Its layer list.
 * @param selection The selection.
 * @param options Probe runtime for tensors that are not candidates.
 * @returns The layers, in the order given.
 * @throws {RangeError} If a name is neither an alias nor a tensor of the graph (the message
 *   lists the valid names), or `"auto"` finds no automatic layers.
 * @example
 * ```ts
 * import { listLayers, loadModel, resolveLayers } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await loadModel("tests/data/models/toy_cnn.onnx");
 * const layers = await resolveLayers(model, await listLayers(model), "CL3,CL1");
 * assertEquals(layers.map((l) => [l.label, l.tensor]), [
 *   ["CL3", "/stage3/Relu_1_output_0"],
 *   ["CL1", "/stage1/Relu_1_output_0"],
 * ]);
 * ```
 */
export async function resolveLayers(
  model: LoadedModel,
  list: LayerList,
  selection: string | string[],
  options: { runtime?: RuntimeChoice } = {},
): Promise<LayerSpec[]> {
  const names = (Array.isArray(selection) ? selection : selection.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) names.push("auto");
  const tensors = new Set<string>();
  for (const n of model.proto.graph!.node ?? []) for (const o of n.output ?? []) tensors.add(o);
  const picked: (LayerSpec | string)[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    if (name === "auto") {
      if (list.auto.length === 0) {
        throw new RangeError(
          `Cannot select layers "auto": no composite layers were found in ${model.name}; ` +
            `name tensors instead, e.g. ${list.candidates.slice(-3).map((c) => c.name).join(", ")}`,
        );
      }
      picked.push(...list.auto);
      continue;
    }
    const a = list.auto.find((l) => l.label.toLowerCase() === name.toLowerCase());
    if (a) picked.push(a);
    else if (tensors.has(name) || name === model.input.name) picked.push(name);
    else unknown.push(name);
  }
  if (unknown.length) {
    const valid = [
      "auto",
      ...list.auto.map((l) => l.label),
      ...list.candidates.map((c) => c.name),
    ];
    throw new RangeError(
      `Cannot select layers: ${unknown.map((u) => `"${u}"`).join(", ")} ` +
        `${unknown.length > 1 ? "are" : "is"} not a layer of ${model.name}; expected "auto", ` +
        `an alias or a tensor name. Candidates: ${valid.join(", ")} ` +
        "(any tensor produced by a node may also be named)",
    );
  }
  const known = new Map(list.candidates.map((c) => [c.name, c.shape]));
  const missing = picked.filter((p): p is string => typeof p === "string" && !known.has(p));
  const probed = missing.length
    ? await probeShapes(model, missing, list.inputShape, options.runtime)
    : {};
  const out = picked.map((p): LayerSpec => {
    if (typeof p !== "string") return p;
    const shape = known.get(p) ?? probed[p];
    const token0 = shape.length === 3;
    return { label: p, tensor: p, token0, shape: token0 ? [shape[0], shape[2]] : shape };
  });
  // Keep the user's order and drop repeats.
  const seen = new Set<string>();
  return out.filter((l) => (seen.has(l.label) ? false : (seen.add(l.label), true)));
}

/**
 * Shapes of tensors for a batch of 1, from one run with them added as outputs (ORT-web has no
 * shape-inference API; MODELS.md rule 4).
 *
 * @param model The model.
 * @param tensors Tensor names.
 * @param inputShape `[C, H, W]`.
 * @param runtime Runtime. Default `"node"`, falling back to `"wasm"` if it cannot load.
 * @returns Shape by tensor name.
 * @throws {RangeError} If a tensor is not in the graph.
 * @throws {ModelFormatError} If the runtime refuses the model.
 * @throws {GpuUnavailableError} If `"webgpu"` is requested without WebGPU.
 * @example
 * ```ts
 * import { loadModel, probeShapes } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await loadModel("tests/data/models/toy_cnn.onnx");
 * const shapes = await probeShapes(model, ["/stage2/Relu_1_output_0"], [1, 28, 28]);
 * assertEquals(shapes, { "/stage2/Relu_1_output_0": [1, 16, 14, 14] });
 * ```
 */
export async function probeShapes(
  model: LoadedModel,
  tensors: string[],
  inputShape: [number, number, number],
  runtime: RuntimeChoice = "node",
): Promise<Record<string, number[]>> {
  const prepared = prepareModel(model, { taps: tensors.map((t) => ({ tensor: t })) });
  let rt;
  try {
    rt = await createRuntime(runtime, prepared.bytes);
  } catch (e) {
    if (runtime !== "node") throw e;
    rt = await createRuntime("wasm", prepared.bytes);
  }
  try {
    const [C, H, W] = inputShape;
    const r = await rt.run(new Float32Array(C * H * W).fill(0.5), [1, C, H, W]);
    const shapes: Record<string, number[]> = {};
    for (const t of prepared.taps) {
      shapes[t.tensor] = t.output === prepared.logitsName ? r.logitsDims : r.taps[t.output].dims;
    }
    r.dispose();
    return shapes;
  } finally {
    await rt.dispose();
  }
}

function _inputShape(model: LoadedModel, options: ListLayersOptions): [number, number, number] {
  const size = options.inputSize;
  let h = model.input.height, w = model.input.width;
  if (size !== undefined) {
    const [sh, sw] = Array.isArray(size) ? size : [size, size];
    if (![sh, sw].every((x) => Number.isInteger(x) && x > 0)) {
      throw new RangeError(`Cannot list layers: inputSize is ${size} but expected integers > 0`);
    }
    h = sh;
    w = sw;
  }
  return [model.input.channels ?? options.channels ?? 3, h ?? 224, w ?? 224];
}

/**
 * Ops that copy their input: Identity, Dropout, and 1×1/stride-1 pooling without padding (what
 * torch exports for an `AdaptiveAvgPool2d((7, 7))` on a 7×7 map, VGG's `avgpool`). A stage's tap
 * is the tensor they copy (VGG: pool5), not the copy.
 */
function _isNoOp(n: NodeLike | undefined): boolean {
  if (!n) return false;
  const op = n.opType ?? "";
  if (op === "Identity" || op === "Dropout") return true;
  if (op !== "AveragePool" && op !== "MaxPool") return false;
  const k = getAttr<number[]>(n, "kernel_shape", []);
  const s = getAttr<number[]>(n, "strides", []);
  const p = getAttr<number[]>(n, "pads", []);
  return k.length > 0 && k.every((x) => x === 1) && s.every((x) => x === 1) &&
    p.every((x) => x === 0);
}

const LAYOUT = new Set(["Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze"]);

/** Whether a tensor is made by layout ops only (Reshape, Transpose, …) from a join's output. */
function _relayoutOfJoin(name: string, nodeOf: Map<string, NodeLike>): boolean {
  let n = nodeOf.get(name), steps = 0;
  if (!n || !LAYOUT.has(n.opType ?? "")) return false;
  while (n && LAYOUT.has(n.opType ?? "") && steps++ < 64) n = nodeOf.get(n.input?.[0] ?? "");
  return !!n && JOINS.has(n.opType ?? "");
}

function _consumers(graph: GraphLike): Map<string, NodeLike[]> {
  const m = new Map<string, NodeLike[]>();
  for (const n of graph.node ?? []) {
    if (SHAPE_ONLY.has(n.opType ?? "")) continue;
    for (const x of new Set(n.input ?? [])) {
      if (!m.has(x)) m.set(x, []);
      m.get(x)!.push(n);
    }
  }
  return m;
}
