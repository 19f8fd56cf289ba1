/**
 * `somscope bmus`: the top-k best-matching units of codes on a trained SOM, written as an
 * `N×k` int32 `.npy` (unit indices, ascending cosine distance, ties to the lowest index), and
 * optionally the matching `N×k` float32 distances.
 *
 * @module
 */

import {
  checkOutputPath,
  CODES_OPTION,
  type CommandSpec,
  numberOption,
  readMatrix,
  UsageError,
} from "./cli.ts";
import { RunFolderError } from "../lib/output_folder.ts";
import { GpuContext } from "../lib/gpu/context.ts";
import { writeNpy } from "../lib/npy.ts";
import { Som, SOM_BACKENDS, type SomBackendName } from "../lib/som/som.ts";

/** The `bmus` command. */
export const command: CommandSpec = {
  name: "bmus",
  summary: "top-k best-matching units of codes on a trained SOM",
  usage: "--som DIR --codes X.npy --out bmus.npy [options]",
  options: {
    som: { type: "string", arg: "DIR", help: "folder of a trained map (som.json, weights.npy)" },
    ...CODES_OPTION,
    out: { type: "string", arg: "FILE", help: "N×k int32 unit indices (.npy)" },
    k: { type: "string", arg: "K", default: "10", help: "BMUs per row (1..16)" },
    distances: { type: "string", arg: "FILE", help: "also write N×k float32 distances" },
    backend: {
      type: "string",
      arg: "NAME",
      default: "auto",
      help: `compute backend: ${SOM_BACKENDS.join(", ")}`,
    },
    force: { type: "boolean", help: "overwrite existing --out / --distances files" },
  },
  notes: "Existing output files are refused (before any work) unless --force; each file is\n" +
    "written atomically.",
  async run(v) {
    for (const o of ["som", "codes", "out"]) {
      if (typeof v[o] !== "string") throw new UsageError(`--${o} is required`);
    }
    const k = numberOption("k", v.k);
    if (!Number.isInteger(k) || k < 1 || k > 16) {
      throw new UsageError(`--k is ${v.k} but must be an integer in 1..16`);
    }
    const backend = String(v.backend) as SomBackendName;
    if (!SOM_BACKENDS.includes(backend)) {
      throw new UsageError(
        `--backend is "${backend}" but expected one of ${SOM_BACKENDS.join(", ")}`,
      );
    }
    for (const o of ["out", "distances"]) {
      if (typeof v[o] !== "string") continue;
      await checkOutputPath(o, v[o] as string, "file");
      if (!v.force && await _exists(v[o] as string)) {
        throw new RunFolderError(
          `Cannot write BMUs: --${o} ${v[o]} already exists; choose another path or pass --force`,
        );
      }
    }
    let ctx: GpuContext | undefined;
    if (backend === "webgpu") ctx = await GpuContext.create();
    else if (backend === "auto") ctx = (await GpuContext.auto()).ctx;
    let som: Som | undefined;
    try {
      som = await Som.load(v.som as string, { backend, ctx });
      const codes = await readMatrix(v.codes as string, "codes");
      if (codes.cols !== som.dim) {
        throw new RangeError(
          `Cannot compute BMUs: codes have ${codes.cols} columns but the map has ${som.dim}`,
        );
      }
      if (k > som.units) {
        throw new RangeError(`Cannot compute BMUs: k is ${k} but the map has ${som.units} units`);
      }
      const r = await som.topk(codes.data, k);
      await writeNpy(v.out as string, { data: r.index, shape: [codes.rows, k] });
      if (typeof v.distances === "string") {
        await writeNpy(v.distances, { data: r.distance, shape: [codes.rows, k] });
      }
    } finally {
      som?.dispose();
      ctx?.dispose();
    }
  },
};

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
