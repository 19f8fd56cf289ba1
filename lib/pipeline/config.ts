/**
 * The configuration of a `reproduce` run: defaults (the paper's settings on the built-in
 * Fashion-MNIST models), the reduced `--quick` variant, parsing of a `run.json` config file, and
 * the split into run-defining settings (which key the caches) and analysis-only settings (which
 * can change without recomputing anything but the analyses).
 *
 * @module
 */

import type { Normalize } from "../model/surgery.ts";
import { builtinModelUrl } from "../builtin.ts";

/** One model of a run. */
export interface ModelConfig {
  /** Short name used in folders, tables and figures, e.g. `fmnist_resnet`. */
  name: string;
  /** Path or URL of the ONNX file. */
  path: string;
  /** Layers: `"auto"` (CL1..CL4 / CLS tokens), aliases or tensor names. Default `"auto"`. */
  layers?: string | string[];
  /** Input normalisation inside the graph. Default `"none"`. */
  normalize?: Normalize;
}

/** Settings that define a run's computed artefacts (codes, SOMs, BMUs, attacks). */
export interface RunSettings {
  /** Models analysed. */
  models: ModelConfig[];
  /** Data spec (`builtin:fashion-mnist`, `folder:PATH`, `idx:PATH`, `cifar:PATH`, `svhn:PATH`). */
  data: string;
  /**
   * Class-index file (class/folder name → logit index; see `readClassIndex`). Default: none
   * (ImageNet wnid folders with a 1000-logit model use the standard order automatically).
   */
  classIndex?: string;
  /** SOM-tr examples per class (paper: 50 ImageNet; default 500). */
  perClass: number;
  /** SOM-val examples per class. */
  valPerClass: number;
  /** Main SOM side (m = n). */
  grid: number;
  /** SOM sides for the class-centre analysis (Fig. 7); the main side is always included. */
  sizes: number[];
  /** SOM epochs. */
  epochs: number;
  /** SOM batch size. */
  batch: number;
  /** σ₀. */
  sigma0: number;
  /** α₀. */
  alpha0: number;
  /** Top-k BMUs per input. */
  k: number;
  /** SOMs per layer in the seed ensemble at the main size (≥ 3 for the stability analysis; 1 = none). */
  seeds: number;
  /** Images attacked with PGD (0 = no attack). */
  attackN: number;
  /** PGD L∞ budget. */
  eps: number;
  /** PGD iterations. */
  steps: number;
  /** Root seed. */
  seed: number;
  /** SOM backend (`auto`, `webgpu`, `cpu`, `reference`). */
  backend: "auto" | "webgpu" | "cpu" | "reference";
  /** Model runtime for extraction (`auto`, `node`, `webgpu`, `wasm`). */
  runtime: "auto" | "node" | "webgpu" | "wasm";
  /** Allow classes with fewer examples than requested. */
  allowFewer: boolean;
}

/** Settings that only affect the analyses, claims and report. */
export interface AnalysisSettings {
  /** Bootstrap replicates per claim. */
  resamples: number;
  /** Density bandwidth in grid units (undefined = Scott's rule). */
  bandwidth?: number;
  /** Classes in the class-centre analysis. */
  maxCentreClasses: number;
  /** Classes of the BMUs-by-class figures (undefined = 4 spread over the labels). */
  featuredClasses?: number[];
  /** Threshold of the "noise barely moves BMUs" claim. */
  noiseFraction: number;
}

/** A whole run configuration. */
export interface ReproduceConfig extends RunSettings, AnalysisSettings {
  /** Run name (folder `runs/<name>` unless `out` is given). */
  name: string;
  /** Output folder. */
  out: string;
  /** Reduced CI-sized run. */
  quick: boolean;
}

/**
 * The models of the default run: the committed Fashion-MNIST ResNet and ViT fixtures.
 *
 * @example
 * ```ts
 * import { DEFAULT_RUN_MODELS } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(DEFAULT_RUN_MODELS.map((m) => m.name), ["fmnist_resnet", "fmnist_vit"]);
 * ```
 */
export const DEFAULT_RUN_MODELS: readonly ModelConfig[] = Object.freeze([
  { name: "fmnist_resnet", path: builtinModelUrl("fmnist-resnet").href, layers: "auto" },
  { name: "fmnist_vit", path: builtinModelUrl("fmnist-vit").href, layers: "auto" },
]);

