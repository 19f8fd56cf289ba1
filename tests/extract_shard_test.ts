import {
  assertSameCodes,
  assertSameFiles,
  extractCodes,
  extractQuiet,
  loadModel,
  QUIET,
  syntheticDataset,
  TOY_CNN,
  withToyCnn,
} from "./model_helpers.ts";
import { inTempDir, removeDirs } from "./temp_dir.ts";
import { encodeNpy, parseShard, RowStore, shardRange } from "../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./asserts.ts";

async function _tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "somscope_shard_" });
}

/** A test body run in a fresh cache folder, removed afterwards. */
function _inCache(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return inTempDir(fn, { prefix: "somscope_shard_" });
}

/** Every file of a cache below `dir` (the layer-list cache aside), relative path → bytes. */
function _files(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory && e.name !== "layers") walk(`${d}/${e.name}`, `${rel}${e.name}/`);
      else if (e.isFile) out.set(`${rel}${e.name}`, Deno.readFileSync(`${d}/${e.name}`));
    }
  };
  walk(dir, "");
  return out;
}

function _child(cacheDir: string, n: number, batch: number, shard: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/extract_shard_child.ts", cacheDir, String(n), String(batch), shard],
    stdout: "piped",
    stderr: "piped",
  }).output().then((o) => {
    const err = new TextDecoder().decode(o.stderr);
    assert(o.success, `child ${shard} failed: ${err}`);
    return JSON.parse(new TextDecoder().decode(o.stdout)) as {
      computed: number;
      n: number;
      start: number;
      end: number;
    };
  });
}

Deno.test("shardRange() splits whole batches evenly, in order, covering every position once", () => {
  for (const [n, bs, count] of [[22, 4, 2], [22, 4, 3], [100, 7, 6], [5, 8, 3], [0, 4, 2]]) {
    let next = 0;
    for (let i = 0; i < count; i++) {
      const [a, b] = shardRange(n, bs, { index: i, count });
      assertEquals(a, next);
      assert(a % bs === 0 && (b % bs === 0 || b === n), `${n}/${bs}/${count}: [${a}, ${b})`);
      next = b;
    }
    assertEquals(next, n);
  }
  assertEquals(parseShard(" 3/4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3", "0.5/2"]) {
    assertThrows(() => parseShard(bad), RangeError, "expected i/N");
  }
  assertThrows(() => shardRange(10, 2, { index: 2, count: 2 }), RangeError, "0 ≤ index < count");
});

Deno.test("extractCodes(): two shards, then a full run, equal a one-process run byte for byte", async () => {
  const sharded = await _tmp();
  const single = await _tmp();
  try {
    const model = await loadModel(TOY_CNN);
    const n = 22, ix = Array.from({ length: n }, (_, i) => i);
    const opts = { ...QUIET, batchSize: 4, chunkImages: 4 };
    const s0 = await extractCodes(model, syntheticDataset(n), ix, {
      ...opts,
      cacheDir: sharded,
      shard: { index: 0, count: 2 },
    });
    const s1 = await extractCodes(model, syntheticDataset(n), ix, {
      ...opts,
      cacheDir: sharded,
      shard: { index: 1, count: 2 },
    });
    assertEquals([s0.shard, s1.shard], [
      { index: 0, count: 2, start: 0, end: 12, total: 22 },
      { index: 1, count: 2, start: 12, end: 22, total: 22 },
    ]);
    assertEquals([s0.computed, s1.computed, s0.indices.length, s1.indices.length], [
      12,
      10,
      12,
      10,
    ]);
    const data = syntheticDataset(n);
    const merged = await extractCodes(model, data, ix, { ...opts, cacheDir: sharded });
    assertEquals([merged.computed, merged.runtime, data.loaded], [0, null, 0]);
    const one = await extractCodes(model, syntheticDataset(n), ix, { ...opts, cacheDir: single });
    assertEquals(one.computed, n);
    for (let i = 0; i < one.layers.length; i++) {
      assertEquals(merged.layers[i].codes, one.layers[i].codes);
      // A shard's result is its slice of the whole.
      const d = one.layers[i].dim;
      assertEquals(s1.layers[i].codes, one.layers[i].codes.subarray(12 * d));
    }
    assertEquals(merged.predictions, one.predictions);
    // The caches themselves are the same files with the same bytes (checksums in the names).
    assertSameFiles(_files(sharded), _files(single));
  } finally {
    await removeDirs(sharded, single);
  }
});

