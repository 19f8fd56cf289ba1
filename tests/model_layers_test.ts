import { DT, encodeModel, listLayers, loadModel, resolveLayers } from "./model_helpers.ts";
import { findCutTensors } from "../mod.ts";
import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { model as buildModel, node, tensor, valueInfo } from "../lib/onnx/proto.ts";

const CNN = "tests/data/models/toy_cnn.onnx";
const VIT = "tests/data/models/toy_vit.onnx";

Deno.test("listLayers() proposes the residual stage outputs of a 3-stage CNN as CL1..CL3", async () => {
  const list = await listLayers(await loadModel(CNN));
  assertEquals(list.family, "cnn");
  assertEquals(list.auto.map((l) => [l.label, l.tensor, l.shape]), [
    ["CL1", "/stage1/Relu_1_output_0", [1, 8, 28, 28]],
    ["CL2", "/stage2/Relu_1_output_0", [1, 16, 14, 14]],
    ["CL3", "/stage3/Relu_1_output_0", [1, 32, 7, 7]],
  ]);
  // Inside a residual block nothing is a cut: the skip path keeps the block input live.
  const names = list.candidates.map((c) => c.name);
  assert(!names.some((n) => n.includes("conv1") || n.includes("bn")), names.join(","));
  assert(names.includes("/stage1/Add_output_0"));
  assertEquals(list.candidates.filter((c) => c.alias).length, 3);
});

Deno.test("listLayers() proposes the CLS token after every encoder block of a ViT", async () => {
  const list = await listLayers(await loadModel(VIT));
  assertEquals(list.family, "vit");
  assertEquals(list.auto.map((l) => [l.label, l.tensor, l.token0, l.shape]), [
    ["cls0", "/encoder/layers/encoder_layer_0/Add_1_output_0", true, [1, 32]],
    ["cls1", "/encoder/layers/encoder_layer_1/Add_1_output_0", true, [1, 32]],
  ]);
});

Deno.test("resolveLayers() accepts aliases and tensor names in the order given", async () => {
  const m = await loadModel(CNN);
  const list = await listLayers(m);
  const got = await resolveLayers(m, list, "CL3, /stem/stem.2/Relu_output_0,cl1");
  assertEquals(got.map((l) => [l.label, l.shape]), [
    ["CL3", [1, 32, 7, 7]],
    ["/stem/stem.2/Relu_output_0", [1, 8, 28, 28]],
    ["CL1", [1, 8, 28, 28]],
  ]);
  // A tensor that is not a cut can still be named; its shape comes from a probe run.
  const inner = await resolveLayers(m, list, ["/stage2/conv1/Conv_output_0"]);
  assertEquals(inner[0].shape, [1, 16, 14, 14]);
});

Deno.test("resolveLayers() takes token 0 of a named 3-D ViT tensor", async () => {
  const m = await loadModel(VIT);
  const list = await listLayers(m);
  const [l] = await resolveLayers(m, list, "/encoder/ln/LayerNormalization_output_0");
  assertEquals([l.token0, l.shape], [true, [1, 32]]);
});

Deno.test("resolveLayers() rejects an unknown layer name, listing the valid names", async () => {
  const m = await loadModel(CNN);
  const list = await listLayers(m);
  const e = await assertRejects(
    () => resolveLayers(m, list, "CL1,layer9"),
    RangeError,
    '"layer9" is not a layer of',
  );
  assert(e.message.includes("CL2") && e.message.includes("/stage3/Relu_1_output_0"), e.message);
  await assertRejects(() => resolveLayers(m, list, "CL4"), RangeError, '"CL4"');
});

/** conv/relu at 8×8, 2×2 max-pool to 4×4, conv/relu, 1×1 average pool (a copy), head. */
function _vggLike(): Uint8Array {
  const w = (name: string, co: number, ci: number) =>
    tensor(
      name,
      [co, ci, 3, 3],
      Float32Array.from({ length: co * ci * 9 }, (_, i) => 0.1 * (i % 5)),
    );
  return encodeModel(buildModel({
    name: "vgg-like",
    node: [
      node("Conv", ["x", "w1"], ["c1"], { pads: [1, 1, 1, 1] }),
      node("Relu", ["c1"], ["r1"]),
      node("MaxPool", ["r1"], ["p1"], { kernel_shape: [2, 2], strides: [2, 2] }),
      node("Conv", ["p1", "w2"], ["c2"], { pads: [1, 1, 1, 1] }),
      node("Relu", ["c2"], ["r2"]),
      node("MaxPool", ["r2"], ["p2"], { kernel_shape: [2, 2], strides: [2, 2] }),
      node("AveragePool", ["p2"], ["avg"], { kernel_shape: [1, 1], strides: [1, 1] }),
      node("Flatten", ["avg"], ["f"]),
      node("Gemm", ["f", "fc"], ["logits"], { transB: 1 }),
    ],
    initializer: [
      w("w1", 4, 1),
      w("w2", 4, 4),
      tensor("fc", [3, 16], new Float32Array(48).fill(0.01)),
    ],
    input: [valueInfo("x", DT.FLOAT, ["N", 1, 8, 8])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 3])],
  }));
}

Deno.test("listLayers() takes the last cut per size without a join, skipping 1×1 pooling copies", async () => {
  const list = await listLayers(await loadModel(_vggLike()));
  assertEquals(list.auto.map((l) => [l.label, l.tensor]), [
    ["CL1", "r1"],
    ["CL2", "r2"],
    ["CL3", "p2"],
  ]);
});

