/**
 * ONNX protobuf I/O and graph-building helpers, on the maintained `onnx-proto` package
 * (protobufjs code generated from the official `onnx.proto`).
 *
 * Used by model loading and surgery, the gradient-graph derivation and the ONNX-graph CPU path of
 * the SOM.
 *
 * @module
 */

import onnxProto from "npm:onnx-proto@8.0.1";
import { ModelFormatError } from "../errors.ts";

/** The generated ONNX namespace (`onnx.ModelProto`, `onnx.TensorProto`, …). */
export const onnx: typeof onnxProto.onnx = onnxProto.onnx;
/** A decoded ONNX model. */
export type ModelProto = onnxProto.onnx.ModelProto;
/** A graph (plain-object form accepted by `create`). */
export type GraphLike = onnxProto.onnx.IGraphProto;
/** A node (plain-object form). */
export type NodeLike = onnxProto.onnx.INodeProto;
/** A tensor (plain-object form). */
export type TensorLike = onnxProto.onnx.ITensorProto;
/** A value info (plain-object form). */
export type ValueInfoLike = onnxProto.onnx.IValueInfoProto;

/** ONNX element types (TensorProto.DataType) used by somscope. */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/**
 * Decodes ONNX model bytes, checking that they really are a model with a graph.
 *
 * @param bytes Model file contents.
 * @param name File name for messages.
 * @returns The decoded model.
 * @throws {ModelFormatError} If the bytes are not an ONNX model (e.g. truncated or another format).
 */
export function decodeModel(bytes: Uint8Array, name = "<bytes>"): ModelProto {
  let m: ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelFormatError(
      `Cannot load ONNX model ${name}: protobuf decoding failed (${(e as Error).message}); ` +
        "expected an ONNX ModelProto (.onnx file)",
      { cause: e },
    );
  }
  if (!m.graph || !m.graph.node || m.graph.node.length === 0 || !m.opsetImport?.length) {
    throw new ModelFormatError(
      `Cannot load ONNX model ${name}: no graph nodes or opset imports found; expected an ONNX ` +
        "ModelProto (.onnx file)",
    );
  }
  return m;
}

/**
 * Encodes a model to bytes.
 *
 * @param model A model or its plain-object form.
 * @returns Protobuf bytes.
 */
export function encodeModel(model: ModelProto | onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model as onnxProto.onnx.IModelProto).finish();
}

/** A float attribute value (plain numbers that are integers become INT attributes). */
export class F {
  /** @param value The float value. */
  constructor(readonly value: number) {}
}

/** A list-of-floats attribute value. */
export class Fs {
  /** @param values The float values. */
  constructor(readonly values: number[]) {}
}

/** Attribute values accepted by {@linkcode node}. */
export type AttrValue = number | number[] | string | F | Fs | TensorLike | GraphLike;

/**
 * Builds an attribute proto from a JS value.
 *
 * @param name Attribute name.
 * @param v Value: integer → INT, `F` → FLOAT, number[] → INTS, `Fs` → FLOATS, string → STRING,
 *   a tensor (has `dims`) → TENSOR, a graph (has `node`) → GRAPH.
 * @returns The attribute proto (plain object).
 */
export function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (v instanceof F) return { name, type: T.FLOAT, f: v.value };
  if (v instanceof Fs) return { name, type: T.FLOATS, floats: v.values };
  if (typeof v === "number") {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    return v.every(Number.isInteger)
      ? { name, type: T.INTS, ints: v }
      : { name, type: T.FLOATS, floats: v };
  }
  if ("node" in v) return { name, type: T.GRAPH, g: v as GraphLike };
  return { name, type: T.TENSOR, t: v as TensorLike };
}

/**
 * Builds a node.
 *
 * @param opType Operator, e.g. `"Gemm"`.
 * @param inputs Input tensor names (`""` for an omitted optional input).
 * @param outputs Output tensor names.
 * @param attrs Attributes by name.
 * @param name Node name (default: first output's name).
 * @param domain Operator domain (default ONNX).
 * @returns The node (plain object).
 */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  name?: string,
  domain?: string,
): NodeLike {
  return {
    opType,
    input: inputs,
    output: outputs,
    name: name ?? `${opType}_${outputs[0]}`,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    ...(domain ? { domain } : {}),
  };
}

/**
 * Builds an initializer tensor stored as raw little-endian bytes.
 *
 * @param name Tensor name.
 * @param dims Shape.
 * @param data Values: Float32Array → FLOAT, Int32Array → INT32, BigInt64Array → INT64,
 *   Uint8Array → UINT8 (or BOOL with `type`), Float64Array → DOUBLE; a number[] is INT64.
 * @param type Override the element type.
 * @returns The tensor (plain object).
 */
