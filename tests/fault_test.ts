// Fault injection (issue 13 point 6): `reproduce` killed with SIGKILL at each stage boundary and
// mid-stage, a full disk (a small tmpfs where this machine lets us mount one, and an injected
// write failure at every kind of write), a read-only codes cache and a foreign output folder.
// Each must end with the run folder holding exactly one complete run or a clear error, and the
// rerun (without --force) byte-identical to an uninterrupted run. One codes extraction is shared
// through one cache; the run is the small toy-CNN configuration of reproduce_test.ts.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { runCli } from "./cli_helper.ts";

const CLI = new URL("../tasks/somscope.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const ARGS = [
  "reproduce",
  "--quick",
  "--model",
  "tests/data/models/toy_cnn.onnx",
  "--data",
  "builtin:fashion-mnist",
  "--per-class",
  "12",
  "--attack-n",
  "12",
  "--steps",
  "2",
  "--resamples",
  "50",
  "--quiet",
];

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

async function files(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await files(dir, p));
    else out.push(p);
  }
  return out.sort();
}

/** Claims (minus timestamps), every table and figure byte for byte, as compare_run.sh does. */
async function assertSameResults(dir: string, ref: string): Promise<void> {
  const claims = async (d: string) => {
    const c = JSON.parse(await Deno.readTextFile(`${d}/claims.json`));
    delete c.generated;
    delete c.run;
    return c;
  };
  assertEquals(await claims(dir), await claims(ref));
  const outputs = async (d: string) =>
    (await files(d)).filter((f) => f.startsWith("tables/") || f.startsWith("figures/"));
  const names = await outputs(ref);
  assertEquals(await outputs(dir), names);
  for (const f of names) {
    const [a, b] = await Promise.all([Deno.readFile(`${dir}/${f}`), Deno.readFile(`${ref}/${f}`)]);
    assert(a.length === b.length && a.every((v, i) => v === b[i]), `${f} differs`);
  }
}

/** The folder holds exactly one complete run: its manifest lists every entry, nothing else. */
async function assertOneRun(dir: string): Promise<Record<string, unknown>> {
  const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e.name);
  assertEquals(entries.sort(), m.ownership.entries);
  assert(await exists(`${dir}/report.html`));
  return m;
}

async function assertNoStaging(tmp: string): Promise<void> {
  const left = [];
  for await (const e of Deno.readDir(tmp)) if (/\.(staging|old-)/.test(e.name)) left.push(e.name);
  assertEquals(left, []);
}

/**
 * Starts `reproduce` and SIGKILLs it as soon as `when` holds for its staging folder.
 *
 * @returns Whether the kill happened before the process ended on its own.
 */
