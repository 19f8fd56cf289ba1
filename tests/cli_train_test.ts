import { runCli } from "./cli_helper.ts";
import { assert, assertArrayClose, assertEquals } from "./asserts.ts";
import { readNpy, Rng, Som, writeNpy } from "../mod.ts";
import { loadGolden } from "./som_golden.ts";

const cli = (...args: string[]) => runCli(args);

async function codesFile(dir: string, rows: number, cols: number, seed = 1): Promise<string> {
  const rng = new Rng(seed);
  const path = `${dir}/codes_${rows}x${cols}_${seed}.npy`;
  await writeNpy(path, {
    data: Float32Array.from({ length: rows * cols }, () => rng.normal()),
    shape: [rows, cols],
  });
  return path;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("train replays the QuickSOM test vector from .npy files (--init, --no-shuffle)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const g = await loadGolden();
    await writeNpy(`${dir}/x.npy`, { data: g.x, shape: [40, g.dim] });
    await writeNpy(`${dir}/w0.npy`, { data: g.w0, shape: [g.m * g.n, g.dim] });
    const r = await cli(
      "train",
      ...["--codes", `${dir}/x.npy`, "--init", `${dir}/w0.npy`, "--grid", "20x20"],
      ...["--epochs", "1", "--batch", "10", "--no-shuffle", "--backend", "reference", "-q"],
      ...["--out", `${dir}/som`],
    );
    assertEquals(r.code, 0, r.stderr);
    const w = await readNpy(`${dir}/som/weights.npy`);
    assertEquals(w.shape, [400, 16]);
    assert(w.data instanceof Float32Array);
    assertArrayClose(w.data as Float32Array, g.steps.at(-1)!.wAfter, 1e-6, 0, "weights");
    const csv = (await Deno.readTextFile(`${dir}/som/losses.csv`)).trim().split("\n");
    assertEquals(csv[0], "batch,epoch,loss");
    assertArrayClose(
      csv.slice(1).map((l) => Number(l.split(",")[2])),
      g.steps.map((s) => s.loss),
      1e-6,
    );
    const head = JSON.parse(await Deno.readTextFile(`${dir}/som/som.json`));
    assertEquals([head.m, head.n, head.dim, head.seed, head.backend], [20, 20, 16, 0, "reference"]);
    for (const f of ["quantizationError", "topographicError", "timings", "versions", "adapter"]) {
      assert(f in head, `som.json has ${f}`);
    }
    assert(head.timings.train > 0);
    const som = await Som.load(`${dir}/som`, { backend: "reference" });
    assertEquals(som.weights, w.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train with the same seed writes identical weights; bmus writes N×k int32 matching Som.topk", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const codes = await codesFile(dir, 57, 9);
    const args = ["--codes", codes, "--grid", "4x5", "--epochs", "2", "--seed", "3", "-q"];
    args.push("--layer", "block3", "--flat", "--init", "pca");
    const a = await cli("train", ...args, "--out", `${dir}/a`);
    const b = await cli("train", ...args, "--out", `${dir}/b`);
    assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
    assertEquals(
      await Deno.readFile(`${dir}/a/weights.npy`),
      await Deno.readFile(`${dir}/b/weights.npy`),
    );
    const head = JSON.parse(await Deno.readTextFile(`${dir}/a/som.json`));
    assertEquals([head.layer, head.periodic, head.init, head.epochs], ["block3", false, "pca", 2]);
    const csv = await Deno.readTextFile(`${dir}/a/losses.csv`);
    assertEquals(csv.trim().split("\n").length, 1 + 2 * 6);
    const q = await codesFile(dir, 23, 9, 2);
    const r = await cli(
      "bmus",
      ...["--som", `${dir}/a`, "--codes", q, "--k", "3", "--out", `${dir}/bmus.npy`],
      ...["--distances", `${dir}/dist.npy`, "--backend", "reference"],
    );
    assertEquals(r.code, 0, r.stderr);
    const got = await readNpy(`${dir}/bmus.npy`);
    assertEquals(got.shape, [23, 3]);
    assert(got.data instanceof Int32Array);
    const som = await Som.load(`${dir}/a`, { backend: "reference" });
    const want = await som.topk((await readNpy(q)).data as Float32Array, 3);
    assertEquals(got.data, want.index);
    assertEquals((await readNpy(`${dir}/dist.npy`)).data, want.distance);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train and bmus reject bad input with exit 2 (usage) or 1 (failure) and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const codes = await codesFile(dir, 20, 6);
    const out = `${dir}/out`;
    const base = ["--codes", codes, "--out", out, "-q", "--backend", "reference"];
    const cases: [string[], number, string][] = [
      [["--out", out], 2, "--codes X.npy is required"],
      [[...base, "--grid", "0x5"], 2, '--grid is "0x5"'],
      [[...base, "--grid", "20"], 2, "ROWSxCOLS"],
      [[...base, "--batch", "0"], 2, "--batch is 0"],
      [[...base, "--sigma=-1"], 2, "--sigma is -1 but must be ≥ 0"],
      [[...base, "--backend", "gpu"], 2, "expected one of auto, webgpu, cpu, reference"],
      [[...base, "--bogus"], 2, "bogus"],
      [["--codes", `${dir}/missing.npy`, "--out", out], 1, "does not exist"],
    ];
    const nan = new Float32Array(20 * 6).fill(0.5);
    nan[3 * 6 + 2] = NaN;
    await writeNpy(`${dir}/nan.npy`, { data: nan, shape: [20, 6] });
    cases.push([
      ["--codes", `${dir}/nan.npy`, "--out", out, "--backend", "reference"],
      1,
      "row 3 has NaN",
    ]);
    await writeNpy(`${dir}/w0.npy`, { data: new Float32Array(400 * 5), shape: [400, 5] });
    cases.push([[...base, "--init", `${dir}/w0.npy`], 1, "needs [400,6]"]);
    await writeNpy(`${dir}/empty.npy`, { data: new Float32Array(0), shape: [0, 6] });
    cases.push([["--codes", `${dir}/empty.npy`, "--out", out], 1, "empty"]);
    for (const [args, code, msg] of cases) {
      const r = await cli("train", ...args);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert(r.stderr.includes(msg), `${args.join(" ")}: stderr "${r.stderr}" lacks "${msg}"`);
      assert(!(await exists(`${out}/som.json`)), `${args.join(" ")} wrote nothing`);
      assert(!(await exists(`${out}/weights.npy`)), `${args.join(" ")} wrote no weights`);
    }
    // An existing map is kept unless --force.
    assertEquals((await cli("train", ...base, "--grid", "3x3")).code, 0);
    const before = await Deno.readFile(`${out}/weights.npy`);
    const again = await cli("train", ...base, "--grid", "3x3", "--seed", "9");
    assertEquals(again.code, 1);
    assert(again.stderr.includes("another run") && again.stderr.includes("--force"), again.stderr);
    assertEquals(await Deno.readFile(`${out}/weights.npy`), before);
    assertEquals((await cli("train", ...base, "--grid", "3x3", "--seed", "9", "--force")).code, 0);
    assert((await Deno.readFile(`${out}/weights.npy`)).some((v, i) => v !== before[i]));
    // bmus
    const wide = await codesFile(dir, 4, 7);
    const bm = (...a: string[]) => cli("bmus", "--som", out, "--out", `${dir}/b.npy`, ...a);
    const bcases: [string[], number, string][] = [
      [["--codes", codes, "--k", "17"], 2, "--k is 17"],
      [["--codes", codes, "--backend", "tpu"], 2, "expected one of"],
      [["--codes", wide], 1, "codes have 7 columns but the map has 6"],
      [["--codes", codes, "--k", "10"], 1, "k is 10 but the map has 9 units"],
    ];
    for (const [args, code, msg] of bcases) {
      const r = await bm(...args);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert(r.stderr.includes(msg), `stderr "${r.stderr}" lacks "${msg}"`);
      assert(!(await exists(`${dir}/b.npy`)));
    }
    const missing = await cli(
      "bmus",
      "--som",
      `${dir}/nope`,
      "--codes",
      codes,
      "--out",
      `${dir}/b.npy`,
    );
    assertEquals(missing.code, 1);
    assert(missing.stderr.includes("unreadable"), missing.stderr);
    // An existing output file is never overwritten without --force; a folder is a usage error.
    await Deno.writeTextFile(`${dir}/b.npy`, "someone else's file");
    const taken = await bm("--codes", codes, "--k", "2");
    assertEquals(taken.code, 1);
    assert(taken.stderr.includes("already exists") && taken.stderr.includes("--force"));
    assertEquals(await Deno.readTextFile(`${dir}/b.npy`), "someone else's file");
    assertEquals((await bm("--codes", codes, "--k", "2", "--force")).code, 0);
    const asDir = await cli("bmus", "--som", out, "--codes", codes, "--out", dir);
    assertEquals(asDir.code, 2);
    assert(asDir.stderr.includes("is a folder"), asDir.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train computes QE/TE in one pass equal to Som's, skips them with --no-quality", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const codes = await codesFile(dir, 60, 5, 3);
    const base = ["train", "--codes", codes, "--grid", "3x4", "--epochs", "1", "-q"];
    const a = await cli(...base, "--backend", "reference", "--out", `${dir}/a`);
    assertEquals(a.code, 0, a.stderr);
    const head = JSON.parse(await Deno.readTextFile(`${dir}/a/som.json`));
    const som = await Som.load(`${dir}/a`, { backend: "reference" });
    const x = (await readNpy(codes)).data as Float32Array;
    assertEquals(head.quantizationError, await som.quantizationError(x));
    assertEquals(head.topographicError, await som.topographicError(x));
    assert("quality" in head.timings && !("topographic_error" in head.timings));
    const b = await cli(...base, "--backend", "reference", "--no-quality", "--out", `${dir}/b`);
    assertEquals(b.code, 0, b.stderr);
    const hb = JSON.parse(await Deno.readTextFile(`${dir}/b/som.json`));
    assertEquals([hb.quantizationError, hb.topographicError], [null, null]);
    assertEquals(hb.parameters.quality, false);
    assertEquals(
      (await readNpy(`${dir}/b/weights.npy`)).data,
      (await readNpy(`${dir}/a/weights.npy`)).data,
      "the map does not depend on the quality pass",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train refuses a grid too large for its K×K table before reading the codes (exit 2)", async () => {
  const r = await cli(
    "train",
    "--codes",
    "/nonexistent/x.npy",
    "--grid",
    "1000x1000",
    "--out",
    "/tmp/x",
  );
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("1000x1000") && r.stderr.includes("4000000000000 bytes"), r.stderr);
});