/**
 * The default configuration: SPEC's settings on both built-in Fashion-MNIST models.
 *
 * @param quick The reduced variant: 40 examples per class, 2 epochs, sizes 10 and 20, 3 seeds,
 *   40 attacked images with 10 PGD steps, 200 bootstrap replicates — same code paths.
 * @returns A fresh configuration.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const c = defaultConfig();
 * assertEquals([c.perClass, c.grid, c.epochs, c.batch, c.attackN], [500, 20, 5, 10, 500]);
 * assertEquals(defaultConfig(true).quick, true);
 * ```
 */
export function defaultConfig(quick = false): ReproduceConfig {
  const base: ReproduceConfig = {
    name: quick ? "fashion-mnist-quick" : "fashion-mnist",
    out: "",
    quick,
    models: DEFAULT_RUN_MODELS.map((m) => ({ ...m })),
    data: "builtin:fashion-mnist",
    perClass: 500,
    valPerClass: 500,
    grid: 20,
    sizes: [10, 20, 30, 40],
    epochs: 5,
    batch: 10,
    sigma0: 10,
    alpha0: 0.1,
    k: 10,
    seeds: 3,
    attackN: 500,
    eps: 4 / 255,
    steps: 50,
    seed: 0,
    backend: "auto",
    runtime: "auto",
    allowFewer: false,
    resamples: 1000,
    maxCentreClasses: 100,
    noiseFraction: 0.1,
  };
  if (quick) {
    Object.assign(base, {
      perClass: 40,
      valPerClass: 40,
      epochs: 2,
      sizes: [10, 20],
      attackN: 40,
      steps: 10,
      resamples: 200,
    });
  }
  return base;
}

const RUN_KEYS: (keyof RunSettings)[] = [
  "models",
  "data",
  "classIndex",
  "perClass",
  "valPerClass",
  "grid",
  "sizes",
  "epochs",
  "batch",
  "sigma0",
  "alpha0",
  "k",
  "seeds",
  "attackN",
  "eps",
  "steps",
  "seed",
  "allowFewer",
];

/**
 * The run-defining part of a configuration (what keys the computed artefacts). Backend and
 * runtime are left out: they change results only by float rounding.
 *
 * @param c The configuration.
 * @returns The settings, in a fixed key order.
 *
 * @example
 * ```ts
 * import { defaultConfig, runSettings } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const a = defaultConfig(), b = { ...defaultConfig(), resamples: 10 };
 * assertEquals(runSettings(a), runSettings(b)); // analysis options do not define the run
 * ```
 */
export function runSettings(c: ReproduceConfig): Partial<RunSettings> {
  const out: Record<string, unknown> = {};
  for (const k of RUN_KEYS) out[k] = c[k];
  return out as Partial<RunSettings>;
}

/** The largest K×K float64 table (K = m·n units) a SOM may need: 4 GiB, or half the memory. */
function _tableLimit(): number {
  let total = Infinity;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch { /* no sys permission */ }
  return Math.min(2 ** 32, total / 2);
}

