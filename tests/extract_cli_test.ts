import { decodeNpy } from "../mod.ts";
import { assert, assertEquals } from "./asserts.ts";
import { inTempDir } from "./temp_dir.ts";
import { flags, runCli } from "./cli_helper.ts";

const CNN = "tests/data/models/toy_cnn.onnx";

/** Runs `deno task somscope ...args` (a subprocess). */
const somscope = (...args: string[]) => runCli(args);

Deno.test("somscope layers lists the candidates and aliases, as a table and as JSON", async () => {
  const table = await somscope("layers", CNN);
  assertEquals(table.code, 0, table.stderr);
  assert(table.stdout.includes("CL2    Relu"), table.stdout);
  assert(table.stdout.includes("auto: CL1=/stage1/Relu_1_output_0"), table.stdout);
  const json = await somscope("layers", CNN, "--json");
  assertEquals(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assertEquals(parsed.family, "cnn");
  assertEquals(parsed.auto.map((l: { label: string }) => l.label), ["CL1", "CL2", "CL3"]);
  assertEquals(parsed.input.channels, 1);
});

Deno.test("somscope layers exits 1 on a file that is not ONNX and 2 on a usage error", async () => {
  const bad = await somscope("layers", "README.md");
  assertEquals(bad.code, 1);
  assert(bad.stderr.includes("ModelFormatError"), bad.stderr);
  assertEquals((await somscope("layers")).code, 2);
  assertEquals((await somscope("layers", CNN, "--runtime", "cuda")).code, 2);
});

Deno.test(
  "somscope codes writes tables, codes and a manifest, and a rerun is a cache hit",
  inTempDir(async (dir) => {
    const args = [
      "codes",
      CNN,
      ...flags({
        data: "builtin:fashion-mnist",
        split: "val",
        "per-class": 2,
        out: `${dir}/out`,
        cache: `${dir}/cache`,
        runtime: "node",
        quiet: true,
      }),
    ];
    const first = await somscope(...args);
    assertEquals(first.code, 0, first.stderr);
    const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort();
    assertEquals(files, [
      "CL1.arrow",
      "CL1.npy",
      "CL2.arrow",
      "CL2.npy",
      "CL3.arrow",
      "CL3.npy",
      "examples.npy",
      "manifest.json",
    ]);
    const codes = decodeNpy(await Deno.readFile(`${dir}/out/CL3.npy`));
    assertEquals(codes.shape, [20, 128]);
    const m = JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`));
    assertEquals(m.runtime.kind, "node");
    assertEquals([m.sample.n, m.cache.computed], [20, 20]);
    assertEquals(m.layers.map((l: { label: string }) => l.label), ["CL1", "CL2", "CL3"]);
    const second = await somscope(...args);
    assertEquals(second.code, 0, second.stderr);
    assert(second.stdout.includes("all from cache"), second.stdout);
    const m2 = JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`));
    assertEquals(m2.cache.computed, 0);
    assertEquals(decodeNpy(await Deno.readFile(`${dir}/out/CL3.npy`)).data, codes.data);
    // The folder is the run's own: another sample is another run, a stray file is foreign;
    // both are refused naming what is in the way, and --force moves the old contents aside.
    const other = args.map((a) => (a === "2" ? "3" : a));
    const o = await somscope(...other);
    assertEquals(o.code, 1);
    assert(o.stderr.includes("another run") && o.stderr.includes("--force"), o.stderr);
    await Deno.writeTextFile(`${dir}/out/notes.txt`, "mine");
    const f = await somscope(...args);
    assertEquals(f.code, 1);
    assert(f.stderr.includes("notes.txt"), f.stderr);
    const forced = await somscope(...other, "--force");
    assertEquals(forced.code, 0, forced.stderr);
    assertEquals(decodeNpy(await Deno.readFile(`${dir}/out/CL3.npy`)).shape, [30, 128]);
    assertEquals([...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort(), files);
    const aside = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("out.replaced-"))!;
    assertEquals(Deno.readTextFileSync(`${dir}/${aside.name}/notes.txt`), "mine");
    // A file where the folder is expected is a usage error, before any work.
    await Deno.writeTextFile(`${dir}/file`, "x");
    const asFile = await somscope(...args.map((a) => (a === `${dir}/out` ? `${dir}/file` : a)));
    assertEquals(asFile.code, 2);
    assert(asFile.stderr.includes("is a file"), asFile.stderr);
  }, { prefix: "somscope_cli_" }),
);

Deno.test(
  "somscope codes: unknown layer exits 1 naming the valid layers; missing --out exits 2",
  inTempDir(async (dir) => {
    const r = await somscope(
      "codes",
      CNN,
      ...flags({
        data: "builtin:fashion-mnist",
        "per-class": 1,
        layers: "CL1,CL9",
        out: `${dir}/out`,
        cache: `${dir}/cache`,
        quiet: true,
      }),
    );
    assertEquals(r.code, 1);
    assert(r.stderr.includes('"CL9" is not a layer') && r.stderr.includes("CL3"), r.stderr);
    let outExists = true;
    try {
      await Deno.stat(`${dir}/out`);
    } catch {
      outExists = false;
    }
    assert(!outExists, "no output folder on failure");
    const u = await somscope("codes", CNN, "--data", "builtin:fashion-mnist");
    assertEquals(u.code, 2);
    assert(u.stderr.includes("--out"), u.stderr);
  }, { prefix: "somscope_cli_" }),
);
