/**
 * `deno task compile`: builds `dist/somscope`, a single executable of the somscope CLI made by
 * `deno compile`, with the WGSL shaders, the built-in fixture models and data, and
 * onnxruntime-web's wasm files embedded.
 *
 * `deno compile` needs the `denort` runtime of the same Deno version. It downloads it from
 * Deno's release server unless `DENORT_BIN` names a local copy; this task passes `DENORT_BIN`
 * through and, when the download is impossible, says so and what to do instead. It never
 * fakes a binary.
 *
 * `--check` verifies what can be verified without `denort`: that the module graph type-checks
 * and that every file the binary needs is embedded. It builds a throw-away image on top of the
 * running `deno` executable only to read `deno compile`'s "Embedded Files" report, then deletes
 * it (that image is not a somscope binary: its base is the Deno CLI, not `denort`).
 *
 * @module
 */

import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url);
const ENTRY = "tasks/somscope.ts";
/** Paths embedded with `--include` (relative to the repository root). */
export const INCLUDES: readonly string[] = [
  "shaders",
  "fixtures/models",
  "fixtures/data",
  "lib/extract/runtime_worker.ts", // the extraction worker (`new Worker(new URL(…))`)
];
/**
 * Entries that must appear in `deno compile`'s "Embedded Files" report. The report folds a
 * folder whose files are all embedded into `name/*`, so these are folder-level markers; the
 * individual files behind them are checked on disk by {@linkcode requiredFiles}.
 */
export const REQUIRED_EMBEDDED: readonly string[] = [
  "shaders/*",
  "fixtures",
  "onnxruntime-web/1.30.0",
  "onnxruntime-node/1.30.0",
  "sharp",
  "arquero/8.0.3",
];

/** Files (repository-relative, or inside onnxruntime-web's package) the binary needs. */
export const REQUIRED_FILES: readonly string[] = [
  "fixtures/models/fmnist_resnet.onnx",
  "fixtures/models/fmnist_vit.onnx",
  "fixtures/data/fashion-mnist/train-images-idx3-ubyte.gz",
  "fixtures/data/fashion-mnist/train-labels-idx1-ubyte.gz",
  "fixtures/data/fashion-mnist/t10k-images-idx3-ubyte.gz",
  "fixtures/data/fashion-mnist/t10k-labels-idx1-ubyte.gz",
  "npm:onnxruntime-web/dist/ort-wasm-simd-threaded.wasm",
  "npm:onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm",
];

/**
 * Which of {@linkcode REQUIRED_FILES} are missing: repository files relative to the root,
 * `npm:onnxruntime-web/…` inside Deno's npm cache (the package `deno compile` embeds whole).
 *
 * @returns Missing paths (empty when all exist).
 */
export async function requiredFiles(): Promise<string[]> {
  const info = await _deno(["info", "--json"]);
  let npmCache = "";
  try {
    npmCache = JSON.parse(info.out.slice(info.out.indexOf("{"))).npmCache ?? "";
  } catch { /* reported as missing below */ }
  const missing: string[] = [];
  for (const f of REQUIRED_FILES) {
    const path = f.startsWith("npm:onnxruntime-web/")
      ? `${npmCache}/registry.npmjs.org/onnxruntime-web/1.30.0/${f.slice(20)}`
      : new URL(f, ROOT);
    try {
      if (!Deno.statSync(path).isFile) missing.push(f);
    } catch {
      missing.push(f);
    }
  }
  return missing;
}

const HELP = `deno task compile [--output dist/somscope] [--target TRIPLE] [--check]

Builds a single somscope executable with deno compile (shaders, fixture models and data, and
onnxruntime-web's wasm files embedded).

  --output PATH   where to write the binary (default: dist/somscope)
  --target T      cross-compile target, e.g. x86_64-unknown-linux-gnu (default: this machine)
  --check         verify the module graph and the embedded files; write no binary
  -h, --help      this help

deno compile needs the 'denort' runtime of Deno ${Deno.version.deno}. It downloads it from
https://dl.deno.land unless DENORT_BIN names a local denort executable:

  DENORT_BIN=/path/to/denort deno task compile

Get denort from the Deno release page (denort-<target>.zip for v${Deno.version.deno}).
onnxruntime-node's native addon is embedded when deno compile can; if it cannot load inside the
binary, somscope's 'auto' runtime falls back to onnxruntime-web's wasm runtime and says so.

Exit codes: 0 ok, 1 failure, 2 usage error.`;

