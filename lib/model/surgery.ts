/**
 * Graph surgery for extraction: expose chosen intermediate tensors as outputs (a ViT token
 * tensor through an appended `Gather(axis=1, index=0)`, its CLS token), prepend the input
 * normalisation of SPEC §1 so that callers feed `[0,1]` pixels, and drop the nodes that no
 * requested output needs.
 *
 * @module
 */

import {
  encodeModel,
  type GraphLike,
  node,
  type NodeLike,
  onnx,
  tensor,
  type TensorLike,
  valueInfo,
  type ValueInfoLike,
} from "../onnx/proto.ts";
import { DT } from "../onnx/proto.ts";
import type { LoadedModel } from "./load.ts";

/**
 * ImageNet channel means (SPEC §1).
 *
 * @example
 * ```ts
 * import { IMAGENET_MEAN } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(IMAGENET_MEAN, [0.485, 0.456, 0.406]);
 * ```
 */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/**
 * ImageNet channel standard deviations (SPEC §1).
 *
 * @example
 * ```ts
 * import { IMAGENET_STD } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(IMAGENET_STD, [0.229, 0.224, 0.225]);
 * ```
 */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Input normalisation: none, ImageNet's, or explicit per-channel mean and std. */
export type Normalize = "none" | "imagenet" | { mean: number[]; std: number[] };

/** One tensor to expose. */
export interface TapRequest {
  /** Tensor name in the graph. */
  tensor: string;
  /** Take token 0 along axis 1 (`N×T×D` → `N×D`), the ViT CLS token. Default false. */
  token0?: boolean;
  /** The tensor is `N×H×W×C` (Swin's stages): expose it transposed to `N×C×H×W`. */
  channelsLast?: boolean;
}

/**
 * The output name {@linkcode prepareModel} gives a tap: the tensor's own name, or
 * `<tensor>__token0` (token 0) or `<tensor>__nchw` (a channels-last tensor transposed).
 *
 * @param t The tap.
 * @returns The output name.
 * @example
 * ```ts
 * import { tapOutputName } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(tapOutputName({ tensor: "x", token0: true }), "x__token0");
 * assertEquals(tapOutputName({ tensor: "x", channelsLast: true }), "x__nchw");
 * ```
 */
export function tapOutputName(t: TapRequest): string {
  return t.token0 ? `${t.tensor}__token0` : t.channelsLast ? `${t.tensor}__nchw` : t.tensor;
}

/** A tap as exposed by {@linkcode prepareModel}. */
export interface PreparedTap extends TapRequest {
  /** Output name in the prepared model. */
  output: string;
}

/** Options for {@linkcode prepareModel}. */
export interface PrepareOptions {
  /** Tensors to expose. Default none (logits only). */
  taps?: TapRequest[];
  /** Input normalisation applied inside the graph. Default `"none"`. */
  normalize?: Normalize;
  /** Drop nodes not needed for logits and taps. Default true. */
  prune?: boolean;
}

/** A model ready for a runtime. */
export interface PreparedModel {
  /** ONNX bytes. */
  bytes: Uint8Array;
  /** Input name (unchanged; it takes `[0,1]` pixels when normalisation was added). */
  inputName: string;
  /** Logits output name (always the first output). */
  logitsName: string;
  /** Exposed taps, in request order. */
  taps: PreparedTap[];
  /** Resolved normalisation, or null for none. */
  normalize: { mean: number[]; std: number[] } | null;
  /** Nodes in the prepared graph. */
  nodes: number;
}

/**
 * Parses a normalisation option (`--normalize`): `imagenet`, `none`, or `m1,m2,m3/s1,s2,s3`
 * (also `mean,std` for one channel).
 *
 * @param v The option value.
 * @returns The normalisation.
 * @throws {RangeError} If it does not parse.
 *
 * @example
 * ```ts
 * import { parseNormalize } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(parseNormalize("0.5,0.25"), { mean: [0.5], std: [0.25] });
 * assertEquals(parseNormalize("imagenet"), "imagenet");
 * ```
 */
export function parseNormalize(v: string): Normalize {
  if (v === "imagenet" || v === "none") return v;
  const parts = v.split("/");
  let mean: number[], std: number[];
  if (parts.length === 2) {
    mean = parts[0].split(",").map(Number);
    std = parts[1].split(",").map(Number);
  } else {
    const xs = v.split(",").map(Number);
    if (xs.length !== 2) mean = std = [NaN];
    else [mean, std] = [[xs[0]], [xs[1]]];
  }
  if (
    mean.length !== std.length || mean.some((x) => !Number.isFinite(x)) ||
    std.some((x) => !Number.isFinite(x) || x <= 0)
  ) {
    throw new RangeError(
      `Cannot parse normalization "${v}": expected imagenet, none, mean,std or m1,m2,m3/s1,s2,s3 ` +
        "with positive std",
    );
  }
  return { mean, std };
}

