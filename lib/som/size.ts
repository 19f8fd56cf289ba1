/**
 * Size limits of a SOM, derived from its options before any work: the bytes of its largest
 * buffers, checked against the machine's memory and the formats that hold them, so that an
 * impossible grid fails at once with the value and the bytes instead of after minutes of
 * training or an allocation failure deep inside a backend.
 *
 * The buffers: the weights (`K×dim` float32); the `cpu` backend's neighbourhood table (`K×K`
 * float32 squared grid distances, stored as an initializer inside an ONNX graph, whose protobuf
 * encoding caps a model at 2 GiB); and the analyses' unit-by-unit cosine distance matrix (`K×K`
 * float32 result plus its float64 accumulator, 12 bytes per pair). At a 1000×1000 grid
 * (K = 10⁶) the last alone is 12 TB.
 *
 * @module
 */

/** Options of {@linkcode checkSomSize}. */
export interface SomSizeOptions {
  /** Grid rows (positive integer). */
  m: number;
  /** Grid columns (positive integer). */
  n: number;
  /** Code dimension, when known (positive integer). Default: the weights are not checked. */
  dim?: number;
  /**
   * Backend that will train it: `"cpu"` and `"auto"` (which may pick `cpu`) need the `K×K`
   * neighbourhood table inside an ONNX graph. Default `"auto"`.
   */
  backend?: string;
  /** Also check the analyses' `K×K` unit distance matrix (the pipeline does). Default false. */
  analyses?: boolean;
  /**
   * Memory available, in bytes. Default the machine's total memory (`Deno.systemMemoryInfo()`;
   * without `--allow-sys` only the format limits are checked).
   */
  memoryBytes?: number;
}

/** The bytes a SOM of some size needs in its largest buffers (see {@linkcode checkSomSize}). */
export interface SomSize {
  /** `K = m·n`. */
  units: number;
  /** `K·dim·4` (0 when `dim` is not given). */
  weightsBytes: number;
  /** `K²·4`: the `cpu` backend's neighbourhood table. */
  gridTableBytes: number;
  /** `K²·12`: the analyses' float32 distance matrix and its float64 accumulator. */
  unitMatrixBytes: number;
}

/** The largest ONNX model protobuf can encode (2 GiB), minus room for the graph itself. */
const _ONNX_LIMIT = 2 ** 31 - (1 << 20);

/**
 * Checks a SOM's size against the limits derived from it, before any work.
 *
 * @param options Grid, dimension, backend, whether the analyses run, memory.
 * @returns The bytes of the SOM's largest buffers.
 * @throws {RangeError} If the grid or `dim` is not a positive integer, or a buffer exceeds the
 * memory or its format, naming the value, the bytes and the limit.
 *
 * @example A 1000×1000 grid is refused at once
 * ```ts
 * import { checkSomSize } from "../../mod.ts";
 * import { strictEqual, throws } from "node:assert";
 * strictEqual(checkSomSize({ m: 20, n: 20, dim: 2048 }).gridTableBytes, 400 * 400 * 4);
 * throws(() => checkSomSize({ m: 1000, n: 1000, backend: "reference", analyses: true }), /12000000000000 bytes/);
 * throws(() => checkSomSize({ m: 200, n: 200 }), /neighbourhood table/); // 6.4 GB > 2 GiB
 * ```
 */
export function checkSomSize(options: SomSizeOptions): SomSize {
  const { m, n, dim } = options;
  const grid = `${m}×${n}`;
  if (!Number.isSafeInteger(m) || m < 1 || !Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot make SOM: grid is ${grid} but both sides must be positive integers`,
    );
  }
  if (dim !== undefined && (!Number.isSafeInteger(dim) || dim < 1)) {
    throw new RangeError(`Cannot make SOM: dim is ${dim} but must be a positive integer`);
  }
  const K = m * n;
  const size: SomSize = {
    units: K,
    weightsBytes: dim === undefined ? 0 : K * dim * 4,
    gridTableBytes: K * K * 4,
    unitMatrixBytes: K * K * 12,
  };
  const memory = options.memoryBytes ?? _totalMemory();
  const what = `Cannot make a ${grid} SOM (K = ${K} units)`;
  const fits = (bytes: number, limit: number | undefined, buffer: string, maxK: number) => {
    if (limit !== undefined && bytes > limit) {
      throw new RangeError(
        `${what}: its ${buffer} needs ${bytes} bytes (${_human(bytes)}) but at most ${limit} ` +
          `(${_human(limit)}) fit; use a grid of at most ${maxK} units`,
      );
    }
  };
  if (dim !== undefined && memory !== undefined) {
    const limit = memory;
    fits(size.weightsBytes, limit, `K×${dim} float32 weights`, Math.floor(limit / (dim * 4)));
  }
  const backend = options.backend ?? "auto";
  if (backend === "cpu" || backend === "auto") {
    const limit = Math.min(memory ?? Infinity, _ONNX_LIMIT);
    fits(
      size.gridTableBytes,
      limit,
      "K×K float32 neighbourhood table (cpu backend; an ONNX graph holds at most 2 GiB)",
      Math.floor(Math.sqrt(limit / 4)),
    );
  }
  if (options.analyses && memory !== undefined) {
    fits(
      size.unitMatrixBytes,
      memory,
      "K×K unit distance matrix for the analyses (float32 plus its float64 accumulator)",
      Math.floor(Math.sqrt(memory / 12)),
    );
  }
  return size;
}

let _memory: { total: number | undefined } | undefined;

function _totalMemory(): number | undefined {
  if (!_memory) {
    try {
      _memory = { total: Deno.systemMemoryInfo().total };
    } catch {
      _memory = { total: undefined }; // no --allow-sys: format limits only
    }
  }
  return _memory.total;
}

function _human(bytes: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes, u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toPrecision(3)} ${units[u]}`;
}
