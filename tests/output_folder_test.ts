// Output folders that belong to one run and commit whole (issue 13 points 1–2).
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { RunFolderError, StagedFolder } from "../mod.ts";

const list = async (dir: string) => {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
};
const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

async function commitRun(dir: string, runKey: string, files: Record<string, string>) {
  const s = await StagedFolder.begin(dir, { kind: "demo", runKey });
  for (const [f, t] of Object.entries(files)) await Deno.writeTextFile(`${s.path}/${f}`, t);
  await s.commit({ somscope: "0.1.0", command: "demo" });
}

Deno.test("a committed folder holds exactly its run, with its entries and run id", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/out`;
    await commitRun(dir, "k1", { "a.txt": "1", "b.txt": "1" });
    // The same run again replaces the folder whole: no stale file of the first attempt stays.
    await commitRun(dir, "k1", { "a.txt": "2" });
    assertEquals(await list(dir), ["a.txt", "manifest.json"]);
    assertEquals(await list(tmp), ["out"]); // no staging or old folder left
    const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    assertEquals([m.ownership.kind, m.ownership.runKey], ["demo", "k1"]);
    assertEquals(m.ownership.entries, ["a.txt", "manifest.json"]);
    assert(/^[0-9a-f-]{36}$/.test(m.ownership.runId));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("foreign files, another run and a file are refused, naming them; --force moves aside", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/out`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/notes.txt`, "keep me");
    await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k" }), (e: Error) => {
      assert(e instanceof RunFolderError && e.message.includes("notes.txt"), e.message);
      return true;
    });
    // A manifest.json that somscope did not write does not make the folder ours.
    await Deno.writeTextFile(`${dir}/manifest.json`, '{"name": "my project"}');
    await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k" }), /not a somscope run/);
    await Deno.remove(`${dir}/manifest.json`);
    const s = await StagedFolder.begin(dir, { kind: "demo", runKey: "k", force: true });
    await Deno.writeTextFile(`${s.path}/a.txt`, "new");
    const aside = await s.commit({ somscope: "0.1.0", command: "demo" });
    assert(aside && aside.startsWith(`${tmp}/out.replaced-`), String(aside));
    assertEquals(await Deno.readTextFile(`${aside}/notes.txt`), "keep me");
    assertEquals(await list(dir), ["a.txt", "manifest.json"]);
    // A file added beside our run is foreign too; another run's key is refused.
    await Deno.writeTextFile(`${dir}/extra.csv`, "x");
    await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k" }), /extra\.csv/);
    await Deno.remove(`${dir}/extra.csv`);
    await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k2" }), /another run/);
    await rejects(StagedFolder.begin(dir, { kind: "other", runKey: "k" }), /another run/);
    await Deno.writeTextFile(`${tmp}/file`, "x");
    await rejects(StagedFolder.begin(`${tmp}/file`, { kind: "demo", runKey: "k" }), /is a file/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a failed run leaves the old run; a resumable one continues in its staging folder", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/out`;
    await commitRun(dir, "k", { "a.txt": "old" });
    const opts = { kind: "demo", runKey: "k", resumable: true, carry: ["a.txt"] };
    const s1 = await StagedFolder.begin(dir, opts);
    // The previous run's carried entry is there (a hard link), the new file not yet committed.
    assertEquals(await Deno.readTextFile(`${s1.path}/a.txt`), "old");
    await Deno.writeTextFile(`${s1.path}/b.txt`, "half");
    // "Killed" here: the folder still holds the old run only.
    assertEquals(await list(dir), ["a.txt", "manifest.json"]);
    const s2 = await StagedFolder.begin(dir, opts);
    assertEquals(s2.path, s1.path);
    assertEquals(await Deno.readTextFile(`${s2.path}/b.txt`), "half"); // resumed
    // Another run's attempt discards the staging folder instead of mixing into it.
    const s3 = await StagedFolder.begin(dir, { ...opts, runKey: "k2", force: true });
    assertEquals(await exists(`${s3.path}/b.txt`), false);
    await s3.abort();
    assertEquals(await exists(s3.path), false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a commit cut between its two renames is completed by the next begin", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/out`;
    await commitRun(dir, "k", { "a.txt": "old" });
    const s = await StagedFolder.begin(dir, { kind: "demo", runKey: "k", resumable: true });
    await Deno.writeTextFile(`${s.path}/a.txt`, "new");
    // Simulate the cut: manifest written, old folder renamed aside, staging not yet renamed.
    await Deno.writeTextFile(
      `${s.path}/manifest.json`,
      JSON.stringify({
        somscope: "0.1.0",
        ownership: { kind: "demo", runId: "r", runKey: "k", entries: ["a.txt", "manifest.json"] },
      }),
    );
    await Deno.rename(dir, `${tmp}/.out.old-12345678`);
    assertEquals(await exists(dir), false);
    await StagedFolder.begin(dir, { kind: "demo", runKey: "k" });
    assertEquals(await Deno.readTextFile(`${dir}/a.txt`), "new");
    assertEquals(await exists(`${tmp}/.out.old-12345678`), false);
    // Cut before the manifest was complete: the old run comes back.
    const dir2 = `${tmp}/two`;
    await commitRun(dir2, "k", { "a.txt": "old" });
    const s2 = await StagedFolder.begin(dir2, { kind: "demo", runKey: "k", resumable: true });
    await Deno.rename(dir2, `${tmp}/.two.old-87654321`);
    await StagedFolder.begin(dir2, { kind: "demo", runKey: "k", resumable: true });
    assertEquals(await Deno.readTextFile(`${dir2}/a.txt`), "old");
    assert(await exists(s2.path));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an older somscope run (no ownership record) is accepted as its command's run", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/out`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(
      `${dir}/manifest.json`,
      JSON.stringify({ somscope: "0.1.0", command: "report", runKey: "k" }),
    );
    await Deno.writeTextFile(`${dir}/claims.json`, "{}");
    const s = await StagedFolder.begin(dir, {
      kind: "reproduce",
      runKey: "k",
      legacyCommands: ["reproduce", "report"],
    });
    assertEquals(s.previous.ownership?.kind, "reproduce");
    await s.abort();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
