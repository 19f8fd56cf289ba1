// Issue 12 §4: models are validated before any work, and every formerly silent case is a clear
// error (the message names the value and what was expected), a non-zero exit and no output.
import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { GraphBuilder } from "./grad_helpers.ts";
import { type CliResult, runCli } from "./cli_helper.ts";
import { inTempDir } from "./temp_dir.ts";
import { encodeNpy } from "../lib/npy.ts";
import { DT, encodeModel, model, node, onnx, tensor, valueInfo } from "../lib/onnx/proto.ts";
import { loadModel } from "../lib/model/load.ts";
import { validateModel } from "../lib/grad/validate.ts";
import { ModelFormatError } from "../lib/errors.ts";

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** `reproduce` into `dir`/run failed (exit 1, stderr matching `re`) with no claims and no codes. */
async function _assertRefused(r: CliResult, re: RegExp, dir: string): Promise<void> {
  assertEquals(r.code, 1, r.stderr);
  assert(re.test(r.stderr), r.stderr);
  assert(!(await exists(`${dir}/run/claims.json`)));
  assert(!(await exists(`${dir}/cache/codes`)), "no codes were extracted");
}

/** `somscope codes MODEL` on one Fashion-MNIST image per class into OUT. */
const codesArgs = (model: string, out: string, ...extra: string[]) =>
  ["codes", model, "--data", "builtin:fashion-mnist", "--per-class", "1", "--out", out, "--quiet"]
    .concat(extra);

/** `somscope reproduce --quick` of MODEL on Fashion-MNIST into OUT. */
const reproduceArgs = (model: string, out: string) =>
  ["reproduce", "--quick", "--model", model, "--data", "builtin:fashion-mnist", "--out", out]
    .concat("--quiet");

/** 1×28×28 → Conv → an N×10×28×28 map as the only output (not logits). */
function mapModel(): Uint8Array {
  return encodeModel(model({
    node: [node("Conv", ["x", "w"], ["maps"], { pads: [1, 1, 1, 1] })],
    initializer: [tensor("w", [10, 1, 3, 3], new Float32Array(90).fill(0.1))],
    input: [valueInfo("x", DT.FLOAT, ["N", 1, 28, 28])],
    output: [valueInfo("maps", DT.FLOAT, ["N", 10, 28, 28])],
  }));
}

/** A 1×28×28 classifier with `k` logits whose first layer is `op` (Log: −Inf on black pixels). */
function headModel(op: string | null, k = 10, seed = 3): Uint8Array {
  const g = new GraphBuilder(seed);
  const t = op ? g.o(op, ["x"]) : "x";
  return g.build(g.head(t, 28 * 28, k), [1, 28, 28], k);
}

/** Images with exact zeros (black pixels) and labels 0..3, as `npy:DIR`. */
async function npyData(dir: string, n = 8): Promise<void> {
  const x = Float32Array.from({ length: n * 784 }, (_, i) => (i % 5 === 0 ? 0 : (i % 97) / 97));
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(`${dir}/images.npy`, encodeNpy({ data: x, shape: [n, 1, 28, 28] }));
  await Deno.writeFile(
    `${dir}/labels.npy`,
    encodeNpy({ data: Int32Array.from({ length: n }, (_, i) => i % 4), shape: [n] }),
  );
}

Deno.test("validateModel rejects a feature-map output and K < 2, names the shape, and returns K", async () => {
  const maps = await loadModel(mapModel(), { name: "maps.onnx" });
  const e = await assertRejects(() => validateModel(maps), ModelFormatError);
  assert(/\[2,10,28,28\].*N×K logits/.test((e as Error).message), (e as Error).message);
  const one = await loadModel(headModel(null, 1), { name: "k1.onnx" });
  const e1 = await assertRejects(() => validateModel(one), ModelFormatError);
  assert((e1 as Error).message.includes("[2,1]"), (e1 as Error).message);
  const ok = await loadModel(headModel(null, 4));
  assertEquals(await validateModel(ok, { classes: 4 }), {
    classes: 4,
    inputShape: [1, 28, 28],
    gradients: false,
  });
  const e2 = await assertRejects(() => validateModel(ok, { classes: 10 }), RangeError);
  assert(/10 classes but the model has 4 logits/.test((e2 as Error).message));
});