Deno.test("findCutTensors() ignores shape-only uses and dead outputs", () => {
  // x → Relu → a; Shape(x) feeds a Reshape of a; a branch b = Sigmoid(x) joins at Add.
  const g = {
    node: [
      node("Shape", ["x"], ["s"]),
      node("Relu", ["x"], ["a"]),
      node("Sigmoid", ["x"], ["b"]),
      node("Add", ["a", "b"], ["j"]),
      node("Reshape", ["j", "s"], ["r"]),
      node("Dropout", ["r"], ["d", "mask"]),
      node("Flatten", ["d"], ["logits"]),
    ],
    output: [valueInfo("logits", DT.FLOAT)],
  };
  assertEquals(findCutTensors(g, "x").map((c) => c.name), ["j", "r", "d", "logits"]);
});

/** Input [N,3,8,8] → two channels-last stages (Swin-like: Transpose to N×H×W×C, residual Adds). */
function _swinLike(): Uint8Array {
  const w = (name: string, dims: number[]) =>
    tensor(
      name,
      dims,
      Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => Math.sin(i + 1)),
    );
  return encodeModel(buildModel({
    node: [
      node("Conv", ["x", "w1"], ["c1"], { strides: [2, 2], kernel_shape: [2, 2] }), // [1,6,4,4]
      node("Transpose", ["c1"], ["t1"], { perm: [0, 2, 3, 1] }), // [1,4,4,6]
      node("Relu", ["t1"], ["r1"]),
      node("Add", ["t1", "r1"], ["s1"]), // stage 1, channels-last
      node("Transpose", ["s1"], ["u1"], { perm: [0, 3, 1, 2] }),
      node("Conv", ["u1", "w2"], ["c2"], { strides: [2, 2], kernel_shape: [2, 2] }), // [1,6,2,2]
      node("Transpose", ["c2"], ["t2"], { perm: [0, 2, 3, 1] }),
      node("Relu", ["t2"], ["r2"]),
      node("Add", ["t2", "r2"], ["s2"]), // stage 2
      node("ReduceMean", ["s2"], ["m"], { axes: [1, 2], keepdims: 0 }),
      node("Gemm", ["m", "wh"], ["logits"], { transB: 1 }),
    ],
    initializer: [w("w1", [6, 3, 2, 2]), w("w2", [6, 6, 2, 2]), w("wh", [3, 6])],
    input: [valueInfo("x", DT.FLOAT, ["N", 3, 8, 8])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 3])],
  }));
}

Deno.test("listLayers() finds channels-last stages (Swin) and taps them as N×C×H×W", async () => {
  const m = await loadModel(_swinLike());
  const list = await listLayers(m);
  // Stage 1 is also laid back out to N×C×H×W (u1, a re-layout of the join s1): that copy is
  // taken as is; stage 2 exists only channels-last.
  assertEquals(list.auto.map((l) => [l.label, l.tensor, l.channelsLast, l.shape]), [
    ["CL1", "u1", undefined, [1, 6, 4, 4]],
    ["CL2", "s2", true, [1, 6, 2, 2]],
  ]);
  const { createRuntime, prepareModel } = await import("./model_helpers.ts");
  const p = prepareModel(m, {
    taps: list.auto.map((l) => ({ tensor: l.tensor, channelsLast: l.channelsLast })),
  });
  const both = prepareModel(m, { taps: [{ tensor: "s2" }] });
  const x = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.cos(i));
  const rt = await createRuntime("node", p.bytes), raw = await createRuntime("node", both.bytes);
  const a = (await rt.run(x, [1, 3, 8, 8])).taps["s2__nchw"];
  const b = (await raw.run(x, [1, 3, 8, 8])).taps["s2"];
  await rt.dispose();
  await raw.dispose();
  assertEquals(a.dims, [1, 6, 2, 2]);
  for (let c = 0; c < 6; c++) {
    for (let i = 0; i < 4; i++) assertEquals(a.data![c * 4 + i], b.data![i * 6 + c]);
  }
});

/** Input [N,2,8,8]; the stage's residual stream runs in window form and is laid out back. */
function _windowed(): Uint8Array {
  const w = (name: string, dims: number[]) =>
    tensor(
      name,
      dims,
      Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => Math.sin(2 * i + 1)),
    );
  const i64 = (name: string, v: number[]) => tensor(name, [v.length], v);
  return encodeModel(buildModel({
    node: [
      node("Conv", ["x", "w1"], ["c"], { kernel_shape: [1, 1] }), // [1,4,8,8]
      node("Relu", ["c"], ["r"]),
      node("Add", ["c", "r"], ["j"]), // a join at 8×8 (MBConv-like)
      node("Reshape", ["j", "s_win"], ["win"]), // [1,4,16,4]: windows × tokens × channels
      node("Relu", ["win"], ["wr"]),
      node("Add", ["win", "wr"], ["wa"]), // the attention residual, in window form
      node("Reshape", ["wa", "s_map"], ["back"]), // [1,4,8,8]: the block's output
      node("GlobalAveragePool", ["back"], ["g"]),
      node("Flatten", ["g"], ["f"]),
      node("Gemm", ["f", "wh"], ["logits"], { transB: 1 }),
    ],
    initializer: [
      w("w1", [4, 2, 1, 1]),
      w("wh", [3, 4]),
      i64("s_win", [1, 4, 16, 4]),
      i64("s_map", [1, 4, 8, 8]),
    ],
    input: [valueInfo("x", DT.FLOAT, ["N", 2, 8, 8])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 3])],
  }));
}

Deno.test("listLayers() skips window-partitioned tensors and takes a join laid out back as the stage", async () => {
  const list = await listLayers(await loadModel(_windowed()));
  assertEquals(list.auto.map((l) => [l.label, l.tensor]), [["CL1", "back"]]);
});
