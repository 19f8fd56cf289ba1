/**
 * Every shell command in README.md's code blocks runs as written, from a fresh clone.
 *
 * Which commands count: the lines of the README's fenced blocks marked `sh`, `bash` or `shell`
 * and of unmarked blocks whose lines start with `deno` or `./` (continuation lines joined,
 * comments dropped). Every one of them gets exactly one treatment from {@linkcode RULES} (first
 * match wins); a command no rule covers fails the test, so a new README command needs a rule:
 *
 * - `install`: `npm install --global deno@…` runs with `--prefix <tmp>` added (nothing global
 *   changes) and must give Deno 2.9.6; every later command runs with that `deno` first on PATH.
 * - `help`: the command is long (the test suite, the full default run, PGD on 500 images) or
 *   needs files the reader has and CI does not (ImageNet, `denort`, a finished full run): its
 *   program runs with `--help`, must exit 0, and must list every `--option` the README line uses.
 * - `tested`: the command needs a scheduler this machine lacks (Slurm's `sbatch`); the test file
 *   named in `by` runs it as documented (with a stand-in `sbatch`) and must exist and name it.
 * - `run`: the command runs as written, after {@linkcode SUBSTITUTIONS} replace placeholders by
 *   tiny inputs (`model.onnx` → the built-in ResNet, `X.npy` → a 60×8 codes file, `DIR` → a temp
 *   folder, `--per-class 100` → 2, optional `[…]` parts dropped); it must exit 0 and its stderr
 *   must show no warning box and no line that looks like an error. Its options are checked
 *   against `--help` too.
 *
 * @module
 */

import { assert, assertEquals } from "./asserts.ts";
import { writeNpy } from "../lib/npy.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** How one README command is checked. */
interface Rule {
  /** Matches the command as written in the README. */
  match: RegExp;
  /** Treatment. */
  how: "install" | "help" | "run" | "tested";
  /** With `tested`: the test file that runs the command as documented. */
  by?: string;
  /** Why this treatment. */
  why: string;
}

/** The treatment of every README command, first match wins. */
const RULES: Rule[] = [
  {
    match: /^npx -y deno@2\.9\.6 task (reproduce|test)$/,
    how: "help",
    why: "the README's opening commands (the full default run, the whole suite): run through npx " +
      "with --help here; tasks/fresh_check.sh runs them as written in CI",
  },
  {
    match: /^npm install --global deno@2\.9\.6$/,
    how: "install",
    why: "installs Deno from npm; into a temporary prefix so that the test changes nothing global",
  },
  {
    match: /^deno task (test|bench|conformance)\b/,
    how: "help",
    why: "the whole suite (which would run this test again), the benchmarks, torch conformance",
  },
  {
    match: /(folder:\/data|resnet18\.onnx|\/path\/to\/|runs\/fashion-mnist)/,
    how: "help",
    why: "needs ImageNet, your exported model, a denort binary or a finished full run",
  },
  {
    match: /^deno task reproduce\b/,
    how: "help",
    why: "minutes long; `reproduce --quick` runs end to end in tests/reproduce_test.ts",
  },
  {
    match: /^(DENORT_BIN=\S+ )?deno task compile\b|^\.\/dist\/somscope /,
    how: "help",
    why: "builds or uses the single binary (needs denort; type-checks the whole graph)",
  },
  {
    match: /somscope attack /,
    how: "help",
    why: "PGD on 500 images × 50 steps: minutes; PGD is tested in tests/attack_pgd_test.ts",
  },
  {
    match: /somscope grad .*--normalize imagenet/,
    how: "help",
    why: "ImageNet normalisation needs a 3-channel model; the built-in models are grey",
  },
  {
    match: /^(cp -r examples\/slurm ~\/myrun && cd ~\/myrun|\.\/submit\.sh \d+)$/,
    how: "tested",
    by: "tests/slurm_example_test.ts",
    why: "submits Slurm jobs: needs sbatch; the test runs the scripts as Slurm would",
  },
  {
    match: /^deno task somscope (layers|codes|train|bmus|grad) /,
    how: "run",
    why: "seconds on the built-in model or a tiny codes file",
  },
];

/** Placeholders of `run` commands and what replaces them. */
const SUBSTITUTIONS: [RegExp, (tmp: string) => string][] = [
  [/\s\[[^\]]*\]/g, () => ""],
  [/\bmodel\.onnx\b/g, () => "fixtures/models/fmnist_resnet.onnx"],
  [/\bX\.npy\b/g, (tmp) => `${tmp}/X.npy`],
  [/\bDIR\b/g, (tmp) => `${tmp}/som`],
  [/--per-class \d+/g, () => "--per-class 2"],
];

/** Lines of stderr that look like trouble on a healthy run. */
const ALARMING = /Ignored build scripts|^\s*(error|warning)\b|XDG_RUNTIME_DIR|panicked/im;

