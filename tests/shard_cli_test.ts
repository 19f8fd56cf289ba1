// Sharded extraction through the CLI (issue 14 point 6): `codes --shard` and
// `reproduce --shard` fill the shared cache slice by slice, several processes at once; the
// run without --shard afterwards computes no codes and is byte-identical to a one-process run.
import { assert, assertEquals } from "./asserts.ts";
import { runCli as cli, toyReproduceArgs } from "./cli_helper.ts";
import { inTempDir } from "./temp_dir.ts";
import { assertSameFiles } from "./model_helpers.ts";

/** Every file below `dir`, relative path → bytes (manifests, which hold times, left out). */
function _files(dir: string, skip = /manifest\.json$|report\.html$/): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory) walk(`${d}/${e.name}`, `${rel}${e.name}/`);
      else if (e.isFile && !skip.test(e.name)) {
        out.set(`${rel}${e.name}`, Deno.readFileSync(`${d}/${e.name}`));
      }
    }
  };
  walk(dir, "");
  return out;
}

function _sameFiles(a: string, b: string): void {
  assertSameFiles(_files(a), _files(b));
}

Deno.test({
  name: "codes --shard: two shards at once, then a full run, equal a one-process run byte for byte",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: inTempDir(async (tmp) => {
    const base = [
      "codes",
      "tests/data/models/toy_cnn.onnx",
      "--data",
      "builtin:fashion-mnist",
      "--per-class",
      "7",
      "--batch",
      "8",
      "--quiet",
    ];
    const shards = await Promise.all(
      [0, 1].map((i) =>
        cli([...base, "--cache", `${tmp}/shared`, "--shard", `${i}/2`, "--out", `${tmp}/s${i}`])
      ),
    );
    for (const s of shards) assertEquals(s.code, 0, s.stderr);
    assert(shards[0].stdout.includes("shard 0/2: positions 0..31 of 70"), shards[0].stdout);
    assert(shards[1].stdout.includes("shard 1/2: positions 32..69 of 70"), shards[1].stdout);
    const merged = await cli([...base, "--cache", `${tmp}/shared`, "--out", `${tmp}/merged`]);
    assertEquals(merged.code, 0, merged.stderr);
    assert(merged.stdout.includes("all from cache"), merged.stdout);
    const one = await cli([...base, "--cache", `${tmp}/single`, "--out", `${tmp}/one`]);
    assertEquals(one.code, 0, one.stderr);
    _sameFiles(`${tmp}/merged`, `${tmp}/one`);
    _sameFiles(`${tmp}/shared`, `${tmp}/single`);
    const bad = await cli([...base, "--shard", "2/2", "--out", `${tmp}/bad`]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("--shard") && bad.stderr.includes("0 ≤ i < N"), bad.stderr);
  }, { prefix: "somscope_shard_cli_" }),
});

Deno.test({
  name: "reproduce --shard: shards fill the cache, the full run extracts nothing and matches",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: inTempDir(async (tmp) => {
    const args = (out: string) => [...toyReproduceArgs("8"), "--out", out];
    const shared = { SOMSCOPE_CACHE: `${tmp}/shared` };
    const shards = await Promise.all(
      [0, 1, 2].map((i) => cli([...args(`${tmp}/sharded`), "--shard", `${i}/3`], shared)),
    );
    for (const s of shards) assertEquals(s.code, 0, s.stderr);
    assert(shards[2].stdout.includes("toy_cnn: shard 2/3"), shards[2].stdout);
    // A shard job writes no run folder.
    assertEquals(await Deno.stat(`${tmp}/sharded`).then(() => true, () => false), false);
    const full = await cli(args(`${tmp}/sharded`), shared);
    assertEquals(full.code, 0, full.stderr);
    const m = JSON.parse(await Deno.readTextFile(`${tmp}/sharded/manifest.json`));
    assertEquals(m.runtimes.toy_cnn.extraction, "cache"); // no example ran through the model
    const one = await cli(args(`${tmp}/one`), { SOMSCOPE_CACHE: `${tmp}/single` });
    assertEquals(one.code, 0, one.stderr);
    for (const part of ["tables", "figures"]) {
      _sameFiles(`${tmp}/sharded/${part}`, `${tmp}/one/${part}`);
    }
    const claims = (d: string) =>
      Deno.readTextFileSync(`${d}/claims.json`).replace(/"generated": *"[^"]*"/, "")
        .replace(/"run": *"[^"]*"/, "");
    assertEquals(claims(`${tmp}/sharded`), claims(`${tmp}/one`));
  }, { prefix: "somscope_shard_repro_" }),
});