Deno.test("validateModel with gradients fails fast on an unsupported op, naming the op and the node", async () => {
  const m = await loadModel(headModel("Hardmax"));
  await validateModel(m); // codes alone do not need gradients
  const t0 = performance.now();
  const e = await assertRejects(() => validateModel(m, { gradients: true }), ModelFormatError);
  assert(/op Hardmax \(node Hardmax_t0\)/.test((e as Error).message), (e as Error).message);
  assert(performance.now() - t0 < 30_000);
});

Deno.test(
  "codes and reproduce refuse an N×10×28×28 output before any work and write nothing",
  inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/maps.onnx`, mapModel());
    const env = { SOMSCOPE_CACHE: `${dir}/cache` };
    const c = await runCli(codesArgs(`${dir}/maps.onnx`, `${dir}/codes`), env);
    assertEquals(c.code, 1, c.stderr);
    assert(/\[2,10,28,28\].*N×K logits/.test(c.stderr), c.stderr);
    assert(!(await exists(`${dir}/codes`)));
    const r = await runCli(reproduceArgs(`${dir}/maps.onnx`, `${dir}/run`), env);
    await _assertRefused(r, /N×K logits/, dir);
  }),
);

Deno.test(
  "reproduce with an attack planned fails on an unsupported op before codes and SOMs",
  inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/hm.onnx`, headModel("Hardmax"));
    const r = await runCli(reproduceArgs(`${dir}/hm.onnx`, `${dir}/run`), {
      SOMSCOPE_CACHE: `${dir}/cache`,
    });
    await _assertRefused(r, /op Hardmax \(node Hardmax_t0\)/, dir);
  }),
);

