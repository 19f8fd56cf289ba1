/**
 * Test helper: runs the somscope CLI (`tasks/somscope.ts`) in a subprocess and captures its
 * exit code and output.
 *
 * @module
 */

const CLI = new URL("../tasks/somscope.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** What a CLI run returned. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Captured stdout. */
  stdout: string;
  /** Captured stderr. */
  stderr: string;
}

/**
 * Runs `deno run -A tasks/somscope.ts ...args` from the repository root.
 *
 * @param args Command-line arguments.
 * @param env Extra environment variables (NO_COLOR is always set).
 * @returns Exit code and output.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCommand(Deno.execPath(), ["run", "-A", CLI, ...args], ROOT, env);
}

/**
 * Runs `cmd ...args` in `cwd` and captures its exit code and output.
 *
 * @param cmd The program (e.g. `bash`).
 * @param args Its arguments.
 * @param cwd The working directory.
 * @param env Extra environment variables (NO_COLOR is always set).
 * @returns Exit code and output.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const r = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}

/**
 * Command-line flags from an object, in its key order: a string or number `v` for key `k` is
 * `--k v`, `true` is `--k` alone, `false` leaves the flag out.
 *
 * @param options Flag values by long name.
 * @returns The arguments, e.g. `flags({ n: 4, quiet: true })` is `["--n", "4", "--quiet"]`.
 */
export function flags(options: Record<string, string | number | boolean>): string[] {
  return Object.entries(options).flatMap(([k, v]) =>
    v === false ? [] : v === true ? [`--${k}`] : [`--${k}`, String(v)]
  );
}

/**
 * `reproduce` arguments of the small toy-CNN run (no `--out`; the last three are
 * `--resamples 50 --quiet`).
 *
 * @param attackN The `--attack-n` value.
 * @returns The arguments.
 */
export function toyReproduceArgs(attackN = "12"): string[] {
  return [
    "reproduce",
    ...flags({
      quick: true,
      model: "tests/data/models/toy_cnn.onnx",
      data: "builtin:fashion-mnist",
      "per-class": 12,
      "attack-n": attackN,
      steps: 2,
      resamples: 50,
      quiet: true,
    }),
  ];
}

/**
 * `reproduce` arguments of the small toy-CNN run shared by the reproduce and fault tests (no
 * `--out`; the last three are `--resamples 50 --quiet`).
 */
export const TOY_REPRODUCE_ARGS: readonly string[] = toyReproduceArgs();