export function tensor(
  name: string,
  dims: number[],
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Float64Array | number[],
  type?: number,
): TensorLike {
  let arr: ArrayBufferView;
  let dt: number;
  if (Array.isArray(data)) {
    arr = BigInt64Array.from(data.map((x) => BigInt(x)));
    dt = DT.INT64;
  } else {
    arr = data;
    dt = data instanceof Float32Array
      ? DT.FLOAT
      : data instanceof Int32Array
      ? DT.INT32
      : data instanceof BigInt64Array
      ? DT.INT64
      : data instanceof Float64Array
      ? DT.DOUBLE
      : DT.UINT8;
  }
  const raw = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
  return { name, dims, dataType: type ?? dt, rawData: raw };
}

/**
 * Builds a value info (graph input/output declaration).
 *
 * @param name Tensor name.
 * @param elemType Element type (see {@linkcode DT}).
 * @param shape Dimensions: numbers, symbolic names, or `null` for unknown.
 * @returns The value info (plain object).
 */
export function valueInfo(
  name: string,
  elemType: number,
  shape?: (number | string | null)[],
): ValueInfoLike {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(shape
          ? {
            shape: {
              dim: shape.map((d) =>
                typeof d === "number" ? { dimValue: d } : d === null ? {} : { dimParam: d }
              ),
            },
          }
          : {}),
      },
    },
  };
}

/**
 * Wraps a graph into a model.
 *
 * @param graph The graph.
 * @param options Opset (default 17) and IR version (default 8).
 * @returns The model, ready for {@linkcode encodeModel}.
 */
export function model(
  graph: GraphLike,
  options: { opset?: number; irVersion?: number; producer?: string } = {},
): onnxProto.onnx.IModelProto {
  return {
    irVersion: options.irVersion ?? 8,
    producerName: options.producer ?? "somscope",
    opsetImport: [{ domain: "", version: options.opset ?? 17 }],
    graph,
  };
}

/**
 * Reads an initializer or `Constant` tensor's values as a typed array (raw or typed fields).
 *
 * @param t The tensor.
 * @returns Float32Array for FLOAT, BigInt64Array for INT64, Int32Array for INT32, Float64Array for
 *   DOUBLE, Uint8Array for UINT8/BOOL.
 * @throws {ModelFormatError} For external data (resolve it first) or an unsupported type.
 */
export function tensorData(
  t: TensorLike,
): Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array {
  const n = (t.dims ?? []).reduce((a, b) => a * Number(b), 1);
  const dt = t.dataType ?? 0;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new ModelFormatError(`Cannot read tensor ${t.name}: it has external data`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const fromRaw = <A>(C: new (b: ArrayBuffer, o: number, n: number) => A, size: number): A => {
    // `rawData` may be a pooled Node Buffer whose `slice` shares memory and whose `.buffer` is
    // the whole pool: copy into a fresh, aligned Uint8Array first.
    const copy = new Uint8Array(raw!.subarray(0, n * size));
    return new C(copy.buffer, 0, n);
  };
  switch (dt) {
    case DT.FLOAT:
      return raw ? fromRaw(Float32Array, 4) : Float32Array.from(t.floatData ?? []);
    case DT.DOUBLE:
      return raw ? fromRaw(Float64Array, 8) : Float64Array.from(t.doubleData ?? []);
    case DT.INT64:
      return raw
        ? fromRaw(BigInt64Array, 8)
        : BigInt64Array.from((t.int64Data ?? []).map((x) => BigInt(x.toString())));
    case DT.INT32:
      return raw ? fromRaw(Int32Array, 4) : Int32Array.from(t.int32Data ?? []);
    case DT.UINT8:
    case DT.BOOL:
    case DT.INT8:
      return raw ? new Uint8Array(raw.subarray(0, n)) : Uint8Array.from(t.int32Data ?? []);
    default:
      throw new ModelFormatError(
        `Cannot read tensor ${t.name}: element type ${dt} is not supported (FLOAT, DOUBLE, ` +
          "INT64, INT32, UINT8, BOOL, INT8)",
      );
  }
}

/**
 * Reads an attribute of a node as a JS value (INT → number, INTS → number[], FLOAT → number,
 * FLOATS → number[], STRING → string, TENSOR → tensor, GRAPH → graph).
 *
 * @param n The node.
 * @param name Attribute name.
 * @param fallback Returned when the attribute is absent.
 * @returns The value.
 */
export function getAttr<T = unknown>(n: NodeLike, name: string, fallback?: T): T {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return fallback as T;
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return Number(a.i ?? 0) as T;
    case T.FLOAT:
      return (a.f ?? 0) as T;
    case T.INTS:
      return (a.ints ?? []).map(Number) as T;
    case T.FLOATS:
      return (a.floats ?? []) as T;
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array()) as T;
    case T.TENSOR:
      return a.t as T;
    case T.GRAPH:
      return a.g as T;
    default:
      return fallback as T;
  }
}
