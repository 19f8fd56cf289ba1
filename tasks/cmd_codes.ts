/**
 * `somscope codes MODEL.onnx --data SPEC --split train|val --per-class N --layers auto --out DIR`:
 * runs a model over a seeded per-class sample of a data set and writes per-layer vector codes
 * (Arrow IPC + `.npy`), predictions and a manifest, through the content-addressed cache.
 *
 * @module
 */

import {
  choiceOption,
  CLASS_INDEX_OPTION,
  type CommandSpec,
  integerOption,
  modelArgument,
  NORMALIZE_OPTION,
  normalizeOption,
  SHARD_OPTION,
  shardOption,
  UsageError,
  writeOutputFolder,
} from "./cli.ts";
import { loadModel } from "../lib/model/load.ts";
import { validateModel } from "../lib/grad/validate.ts";
import { RUNTIME_CHOICES, type RuntimeChoice } from "../lib/model/runtime.ts";
import type { Normalize } from "../lib/model/surgery.ts";
import { defaultCacheDir, extractCodes } from "../lib/extract/extract.ts";
import type { Shard } from "../lib/extract/shard.ts";
import { writeCodes } from "../lib/extract/tables.ts";
import { type Manifest, newManifest } from "../lib/manifest.ts";
import { Rng } from "../lib/rng.ts";
import type { ComMode } from "../lib/codes/feature_map_reduce.ts";
import { openDataset } from "../lib/data/dataset.ts";
import { samplePerClass } from "../lib/data/sampling.ts";

/** The `codes` command. */
export const command: CommandSpec = {
  name: "codes",
  summary: "run a model over a data set and write per-layer vector codes (cached)",
  usage: "MODEL.onnx --data SPEC --out DIR [--split train|val] [--per-class N] [--layers auto]",
  options: {
    data: {
      type: "string",
      arg: "SPEC",
      help: "builtin:fashion-mnist, folder:PATH, idx:PATH, cifar:PATH, svhn:PATH or a bare path",
    },
    ...CLASS_INDEX_OPTION,
    split: { type: "string", arg: "NAME", default: "train", help: "train or val" },
    "per-class": {
      type: "string",
      arg: "N",
      help: "examples drawn per class with the seeded RNG (default: every example)",
    },
    "allow-fewer": {
      type: "boolean",
      default: false,
      help: "allow classes with fewer than N examples (the manifest records the counts)",
    },
    layers: {
      type: "string",
      arg: "LIST",
      default: "auto",
      help: "auto, aliases (CL1,CL3 / cls0,...) or tensor names, comma-separated",
    },
    out: { type: "string", arg: "DIR", help: "output folder" },
    seed: { type: "string", arg: "N", default: "0", help: "root seed (sampling stream)" },
    runtime: {
      type: "string",
      arg: "NAME",
      default: "auto",
      help: "auto, node, webgpu or wasm",
    },
    batch: { type: "string", arg: "N", default: "32", help: "images per forward pass" },
    ...NORMALIZE_OPTION,
    com: { type: "string", arg: "MODE", default: "flat", help: "centre of mass: flat or xy" },
    cache: { type: "string", arg: "DIR", help: `cache folder (default ${defaultCacheDir()})` },
    threads: { type: "string", arg: "N", help: "CPU runtime threads (default: all cores)" },
    quiet: { type: "boolean", default: false, help: "no progress bar" },
    ...SHARD_OPTION,
    force: {
      type: "boolean",
      default: false,
      help: "replace a folder holding another run or other files (moved aside to DIR.replaced-…)",
    },
  },
  notes: [
    "Writes DIR/<layer>.npy and DIR/<layer>.arrow (id, label, predicted, correct, code),",
    "DIR/examples.npy (id, label, predicted, correct) and DIR/manifest.json. A repeated run with",
    "the same model, data, sample and preprocessing reads the cache and runs no model; an",
    "interrupted run resumes where it stopped. DIR is written whole: files go to .DIR.staging",
    "and replace DIR's previous run at the end; a folder holding other files is refused.",
    "--shard I/N (e.g. a Slurm array task) computes a deterministic slice into the shared cache",
    "(--cache or $SOMSCOPE_CACHE); a later run without --shard finds every slice there and",
    "computes nothing, with codes byte-identical to a one-process run at the same --batch.",
  ].join("\n"),
  async run(values, positionals) {
    const modelPath = modelArgument(positionals);
    if (!values.data) throw new UsageError("--data SPEC is required");
    if (!values.out) throw new UsageError("--out DIR is required");
    const split = String(values.split);
    if (split !== "train" && split !== "val") {
      throw new UsageError(`--split is "${split}" but expected train or val`);
    }
    const runtime = choiceOption("runtime", values.runtime, RUNTIME_CHOICES);
    const com = String(values.com) as ComMode;
    if (com !== "flat" && com !== "xy") {
      throw new UsageError(`--com is "${com}" but expected flat or xy`);
    }
    const intOpt = (name: string, min: number) => integerOption(name, values[name], min);
    const job: CodesJob = {
      model: modelPath,
      data: String(values.data),
      classIndex: values["class-index"] as string | undefined,
      split,
      seed: intOpt("seed", 0),
      perClass: values["per-class"] !== undefined ? intOpt("per-class", 1) : undefined,
      allowFewer: !!values["allow-fewer"],
      layers: String(values.layers),
      runtime,
      batch: intOpt("batch", 1),
      threads: values.threads !== undefined ? intOpt("threads", 1) : undefined,
      normalize: normalizeOption(values.normalize),
      com,
      cache: values.cache ? String(values.cache) : defaultCacheDir(),
      quiet: !!values.quiet,
      shard: shardOption(values.shard),
    };
    const out = String(values.out);
    const { threads: _t, quiet: _q, ...params } = job;
    let line = "";
    await writeOutputFolder(out, { kind: "codes", params, force: !!values.force }, async (dir) => {
      const r = await _extract(job, dir);
      line = r.line;
      return r.manifest;
    });
    console.log(line.replace("{out}", out));
    return 0;
  },
};