Deno.test("extractCodes(): 3 shard processes and 2 full runs at once on one cache agree with one process", async () => {
  const shared = await _tmp();
  const single = await _tmp();
  try {
    const n = 40, batch = 2;
    const runs = await Promise.all([
      _child(shared, n, batch, "0/3"),
      _child(shared, n, batch, "1/3"),
      _child(shared, n, batch, "2/3"),
      _child(shared, n, batch, "all"),
      _child(shared, n, batch, "all"),
    ]);
    // Each process reports what it computed itself, never more than it was asked for.
    for (const r of runs) assert(r.computed <= r.n, JSON.stringify(r));
    assertEquals(runs.slice(0, 3).map((r) => [r.start, r.end]), [[0, 12], [12, 26], [26, 40]]);
    const model = await loadModel(TOY_CNN);
    const ix = Array.from({ length: n }, (_, i) => i);
    const again = await extractQuiet(model, syntheticDataset(n), ix, {
      batchSize: batch,
      cacheDir: shared,
    });
    assertEquals(again.computed, 0);
    const one = await extractQuiet(model, syntheticDataset(n), ix, {
      batchSize: batch,
      cacheDir: single,
    });
    assertSameCodes(again, one);
    // Finished entries hold one merged file each: no chunk or temp file is left over.
    assertSameFiles(_files(shared), _files(single));
  } finally {
    await removeDirs(shared, single);
  }
});

Deno.test(
  "extractCodes() recomputes a bit-flipped complete entry with a warning",
  withToyCnn(async (model, cacheDir) => {
    const ix = [0, 1, 2, 3, 4];
    const first = await extractQuiet(model, syntheticDataset(5), ix, { cacheDir });
    const files = [..._files(cacheDir).keys()].filter((k) => k.includes("/layer_"));
    const victim = `${cacheDir}/${files[0]}`;
    const bytes = Deno.readFileSync(victim);
    bytes[bytes.length - 3] ^= 0x10; // one bit of one code
    Deno.writeFileSync(victim, bytes);
    const warnings: string[] = [];
    const r = await extractQuiet(model, syntheticDataset(5), ix, {
      cacheDir,
      onWarning: (m) => warnings.push(m),
    });
    assertEquals(r.computed, 5);
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes("failed its checksum"), warnings[0]);
    assertSameCodes(r, first, false);
    assertEquals(Deno.readFileSync(victim).length, bytes.length); // rewritten, same name
  }),
);

Deno.test(
  "RowStore reads ranges, rejects bad ones, and ignores writes to a complete entry",
  _inCache(async (dir) => {
    const s = await RowStore.open(dir, 4, 2, "i4", { onWarning: () => {} });
    await s.put(0, Int32Array.of(0, 1, 2, 3));
    assertEquals(await s.read(1, 2), { rows: Int32Array.of(2, 3) });
    assertEquals(await s.read(1, 4), { missing: [2, 3] });
    await assertRejects(() => s.read(3, 5), RangeError, "not inside 0..4");
    await s.put(2, Int32Array.of(4, 5, 6, 7));
    assertEquals(await s.read(), { rows: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7) });
    await s.put(0, Int32Array.of(9, 9)); // complete: nothing is written
    assertEquals([...Deno.readDirSync(dir)].length, 1);
    assertEquals(await (await RowStore.open(dir, 4, 2, "i4")).read(2, 4), {
      rows: Int32Array.of(4, 5, 6, 7),
    });
    // A file whose name does not match its bytes is dropped, with a warning.
    const name = [...Deno.readDirSync(dir)][0].name;
    Deno.writeFileSync(`${dir}/${name}`, encodeNpy({ data: new Int32Array(8), shape: [4, 2] }));
    const warnings: string[] = [];
    const t = await RowStore.open(dir, 4, 2, "i4", { onWarning: (m) => warnings.push(m) });
    assertEquals(await t.read(), { missing: [0, 1, 2, 3] });
    assertEquals([t.complete, warnings.length, [...Deno.readDirSync(dir)].length], [false, 1, 0]);
  }),
);
