/**
 * Loading an ONNX image classifier: from a path, a `file:`/`http(s):` URL or bytes, parsed with
 * the maintained `onnx-proto` protobuf library; external data inlined (only from inside the
 * model's folder); the image input (`N×C×H×W` float) and the logits output identified.
 *
 * @module
 */

import {
  decodeModel,
  DT,
  encodeModel,
  type GraphLike,
  type ModelProto,
  onnx,
  type TensorLike,
  type ValueInfoLike,
} from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";

export { sha256Hex };

/** The image input of a model. */
export interface ImageInput {
  /** Graph input name. */
  name: string;
  /** Channel count (`dims[1]`), or `null` when the model leaves it symbolic. */
  channels: number | null;
  /** Height, or `null` when symbolic (the model accepts several sizes). */
  height: number | null;
  /** Width, or `null` when symbolic. */
  width: number | null;
}

/** A loaded model, self-contained (external data inlined). */
export interface LoadedModel {
  /** File name or URL for messages (`"<bytes>"` for bytes). */
  name: string;
  /** Model bytes with every external tensor inlined: what runtimes and surgery read. */
  bytes: Uint8Array;
  /** The decoded model. */
  proto: ModelProto;
  /** Hex SHA-256 of {@linkcode LoadedModel.bytes}: the model's identity in caches and manifests. */
  sha256: string;
  /** Default-domain opset version. */
  opset: number;
  /** The image input. */
  input: ImageInput;
  /** The logits output: name and class count (`null` when symbolic). */
  logits: { name: string; classes: number | null };
}

/** Options for {@linkcode loadModel}. */
export interface LoadModelOptions {
  /** Name used in messages (default: the path or URL, `"<bytes>"` for bytes). */
  name?: string;
}

/**
 * Loads an ONNX image classifier.
 *
 * External data (`data_location = EXTERNAL`) is read and inlined, so the returned bytes are
 * self-contained. An external file must resolve inside the model's folder: an absolute location,
 * `..` that leaves the folder, or a symbolic link pointing out of it is refused (a model file
 * must not be able to make somscope read arbitrary files). Bytes with external data are refused
 * (there is no folder to resolve them in).
 *
 * @param source A file path, a `file:`/`http:`/`https:` URL (string or `URL`), or model bytes.
 * @param options Display name.
 * @returns The model with its input, logits output and SHA-256.
 * @throws {ModelFormatError} If the bytes are not an ONNX model (e.g. truncated), external data
 *   escapes the model's folder or is missing, there is no `N×C×H×W` float input, or no output.
 * @throws {Deno.errors.NotFound} If the file does not exist.
 *
 * @example
 * ```ts
 * import { loadModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const m = await loadModel("tests/data/models/toy_cnn.onnx");
 * assertEquals(m.input, { name: "input", channels: 1, height: 28, width: 28 });
 * assertEquals(m.logits, { name: "logits", classes: 10 });
 * ```
 */
export async function loadModel(
  source: string | URL | Uint8Array,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  let bytes: Uint8Array;
  let name: string;
  let resolver: ((location: string, tensor: string) => Promise<Uint8Array>) | undefined;
  if (source instanceof Uint8Array) {
    bytes = source;
    name = options.name ?? "<bytes>";
  } else {
    const url = _toUrl(source);
    name = options.name ?? (url.protocol === "file:" ? _fromFileUrl(url) : url.href);
    if (url.protocol === "file:") {
      const path = _fromFileUrl(url);
      bytes = await Deno.readFile(path);
      resolver = (loc, t) => _readExternalFile(path, loc, t, name);
    } else if (url.protocol === "http:" || url.protocol === "https:") {
      bytes = await _fetchBytes(url, name);
      resolver = (loc, t) => _fetchExternal(url, loc, t, name);
    } else {
      throw new TypeError(
        `Cannot load model ${url.href}: protocol is "${url.protocol}" but expected a path, ` +
          '"file:", "http:" or "https:" URL, or bytes',
      );
    }
  }
  const proto = decodeModel(bytes, name);
  const inlined = await _inlineExternal(proto, name, resolver);
  if (inlined) bytes = encodeModel(proto);
  return {
    name,
    bytes,
    proto,
    sha256: await sha256Hex(bytes),
    opset: _opset(proto),
    input: _imageInput(proto, name),
    logits: _logitsOutput(proto, name),
  };
}

