/**
 * The `somscope` command line: `deno task somscope <command> [options]`.
 *
 * Each command lives in its own `tasks/cmd_<name>.ts` exporting `command: CommandSpec`, loaded on
 * demand so that one command's dependencies do not slow another's start.
 *
 * @module
 */

import { type CommandSpec, runCommand } from "./cli.ts";

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: CommandSpec }> }> =
  {
    layers: {
      summary: "list candidate layers (cut tensors) of an ONNX model and the proposed aliases",
      load: () => import("./cmd_layers.ts"),
    },
    codes: {
      summary: "run a model over a data set and write per-layer vector codes (cached)",
      load: () => import("./cmd_codes.ts"),
    },
    train: {
      summary: "train a toroidal cosine SOM on a codes .npy file",
      load: () => import("./cmd_train.ts"),
    },
    bmus: {
      summary: "top-k best-matching units of codes on a trained SOM",
      load: () => import("./cmd_bmus.ts"),
    },
    grad: {
      summary: "derive the input-gradient ONNX graph (logits, loss, ∂loss/∂input) of a model",
      load: () => import("./cmd_grad.ts"),
    },
    attack: {
      summary: "PGD attack and random-noise controls on a data set",
      load: () => import("./cmd_attack.ts"),
    },
    report: {
      summary: "analyses, claims and report.html for a run folder",
      load: () => import("./cmd_report.ts"),
    },
    reproduce: {
      summary: "the paper's analyses end to end (default: built-in Fashion-MNIST models)",
      load: () => import("./cmd_reproduce.ts"),
    },
  };

/**
 * Top-level help text.
 *
 * @returns The text.
 */
export function topHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    "somscope — functional codes of image classifiers on self-organizing maps",
    "",
    "Usage: deno task somscope <command> [options]",
    "       deno task somscope <command> --help",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}${c.summary}`),
    "",
    "Exit codes: 0 ok, 1 failure, 2 usage error. Errors go to stderr.",
  ].join("\n");
}

/**
 * Runs the CLI.
 *
 * @param args Command-line arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(topHelp());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(
      `somscope: unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(", ")}`,
    );
    return 2;
  }
  let mod: { command: CommandSpec };
  try {
    mod = await entry.load();
  } catch (e) {
    console.error(`somscope: command "${name}" is not available: ${(e as Error).message}`);
    return 1;
  }
  return await runCommand(mod.command, rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
