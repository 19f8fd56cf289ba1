/**
 * `somscope reproduce` (and `deno task reproduce`): the paper's analyses end to end. With no
 * arguments it runs offline on the built-in Fashion-MNIST ResNet and ViT; `--model`/`--data`
 * run the same on the user's own model and data.
 *
 * @module
 */

import {
  ANALYSIS_OPTIONS,
  applyAnalysisOptions,
  checkOutputPath,
  CLASS_INDEX_OPTION,
  type CommandSpec,
  normalizeOption,
  numberOption,
  SHARD_OPTION,
  shardOption,
  UsageError,
} from "./cli.ts";
import {
  defaultConfig,
  type ModelConfig,
  type ReproduceConfig,
  validateConfig,
} from "../lib/pipeline/config.ts";
import { parseDataSpec } from "../lib/data/spec.ts";

/** Every setting checked against its limits before any work: a bad one is a usage error. */
async function _validate(c: ReproduceConfig): Promise<void> {
  try {
    validateConfig({ ...c, models: c.models.map((m) => ({ ...m })) });
    await parseDataSpec(c.data);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  if (c.out) await checkOutputPath("out", c.out, "folder");
}

async function _readConfig(path: string): Promise<Partial<ReproduceConfig>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`--config ${path} cannot be read: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new UsageError(`--config ${path} is not a JSON object: ${(e as Error).message}`);
  }
}

/** The `reproduce` command. */
export const command: CommandSpec = {
  name: "reproduce",
  summary: "the paper's analyses end to end (default: built-in Fashion-MNIST models)",
  usage:
    "[--quick] [--model M.onnx --data SPEC [--layers …] [--normalize …]] [--config run.json] [options]",
  options: {
    quick: { type: "boolean", help: "CI-sized run: fewer examples, epochs, sizes and PGD steps" },
    model: {
      type: "string",
      arg: "M.onnx",
      multiple: true,
      help: "your ONNX classifier (repeatable); default: the built-in ResNet and ViT",
    },
    data: {
      type: "string",
      arg: "SPEC",
      help:
        "builtin:fashion-mnist, folder:PATH, idx:PATH, cifar:PATH or svhn:PATH (default builtin:fashion-mnist)",
    },
    ...CLASS_INDEX_OPTION,
    layers: {
      type: "string",
      arg: "L1,L2,…",
      help: "layers: auto, aliases (CL1…, cls0…) or tensor names",
    },
    normalize: {
      type: "string",
      arg: "N",
      help: "input normalisation inside the graph: imagenet, none, or m1,m2,m3/s1,s2,s3",
    },
    config: {
      type: "string",
      arg: "run.json",
      help: "JSON file with any run settings (flags override it)",
    },
    name: { type: "string", arg: "NAME", help: "run name (folder runs/NAME)" },
    out: { type: "string", arg: "DIR", help: "output folder (default runs/NAME)" },
    force: {
      type: "boolean",
      help: "replace a folder holding another run or other files (moved aside to DIR.replaced-…)",
    },
    seed: { type: "string", arg: "S", help: "root seed (default 0)" },
    "per-class": {
      type: "string",
      arg: "N",
      help: "SOM-tr and SOM-val examples per class (default 500)",
    },
    grid: { type: "string", arg: "N", help: "main SOM side (default 20)" },
    sizes: {
      type: "string",
      arg: "A,B,…",
      help: "SOM sides for the class-centre analysis (default 10,20,30,40)",
    },
    epochs: { type: "string", arg: "N", help: "SOM epochs (default 5)" },
    seeds: {
      type: "string",
      arg: "N",
      help: "SOM seeds per layer at the main size (default 5; --quick 3)",
    },
    "attack-n": {
      type: "string",
      arg: "N",
      help: "images attacked with PGD, 0 = none (default 500)",
    },
    steps: { type: "string", arg: "N", help: "PGD iterations (default 50)" },
    backend: {
      type: "string",
      arg: "B",
      help: "SOM backend: auto, webgpu, cpu, reference (default auto)",
    },
    runtime: {
      type: "string",
      arg: "R",
      help: "model runtime: auto, node, webgpu, wasm (default auto)",
    },
    "allow-fewer": { type: "boolean", help: "allow classes with fewer examples than requested" },
    quiet: { type: "boolean", help: "no progress output" },
    cache: {
      type: "string",
      arg: "DIR",
      help: "codes cache folder (default $SOMSCOPE_CACHE, else ~/.cache/somscope)",
    },
    ...SHARD_OPTION,
    ...ANALYSIS_OPTIONS,
  },
  notes: [
    "Writes runs/<name>/: report.html, claims.json, manifest.json, tables/ (Arrow + CSV),",
    "figures/ (SVG + PNG), work/ (cached SOMs, BMUs, attack results). Codes are cached in",
    "--cache, $SOMSCOPE_CACHE or the platform cache dir ($XDG_CACHE_HOME/somscope, else",
    "~/.cache/somscope). Re-running with the same settings reuses",
    "everything; changing only analysis options (--resamples, --bandwidth, …) recomputes only the",
    "analyses. `deno task somscope report runs/<name>` does that without model files.",
    "The folder is written whole through .NAME.staging: a failed or killed run leaves the old run",
    "(or none) and resumes from its stored artefacts when rerun with the same settings.",
    "--shard I/N (e.g. one task of a Slurm job array) only extracts slice I of N of every model's",
    "codes into the shared cache ($SOMSCOPE_CACHE) and writes no run folder; the same command",
    "without --shard afterwards computes no codes (see examples/slurm/).",
  ].join("\n"),
  async run(v, positionals) {
    if (positionals.length) {
      throw new UsageError(`unexpected argument "${positionals[0]}"; options start with --`);
    }
    const c = defaultConfig(!!v.quick);
    if (v.config) Object.assign(c, await _readConfig(String(v.config)));
    const models = (v.model as string[] | undefined) ?? [];
    if (models.length) {
      if (!v.data) {
        throw new UsageError("--model needs --data SPEC (e.g. folder:PATH or idx:PATH)");
      }
      c.models = models.map((p): ModelConfig => ({
        name: p.replace(/^.*[\\/]/, "").replace(/\.onnx$/i, "").replace(/[^A-Za-z0-9_.-]/g, "_"),
        path: p,
        layers: "auto",
      }));
      if (!v.name && !v.config) c.name = `${c.models.map((m) => m.name).join("+")}`;
    }
    if (v.data) c.data = String(v.data);
    if (v["class-index"] !== undefined) c.classIndex = String(v["class-index"]);
    if (v.layers) { for (const m of c.models) m.layers = String(v.layers).split(","); }
    if (v.normalize) {
      const n = normalizeOption(v.normalize);
      for (const m of c.models) m.normalize = n;
    }
    if (v.name) c.name = String(v.name);
    if (!/^[A-Za-z0-9_.+-]+$/.test(c.name)) {
      throw new UsageError(`--name "${c.name}" must match [A-Za-z0-9_.+-]+`);
    }
    if (v.out) c.out = String(v.out);
    if (v.seed !== undefined) c.seed = numberOption("seed", v.seed);
    if (v["per-class"] !== undefined) {
      c.perClass = c.valPerClass = numberOption("per-class", v["per-class"]);
    }
    if (v.grid !== undefined) c.grid = numberOption("grid", v.grid);
    if (v.sizes !== undefined) {
      c.sizes = String(v.sizes).split(",").map((x) => numberOption("sizes", x));
    }
    if (v.epochs !== undefined) c.epochs = numberOption("epochs", v.epochs);
    if (v.seeds !== undefined) c.seeds = numberOption("seeds", v.seeds);
    if (v["attack-n"] !== undefined) c.attackN = numberOption("attack-n", v["attack-n"]);
    if (v.steps !== undefined) c.steps = numberOption("steps", v.steps);
    if (v.backend) c.backend = String(v.backend) as ReproduceConfig["backend"];
    if (v.runtime) c.runtime = String(v.runtime) as ReproduceConfig["runtime"];
    if (v["allow-fewer"]) c.allowFewer = true;
    applyAnalysisOptions(c, v);
    const shard = shardOption(v.shard);
    await _validate(c);
    const t0 = performance.now();
    // The pipeline (models, SOMs, report renderers) loads only once the options are valid.
    const { reproduce, reproduceShard } = await import("../lib/pipeline/reproduce.ts");
    if (v.cache) Deno.env.set("SOMSCOPE_CACHE", String(v.cache));
    if (shard) {
      const parts = await reproduceShard(c, shard, { quiet: !!v.quiet });
      for (const p of parts) {
        console.log(
          `${p.model}: shard ${shard.index}/${shard.count}: SOM-tr ${p.train.start}..${p.train.end} ` +
            `of ${p.train.of} (${p.train.computed} computed), SOM-val ${p.val.start}..${p.val.end} ` +
            `of ${p.val.of} (${p.val.computed} computed)`,
        );
      }
      console.log(
        `Codes of shard ${shard.index}/${shard.count} are in the cache. Done in ` +
          `${((performance.now() - t0) / 1000).toFixed(1)} s.`,
      );
      return;
    }
    const r = await reproduce(c, { force: !!v.force, progress: !v.quiet });
    const verdicts = JSON.parse(await Deno.readTextFile(`${r.dir}/claims.json`)).claims as {
      holds: unknown;
    }[];
    const count = (h: unknown) => verdicts.filter((x) => x.holds === h).length;
    console.log(
      `Report: ${await Deno.realPath(r.report)}\n` +
        `Claims: ${count(true)} hold, ${count(false)} do not, ${
          count("inconclusive")
        } inconclusive, ${count("invalid")} invalid ` +
        `(claims.json). Done in ${((performance.now() - t0) / 1000).toFixed(1)} s.`,
    );
  },
};
