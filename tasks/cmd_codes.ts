/**
 * `somscope codes MODEL.onnx --data SPEC --split train|val --per-class N --layers auto --out DIR`:
 * runs a model over a seeded per-class sample of a data set and writes per-layer vector codes
 * (Arrow IPC + `.npy`), predictions and a manifest, through the content-addressed cache.
 *
 * @module
 */

import { type CommandSpec, integerOption, UsageError } from "./cli.ts";
import { loadModel } from "../lib/model/load.ts";
import { validateModel } from "../lib/grad/validate.ts";
import { RUNTIME_CHOICES, type RuntimeChoice } from "../lib/model/runtime.ts";
import { type Normalize, parseNormalize as parseNormalizeOption } from "../lib/model/surgery.ts";
import { defaultCacheDir, extractCodes } from "../lib/extract/extract.ts";
import { writeCodes } from "../lib/extract/tables.ts";
import { newManifest, writeManifest } from "../lib/manifest.ts";
import { Rng } from "../lib/rng.ts";
import type { ComMode } from "../lib/codes/feature_map_reduce.ts";
import { openDataset } from "../lib/data/dataset.ts";
import { samplePerClass } from "../lib/data/sampling.ts";

/**
 * Parses `--normalize`: `none`, `imagenet`, `M1,M2,M3/S1,S2,S3` or `MEAN,STD` (lib's parser).
 *
 * @param s The option value.
 * @returns The normalisation setting.
 * @throws {UsageError} If the value has another form.
 */
export function parseNormalize(s: string): Normalize {
  try {
    return parseNormalizeOption(s);
  } catch (e) {
    throw new UsageError(`--normalize: ${(e as Error).message}`);
  }
}

/** The `codes` command. */
export const command: CommandSpec = {
  name: "codes",
  summary: "run a model over a data set and write per-layer vector codes (cached)",
  usage: "MODEL.onnx --data SPEC --out DIR [--split train|val] [--per-class N] [--layers auto]",
  options: {
    data: {
      type: "string",
      arg: "SPEC",
      help: "builtin:fashion-mnist, folder:PATH, idx:PATH, cifar:PATH or a bare path",
    },
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
    normalize: {
      type: "string",
      arg: "MODE",
      default: "none",
      help: "input normalisation inside the graph: none, imagenet, or MEAN,.../STD,...",
    },
    com: { type: "string", arg: "MODE", default: "flat", help: "centre of mass: flat or xy" },
    cache: { type: "string", arg: "DIR", help: `cache folder (default ${defaultCacheDir()})` },
    threads: { type: "string", arg: "N", help: "CPU runtime threads (default: all cores)" },
    quiet: { type: "boolean", default: false, help: "no progress bar" },
  },
  notes: [
    "Writes DIR/<layer>.npy and DIR/<layer>.arrow (id, label, predicted, correct, code),",
    "DIR/examples.npy (id, label, predicted, correct) and DIR/manifest.json. A repeated run with",
    "the same model, data, sample and preprocessing reads the cache and runs no model; an",
    "interrupted run resumes where it stopped.",
  ].join("\n"),
  async run(values, positionals) {
    if (positionals.length !== 1) {
      throw new UsageError(`expected one MODEL.onnx argument but got ${positionals.length}`);
    }
    if (!values.data) throw new UsageError("--data SPEC is required");
    if (!values.out) throw new UsageError("--out DIR is required");
    const split = String(values.split);
    if (split !== "train" && split !== "val") {
      throw new UsageError(`--split is "${split}" but expected train or val`);
    }
    const runtime = String(values.runtime) as RuntimeChoice;
    if (!RUNTIME_CHOICES.includes(runtime)) {
      throw new UsageError(
        `--runtime is "${runtime}" but expected one of ${RUNTIME_CHOICES.join(", ")}`,
      );
    }
    const com = String(values.com) as ComMode;
    if (com !== "flat" && com !== "xy") {
      throw new UsageError(`--com is "${com}" but expected flat or xy`);
    }
    const intOpt = (name: string, min: number) => integerOption(name, values[name], min);
    const seed = intOpt("seed", 0);
    const batchSize = intOpt("batch", 1);
    const perClass = values["per-class"] !== undefined ? intOpt("per-class", 1) : undefined;
    const threads = values.threads !== undefined ? intOpt("threads", 1) : undefined;
    const normalize = parseNormalize(String(values.normalize));
    const out = String(values.out);
    const cacheDir = values.cache ? String(values.cache) : defaultCacheDir();

    const manifest = newManifest("codes", {
      model: positionals[0],
      data: values.data,
      split,
      perClass: perClass ?? "all",
      allowFewer: !!values["allow-fewer"],
      layers: values.layers,
      runtime,
      batch: batchSize,
      normalize,
      com,
      cache: cacheDir,
    });
    manifest.seeds = { root: seed, streams: ["sampling"] };
    const model = await loadModel(positionals[0]);
    const channels = model.input.channels;
    const dataset = await openDataset(String(values.data), {
      split,
      channels: channels === 1 || channels === 3 ? channels : undefined,
      height: model.input.height ?? undefined,
      width: model.input.width ?? undefined,
    });
    // Before any extraction: N×K logits (K ≥ 2) and the data's classes within K.
    await validateModel(model, {
      inputShape: [dataset.channels, dataset.height, dataset.width],
      classes: dataset.classes.length,
    });
    let indices: Int32Array;
    let counts: unknown = null;
    if (perClass !== undefined) {
      const rng = new Rng(seed).stream("sampling");
      const s = samplePerClass(dataset.labels, perClass, rng, {
        allowFewer: !!values["allow-fewer"],
      });
      indices = Int32Array.from(s.indices);
      counts = s.counts;
    } else {
      indices = Int32Array.from({ length: dataset.size }, (_, i) => i);
    }
    const result = await extractCodes(model, dataset, indices, {
      layers: String(values.layers),
      runtime,
      batchSize,
      cacheDir,
      com,
      normalize,
      threads,
      progress: values.quiet ? false : true,
    });
    const written = await writeCodes(out, result);
    const correct = result.correct.reduce((a, b) => a + b, 0);
    Object.assign(manifest, {
      modelFile: { name: model.name, sha256: model.sha256, opset: model.opset, input: model.input },
      dataset: { spec: values.data, split, identity: await dataset.identity(), size: dataset.size },
      sample: { n: indices.length, perClass: perClass ?? null, counts },
      runtime: result.runtime ?? "none (every layer came from the cache)",
      cache: { dir: cacheDir, runKey: result.runKey, computed: result.computed },
      layers: written,
      accuracy: indices.length ? correct / indices.length : null,
    });
    Object.assign(manifest.timings, result.timings);
    await writeManifest(`${out}/manifest.json`, manifest);
    console.log(
      `${indices.length} examples, ${written.length} layer(s) → ${out} ` +
        `(accuracy ${(100 * correct / Math.max(1, indices.length)).toFixed(1)} %, ` +
        (result.runtime
          ? `${result.computed} computed on ${result.runtime.kind}`
          : "all from cache") +
        ")",
    );
    return 0;
  },
};
