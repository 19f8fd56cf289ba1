/**
 * `somscope train`: train a toroidal cosine SOM on a codes `.npy` file and write
 * `DIR/weights.npy` (K×d float32, row-major unit order), `DIR/losses.csv` (one line per batch)
 * and `DIR/som.json` (the map's header plus the run manifest: hyper-parameters, seed, backend,
 * adapter, versions, QE, TE, timings). QE and TE come from one top-2 BMU pass over the codes
 * after training (`--no-quality` skips it: null in `som.json`). The grid is checked against the
 * limits derived from it (`checkSomSize`) before the codes are read.
 *
 * The folder is written whole: into `.DIR.staging`, switched in at the end (`som.json`, the
 * manifest with the ownership record, comes last), so a folder never holds a loadable but
 * half-written map, nor a mix of two runs. A folder holding other files or another map is
 * refused unless `--force` (its contents are then moved aside).
 *
 * @module
 */

import {
  CODES_OPTION,
  type CommandSpec,
  integerOption,
  numberOption,
  readMatrix,
  UsageError,
  writeOutputFolder,
} from "./cli.ts";
import { GpuContext } from "../lib/gpu/context.ts";
import { newManifest, timed } from "../lib/manifest.ts";
import { writeNpy } from "../lib/npy.ts";
import { writeFileAtomic } from "../lib/fs_atomic.ts";
import { Progress } from "../lib/progress.ts";
import { DataFormatError } from "../lib/errors.ts";
import { Som, SOM_BACKENDS, type SomBackendName } from "../lib/som/som.ts";
import { checkSomSize } from "../lib/som/size.ts";
import type { SomInit } from "../lib/som/init.ts";

/**
 * Parses `MxN` (e.g. `20x20`, `10×30`).
 *
 * @param v The option value.
 * @returns `[m, n]`.
 * @throws {UsageError} If it is not two positive integers.
 */
export function parseGrid(v: string): [number, number] {
  const g = /^\s*(\d+)\s*[x×X]\s*(\d+)\s*$/.exec(v);
  const m = g ? Number(g[1]) : NaN, n = g ? Number(g[2]) : NaN;
  if (!g || m < 1 || n < 1) {
    throw new UsageError(
      `--grid is "${v}" but must be ROWSxCOLS with positive integers, e.g. 20x20`,
    );
  }
  return [m, n];
}

