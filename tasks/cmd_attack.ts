/**
 * `somscope attack`: PGD (SPEC §5, advertorch `LinfPGDAttack` with rand_init) on n seeded
 * validation images, plus the uniform-noise control and a norm-matched control. Writes
 * `attack.json`, `examples.csv`/`.arrow`, the images as float32 `.npy`, a contact sheet and
 * `manifest.json` into `--out`.
 *
 * @module
 */

import {
  CLASS_INDEX_OPTION,
  type CommandSpec,
  integerOption,
  NORMALIZE_OPTION,
  normalizeOption,
  numberOption,
  UsageError,
  writeOutputFolder,
} from "./cli.ts";
import {
  type AttackDataset,
  type AttackSummary,
  runAttack,
  writeAttackOutputs,
} from "../lib/attack/attack.ts";
import { newManifest, timed } from "../lib/manifest.ts";
import { Progress } from "../lib/progress.ts";
import { readNpy } from "../lib/npy.ts";
import { DataFormatError } from "../lib/errors.ts";
import { decodeModel } from "../lib/onnx/proto.ts";
import { loadModel } from "../lib/model/load.ts";
import { validateModel } from "../lib/grad/validate.ts";

/**
 * Opens `--data`: `npy:DIR` (DIR/images.npy float32 N×C×H×W in [0,1] and DIR/labels.npy) or any
 * spec lib/data understands, its labels matched to the model's logits (`--class-index`).
 */
async function _openData(
  spec: string,
  split: string,
  model: Uint8Array,
  classIndex: string | undefined,
): Promise<AttackDataset & { labelMapping?: { note: string } }> {
  if (spec.startsWith("npy:")) {
    const dir = spec.slice(4);
    const x = await readNpy(`${dir}/images.npy`), y = await readNpy(`${dir}/labels.npy`);
    if (!(x.data instanceof Float32Array) || x.shape.length !== 4) {
      throw new DataFormatError(
        `Cannot read ${dir}/images.npy: expected float32 N×C×H×W, got [${x.shape}]`,
      );
    }
    const [n, c, h, w] = x.shape, e = c * h * w;
    const labels = Array.from(y.data as ArrayLike<number | bigint>, Number);
    if (labels.length !== n) {
      throw new DataFormatError(`Cannot read ${dir}: ${n} images but ${labels.length} labels`);
    }
    const data = x.data;
    return {
      size: n,
      channels: c,
      height: h,
      width: w,
      labels,
      load: (ids) => {
        const out = new Float32Array(ids.length * e);
        ids.forEach((i, k) => out.set(data.subarray(i * e, (i + 1) * e), k * e));
        return Promise.resolve(out);
      },
    };
  }
  if (split !== "train" && split !== "val") {
    throw new UsageError(`--split is "${split}" but must be train or val`);
  }
  // Folders of images are resized/cropped to the model's input.
  const graph = decodeModel(model).graph;
  const dims = graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const [c, h, w] = dims.slice(1).map((d) => Number(d.dimValue ?? 0));
  const logits = Number(graph?.output?.[0]?.type?.tensorType?.shape?.dim?.at(-1)?.dimValue ?? 0);
  const { openDataset } = await import("../lib/data/dataset.ts");
  return await openDataset(spec, {
    split,
    ...(h > 0 && h === w ? { height: h, width: w } : {}),
    ...(c === 1 || c === 3 ? { channels: c as 1 | 3 } : {}),
    ...(logits > 0 ? { logits } : {}),
    classIndex,
  });
}