/**
 * Resolves a normalisation setting to per-channel mean and std.
 *
 * @param n The setting.
 * @param channels Channel count of the model input (null if unknown).
 * @returns Mean and std, or null for `"none"`.
 * @throws {RangeError} If the setting is unknown, lengths differ from `channels`, or a std is
 *   not positive and finite.
 * @example
 * ```ts
 * import { resolveNormalize } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals, throws } from "node:assert";
 * assertEquals(resolveNormalize("none", 3), null);
 * assertEquals(resolveNormalize({ mean: [0.5], std: [0.25] }, 1), { mean: [0.5], std: [0.25] });
 * throws(() => resolveNormalize("imagenet", 1), RangeError);
 * ```
 */
export function resolveNormalize(
  n: Normalize | undefined,
  channels: number | null,
): { mean: number[]; std: number[] } | null {
  if (n === undefined || n === "none") return null;
  let r: { mean: number[]; std: number[] };
  if (n === "imagenet") r = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
  else if (typeof n === "object" && Array.isArray(n.mean) && Array.isArray(n.std)) {
    r = { mean: [...n.mean], std: [...n.std] };
  } else {
    throw new RangeError(
      `Cannot normalise input: normalize is ${JSON.stringify(n)} but expected "none", ` +
        '"imagenet" or {mean: number[], std: number[]}',
    );
  }
  if (r.mean.length !== r.std.length || r.mean.length === 0) {
    throw new RangeError(
      `Cannot normalise input: mean has ${r.mean.length} values and std ${r.std.length}; ` +
        "expected one per channel",
    );
  }
  if (channels !== null && r.mean.length !== channels) {
    throw new RangeError(
      `Cannot normalise input: ${r.mean.length} channel means but the model input has ` +
        `${channels} channels`,
    );
  }
  if (!r.mean.every(Number.isFinite) || !r.std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RangeError(
      `Cannot normalise input: mean ${r.mean} / std ${r.std}; expected finite means and ` +
        "positive finite standard deviations",
    );
  }
  return r;
}

/**
 * Prepares a model for extraction.
 *
 * The logits stay the first output; each tap becomes an output named after its tensor (or
 * `<tensor>__token0` for a token-0 tap). With normalisation, the graph input keeps its name
 * and takes `[0,1]` pixels; `Sub`/`Div` by per-channel constants feed what the input fed.
 *
 * @param model A loaded model.
 * @param options Taps, normalisation, pruning.
 * @returns The prepared model bytes and output names.
 * @throws {RangeError} If a tap names no tensor of the graph, or the normalisation is invalid.
 *
 * @example
 * ```ts
 * import { createRuntime, loadModel, prepareModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const m = await loadModel("tests/data/models/toy_vit.onnx");
 * const cls = "/encoder/layers/encoder_layer_1/Add_1_output_0";
 * const p = prepareModel(m, { taps: [{ tensor: cls, token0: true }] });
 * const rt = await createRuntime("node", p.bytes);
 * const r = await rt.run(new Float32Array(28 * 28), [1, 1, 28, 28]);
 * assertEquals(r.taps[p.taps[0].output].dims, [1, 32]);
 * await rt.dispose();
 * ```
 */