async function killWhen(
  out: string,
  env: Record<string, string>,
  when: (staging: string) => Promise<boolean>,
  args = ARGS,
): Promise<boolean> {
  const staging = out.replace(/([^/]+)$/, ".$1.staging");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args, "--out", out],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "null",
    stderr: "null",
  }).spawn();
  let done = false;
  const status = child.status.then((s) => (done = true, s));
  let killed = false;
  while (!done) {
    if (await when(staging).catch(() => false)) {
      try {
        child.kill("SIGKILL");
        killed = true;
      } catch { /* already gone */ }
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const s = await status;
  return killed && s.signal === "SIGKILL";
}

async function count(dir: string, name: string): Promise<number> {
  return (await files(dir).catch(() => [])).filter((f) => f.endsWith(`/${name}`)).length;
}

let shared: { tmp: string; env: Record<string, string>; ref: string; maps: number } | null = null;

/** One uninterrupted reference run (and the warm codes cache every other run reuses). */
async function setup() {
  if (shared) return shared;
  const tmp = await Deno.makeTempDir({ prefix: "somscope_fault_" });
  const env = { SOMSCOPE_CACHE: `${tmp}/cache` };
  const ref = `${tmp}/ref`;
  const r = await runCli([...ARGS, "--out", ref], env);
  assertEquals(r.code, 0, r.stderr);
  await assertOneRun(ref);
  shared = { tmp, env, ref, maps: await count(ref, "som.json") };
  assert(shared.maps >= 4);
  return shared;
}

Deno.test({
  name: "reproduce killed (SIGKILL) at each stage boundary and mid-stage resumes byte-identically",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { tmp, env, ref, maps } = await setup();
    const points: [string, (s: string) => Promise<boolean>][] = [
      ["after codes (state.json)", (s) => exists(`${s}/work/toy_cnn/state.json`)],
      ["mid-SOMs (first map)", async (s) => (await count(s, "som.json")) >= 1],
      ["after SOMs (every map)", async (s) => (await count(s, "som.json")) >= maps],
      ["after attack (attack.json)", (s) => exists(`${s}/work/toy_cnn/attack/attack.json`)],
      ["mid-report (claims.json)", (s) => exists(`${s}/claims.json`)],
      ["end of report (report.html)", (s) => exists(`${s}/report.html`)],
    ];
    const outcomes: string[] = [];
    for (const [i, [name, when]] of points.entries()) {
      const out = `${tmp}/kill${i}`;
      const killed = await killWhen(out, env, when);
      // Killed before the commit: no folder at all (never a partial one); killed in the instant
      // after the commit's rename: the folder is already one complete run.
      const committed = killed && await exists(out);
      if (committed) await assertOneRun(out);
      const r = await runCli([...ARGS, "--out", out], env); // no --force
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      const m = await assertOneRun(out);
      await assertSameResults(out, ref);
      if (killed && i >= 3) {
        // Resumed, not recomputed: the stored attack is reused.
        assertEquals((m.timings as Record<string, number>)["toy_cnn/attack"], undefined, name);
      }
      const how = committed ? "killed after the commit" : killed ? "killed" : "finished first";
      outcomes.push(`${name}: ${how}, resumed identical`);
    }
    console.log(outcomes.join("\n"));
    // At least the stage boundaries up to the report were reached while the run was alive.
    assert(outcomes.filter((o) => o.includes(": killed,")).length >= 4, outcomes.join("\n"));

    // A kill while the folder holds a previous complete run leaves that run intact; the
    // rerun then replaces it whole.
    const out = `${tmp}/kill0`;
    const again = [...ARGS.slice(0, -3), "--resamples", "60", "--quiet"];
    assert(await killWhen(out, env, (s) => exists(`${s}/tables`), again), "killed mid-report");
    const m = await assertOneRun(out);
    assertEquals((m.config as { resamples: number }).resamples, 50); // the old run, whole
    await assertSameResults(out, ref);
    const r = await runCli([...again, "--out", out], env);
    assertEquals(r.code, 0, r.stderr);
    const m2 = await assertOneRun(out);
    assertEquals((m2.config as { resamples: number }).resamples, 60);
    await assertNoStaging(tmp);
  },
});

/** The kinds of write of a run, in pipeline order (each matched by its path). */
const WRITES: [string, string][] = [
  ["labels", "/work/toy_cnn/labels_train\\.npy$"],
  ["model state", "/work/toy_cnn/state\\.json$"],
  ["SOM BMUs", "/topk_train\\.npy$"],
  ["SOM weights", "/weights\\.npy$"],
  ["SOM header", "/som\\.json$"],
  ["attack BMUs", "/shift_clean\\.npy$"],
  ["attack summary", "/attack/attack\\.json$"],
  ["claims", "/claims\\.json$"],
  ["tables", "/tables/.*\\.arrow$"],
  ["figure SVG", "/figures/.*\\.svg$"],
  ["figure PNG", "/figures/.*\\.png$"],
  ["report", "/report\\.html$"],
  ["README", "/README\\.txt$"],
  ["manifest (commit)", "/manifest\\.json$"],
];

Deno.test({
  name:
    "a full disk at each kind of write fails naming the file, leaves no partial folder, resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { tmp, env, ref } = await setup();
    const out = `${tmp}/disk`;
    for (const [what, pattern] of WRITES) {
      const r = await runCli([...ARGS, "--out", out], {
        ...env,
        SOMSCOPE_TEST_FAIL_WRITE: pattern,
      });
      assertEquals(r.code, 1, `${what}: ${r.stderr}`);
      const m = /Cannot write (\S+): No space left on device/.exec(r.stderr);
      assert(m && new RegExp(pattern).test(m[1]), `${what}: ${r.stderr}`);
      assertEquals(await exists(out), false, `${what}: a partial ${out} appeared`);
    }
    const r = await runCli([...ARGS, "--out", out], env);
    assertEquals(r.code, 0, r.stderr);
    await assertOneRun(out);
    await assertSameResults(out, ref);
    // With a complete run in place, a failed rerun (here at its last write) keeps that run.
    const again = [...ARGS.slice(0, -3), "--resamples", "60", "--quiet", "--out", out];
    const f = await runCli(again, { ...env, SOMSCOPE_TEST_FAIL_WRITE: "/manifest\\.json$" });
    assertEquals(f.code, 1, f.stderr);
    const m = await assertOneRun(out);
    assertEquals((m.config as { resamples: number }).resamples, 50);
    await assertSameResults(out, ref);
  },
});