/** A validated `codes` invocation. */
interface CodesJob {
  model: string;
  data: string;
  classIndex: string | undefined;
  split: "train" | "val";
  seed: number;
  perClass: number | undefined;
  allowFewer: boolean;
  layers: string;
  runtime: RuntimeChoice;
  batch: number;
  threads: number | undefined;
  normalize: Normalize;
  com: ComMode;
  cache: string;
  quiet: boolean;
  shard: Shard | undefined;
}

/** Samples, extracts and writes the codes into `dir`; returns the manifest and a summary line. */
async function _extract(job: CodesJob, dir: string): Promise<{ manifest: Manifest; line: string }> {
  const manifest = newManifest("codes", {
    model: job.model,
    data: job.data,
    classIndex: job.classIndex,
    split: job.split,
    perClass: job.perClass ?? "all",
    allowFewer: job.allowFewer,
    layers: job.layers,
    runtime: job.runtime,
    batch: job.batch,
    normalize: job.normalize,
    com: job.com,
    cache: job.cache,
    shard: job.shard ? `${job.shard.index}/${job.shard.count}` : null,
  });
  manifest.seeds = { root: job.seed, streams: ["sampling"] };
  const model = await loadModel(job.model);
  const channels = model.input.channels;
  const dataset = await openDataset(job.data, {
    split: job.split,
    channels: channels === 1 || channels === 3 ? channels : undefined,
    height: model.input.height ?? undefined,
    width: model.input.width ?? undefined,
    logits: model.logits.classes ?? undefined,
    classIndex: job.classIndex,
  });
  // Before any extraction: N×K logits (K ≥ 2) and the data's classes within K.
  await validateModel(model, {
    inputShape: [dataset.channels, dataset.height, dataset.width],
    classes: dataset.classes.length,
  });
  let indices: Int32Array;
  let counts: unknown = null;
  if (job.perClass !== undefined) {
    const rng = new Rng(job.seed).stream("sampling");
    const s = samplePerClass(dataset.labels, job.perClass, rng, { allowFewer: job.allowFewer });
    indices = Int32Array.from(s.indices);
    counts = s.counts;
  } else {
    indices = Int32Array.from({ length: dataset.size }, (_, i) => i);
  }
  const result = await extractCodes(model, dataset, indices, {
    layers: job.layers,
    runtime: job.runtime,
    batchSize: job.batch,
    cacheDir: job.cache,
    com: job.com,
    normalize: job.normalize,
    threads: job.threads,
    progress: !job.quiet && {
      context: `${job.model.split("/").pop()} ${job.split} (${indices.length} images)`,
    },
    shard: job.shard,
  });
  const written = await writeCodes(dir, result);
  const correct = result.correct.reduce((a, b) => a + b, 0);
  Object.assign(manifest, {
    modelFile: { name: model.name, sha256: model.sha256, opset: model.opset, input: model.input },
    dataset: {
      spec: job.data,
      split: job.split,
      identity: await dataset.identity(),
      size: dataset.size,
      labels: dataset.labelMapping?.note,
    },
    sample: { n: indices.length, perClass: job.perClass ?? null, counts, shard: result.shard },
    runtime: result.runtime ?? "none (every layer came from the cache)",
    cache: { dir: job.cache, runKey: result.runKey, computed: result.computed },
    layers: written,
    accuracy: result.indices.length ? correct / result.indices.length : null,
  });
  Object.assign(manifest.timings, result.timings);
  manifest.finished = new Date().toISOString();
  const n = result.indices.length;
  const slice = result.shard
    ? ` (shard ${result.shard.index}/${result.shard.count}: positions ${result.shard.start}..` +
      `${result.shard.end - 1} of ${indices.length})`
    : "";
  const line = `${n} examples${slice}, ${written.length} layer(s) → {out} ` +
    `(accuracy ${(100 * correct / Math.max(1, n)).toFixed(1)} %, ` +
    (result.runtime ? `${result.computed} computed on ${result.runtime.kind}` : "all from cache") +
    ")";
  return { manifest, line };
}