export function prepareModel(model: LoadedModel, options: PrepareOptions = {}): PreparedModel {
  // A shallow copy: the arrays surgery edits are new, nodes it changes are cloned, and the
  // (possibly huge) initializers are shared with `model.proto`, which stays untouched.
  const src = model.proto.graph!;
  const g: GraphLike = {
    ...src,
    node: [...(src.node ?? [])],
    initializer: [...(src.initializer ?? [])],
    input: [...(src.input ?? [])],
    output: [...(src.output ?? [])],
    valueInfo: [...(src.valueInfo ?? [])],
  };
  const proto = { ...model.proto, graph: g };
  const inputName = model.input.name;
  const logitsName = model.logits.name;
  const produced = new Set<string>([inputName]);
  for (const n of g.node ?? []) for (const o of n.output ?? []) if (o) produced.add(o);
  for (const t of g.initializer ?? []) if (t.name) produced.add(t.name);

  const taps: PreparedTap[] = [];
  const newNodes: NodeLike[] = [];
  const newInits: TensorLike[] = [];
  for (const t of options.taps ?? []) {
    if (!produced.has(t.tensor)) {
      throw new RangeError(
        `Cannot expose tensor "${t.tensor}": the graph of ${model.name} has no such tensor`,
      );
    }
    const output = tapOutputName(t);
    if (taps.some((x) => x.output === output)) continue;
    if (t.channelsLast && !t.token0) {
      newNodes.push(node("Transpose", [t.tensor], [output], { perm: [0, 3, 1, 2] }));
    }
    if (t.token0) {
      const idx = `${t.tensor}__token0_index`;
      newInits.push(tensor(idx, [], BigInt64Array.of(0n)));
      newNodes.push(node("Gather", [t.tensor, idx], [output], { axis: 1 }));
    }
    taps.push({
      tensor: t.tensor,
      token0: !!t.token0,
      ...(t.channelsLast && !t.token0 ? { channelsLast: true } : {}),
      output,
    });
  }

  const norm = resolveNormalize(options.normalize, model.input.channels);
  if (norm) {
    const inner = `${inputName}__normalized`;
    g.node = g.node!.map((n) => (_reads(n, inputName) ? _renamed(n, inputName, inner) : n));
    for (const n of newNodes) _renameInput(n, inputName, inner);
    for (const t of taps) if (t.tensor === inputName) t.tensor = inner;
    const C = norm.mean.length;
    newInits.push(
      tensor(`${inputName}__mean`, [1, C, 1, 1], Float32Array.from(norm.mean)),
      tensor(`${inputName}__std`, [1, C, 1, 1], Float32Array.from(norm.std)),
    );
    g.node!.unshift(
      node("Sub", [inputName, `${inputName}__mean`], [`${inputName}__centred`]),
      node("Div", [`${inputName}__centred`, `${inputName}__std`], [inner]),
    );
  }
  g.node!.push(...newNodes);
  g.initializer!.push(...newInits);

  const logitsInfo = (g.output ?? []).find((o) => o.name === logitsName)!;
  const outs: ValueInfoLike[] = [logitsInfo];
  for (const t of taps) {
    if (t.output !== logitsName) outs.push(valueInfo(t.output, DT.FLOAT));
  }
  g.output = outs;

  if (options.prune ?? true) _prune(g, inputName);
  return {
    bytes: encodeModel(proto),
    inputName,
    logitsName,
    taps,
    normalize: norm,
    nodes: g.node!.length,
  };
}

function _reads(n: NodeLike, name: string): boolean {
  return _nodeReads(n).includes(name);
}

function _renamed(n: NodeLike, from: string, to: string): NodeLike {
  const copy = onnx.NodeProto.decode(onnx.NodeProto.encode(n).finish());
  _renameInput(copy, from, to);
  return copy;
}

function _renameInput(n: NodeLike, from: string, to: string): void {
  n.input = (n.input ?? []).map((x) => (x === from ? to : x));
  for (const a of n.attribute ?? []) {
    if (a.g) { for (const sn of a.g.node ?? []) _renameInput(sn, from, to); }
    for (const sg of a.graphs ?? []) for (const sn of sg.node ?? []) _renameInput(sn, from, to);
  }
}

/** Names a node reads, including outer-scope names read inside its sub-graphs. */
export function _nodeReads(n: NodeLike): string[] {
  const out = (n.input ?? []).filter((x) => x);
  const visit = (g: GraphLike) => {
    for (const sn of g.node ?? []) out.push(..._nodeReads(sn));
  };
  for (const a of n.attribute ?? []) {
    if (a.g) visit(a.g);
    for (const sg of a.graphs ?? []) visit(sg);
  }
  return out;
}

function _prune(g: GraphLike, inputName: string): void {
  const needed = new Set<string>((g.output ?? []).map((o) => o.name!));
  const nodes = g.node ?? [];
  const keep = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if ((n.output ?? []).some((o) => needed.has(o))) {
      keep[i] = true;
      for (const x of _nodeReads(n)) needed.add(x);
    }
  }
  g.node = nodes.filter((_, i) => keep[i]);
  g.initializer = (g.initializer ?? []).filter((t) => needed.has(t.name!));
  g.input = (g.input ?? []).filter((v) => v.name === inputName || needed.has(v.name!));
  g.valueInfo = (g.valueInfo ?? []).filter((v) => needed.has(v.name!));
}