/** Runs a shell command as is (mount and friends); returns whether it succeeded. */
async function sh(...cmd: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd[0], { args: cmd.slice(1), stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

const ROOT_USER = Deno.uid() === 0;
const CAN_MOUNT = await (async () => {
  if (!ROOT_USER) return false;
  const d = await Deno.makeTempDir();
  const ok = await sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d);
  if (ok) await sh("umount", d);
  await Deno.remove(d);
  return ok;
})();

Deno.test({
  name: "a real full disk (small tmpfs) fails clearly and the rerun with space is identical",
  // Needs root and a kernel that lets this machine mount tmpfs (CI as root does); the injected
  // failures above cover every write where it does not.
  ignore: !CAN_MOUNT,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { tmp, env, ref } = await setup();
    const bytes = (await Promise.all((await files(ref)).map((f) => Deno.stat(`${ref}/${f}`))))
      .reduce((a, s) => a + s.size, 0);
    const mnt = `${tmp}/tmpfs`;
    await Deno.mkdir(mnt);
    assert(await sh("mount", "-t", "tmpfs", "-o", `size=${Math.ceil(bytes / 2)}`, "tmpfs", mnt));
    try {
      const out = `${mnt}/run`;
      const r = await runCli([...ARGS, "--out", out], env);
      assertEquals(r.code, 1, r.stderr);
      assert(/Cannot write \S+: No space left on device/.test(r.stderr), r.stderr);
      assertEquals(await exists(out), false);
      assert(await sh("mount", "-o", `remount,size=${bytes * 3}`, mnt));
      const r2 = await runCli([...ARGS, "--out", out], env);
      assertEquals(r2.code, 0, r2.stderr);
      await assertOneRun(out);
      await assertSameResults(out, ref);
      await assertNoStaging(mnt);
    } finally {
      await sh("umount", mnt);
    }
  },
});

Deno.test({
  name: "a read-only codes cache fails naming it; made writable, the rerun is identical",
  // Read-only for root needs a read-only mount; other users get a chmod'ed folder.
  ignore: ROOT_USER && !CAN_MOUNT,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { tmp, ref } = await setup();
    const cache = `${tmp}/rocache`;
    await Deno.mkdir(cache);
    if (ROOT_USER) assert(await sh("mount", "-t", "tmpfs", "-o", "ro,size=64m", "tmpfs", cache));
    else await Deno.chmod(cache, 0o555);
    try {
      const out = `${tmp}/ro`;
      const r = await runCli([...ARGS, "--out", out], { SOMSCOPE_CACHE: cache });
      assertEquals(r.code, 1, r.stderr);
      assert(r.stderr.includes(cache), r.stderr);
      assertEquals(await exists(out), false);
      if (ROOT_USER) assert(await sh("mount", "-o", "remount,rw", cache));
      else await Deno.chmod(cache, 0o755);
      const r2 = await runCli([...ARGS, "--out", out], { SOMSCOPE_CACHE: cache });
      assertEquals(r2.code, 0, r2.stderr);
      await assertOneRun(out);
      await assertSameResults(out, ref);
    } finally {
      if (ROOT_USER) await sh("umount", cache);
    }
  },
});

Deno.test({
  name: "a foreign output folder is refused untouched; --force moves it aside and runs whole",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { tmp, env, ref } = await setup();
    const out = `${tmp}/mine`;
    await Deno.mkdir(out);
    await Deno.writeTextFile(`${out}/notes.txt`, "keep me");
    const r = await runCli([...ARGS, "--out", out], env);
    assertEquals(r.code, 1);
    assert(r.stderr.includes("notes.txt") && r.stderr.includes("--force"), r.stderr);
    assertEquals(await files(out), ["notes.txt"]);
    const f = await runCli([...ARGS, "--out", out, "--force"], env);
    assertEquals(f.code, 0, f.stderr);
    await assertOneRun(out);
    await assertSameResults(out, ref);
    const aside = [];
    for await (const e of Deno.readDir(tmp)) {
      if (e.name.startsWith("mine.replaced-")) aside.push(e.name);
    }
    assertEquals(aside.length, 1);
    assertEquals(await Deno.readTextFile(`${tmp}/${aside[0]}/notes.txt`), "keep me");
  },
});

Deno.test({
  name: "fault suite: clean up",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    if (shared) await Deno.remove(shared.tmp, { recursive: true });
    shared = null;
  },
});