function _toUrl(source: string | URL): URL {
  if (source instanceof URL) return source;
  if (/^(file|https?):/i.test(source)) return new URL(source);
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(source)) return new URL(source);
  const abs = source.startsWith("/") ? source : `${Deno.cwd()}/${source}`;
  const u = new URL("file:///");
  u.pathname = abs;
  return u;
}

function _fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}

async function _fetchBytes(url: URL, name: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFormatError(
      `Cannot load model ${name}: fetch failed (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ModelFormatError(
      `Cannot load model ${name}: HTTP status ${res.status} but expected 200`,
    );
  }
  return new Uint8Array(await res.arrayBuffer());
}

function _externalEntries(t: TensorLike): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of t.externalData ?? []) if (e.key) out[e.key] = e.value ?? "";
  return out;
}

function _checkLocation(loc: string, tensor: string, name: string): string {
  const parts = loc.replaceAll("\\", "/").split("/");
  if (
    loc === "" || loc.startsWith("/") || loc.startsWith("\\") || /^[a-zA-Z]:/.test(loc) ||
    loc.includes("\0")
  ) {
    throw new ModelFormatError(
      `Cannot load model ${name}: external data of tensor "${tensor}" is at "${loc}" but ` +
        "expected a relative path inside the model's folder",
    );
  }
  let depth = 0;
  for (const p of parts) {
    if (p === "..") depth--;
    else if (p !== "." && p !== "") depth++;
    if (depth < 0) {
      throw new ModelFormatError(
        `Cannot load model ${name}: external data of tensor "${tensor}" is at "${loc}", which ` +
          "escapes the model's folder; expected a path inside it",
      );
    }
  }
  return parts.filter((p) => p !== "." && p !== "").join("/");
}

async function _readExternalFile(
  modelPath: string,
  loc: string,
  tensor: string,
  name: string,
): Promise<Uint8Array> {
  const rel = _checkLocation(loc, tensor, name);
  const slash = modelPath.lastIndexOf("/");
  const dir = slash >= 0 ? modelPath.slice(0, slash) || "/" : ".";
  let realDir: string, realFile: string;
  try {
    realDir = await Deno.realPath(dir);
    realFile = await Deno.realPath(`${dir}/${rel}`);
  } catch (e) {
    throw new ModelFormatError(
      `Cannot load model ${name}: external data file "${loc}" of tensor "${tensor}" cannot be ` +
        `read (${(e as Error).message}); expected it beside the model`,
      { cause: e },
    );
  }
  if (!realFile.startsWith(realDir.endsWith("/") ? realDir : realDir + "/")) {
    throw new ModelFormatError(
      `Cannot load model ${name}: external data of tensor "${tensor}" resolves to ${realFile}, ` +
        `outside the model's folder ${realDir}; expected a file inside it`,
    );
  }
  return await Deno.readFile(realFile);
}

async function _fetchExternal(
  modelUrl: URL,
  loc: string,
  tensor: string,
  name: string,
): Promise<Uint8Array> {
  const rel = _checkLocation(loc, tensor, name);
  const base = new URL(".", modelUrl);
  const u = new URL(rel.split("/").map(encodeURIComponent).join("/"), base);
  if (!u.href.startsWith(base.href)) {
    throw new ModelFormatError(
      `Cannot load model ${name}: external data of tensor "${tensor}" resolves to ${u.href}, ` +
        `outside ${base.href}`,
    );
  }
  return await _fetchBytes(u, `${name} (external data ${loc})`);
}