/** The `attack` command. */
export const command: CommandSpec = {
  name: "attack",
  summary: "PGD attack (SPEC §5) and random-noise controls on seeded validation images",
  usage: "MODEL.onnx --data SPEC --out DIR [--n 500] [--seed 0] [--eps 4/255] [--steps 50] " +
    "[--step-size auto] [--runtime node|wasm]",
  options: {
    data: {
      type: "string",
      arg: "SPEC",
      help: "dataset spec (see `somscope codes --help`) or npy:DIR",
    },
    split: { type: "string", default: "val", arg: "train|val", help: "split to draw images from" },
    ...CLASS_INDEX_OPTION,
    out: { type: "string", arg: "DIR", help: "output folder" },
    n: { type: "string", default: "500", arg: "N", help: "images to attack" },
    seed: {
      type: "string",
      default: "0",
      arg: "S",
      help: "root seed (streams attack-sample, attack-start, noise)",
    },
    eps: { type: "string", default: "4/255", arg: "E", help: "L∞ budget" },
    steps: { type: "string", default: "50", arg: "K", help: "PGD iterations" },
    "step-size": { type: "string", default: "auto", arg: "A", help: "step size; auto = eps·2/100" },
    batch: { type: "string", default: "16", arg: "B", help: "images per graph run" },
    ...NORMALIZE_OPTION,
    runtime: {
      type: "string",
      default: "node",
      arg: "node|wasm",
      help: "onnxruntime to run the graphs on",
    },
    threads: { type: "string", arg: "T", help: "intra-op threads (default: all cores)" },
    force: {
      type: "boolean",
      help: "replace a folder holding another run or other files (moved aside to DIR.replaced-…)",
    },
  },
  notes:
    "Outputs: attack.json, examples.csv, examples.arrow, clean/adversarial/noise/matched_noise.npy, " +
    "ids.npy, labels.npy, contact_sheet.png, manifest.json. DIR is checked before the attack and " +
    "written whole (through .DIR.staging); a folder holding other files is refused.",
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError("expected exactly one MODEL.onnx argument");
    if (!values.data) throw new UsageError("--data SPEC is required");
    if (!values.out) throw new UsageError("--out DIR is required");
    const int = (k: string, min: number) => integerOption(k, values[k], min);
    const n = int("n", 1), seed = int("seed", 0), steps = int("steps", 1), batch = int("batch", 1);
    const eps = numberOption("eps", values.eps);
    if (eps < 0) throw new UsageError(`--eps is ${values.eps} but must be ≥ 0`);
    const ss = String(values["step-size"]);
    const stepSize: number | "auto" = ss === "auto" ? "auto" : numberOption("step-size", ss);
    const runtime = String(values.runtime);
    if (runtime !== "node" && runtime !== "wasm") {
      throw new UsageError(`--runtime is "${runtime}" but must be node or wasm`);
    }
    const normalize = normalizeOption(values.normalize);
    const threads = values.threads ? int("threads", 1) : undefined;
    const modelPath = positionals[0];
    const attackOptions = {
      n,
      seed,
      eps,
      steps,
      stepSize,
      batch,
      normalize,
      runtime: runtime as "node" | "wasm",
      threads,
    };
    const params = {
      model: modelPath,
      data: values.data,
      split: values.split,
      classIndex: values["class-index"],
      ...attackOptions,
    };
    const out = String(values.out);
    const { threads: _t, ...key } = params;
    let s: AttackSummary | undefined;
    await writeOutputFolder(
      out,
      { kind: "attack", params: key, force: !!values.force },
      async (dir) => {
        const manifest = newManifest("attack", params);
        manifest.seeds = { root: seed, streams: ["attack-sample", "attack-start", "noise"] };
        // loadModel inlines external data (grad/attack used to refuse it).
        const loaded = await loadModel(modelPath);
        const model = loaded.bytes;
        const data = await timed(
          manifest,
          "open_data",
          () => {
            const classIndex = values["class-index"] as string | undefined;
            return _openData(String(values.data), String(values.split), model, classIndex);
          },
        );
        if (data.labelMapping) manifest.labels = data.labelMapping.note;
        // Before any PGD work: N×K logits, the labels within K, a derivable gradient graph (the
        // attack's PGD step graph, kept for it).
        let top = -1;
        for (let i = 0; i < data.labels.length; i++) top = Math.max(top, data.labels[i]);
        await timed(manifest, "validate", () =>
          validateModel(loaded, {
            inputShape: [data.channels, data.height, data.width],
            classes: top + 1,
            gradients: true,
            normalize,
            batch: Math.min(batch, n),
          }));
        let progress: Progress | undefined;
        const result = await timed(manifest, "attack", () =>
          runAttack(model, data, {
            ...attackOptions,
            name: loaded.name,
            onProgress: (done, total) => {
              progress ??= new Progress("PGD", total, { unit: "batch×step" });
              progress.tick();
              if (done === total) progress.done();
            },
          }));
        const files = await timed(manifest, "write", () => writeAttackOutputs(dir, result));
        manifest.files = [...files, "manifest.json"];
        manifest.summary = s = result.summary;
        manifest.finished = new Date().toISOString();
        return manifest;
      },
    );
    if (!s) return;
    console.log(
      `clean ${(100 * s.accuracy.clean).toFixed(1)}% → adversarial ${
        (100 * s.accuracy.adversarial).toFixed(1)
      }%, ` +
        `noise ${(100 * s.accuracy.noise).toFixed(1)}%, matched ${
          (100 * s.accuracy.matched).toFixed(1)
        }%; ` +
        `L∞ max ${s.norms.adversarial.linf.max.toExponential(3)} (eps ${eps.toExponential(3)}); ` +
        `8-bit: ${s.quantized.stillSucceed}/${s.quantized.of} still succeed → ${out}`,
    );
  },
};
