import { createRuntime, DT, encodeModel, loadModel, ModelFormatError } from "./model_helpers.ts";
import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { model as buildModel, node, onnx, tensor, valueInfo } from "../lib/onnx/proto.ts";
import { inTempDir } from "./temp_dir.ts";

const TOY = "tests/data/models/toy_cnn.onnx";

/** y = x · w (w external or inline), input 1×1×2×2, output 1×4 via Flatten. */
function _scaleModel(w: Float32Array, external?: { location: string; offset?: number }) {
  const init = tensor("w", [1], w);
  if (external) {
    init.rawData = new Uint8Array();
    init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    init.externalData = [
      { key: "location", value: external.location },
      { key: "offset", value: String(external.offset ?? 0) },
      { key: "length", value: "4" },
    ];
  }
  return encodeModel(buildModel({
    name: "scale",
    node: [node("Mul", ["x", "w"], ["y"]), node("Flatten", ["y"], ["logits"])],
    initializer: [init],
    input: [valueInfo("x", DT.FLOAT, ["N", 1, 2, 2])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 4])],
  }));
}

Deno.test("loadModel() finds the image input and logits output of an exported CNN", async () => {
  const m = await loadModel(TOY);
  assertEquals(m.input, { name: "input", channels: 1, height: 28, width: 28 });
  assertEquals(m.logits, { name: "logits", classes: 10 });
  assertEquals(m.opset, 17);
  assertEquals(m.sha256.length, 64);
  const again = await loadModel(await Deno.readFile(TOY));
  assertEquals(again.sha256, m.sha256);
  assertEquals(again.name, "<bytes>");
});

Deno.test("loadModel() accepts file: and http: URLs", async () => {
  const abs = await Deno.realPath(TOY);
  const viaFile = await loadModel(new URL(`file://${abs}`));
  const bytes = await Deno.readFile(TOY);
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, signal: ac.signal, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/m/toy.onnx"
        ? new Response(bytes)
        : new Response("nope", { status: 404 }),
  );
  try {
    const port = server.addr.port;
    const viaHttp = await loadModel(`http://127.0.0.1:${port}/m/toy.onnx`);
    assertEquals(viaHttp.sha256, viaFile.sha256);
    await assertRejects(
      () => loadModel(`http://127.0.0.1:${port}/m/missing.onnx`),
      ModelFormatError,
      "HTTP status 404",
    );
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("loadModel() rejects a file that is not ONNX", async () => {
  await assertRejects(() => loadModel("README.md"), ModelFormatError, "expected an ONNX");
  await assertRejects(
    () => loadModel(new TextEncoder().encode('{"not": "onnx"}')),
    ModelFormatError,
    "Cannot load ONNX model",
  );
});

Deno.test("loadModel() rejects a truncated ONNX file", async () => {
  const bytes = await Deno.readFile(TOY);
  for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 100]) {
    await assertRejects(
      () => loadModel(bytes.subarray(0, cut)),
      ModelFormatError,
      "Cannot load ONNX model",
    );
  }
});

Deno.test("loadModel() rejects a model without an N×C×H×W float input, naming its inputs", async () => {
  const bytes = encodeModel(buildModel({
    name: "vec",
    node: [node("Relu", ["v"], ["logits"])],
    input: [valueInfo("v", DT.FLOAT, ["N", 10])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 10])],
  }));
  await assertRejects(() => loadModel(bytes), ModelFormatError, "no image input; inputs are v");
});

Deno.test(
  "loadModel() inlines external data from the model's folder",
  inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/weights.bin`, new Uint8Array(Float32Array.of(9, 3).buffer));
    await Deno.writeFile(
      `${dir}/m.onnx`,
      _scaleModel(Float32Array.of(0), {
        location: "weights.bin",
        offset: 4,
      }),
    );
    const m = await loadModel(`${dir}/m.onnx`);
    const rt = await createRuntime("node", m.bytes);
    const r = await rt.run(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2]);
    await rt.dispose();
    assertEquals(Array.from(r.logits), [3, 6, 9, 12]);
  }),
);

Deno.test(
  "loadModel() refuses external data outside the model's folder",
  inTempDir(async (root) => {
    await Deno.mkdir(`${root}/models`);
    await Deno.writeFile(`${root}/secret.bin`, new Uint8Array(Float32Array.of(2).buffer));
    await Deno.symlink(`${root}/secret.bin`, `${root}/models/link.bin`);
    const cases: [string, string][] = [
      ["../secret.bin", "escapes the model's folder"],
      ["sub/../../secret.bin", "escapes the model's folder"],
      [`${root}/secret.bin`, "expected a relative path"],
      ["link.bin", "outside the model's folder"],
      ["missing.bin", "cannot be read"],
    ];
    for (const [location, msg] of cases) {
      await Deno.writeFile(`${root}/models/m.onnx`, _scaleModel(Float32Array.of(0), { location }));
      await assertRejects(() => loadModel(`${root}/models/m.onnx`), ModelFormatError, msg);
    }
    const bytes = _scaleModel(Float32Array.of(0), { location: "w.bin" });
    await assertRejects(() => loadModel(bytes), ModelFormatError, "given as bytes");
  }),
);

Deno.test(
  "loadModel() refuses an external data range beyond the file",
  inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/w.bin`, new Uint8Array(2));
    await Deno.writeFile(`${dir}/m.onnx`, _scaleModel(Float32Array.of(0), { location: "w.bin" }));
    const e = await assertRejects(() => loadModel(`${dir}/m.onnx`), ModelFormatError);
    assert(e.message.includes("expected a range inside the file"), e.message);
  }),
);