/** The shell commands of the README's code blocks, continuation lines joined. */
export function readmeCommands(readme: string): string[] {
  const out: string[] = [];
  const blocks = readme.matchAll(/^```([a-z]*)\n([\s\S]*?)^```/gm);
  for (const [, lang, body] of blocks) {
    const lines = body.replace(/\\\n\s*/g, "").split("\n")
      .map((l) => l.replace(/(^|\s+)#.*$/, "").trim())
      .filter((l) => l.length > 0);
    const shell = ["sh", "bash", "shell"].includes(lang) ||
      (lang === "" && lines.length > 0 && lines.every((l) => /^(deno|\.\/)/.test(l)));
    if (shell) out.push(...lines);
  }
  return out;
}

/** The `--help` form of a command: its program and subcommand, without the rest. */
function helpCommand(cmd: string): string[] {
  const words = cmd.replace(/^[A-Z_]+=\S+\s+/, "").replace(
    /^\.\/dist\/somscope /,
    "deno task somscope ",
  )
    .split(/\s+/);
  const [deno, task, name, sub] = words;
  assertEquals([deno, task], ["deno", "task"], cmd);
  return name === "somscope" && sub && !sub.startsWith("-")
    ? ["task", name, sub, "--help"]
    : ["task", name, "--help"];
}

async function sh(
  cmd: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const [exe, ...args] = cmd;
  const r = await new Deno.Command(exe, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("readmeCommands() finds the README's shell commands and a rule covers each", async () => {
  const cmds = readmeCommands(await Deno.readTextFile(`${ROOT}/README.md`));
  assert(cmds.length >= 10, cmds.join("\n"));
  assertEquals(cmds.slice(0, 3), [
    "npx -y deno@2.9.6 task reproduce",
    "npx -y deno@2.9.6 task test",
    "npm install --global deno@2.9.6",
  ]);
  for (const c of cmds) assert(RULES.some((r) => r.match.test(c)), `no rule for: ${c}`);
  assert(!cmds.some((c) => c.includes("W0.npy|pca|sample]")), "--init lists its default first");
});

Deno.test("every README command runs as written from a fresh clone", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "somscope_readme_" });
  try {
    const clone = `${tmp}/somscope`;
    const git = await sh(["git", "clone", "-q", ROOT, clone], tmp, {});
    assertEquals(git.code, 0, git.err);
    const cmds = readmeCommands(await Deno.readTextFile(`${clone}/README.md`));
    const codes = Float32Array.from({ length: 60 * 8 }, (_, i) => Math.sin(i * 0.7) + (i % 8));
    await writeNpy(`${tmp}/X.npy`, { data: codes, shape: [60, 8] });
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? tmp,
      NO_COLOR: "1",
      SOMSCOPE_CACHE: `${tmp}/cache`,
    };
    for (const k of ["DENO_DIR", "npm_config_cache", "CI"]) {
      const v = Deno.env.get(k);
      if (v) env[k] = v;
    }
    for (const cmd of cmds) {
      const rule = RULES.find((r) => r.match.test(cmd))!;
      if (rule.how === "install") {
        const r = await sh(["bash", "-c", `${cmd} --prefix '${tmp}/npm'`], clone, env);
        assertEquals(r.code, 0, `${cmd}\n${r.err}`);
        env.PATH = `${tmp}/npm/bin:${env.PATH}`;
        const v = await sh(["deno", "--version"], clone, env);
        assert(v.out.startsWith("deno 2.9.6"), v.out + v.err);
        continue;
      }
      if (rule.how === "tested") {
        const test = await Deno.readTextFile(`${clone}/${rule.by}`);
        assert(/submit\.sh/.test(test) && /sbatch/.test(test), `${rule.by} does not run ${cmd}`);
        continue;
      }
      const npx = /^npx -y deno@2\.9\.6 /;
      const exe = npx.test(cmd) ? ["npx", "-y", "deno@2.9.6"] : ["deno"];
      const help = await sh([...exe, ...helpCommand(cmd.replace(npx, "deno "))], clone, env);
      assertEquals(help.code, 0, `${cmd} --help\n${help.err}`);
      const text = help.out + help.err;
      for (const flag of cmd.match(/--[a-z][a-z0-9-]*/g) ?? []) {
        assert(text.includes(flag), `${cmd}: ${flag} is not an option of its command`);
      }
      if (rule.how === "run") {
        let real = cmd;
        for (const [re, by] of SUBSTITUTIONS) real = real.replace(re, by(tmp));
        const r = await sh(["bash", "-c", real], clone, env);
        assertEquals(r.code, 0, `${real}\n${r.err}`);
        const alarm = r.err.split("\n").find((l) => ALARMING.test(l));
        assertEquals(alarm, undefined, `${real}: stderr line looks like trouble`);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
