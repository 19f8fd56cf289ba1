/**
 * Dataset spec strings: `builtin:fashion-mnist`, `folder:PATH`, `idx:PATH`, `cifar:PATH`,
 * `svhn:PATH`, or a bare path whose kind is detected from its contents.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";

/** The kinds of dataset somscope reads. */
export type DataKind = "builtin" | "folder" | "idx" | "cifar" | "svhn";

/** A parsed dataset spec. */
export interface DataSpec {
  /** What kind of dataset. */
  kind: DataKind;
  /** The path (or, for `builtin`, the built-in name). */
  path: string;
}

/**
 * Names accepted after `builtin:`.
 *
 * @example
 * ```ts
 * import { BUILTIN_DATASETS } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(BUILTIN_DATASETS, ["fashion-mnist"]);
 * ```
 */
export const BUILTIN_DATASETS = ["fashion-mnist"];

const _IDX_IMAGES = /images-idx3-ubyte(\.gz)?$/;

/**
 * Parses a dataset spec; a bare path is detected from what it contains (IDX files → `idx`,
 * CIFAR batches → `cifar`, `train_32x32.mat`/`test_32x32.mat` → `svhn`, sub-folders →
 * `folder`).
 *
 * @param spec The spec string.
 * @returns The kind and path.
 * @throws {RangeError} On an unknown prefix or built-in name, or an empty path.
 * @throws {DataFormatError} If a bare path does not exist or its kind cannot be detected.
 * @example
 * ```ts
 * import { parseDataSpec } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(await parseDataSpec("idx:data/mnist"), { kind: "idx", path: "data/mnist" });
 * assertEquals(await parseDataSpec("builtin:fashion-mnist"), {
 *   kind: "builtin",
 *   path: "fashion-mnist",
 * });
 * ```
 */
export async function parseDataSpec(spec: string): Promise<DataSpec> {
  const m = /^([a-z]+):(.*)$/.exec(spec);
  if (m && m[1] !== "file" && m[1].length > 1) {
    const kind = m[1] as DataKind;
    if (!["builtin", "folder", "idx", "cifar", "svhn"].includes(kind)) {
      throw new RangeError(
        `Cannot open dataset "${spec}": prefix "${m[1]}:" but expected one of builtin:, ` +
          `folder:, idx:, cifar:, svhn: or a bare path`,
      );
    }
    if (m[2] === "") throw new RangeError(`Cannot open dataset "${spec}": empty path`);
    if (kind === "builtin" && !BUILTIN_DATASETS.includes(m[2])) {
      throw new RangeError(
        `Cannot open dataset "${spec}": unknown built-in "${m[2]}" but expected one of ` +
          BUILTIN_DATASETS.join(", "),
      );
    }
    return { kind, path: m[2] };
  }
  const path = spec.startsWith("file://") ? decodeURIComponent(new URL(spec).pathname) : spec;
  let names: { name: string; dir: boolean }[];
  try {
    names = [];
    for await (const e of Deno.readDir(path)) names.push({ name: e.name, dir: e.isDirectory });
  } catch (e) {
    throw new DataFormatError(
      `Cannot open dataset "${spec}": ${(e as Error).message} (expected a folder)`,
      { cause: e },
    );
  }
  const files = names.filter((n) => !n.dir).map((n) => n.name);
  const dirs = names.filter((n) => n.dir).map((n) => n.name);
  if (files.some((n) => _IDX_IMAGES.test(n))) return { kind: "idx", path };
  if (
    files.some((n) => /^(data_batch_\d+|test_batch|train|test)\.bin$/.test(n)) ||
    dirs.includes("cifar-10-batches-bin") || dirs.includes("cifar-100-binary")
  ) return { kind: "cifar", path };
  if (files.some((n) => /^(train|test)_32x32\.mat$/.test(n))) return { kind: "svhn", path };
  if (dirs.some((d) => !d.startsWith("."))) return { kind: "folder", path };
  throw new DataFormatError(
    `Cannot open dataset "${spec}": no IDX files, CIFAR batches, SVHN .mat files or class ` +
      `sub-folders found (use a folder:, idx:, cifar: or svhn: prefix)`,
  );
}