Deno.test(
  "non-finite logits are an error naming the example in codes and attack; NaN gradients in attack",
  inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/log.onnx`, headModel("Log", 4)); // −Inf on black pixels
    await Deno.writeFile(`${dir}/sqrt.onnx`, headModel("Sqrt", 4)); // finite, ∂ = ∞ at 0
    await npyData(`${dir}/data`);
    const env = { SOMSCOPE_CACHE: `${dir}/cache` };
    const c = await runCli(codesArgs(`${dir}/log.onnx`, `${dir}/codes`, "--runtime", "node"), env);
    // Fashion-MNIST has 10 classes and this model 4 logits: that is refused first (by the data
    // side's class mapping, which runs before validateModel's own classes ≤ K check) …
    assertEquals(c.code, 1, c.stderr);
    assert(/10 classes .*the model has 4 logits/.test(c.stderr), c.stderr);
    // x → Conv(identity) → tap (finite) → Log (−Inf on black pixels) → logits.
    const g = new GraphBuilder(4);
    const tap = g.o("Conv", ["x", g.c([1, 1, 1, 1], [1])]);
    await Deno.writeFile(
      `${dir}/log10.onnx`,
      g.build(g.head(g.o("Log", [tap]), 784, 10), [1, 28, 28], 10),
    );
    const c2 = await runCli(
      codesArgs(`${dir}/log10.onnx`, `${dir}/codes`, "--layers", tap, "--runtime", "node"),
      env,
    );
    // … and with 10 logits, the first example's −Inf/NaN logits (never a prediction of 0).
    assertEquals(c2.code, 1, c2.stderr);
    assert(
      /logit \d+ of example \d+ is (-Infinity|Infinity|NaN); expected finite/.test(c2.stderr),
      c2.stderr,
    );
    assert(!(await exists(`${dir}/codes`)));
    const base = ["--data", `npy:${dir}/data`, "--n", "4", "--steps", "2", "--batch", "4"];
    const a = await runCli(["attack", `${dir}/log.onnx`, ...base, "--out", `${dir}/a1`], env);
    assertEquals(a.code, 1, a.stderr);
    assert(/logit \d+ of example \d+ is/.test(a.stderr), a.stderr);
    const s = await runCli(["attack", `${dir}/sqrt.onnx`, ...base, "--out", `${dir}/a2`], env);
    assertEquals(s.code, 1, s.stderr);
    assert(/input gradient of example \d+ is not finite at iteration 1/.test(s.stderr), s.stderr);
    assert(!(await exists(`${dir}/a1`)) && !(await exists(`${dir}/a2`)));
  }),
);

/** Writes `m` with every initializer's data in `weights.bin` beside it (ONNX external data). */
async function writeExternal(dir: string, bytes: Uint8Array): Promise<void> {
  const m = onnx.ModelProto.decode(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of m.graph!.initializer!) {
    const raw = t.rawData && t.rawData.length
      ? new Uint8Array(t.rawData)
      : new Uint8Array(Float32Array.from(t.floatData!).buffer);
    t.rawData = new Uint8Array(0);
    t.floatData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: "location", value: "weights.bin" },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(raw.length) },
    ];
    chunks.push(raw);
    offset += raw.length;
  }
  const all = new Uint8Array(offset);
  chunks.reduce((o, c) => (all.set(c, o), o + c.length), 0);
  await Deno.writeFile(`${dir}/weights.bin`, all);
  await Deno.writeFile(`${dir}/ext.onnx`, encodeModel(m));
}

Deno.test(
  "grad and attack accept valid external data; a missing data file has its own message",
  inTempDir(async (dir) => {
    await writeExternal(dir, headModel("Relu", 4));
    await npyData(`${dir}/data`);
    const env = { SOMSCOPE_CACHE: `${dir}/cache` };
    const g = await runCli(["grad", `${dir}/ext.onnx`, "-o", `${dir}/g.onnx`, "--batch", "2"], env);
    assertEquals(g.code, 0, g.stderr);
    const base = ["--data", `npy:${dir}/data`, "--n", "4", "--steps", "2", "--batch", "4"];
    const a = await runCli(["attack", `${dir}/ext.onnx`, ...base, "--out", `${dir}/a`], env);
    assertEquals(a.code, 0, a.stderr);
    assert(await exists(`${dir}/a/adversarial.npy`));
    await Deno.remove(`${dir}/weights.bin`);
    const m = await runCli(["grad", `${dir}/ext.onnx`, "-o", `${dir}/g2.onnx`], env);
    assertEquals(m.code, 1, m.stderr);
    assert(/external data file "weights\.bin"/.test(m.stderr), m.stderr);
    assert(!m.stderr.includes("it has external data"), m.stderr);
    assert(!(await exists(`${dir}/g2.onnx`)));
  }),
);

Deno.test("validateModel with an attack batch hands its PGD step graph to the attack, once", async () => {
  const { derivePgdStepGraph } = await import("../lib/grad/derive.ts");
  const m = await loadModel(headModel("Relu", 4));
  const v = await validateModel(m, { gradients: true, batch: 3 });
  assertEquals(v.classes, 4);
  const first = derivePgdStepGraph(m.bytes, { batch: 3, normalize: undefined, name: m.name });
  const second = derivePgdStepGraph(m.bytes, { batch: 3, name: m.name });
  assert(first !== second, "handed over once, then derived afresh (nothing kept)");
  assertEquals(first, second);
  const { _deriveAhead } = await import("../lib/grad/derive.ts");
  const ahead = _deriveAhead(m.bytes, { batch: 2 }, "pgd");
  assert(derivePgdStepGraph(m.bytes, { batch: 2 }) === ahead, "the graph derived ahead");
  assert(derivePgdStepGraph(m.bytes, { batch: 2 }) !== ahead, "… only once");
});