function _bytes(b: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) (b /= 1000), i++;
  return `${b.toFixed(b < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

/**
 * Checks that an `m×n` SOM's K×K tables (K = m·n; float64 distances between units) fit in
 * memory, before any work.
 *
 * @param m Grid rows.
 * @param n Grid columns.
 * @param what What names the size, for the message (e.g. `--grid 1000x1000`).
 * @throws {RangeError} If K² float64 exceed 4 GiB or half the machine's memory.
 *
 * @example
 * ```ts
 * import { checkGridSize } from "../../mod.ts";
 * import { throws } from "node:assert";
 * checkGridSize(40, 40, "grid 40");
 * throws(() => checkGridSize(1000, 1000, "grid 1000"), /8\.0 TB/);
 * ```
 */
export function checkGridSize(m: number, n: number, what: string): void {
  const K = m * n, bytes = K * K * 8, limit = _tableLimit();
  if (bytes > limit) {
    const side = Math.floor(Math.sqrt(Math.sqrt(limit / 8)));
    throw new RangeError(
      `Cannot use ${what}: a ${m}×${n} SOM has K = ${K} units and its K×K float64 tables need ` +
        `${_bytes(bytes)}, but at most ${
          _bytes(limit)
        } is allowed here (e.g. up to ${side}×${side})`,
    );
  }
}

function _num(name: string, v: unknown, min: number, integer = true): number {
  if (
    typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))
  ) {
    throw new RangeError(
      `Cannot use run config: ${name} is ${JSON.stringify(v)} but expected ${
        integer ? "an integer" : "a number"
      } ≥ ${min}`,
    );
  }
  return v;
}

/**
 * Checks a configuration and fills the main grid size into `sizes`.
 *
 * @param c The configuration (changed in place).
 * @returns The same configuration.
 * @throws {RangeError} On a bad value (the message names the field).
 *
 * @example
 * ```ts
 * import { defaultConfig, validateConfig } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const c = validateConfig({ ...defaultConfig(), grid: 25 });
 * assertEquals(c.sizes, [10, 20, 25, 30, 40]);
 * ```
 */
export function validateConfig(c: ReproduceConfig): ReproduceConfig {
  if (!Array.isArray(c.models) || c.models.length === 0) {
    throw new RangeError("Cannot use run config: models is empty but expected at least one model");
  }
  const names = new Set<string>();
  for (const m of c.models) {
    if (!m || typeof m.path !== "string" || m.path === "") {
      throw new RangeError(`Cannot use run config: model ${JSON.stringify(m)} has no path`);
    }
    if (typeof m.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(m.name)) {
      throw new RangeError(
        `Cannot use run config: model name ${JSON.stringify(m.name)} must match [A-Za-z0-9_.-]+`,
      );
    }
    if (names.has(m.name)) {
      throw new RangeError(`Cannot use run config: model name "${m.name}" appears twice`);
    }
    names.add(m.name);
  }
  if (typeof c.data !== "string" || c.data === "") {
    throw new RangeError(
      `Cannot use run config: data is ${JSON.stringify(c.data)} but expected a spec`,
    );
  }
  if (c.classIndex !== undefined && (typeof c.classIndex !== "string" || c.classIndex === "")) {
    throw new RangeError(
      `Cannot use run config: classIndex is ${JSON.stringify(c.classIndex)} but expected a path`,
    );
  }
  _num("perClass", c.perClass, 1);
  _num("valPerClass", c.valPerClass, 1);
  _num("grid", c.grid, 2);
  _num("epochs", c.epochs, 1);
  _num("batch", c.batch, 1);
  _num("sigma0", c.sigma0, 0, false);
  _num("alpha0", c.alpha0, 0, false);
  _num("k", c.k, 2);
  if (c.k > 16) {
    throw new RangeError(`Cannot use run config: k is ${c.k} but at most 16 is supported`);
  }
  _num("seeds", c.seeds, 1);
  _num("attackN", c.attackN, 0);
  _num("eps", c.eps, 0, false);
  _num("steps", c.steps, 1);
  _num("seed", c.seed, 0);
  _num("resamples", c.resamples, 10);
  _num("maxCentreClasses", c.maxCentreClasses, 2);
  _num("noiseFraction", c.noiseFraction, 0, false);
  if (c.bandwidth !== undefined) _num("bandwidth", c.bandwidth, 0, false);
  if (!Array.isArray(c.sizes)) throw new RangeError("Cannot use run config: sizes must be a list");
  for (const s of c.sizes) _num("sizes[]", s, 2);
  c.sizes = [...new Set([...c.sizes, c.grid])].sort((a, b) => a - b);
  for (const s of c.sizes) checkGridSize(s, s, `run config: SOM size ${s}`);
  const backends = ["auto", "webgpu", "cpu", "reference"];
  if (!backends.includes(c.backend)) {
    throw new RangeError(
      `Cannot use run config: backend is "${c.backend}" but expected one of ${backends.join(", ")}`,
    );
  }
  const runtimes = ["auto", "node", "webgpu", "wasm"];
  if (!runtimes.includes(c.runtime)) {
    throw new RangeError(
      `Cannot use run config: runtime is "${c.runtime}" but expected one of ${runtimes.join(", ")}`,
    );
  }
  return c;
}
