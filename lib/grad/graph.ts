/**
 * The data model of a graph prepared for differentiation: constant tensors, the float nodes that
 * remain after folding, and the prepared graph that `derive.ts` walks backwards. Built by
 * `prepare.ts`; shapes come from `shapes.ts`, folded values from `const_eval.ts`.
 *
 * @module
 */

import { type NodeLike, tensorData, type TensorLike } from "../onnx/proto.ts";

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

const _INT62 = 4611686018427387904, _INT62N = 4611686018427387904n;

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
        out[i] = v > _INT62N ? _INT62 : v < -_INT62N ? -_INT62 : Number(v);
      }
      c.values = out;
    } else c.values = d;
  }
  return c.values;
}