/** Inlines every external tensor; returns whether anything changed. */
async function _inlineExternal(
  proto: ModelProto,
  name: string,
  resolver?: (location: string, tensor: string) => Promise<Uint8Array>,
): Promise<boolean> {
  const tensors: TensorLike[] = [];
  const visit = (g: GraphLike | null | undefined) => {
    if (!g) return;
    for (const t of g.initializer ?? []) tensors.push(t);
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) tensors.push(a.t);
        if (a.g) visit(a.g);
        for (const sg of a.graphs ?? []) visit(sg);
      }
    }
  };
  visit(proto.graph);
  const ext = tensors.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (ext.length === 0) return false;
  if (!resolver) {
    throw new ModelFormatError(
      `Cannot load model ${name}: tensor "${ext[0].name}" has external data but the model was ` +
        "given as bytes; expected a path or URL so that the data can be found beside it",
    );
  }
  const files = new Map<string, Promise<Uint8Array>>();
  for (const t of ext) {
    const e = _externalEntries(t);
    const loc = e.location ?? "";
    if (!files.has(loc)) files.set(loc, resolver(loc, t.name ?? ""));
    const file = await files.get(loc)!;
    const offset = Number(e.offset ?? 0);
    const count = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    const size = _elemSize(t.dataType ?? 0);
    const length = e.length !== undefined ? Number(e.length) : count * size;
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
      length < 0 || offset + length > file.length || (size > 0 && length !== count * size)
    ) {
      throw new ModelFormatError(
        `Cannot load model ${name}: external data of tensor "${t.name}" is bytes ` +
          `${offset}..${offset + length} of "${loc}" (${file.length} bytes) for ${count} ` +
          `elements; expected a range inside the file of ${count * size} bytes`,
      );
    }
    t.rawData = file.slice(offset, offset + length);
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return true;
}

function _elemSize(dt: number): number {
  switch (dt) {
    case DT.DOUBLE:
    case DT.INT64:
    case 13: // UINT64
      return 8;
    case DT.FLOAT:
    case DT.INT32:
    case 12: // UINT32
      return 4;
    case 10: // FLOAT16
    case 16: // BFLOAT16
    case 4: // UINT16
    case 5: // INT16
      return 2;
    case DT.UINT8:
    case DT.INT8:
    case DT.BOOL:
      return 1;
    default:
      return 0;
  }
}

function _opset(proto: ModelProto): number {
  const o = proto.opsetImport?.find((x) => !x.domain || x.domain === "ai.onnx");
  return Number(o?.version ?? 0);
}

function _dims(v: ValueInfoLike): (number | null)[] | null {
  const s = v.type?.tensorType?.shape;
  if (!s) return null;
  return (s.dim ?? []).map((d) =>
    d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0
      ? Number(d.dimValue)
      : null
  );
}

function _describe(v: ValueInfoLike): string {
  const dims = _dims(v);
  const et = v.type?.tensorType?.elemType ?? 0;
  const type = Object.entries(DT).find(([, x]) => x === et)?.[0].toLowerCase() ?? `type ${et}`;
  return `${v.name} [${type}${dims ? `, ${dims.map((d) => d ?? "?").join("×")}` : ""}]`;
}

function _imageInput(proto: ModelProto, name: string): ImageInput {
  const inits = new Set((proto.graph!.initializer ?? []).map((t) => t.name));
  const inputs = (proto.graph!.input ?? []).filter((v) => !inits.has(v.name));
  const img = inputs.find((v) =>
    v.type?.tensorType?.elemType === DT.FLOAT && _dims(v)?.length === 4
  );
  if (!img) {
    throw new ModelFormatError(
      `Cannot use model ${name}: it has no image input; inputs are ` +
        `${inputs.length ? inputs.map(_describe).join(", ") : "none"} but expected a float ` +
        "N×C×H×W input",
    );
  }
  const d = _dims(img)!;
  return { name: img.name!, channels: d[1], height: d[2], width: d[3] };
}

function _logitsOutput(proto: ModelProto, name: string): { name: string; classes: number | null } {
  const outs = proto.graph!.output ?? [];
  if (outs.length === 0) {
    throw new ModelFormatError(`Cannot use model ${name}: it has no outputs; expected N×K logits`);
  }
  const o = outs.find((v) => _dims(v)?.length === 2) ?? outs[0];
  const d = _dims(o);
  return { name: o.name!, classes: d && d.length === 2 ? d[1] : null };
}