/** The `train` command. */
export const command: CommandSpec = {
  name: "train",
  summary: "train a toroidal cosine SOM on a codes .npy file",
  usage: "--codes X.npy --out DIR [options]",
  options: {
    ...CODES_OPTION,
    out: { type: "string", arg: "DIR", help: "output folder (required)" },
    grid: { type: "string", arg: "MxN", default: "20x20", help: "grid rows × columns" },
    epochs: { type: "string", arg: "E", default: "5", help: "epochs" },
    batch: { type: "string", arg: "B", default: "10", help: "batch size" },
    sigma: { type: "string", arg: "S", default: "10", help: "initial neighbourhood width σ₀" },
    alpha: { type: "string", arg: "A", default: "0.1", help: "initial learning rate α₀" },
    seed: { type: "string", arg: "N", default: "0", help: "seed of init and shuffling" },
    init: {
      type: "string",
      arg: "W0.npy|normal|pca|sample",
      default: "normal",
      help: "initial weights: a K×d .npy file or a strategy",
    },
    "no-shuffle": { type: "boolean", help: "visit rows in file order every epoch (exact replay)" },
    "no-quality": {
      type: "boolean",
      help: "skip the QE/TE pass after training (one top-2 BMU pass over the codes)",
    },
    flat: { type: "boolean", help: "flat grid instead of a torus" },
    backend: {
      type: "string",
      arg: "NAME",
      default: "auto",
      help: `compute backend: ${SOM_BACKENDS.join(", ")}`,
    },
    layer: { type: "string", arg: "NAME", help: "layer the codes come from (recorded)" },
    force: {
      type: "boolean",
      help: "replace a folder holding another map or other files (moved aside to DIR.replaced-…)",
    },
    quiet: { type: "boolean", short: "q", help: "no progress output" },
  },
  notes: "Writes DIR/weights.npy (K×d float32), DIR/losses.csv and DIR/som.json (written last).\n" +
    "auto = webgpu on a hardware adapter, cpu on a software adapter (llvmpipe) or none.",
  async run(v) {
    if (typeof v.codes !== "string") throw new UsageError("--codes X.npy is required");
    if (typeof v.out !== "string") throw new UsageError("--out DIR is required");
    const [m, n] = parseGrid(String(v.grid));
    try {
      checkSomSize({ m, n, backend: String(v.backend) as SomBackendName });
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(`--grid ${m}x${n}: ${e.message}`);
      throw e;
    }
    const epochs = integerOption("epochs", v.epochs, 1);
    const batchSize = integerOption("batch", v.batch, 1);
    const seed = integerOption("seed", v.seed, 0);
    const sigma0 = numberOption("sigma", v.sigma), alpha0 = numberOption("alpha", v.alpha);
    if (sigma0 < 0) throw new UsageError(`--sigma is ${v.sigma} but must be ≥ 0`);
    if (alpha0 < 0) throw new UsageError(`--alpha is ${v.alpha} but must be ≥ 0`);
    const backend = String(v.backend) as SomBackendName;
    if (!SOM_BACKENDS.includes(backend)) {
      throw new UsageError(
        `--backend is "${backend}" but expected one of ${SOM_BACKENDS.join(", ")}`,
      );
    }
    const out = v.out, force = Boolean(v.force), quiet = Boolean(v.quiet);
    const params = {
      codes: v.codes,
      out,
      grid: `${m}x${n}`,
      m,
      n,
      periodic: !v.flat,
      epochs,
      batchSize,
      sigma0,
      alpha0,
      seed,
      init: String(v.init),
      shuffle: !v["no-shuffle"],
      backend,
      quality: !v["no-quality"],
      layer: v.layer ?? null,
    };
    const { out: _o, ...key } = params;
    let line = "";
    const own = { kind: "train", params: key, force, manifest: "som.json" };
    await writeOutputFolder(out, own, async (dir) => {
      const manifest = newManifest("train", params);
      manifest.seeds = { root: seed, streams: ["som-init", "som-shuffle"] };
      const codes = await timed(manifest, "read", () => readMatrix(v.codes as string, "codes"));
      let init: SomInit;
      const initOpt = String(v.init);
      if (["normal", "pca", "sample"].includes(initOpt)) init = initOpt as SomInit;
      else {
        const w0 = await readMatrix(initOpt, "initial weights");
        if (w0.rows !== m * n || w0.cols !== codes.cols) {
          throw new DataFormatError(
            `Cannot read initial weights: ${initOpt} has shape [${w0.rows},${w0.cols}] but the ` +
              `${m}×${n} map on ${codes.cols}-column codes needs [${m * n},${codes.cols}]`,
          );
        }
        init = w0.data;
      }
      let ctx: GpuContext | undefined;
      if (backend === "webgpu") ctx = await GpuContext.create();
      else if (backend === "auto") ctx = (await GpuContext.auto()).ctx;
      manifest.adapter = ctx?.adapter ?? null;
      const batches = Math.ceil(codes.rows / batchSize);
      const progress = new Progress("train", epochs * batches, {
        unit: "batches",
        context: `SOM ${m}×${n} on ${codes.rows} codes (${epochs} epochs)`,
        quiet,
      });
      let done = 0;
      let som: Som | undefined;
      try {
        som = new Som({
          m,
          n,
          dim: codes.cols,
          periodic: !v.flat,
          sigma0,
          alpha0,
          batchSize,
          epochs,
          seed,
          init,
          shuffle: !v["no-shuffle"],
          backend,
          ctx,
          layer: typeof v.layer === "string" ? v.layer : undefined,
          onProgress: (p) => {
            const now = p.epoch * batches + p.batch;
            if (now > done) progress.tick(now - done);
            done = now;
          },
        });
        const s = som;
        const t0 = performance.now();
        await timed(manifest, "train", () => s.train(codes.data, codes.rows));
        if (done < epochs * batches) progress.tick(epochs * batches - done);
        progress.done();
        const trainSeconds = (performance.now() - t0) / 1000;
        const q = v["no-quality"]
          ? null
          : await timed(manifest, "quality", () => s.quality(codes.data));
        const qe = q?.quantizationError ?? null, te = q?.topographicError ?? null;
        manifest.samplesPerSecond = codes.rows * epochs / trainSeconds;
        manifest.backendNote = s.backendNote ?? null;
        await timed(manifest, "write", async () => {
          await writeNpy(`${dir}/weights.npy`, { data: s.weights, shape: [s.units, s.dim] });
          const losses = s.losses;
          const lines = ["batch,epoch,loss"];
          for (let i = 0; i < losses.length; i++) {
            lines.push(`${i},${Math.floor(i / batches)},${losses[i]}`);
          }
          await writeFileAtomic(`${dir}/losses.csv`, lines.join("\n") + "\n");
        });
        manifest.finished = new Date().toISOString();
        const head = {
          ...manifest,
          ...s.toJSON(),
          quantizationError: qe,
          topographicError: te,
          topographicErrorRule: "first and second BMU not 4-neighbours on the grid (D2 > 1)",
        };
        line = `trained ${m}x${n} SOM on ${codes.rows}×${codes.cols} codes with ${s.backendName}` +
          `${s.backendNote ? ` (${s.backendNote})` : ""} in ${trainSeconds.toFixed(2)} s: ` +
          (q ? `QE ${qe!.toFixed(6)}, TE ${te!.toFixed(4)}` : "QE/TE skipped") + ` → ${out}`;
        return head;
      } finally {
        som?.dispose();
        ctx?.dispose();
      }
    });
    if (!quiet) console.log(line);
  },
};
