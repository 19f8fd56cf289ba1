/**
 * What the `somscope` commands share: a usage error type (exit code 2), the command and
 * help-text shape, the runner that maps exceptions to exit codes (0 ok, 1 failure, 2 usage),
 * option parsers, the `.npy` matrix reader of `train`/`bmus`, and the analysis options of
 * `reproduce`/`report`. Commands import this module, never each other.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseShard, type Shard } from "../lib/extract/shard.ts";
import { DataFormatError } from "../lib/errors.ts";
import { sha256Hex } from "../lib/hash.ts";
import { type NpyArray, readNpy } from "../lib/npy.ts";
import { StagedFolder } from "../lib/output_folder.ts";
import type { ReproduceConfig } from "../lib/pipeline/config.ts";
import { type Normalize, parseNormalize } from "../lib/model/surgery.ts";

/** A command-line usage mistake (unknown option, missing argument): exit code 2. */
export class UsageError extends Error {
  /** @param message What was wrong and what is expected. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One option of a command, for parsing and for `--help`. */
export interface OptionSpec {
  /** `string` or `boolean`. */
  type: "string" | "boolean";
  /** Default value, shown in help. */
  default?: string | boolean;
  /** One-line description. */
  help: string;
  /** Placeholder shown in help, e.g. `FILE`. */
  arg?: string;
  /** Single-letter alias. */
  short?: string;
  /** May be given several times. */
  multiple?: boolean;
}

/** A subcommand: name, summary, usage line, options and the function that runs it. */
export interface CommandSpec {
  /** Command name, e.g. `train`. */
  name: string;
  /** One-line summary. */
  summary: string;
  /** Usage line after the command name, e.g. `--codes X.npy --out DIR [options]`. */
  usage: string;
  /** Options by long name. */
  options: Record<string, OptionSpec>;
  /** Longer notes printed after the options. */
  notes?: string;
  /** Runs the command; returns the exit code (default 0). */
  run: (
    values: Record<string, string | boolean | string[] | undefined>,
    positionals: string[],
  ) => Promise<number | void>;
}

/**
 * Formats `--help` for a command.
 *
 * @param cmd The command.
 * @returns Help text.
 */
export function formatHelp(cmd: CommandSpec): string {
  const lines = [
    `somscope ${cmd.name} — ${cmd.summary}`,
    "",
    `Usage: deno task somscope ${cmd.name} ${cmd.usage}`,
    "",
    "Options:",
  ];
  const rows = Object.entries(cmd.options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${k}${
      o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""
    }`;
    const def = o.default !== undefined ? ` (default: ${o.default})` : "";
    return [flag, o.help + def];
  });
  rows.push(["-h, --help", "show this help"]);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [f, h] of rows) lines.push(`  ${f.padEnd(w)}${h}`);
  if (cmd.notes) lines.push("", cmd.notes);
  lines.push("", "Exit codes: 0 ok, 1 failure, 2 usage error.");
  return lines.join("\n");
}

/**
 * Parses arguments for a command and runs it, mapping errors to exit codes: `UsageError` and
 * argument-parsing errors → 2, anything else → 1; messages go to stderr.
 *
 * @param cmd The command.
 * @param args Arguments after the command name.
 * @returns The exit code.
 */
export async function runCommand(cmd: CommandSpec, args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(formatHelp(cmd));
    return 0;
  }
  const options: ParseArgsConfig["options"] = {};
  for (const [k, o] of Object.entries(cmd.options)) {
    options[k] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`somscope ${cmd.name}: ${(e as Error).message}`);
    console.error(`Try: deno task somscope ${cmd.name} --help`);
    return 2;
  }
  try {
    const code = await cmd.run(
      parsed.values as Record<string, string | boolean | string[] | undefined>,
      parsed.positionals,
    );
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`somscope ${cmd.name}: ${e.message}`);
      console.error(`Try: deno task somscope ${cmd.name} --help`);
      return 2;
    }
    console.error(`somscope ${cmd.name}: ${(e as Error).name}: ${(e as Error).message}`);
    if (Deno.env.get("SOMSCOPE_DEBUG")) console.error((e as Error).stack);
    return 1;
  }
}

/**
 * Parses a number option, with a usage error naming the option on failure.
 *
 * @param name Option name.
 * @param v The raw value.
 * @returns The number.
 * @throws {UsageError} If `v` is not a number.
 */
export function numberOption(name: string, v: unknown): number {
  const s = String(v).trim();
  const frac = /^(-?[\d.]+)\/([\d.]+)$/.exec(s);
  const x = frac ? Number(frac[1]) / Number(frac[2]) : Number(s);
  if (s === "" || !Number.isFinite(x)) {
    throw new UsageError(`--${name} is "${v}" but must be a number`);
  }
  return x;
}

/**
 * Parses `--normalize`: `none`, `imagenet`, `M1,M2,M3/S1,S2,S3` or `MEAN,STD`.
 *
 * @param v The option value.
 * @returns The normalisation setting.
 * @throws {UsageError} If the value has another form.
 */
export function normalizeOption(v: unknown): Normalize {
  try {
    return parseNormalize(String(v));
  } catch (e) {
    throw new UsageError(`--normalize: ${(e as Error).message}`);
  }
}

/** The `--normalize` option (read with {@linkcode normalizeOption}) of `codes`, `grad` and `attack`. */
export const NORMALIZE_OPTION: CommandSpec["options"] = {
  normalize: {
    type: "string",
    arg: "SPEC",
    default: "none",
    help: "input normalisation folded into the graph (pixels in [0,1]): none, imagenet or " +
      "m1,m2,m3/s1,s2,s3",
  },
};

/** The `--shard I/N` option of the commands that extract codes (`codes`, `reproduce`). */
export const SHARD_OPTION = {
  shard: {
    type: "string",
    arg: "I/N",
    help: "compute only slice I of N (0-based, whole batches) of the codes into the shared cache",
  },
} as const;

/**
 * Parses `--shard I/N`; undefined when the option is absent.
 *
 * @param v The option value.
 * @returns The shard, or undefined.
 * @throws {UsageError} If the value is not `I/N` with `0 ≤ I < N`.
 */
export function shardOption(v: unknown): Shard | undefined {
  if (v === undefined) return undefined;
  try {
    return parseShard(String(v));
  } catch (e) {
    throw new UsageError(`--shard: ${(e as Error).message}`);
  }
}

/**
 * The one `MODEL.onnx` positional argument of a command.
 *
 * @param positionals The command's positional arguments.
 * @returns The model path.
 * @throws {UsageError} If there is not exactly one.
 * @example
 * ```ts
 * import { modelArgument, UsageError } from "./cli.ts";
 * import { deepStrictEqual as assertEquals, throws } from "node:assert";
 * assertEquals(modelArgument(["m.onnx"]), "m.onnx");
 * throws(() => modelArgument([]), UsageError);
 * ```
 */
export function modelArgument(positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(`expected one MODEL.onnx argument but got ${positionals.length}`);
  }
  return positionals[0];
}

/**
 * Parses an option that takes one of a fixed list of values.
 *
 * @param name Option name.
 * @param v The raw value.
 * @param choices The allowed values.
 * @returns The value.
 * @throws {UsageError} If `v` is not one of `choices`.
 * @example
 * ```ts
 * import { choiceOption, UsageError } from "./cli.ts";
 * import { deepStrictEqual as assertEquals, throws } from "node:assert";
 * assertEquals(choiceOption("runtime", "node", ["node", "wasm"]), "node");
 * throws(() => choiceOption("runtime", "gpu", ["node", "wasm"]), UsageError);
 * ```
 */
export function choiceOption<T extends string>(name: string, v: unknown, choices: readonly T[]): T {
  const s = String(v) as T;
  if (!choices.includes(s)) {
    throw new UsageError(`--${name} is "${s}" but expected one of ${choices.join(", ")}`);
  }
  return s;
}

/**
 * Parses an integer option with a lower bound, with a usage error naming the option on failure.
 *
 * @param name Option name.
 * @param v The raw value.
 * @param min Smallest allowed value.
 * @returns The integer.
 * @throws {UsageError} If `v` is not a number, not an integer, or below `min`.
 * @example
 * ```ts
 * import { integerOption, UsageError } from "./cli.ts";
 * import { deepStrictEqual as assertEquals, throws } from "node:assert";
 * assertEquals(integerOption("seed", "7", 0), 7);
 * throws(() => integerOption("batch", "0", 1), UsageError);
 * ```
 */
export function integerOption(name: string, v: unknown, min: number): number {
  const x = numberOption(name, v);
  if (!Number.isInteger(x) || x < min) {
    throw new UsageError(`--${name} is ${v} but must be an integer ≥ ${min}`);
  }
  return x;
}

/** `--codes X.npy`, the codes file of `train` and `bmus` (read with {@linkcode readMatrix}). */
export const CODES_OPTION: CommandSpec["options"] = {
  codes: { type: "string", arg: "X.npy", help: "N×d float32 codes (required)" },
};

/**
 * Reads a 2-D float `.npy` as float32 (float64 is converted).
 *
 * @param path File path.
 * @param what What the file is, for messages.
 * @returns Data and shape `[rows, cols]`.
 * @throws {DataFormatError} If it is not a non-empty 2-D float array.
 */
export async function readMatrix(
  path: string,
  what: string,
): Promise<{ data: Float32Array; rows: number; cols: number }> {
  let arr: NpyArray;
  try {
    arr = await readNpy(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataFormatError(`Cannot read ${what}: ${path} does not exist`);
    }
    throw e;
  }
  if (arr.shape.length !== 2) {
    throw new DataFormatError(
      `Cannot read ${what}: ${path} has shape [${arr.shape}] but expected a 2-D array (rows × dim)`,
    );
  }
  const [rows, cols] = arr.shape;
  if (rows === 0 || cols === 0) {
    throw new DataFormatError(`Cannot read ${what}: ${path} has shape [${arr.shape}] (empty)`);
  }
  let data: Float32Array;
  if (arr.data instanceof Float32Array) data = arr.data;
  else if (arr.data instanceof Float64Array) data = Float32Array.from(arr.data);
  else {
    throw new DataFormatError(
      `Cannot read ${what}: ${path} holds ${arr.data.constructor.name} but expected float32 ` +
        "(or float64)",
    );
  }
  return { data, rows, cols };
}

/** Options shared with `report` that only change analyses. */
export function applyAnalysisOptions(
  c: ReproduceConfig,
  v: Record<string, string | boolean | string[] | undefined>,
): void {
  if (v.resamples !== undefined) c.resamples = numberOption("resamples", v.resamples);
  if (v.bandwidth !== undefined) c.bandwidth = numberOption("bandwidth", v.bandwidth);
  if (v["max-centre-classes"] !== undefined) {
    c.maxCentreClasses = numberOption("max-centre-classes", v["max-centre-classes"]);
  }
  if (v["noise-fraction"] !== undefined) {
    c.noiseFraction = numberOption("noise-fraction", v["noise-fraction"]);
  }
  if (v.featured !== undefined) {
    c.featuredClasses = String(v.featured).split(",").map((x) => numberOption("featured", x));
  }
  if (v.permutations !== undefined) c.permutations = numberOption("permutations", v.permutations);
  if (v.adjust !== undefined) {
    if (v.adjust !== "holm" && v.adjust !== "none") {
      throw new UsageError(`--adjust is "${v.adjust}" but expected one of holm, none`);
    }
    c.adjust = v.adjust;
  }
  for (
    const [flag, key] of [
      ["much-more-ratio", "muchMoreRatio"],
      ["much-more-similar-ratio", "muchMoreSimilarRatio"],
      ["collapse-ratio", "collapseRatio"],
      ["keep-ratio", "keepRatio"],
    ] as const
  ) {
    if (v[flag] !== undefined) c[key] = numberOption(flag, v[flag]);
  }
}

/** Analysis-only options, shared with `report`. */
export const ANALYSIS_OPTIONS: CommandSpec["options"] = {
  resamples: {
    type: "string",
    arg: "N",
    help: "bootstrap replicates per claim (default 1000; --quick 200)",
  },
  bandwidth: {
    type: "string",
    arg: "X",
    help: "BMU density bandwidth in grid units (default: Scott's rule)",
  },
  "max-centre-classes": {
    type: "string",
    arg: "N",
    help: "classes in the class-centre analysis (default 100)",
  },
  "noise-fraction": {
    type: "string",
    arg: "X",
    help: "'noise barely moves BMUs' threshold, fraction of the random-unit distance (default 0.1)",
  },
  featured: {
    type: "string",
    arg: "L1,L2,…",
    help: "class labels shown in the BMUs-by-class figures",
  },
  permutations: {
    type: "string",
    arg: "N",
    help: "label permutations of the null baselines (default 200)",
  },
  adjust: {
    type: "string",
    arg: "holm|none",
    help: "multiple-comparison adjustment of a model's claims (default holm)",
  },
  "much-more-ratio": {
    type: "string",
    arg: "X",
    help: "'PGD moves BMUs much more in the last layer': last ≥ X × first shift (default 2)",
  },
  "much-more-similar-ratio": {
    type: "string",
    arg: "X",
    help: "'shallow weights much more similar': deep ≥ X × shallow cosine distance (default 2)",
  },
  "collapse-ratio": {
    type: "string",
    arg: "X",
    help: "'PGD collapses accuracy': adversarial ≤ X × clean accuracy (default 0.5)",
  },
  "keep-ratio": {
    type: "string",
    arg: "X",
    help: "'noise does not': noise ≥ X × clean accuracy (default 0.9)",
  },
};

/** Options of {@linkcode writeOutputFolder}. */
export interface OutputFolderOptions {
  /** The command (the kind of run that owns the folder). */
  kind: string;
  /** The run-defining parameters (their hash is the run key). */
  params: unknown;
  /** Replace another run or foreign files (moved aside). */
  force: boolean;
  /** The file that holds the manifest. Default `manifest.json`. */
  manifest?: string;
}

/**
 * Refuses an output path that is an existing file (a usage error, before any work).
 *
 * @param option The option name, e.g. `out`.
 * @param path The path given.
 * @param expected `"folder"` or `"file"`.
 * @throws {UsageError} If `path` exists and is not of the expected kind.
 */
export async function checkOutputPath(
  option: string,
  path: string,
  expected: "folder" | "file",
): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return;
  }
  if (expected === "folder" && !info.isDirectory) {
    throw new UsageError(`--${option} ${path} is a file but a folder is expected`);
  }
  if (expected === "file" && info.isDirectory) {
    throw new UsageError(`--${option} ${path} is a folder but a file is expected`);
  }
}

/**
 * Runs a command's work into its output folder, committed whole: the folder is checked first
 * (a file, foreign files or another run are refused before any work), `work` writes into the
 * staging folder it is given and returns the manifest, and the staging folder is then switched
 * in. A failure leaves the folder as it was and removes the staging folder.
 *
 * @param out The output folder.
 * @param options Kind, parameters, `force`, manifest file.
 * @param work Writes the outputs into the given folder; returns the manifest.
 * @returns Where replaced contents went (`--force`), or null.
 * @throws {UsageError} If `out` is a file.
 * @throws {RunFolderError} If `out` holds foreign files or another run (without `force`).
 */
export async function writeOutputFolder(
  out: string,
  options: OutputFolderOptions,
  work: (dir: string) => Promise<Record<string, unknown>>,
): Promise<string | null> {
  await checkOutputPath("out", out, "folder");
  const staged = await StagedFolder.begin(out, {
    kind: options.kind,
    runKey: await sha256Hex(JSON.stringify(options.params)),
    force: options.force,
    manifest: options.manifest,
    note: (m) => console.error(`somscope ${options.kind}: ${m}`),
  });
  let manifest: Record<string, unknown>;
  try {
    manifest = await work(staged.path);
  } catch (e) {
    await staged.abort();
    throw e;
  }
  return await staged.commit(manifest);
}

/** `--class-index`, shared by `codes`, `attack` and `reproduce`. */
export const CLASS_INDEX_OPTION: CommandSpec["options"] = {
  "class-index": {
    type: "string",
    arg: "FILE",
    help: 'class (folder) name → logit index: JSON {"name": index}, or one name a line in ' +
      "logit order (LOC_synset_mapping.txt); ImageNet wnid folders with 1000 logits need none",
  },
};