function _missingIncludes(): string[] {
  const missing: string[] = [];
  for (const p of INCLUDES) {
    try {
      Deno.statSync(new URL(p, ROOT));
    } catch {
      missing.push(p);
    }
  }
  return missing;
}

async function _deno(args: string[], env: Record<string, string> = {}): Promise<
  { code: number; out: string }
> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

function _compileArgs(output: string, target?: string): string[] {
  return [
    "compile",
    "-A",
    ...(target ? ["--target", target] : []),
    ...INCLUDES.flatMap((p) => ["--include", p]),
    "--output",
    output,
    ENTRY,
  ];
}

/**
 * Explains a failed `deno compile`, recognising the denort download failure.
 *
 * @param out Combined output of `deno compile`.
 * @returns A message for the user.
 */
export function explainCompileFailure(out: string): string {
  if (/Could not find denort/i.test(out)) {
    return `deno compile could not use DENORT_BIN=${Deno.env.get("DENORT_BIN")}: no such file. ` +
      "Set DENORT_BIN to a denort executable of Deno " + Deno.version.deno + ".";
  }
  if (/dl\.deno\.land|denort|error sending request|dns error|Setting up base binary/i.test(out)) {
    return "deno compile needs the 'denort' runtime and could not download it (no route to " +
      "dl.deno.land from this machine). Run `deno task compile` where that download works, or " +
      `set DENORT_BIN to a local denort executable of Deno ${Deno.version.deno} ` +
      "(denort-<target>.zip from the Deno release page). No binary was written.";
  }
  return "deno compile failed (output above). No binary was written.";
}

async function check(): Promise<number> {
  const missing = _missingIncludes();
  if (missing.length) {
    console.error(`compile --check: missing files to embed: ${missing.join(", ")}`);
    return 1;
  }
  const absentFiles = await requiredFiles();
  if (absentFiles.length) {
    console.error(`compile --check: files the binary needs are missing: ${absentFiles.join(", ")}`);
    return 1;
  }
  console.error(`compile --check: type-checking the module graph of ${ENTRY}`);
  const c = await _deno(["check", ENTRY]);
  if (c.code !== 0) {
    console.error(c.out);
    return 1;
  }
  const tmp = await Deno.makeTempDir({ prefix: "somscope-compile-check-" });
  try {
    console.error("compile --check: listing the embedded files (throw-away image, no denort)");
    const r = await _deno(["compile", "--no-check", ..._compileArgs(`${tmp}/probe`).slice(1)], {
      DENORT_BIN: Deno.execPath(),
    });
    if (r.code !== 0) {
      console.error(r.out);
      return 1;
    }
    const absent = REQUIRED_EMBEDDED.filter((f) => !r.out.includes(f));
    if (absent.length) {
      console.error(r.out);
      console.error(`compile --check: not embedded: ${absent.join(", ")}`);
      return 1;
    }
    console.log(
      `compile --check: ok — the module graph type-checks, ${REQUIRED_FILES.length} required ` +
        `files exist and ${REQUIRED_EMBEDDED.length} required folders/packages are embedded. ` +
        "No binary was written (building one needs denort).",
    );
    return 0;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

async function build(output: string, target?: string): Promise<number> {
  const missing = _missingIncludes();
  if (missing.length) {
    console.error(`compile: missing files to embed: ${missing.join(", ")}`);
    return 1;
  }
  await Deno.mkdir(new URL("dist/", ROOT), { recursive: true });
  const env: Record<string, string> = {};
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) env.DENORT_BIN = denort;
  console.error(
    `compile: deno ${_compileArgs(output, target).join(" ")}` +
      (denort ? ` (DENORT_BIN=${denort})` : ""),
  );
  const r = await _deno(_compileArgs(output, target), env);
  if (r.code !== 0) {
    console.error(r.out);
    console.error(`compile: ${explainCompileFailure(r.out)}`);
    return 1;
  }
  console.log(r.out);
  console.log(`compile: wrote ${output}`);
  return 0;
}

/**
 * Runs the compile task.
 *
 * @param args Command-line arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        output: { type: "string", default: "dist/somscope" },
        target: { type: "string" },
        check: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`compile: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  return values.check ? await check() : await build(values.output!, values.target);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
