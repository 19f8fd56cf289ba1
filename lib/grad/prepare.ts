/**
 * Graph preparation before differentiation: specialise the batch size, infer every tensor's shape
 * (`shapes.ts`), evaluate the integer shape sub-graph (and any other node whose inputs are all
 * constants) in TypeScript (`const_eval.ts`), resolve Identity-on-initializer aliases and keep
 * only the nodes that feed the requested outputs.
 *
 * The result lists the float nodes that remain, each with constant inputs resolved and every
 * tensor's shape known, which is what the gradient rules in `ops.ts` need (broadcast axes,
 * `output_padding`, Reshape targets).
 *
 * @module
 */

import { DT, getAttr, type ModelProto, type NodeLike } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import type { Const, PreparedGraph, PreparedNode } from "./graph.ts";
import { constantNode, evalConst } from "./const_eval.ts";
import { inferShapes } from "./shapes.ts";

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
  const name = options.name ?? "model";
  const io = _graphInterface(m, options.batch, name);
  const inputName = options.inputName ?? io.modelInput;
  const w = _walk(m, io, inputName, options, name);
  const wanted = [w.resolve(io.logits), ...(options.taps ?? []).map(w.resolve)];
  for (const t of wanted) {
    if (!w.shapes.has(t) && !io.consts.has(t)) {
      throw new RangeError(`Cannot tap tensor ${t}: no tensor of that name in ${name}`);
    }
  }
  return {
    input: inputName,
    inputShape: io.inputShape,
    logits: w.resolve(io.logits),
    nodes: _needed(w.kept, wanted),
    consts: io.consts,
    shapes: w.shapes,
    types: w.types,
    live: w.live,
    opset: io.opset,
    resolve: w.resolve,
  };
}

/** The model's opset, initializers, specialised image input and logits name. */
interface _Interface {
  opset: number;
  consts: Map<string, Const>;
  modelInput: string;
  inputShape: number[];
  logits: string;
}

function _graphInterface(m: ModelProto, batch: number, name: string): _Interface {
  const g = m.graph!;
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
  const inputShape = [batch];
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
  const logits = g.output?.[0]?.name;
  if (!logits) throw new ModelFormatError(`Cannot prepare ${name} for gradients: it has no output`);
  return { opset, consts, modelInput: inVi.name!, inputShape, logits };
}

/** What the forward walk found: the float nodes kept, shapes, types, live tensors, aliases. */
interface _Walk {
  kept: PreparedNode[];
  shapes: Map<string, number[]>;
  types: Map<string, number>;
  live: Set<string>;
  resolve: (t: string) => string;
}

/** Walks the nodes in order: folds constants, records aliases, infers shapes of the rest. */
function _walk(
  m: ModelProto,
  io: _Interface,
  inputName: string,
  options: PrepareOptions,
  name: string,
): _Walk {
  const consts = io.consts;
  const alias = new Map<string, string>();
  const res = (n: string) => {
    let x = n;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  const shapes = new Map<string, number[]>([[inputName, io.inputShape]]);
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

  const all = [...(options.prelude ?? []), ...(m.graph!.node ?? [])];
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
      consts.set(outs[0], constantNode(n));
      continue;
    }
    if (op === "Identity" || (op === "Dropout" && outs.length === 1)) {
      alias.set(outs[0], ins[0]);
      continue;
    }
    const allConst = ins.every((x) => x === "" || consts.has(x));
    if (op === "Shape" || allConst) {
      const v = evalConst(n, ins, consts, shapeOf);
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
  return { kept, shapes, types, live, resolve: res };
}

/** The kept nodes that the wanted outputs need, in order. */
function _needed(kept: PreparedNode[], wanted: string[]): PreparedNode[] {
  const need = new Set(wanted);
  const nodes: PreparedNode[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const pn = kept[i];
    if (pn.outputs.some((o) => need.has(o))) {
      nodes.push(pn);
      for (const x of pn.inputs) if (x) need.add(x);
    }
  }
  return nodes.reverse();
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
