import * as ort from "npm:onnxruntime-node@1.30.0";
import { assert, assertArrayClose, assertEquals, assertThrows } from "./asserts.ts";
import { fdCheck, fdTolerance, GraphBuilder, runGrad } from "./grad_helpers.ts";
import { deriveGradientGraph } from "../lib/grad/derive.ts";
import { SUPPORTED_OPS } from "../lib/grad/ops.ts";
import { ModelFormatError } from "../lib/errors.ts";
import { decodeModel, F } from "../lib/onnx/proto.ts";
import { Rng } from "../lib/rng.ts";

async function expectFd(
  bytes: Uint8Array,
  shape: number[],
  opts: Parameters<typeof fdCheck>[2] = {},
  minChecked = 0.8,
) {
  for (const target of ["cpu", "webgpu"] as const) {
    const r = await fdCheck(bytes, shape, { ...opts, target });
    const n = shape.reduce((a, b) => a * b, 1);
    assert(r.gMax > 1e-3, `gradient is not trivially zero (max ${r.gMax})`);
    assert(
      r.checked >= minChecked * n,
      `${r.checked} of ${n} coordinates checked (${r.skipped} at kinks)`,
    );
    assert(
      r.maxErr <= fdTolerance(r),
      `${target}: max |g − fd| = ${r.maxErr} at ${r.worst} > ${fdTolerance(r)} (|g|max ${r.gMax})`,
    );
  }
}

Deno.test("Conv with stride 2, padding and a Relu matches finite differences", async () => {
  const g = new GraphBuilder(1);
  const c = g.o("Conv", ["x", g.w([4, 2, 3, 3]), g.w([4])], {
    strides: [2, 2],
    pads: [1, 1, 1, 1],
    kernel_shape: [3, 3],
  });
  const r = g.o("Relu", [c]);
  await expectFd(g.build(g.head(r, 4 * 3 * 3), [2, 6, 6]), [2, 2, 6, 6], {}, 0.6);
});

Deno.test("grouped, dilated Conv with asymmetric pads and even input matches finite differences", async () => {
  const g = new GraphBuilder(2);
  const c = g.o("Conv", ["x", g.w([4, 1, 3, 3])], {
    group: 2,
    dilations: [2, 2],
    pads: [1, 0, 2, 1],
    strides: [2, 1],
  });
  await expectFd(g.build(g.head(c, 4 * 3 * 5), [2, 7, 8]), [1, 2, 7, 8]);
});

Deno.test("overlapping MaxPool 3×3/s2 with padding matches finite differences", async () => {
  const g = new GraphBuilder(3);
  const p = g.o("MaxPool", ["x"], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  await expectFd(g.build(g.head(p, 2 * 4 * 4), [2, 7, 7]), [2, 2, 7, 7], {}, 0.6);
});

Deno.test("MaxPool with tied maxima sends each window's gradient to its first maximum and sums overlaps", async () => {
  // All-equal input: every window's first element (row-major) gets that window's gradient.
  const g = new GraphBuilder(4);
  const p = g.o("MaxPool", ["x"], { kernel_shape: [3, 3], strides: [2, 2] });
  const bytes = g.build(g.head(p, 1 * 2 * 2), [1, 5, 5]);
  const x = new Float32Array(25).fill(0.5);
  x[12] = 0.9; // centre: shared by all four overlapping windows
  x[0] = -1;
  const results: Float32Array[] = [];
  for (const target of ["cpu", "webgpu"] as const) {
    const s = await ort.InferenceSession.create(deriveGradientGraph(bytes, { batch: 1, target }));
    const out = await runGrad(s, x, [1, 1, 5, 5], [1]);
    await s.release();
    results.push(out.grad);
  }
  // Expected: the centre holds the max of all four windows → it gets the sum of dY; nothing else.
  const g0 = results[0];
  const nonzero = [...g0.keys()].filter((i) => g0[i] !== 0);
  assertEquals(nonzero, [12]);
  assertArrayClose(results[1], results[0], 1e-6);
  // Ties without a unique max: windows of equal values pick the first element in window order.
  const x2 = new Float32Array(25).fill(0.25);
  const s2 = await ort.InferenceSession.create(
    deriveGradientGraph(bytes, { batch: 1, target: "cpu" }),
  );
  const o2 = await runGrad(s2, x2, [1, 1, 5, 5], [0]);
  await s2.release();
  const s3 = await ort.InferenceSession.create(
    deriveGradientGraph(bytes, { batch: 1, target: "webgpu" }),
  );
  const o3 = await runGrad(s3, x2, [1, 1, 5, 5], [0]);
  await s3.release();
  const nz2 = [...o2.grad.keys()].filter((i) => o2.grad[i] !== 0);
  assertEquals(nz2, [0, 2, 10, 12]); // window starts (0,0), (0,2), (2,0), (2,2)
  assertArrayClose(o3.grad, o2.grad, 1e-6);
});

Deno.test("a Relu before a MaxPool is masked at the pooled size with the same gradient, ties and zeros included", async () => {
  // `withReader` gives the Relu output a second reader contributing an exact zero gradient, so
  // that graph keeps the Relu's own mask: the reference for the pooled-size mask.
  const make = (withReader: boolean) => {
    const g = new GraphBuilder(14);
    const r = g.o("Relu", ["x"]);
    let p = g.o("MaxPool", [r], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    const pool = p;
    if (withReader) p = g.o("Add", [p, g.o("GlobalAveragePool", [g.o("Mul", [r, g.c([1], [0])])])]);
    return { bytes: g.build(g.head(p, 2 * 4 * 4), [2, 7, 7]), pool };
  };
  const fused = make(false), reference = make(true);
  // The fused graph's only mask reads the MaxPool output; the reference's reads the Relu output.
  const greater = (b: Uint8Array) =>
    decodeModel(deriveGradientGraph(b, { batch: 2 })).graph!.node!.filter((n) =>
      n.opType === "Greater"
    ).map((n) => n.input![0]);
  assertEquals(greater(fused.bytes), [fused.pool]);
  assert(!greater(reference.bytes).includes(reference.pool));
  // Negative and zero windows, positive ties and random values.
  const rng = new Rng(14).stream("x");
  const x = Float32Array.from(
    { length: 2 * 2 * 49 },
    (_, i) => i % 7 < 2 ? -0.5 : i % 5 === 0 ? 0 : i % 3 === 0 ? 0.25 : rng.float() * 2 - 1,
  );
  const grads: Float32Array[] = [];
  for (const b of [fused.bytes, reference.bytes]) {
    const s = await ort.InferenceSession.create(deriveGradientGraph(b, { batch: 2 }));
    grads.push((await runGrad(s, x, [2, 2, 7, 7], [0, 2])).grad);
    await s.release();
  }
  assert(grads[0].some((v) => v !== 0) && grads[0].some((v, i) => v === 0 && x[i] === 0.25));
  assert(grads[0].every((v, i) => v === grads[1][i]), "the same values, element by element");
  await expectFd(fused.bytes, [2, 2, 7, 7], {}, 0.5);
});

Deno.test("AveragePool (overlapping, padded, count_include_pad 0) and GlobalAveragePool match finite differences", async () => {
  const g = new GraphBuilder(5);
  const a = g.o("AveragePool", ["x"], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  });
  const b = g.o("AveragePool", ["x"], {
    kernel_shape: [2, 2],
    strides: [2, 2],
    count_include_pad: 1,
  });
  const gp = g.o("GlobalAveragePool", [g.o("Mul", ["x", "x"])]);
  const cat = g.o("Concat", [g.o("Flatten", [a]), g.o("Flatten", [b]), g.o("Flatten", [gp])], {
    axis: 1,
  });
  await expectFd(g.build(g.head(cat, 2 * 9 + 2 * 9 + 2), [2, 6, 6]), [2, 2, 6, 6]);
});

Deno.test("fan-out through a residual block and broadcasting Add/Sub/Mul/Div accumulate gradients", async () => {
  const g = new GraphBuilder(6);
  const c1 = g.o("Conv", ["x", g.w([2, 2, 3, 3])], { pads: [1, 1, 1, 1] });
  const r = g.o("Add", [c1, g.o("Conv", [g.o("Tanh", [c1]), g.w([2, 2, 1, 1])])]); // c1 used twice
  const m = g.o("ReduceMean", [r], { axes: [2, 3], keepdims: 1 }); // [N,2,1,1] broadcast back
  const y = g.o("Mul", [r, g.o("Sigmoid", [m])]);
  const d = g.o("Div", [y, g.o("Add", [g.o("Mul", [m, m]), g.c([1, 2, 1, 1], [1, 2])])]);
  const s = g.o("Sub", [g.w([1, 1, 4]), d]); // broadcast constant minus live
  const z = g.o("Add", [s, g.o("Mul", ["x", g.w([2, 1, 1])])]);
  await expectFd(g.build(g.head(z, 2 * 4 * 4), [2, 4, 4]), [2, 2, 4, 4]);
});

Deno.test("batched MatMul (live × live, live × broadcast constant), Softmax, Transpose match finite differences", async () => {
  const g = new GraphBuilder(7);
  const xt = g.o("Transpose", ["x"], { perm: [0, 1, 3, 2] });
  const a = g.o("MatMul", ["x", xt]); // [N,2,3,3]
  const sm = g.o("Softmax", [a], { axis: -1 });
  const b = g.o("MatMul", [sm, g.w([3, 5])]); // [N,2,3,3] × [3,5] → [N,2,3,5]
  const c = g.o("MatMul", [g.w([3, 3]), g.o("Mul", [b, b])]); // constant on the left, broadcast batch
  await expectFd(g.build(g.head(c, 2 * 3 * 5), [2, 3, 4]), [2, 2, 3, 4]);
});

Deno.test("LayerNormalization, GELU (Erf), Gemm variants and BatchNormalization match finite differences", async () => {
  const g = new GraphBuilder(8);
  const ln = g.o("LayerNormalization", ["x", g.w([4], 1), g.w([4])], {
    axis: -1,
    epsilon: new F(1e-5),
  });
  const sq = g.o("Div", [ln, g.c([], [Math.SQRT2])]);
  const gelu = g.o("Mul", [
    g.o("Mul", [ln, g.o("Add", [g.o("Erf", [sq]), g.c([], [1])])]),
    g.c([], [0.5]),
  ]);
  const bn = g.o("BatchNormalization", [
    gelu,
    g.c([2], [1.5, -0.5]),
    g.c([2], [0.1, 0.2]),
    g.c([2], [0.3, -0.1]),
    g.c([2], [2, 0.5]),
  ]);
  const f = g.o("Flatten", [bn]);
  const h = g.o("Gemm", [f, g.w([24, 5])], { alpha: new F(0.7) }); // transB = 0
  const t = g.o("Gemm", [g.o("Transpose", [h]), g.w([3, 5])], {
    transA: 1,
    transB: 1,
    beta: new F(0.5),
  });
  const logits = g.o("Add", [t, g.w([3])]);
  await expectFd(g.build(logits, [2, 3, 4]), [2, 2, 3, 4]);
});

Deno.test("Gather (scalar and repeated indices), Slice, Concat, Split, Pad, Expand, Squeeze match finite differences", async () => {
  const g = new GraphBuilder(9);
  const g1 = g.o("Gather", ["x", g.c([], [1], true)], { axis: 2 }); // [N,2,4]
  const g2 = g.o("Gather", ["x", g.c([3], [2, 0, 2], true)], { axis: 3 }); // [N,2,3,3]
  const sl = g.o("Slice", [
    "x",
    g.c([2], [1, -3], true),
    g.c([2], [3, 100], true),
    g.c([2], [2, 3], true),
  ]); // [N,2,2,3]
  const cat = g.o(
    "Concat",
    [g2, sl, g.w([1, 2, 3, 3])].map((t, i) =>
      i === 2 ? g.o("Expand", [t, g.c([4], [2, 2, 3, 3], true)]) : t
    ),
    { axis: 2 },
  );
  const [p1, p2] = g.n("Split", [cat, g.c([2], [5, 3], true)], { axis: 2 }, 2);
  const pad = g.o("Pad", [p2, g.c([8], [0, 0, 1, 0, 0, 0, 0, 2], true)]); // [N,2,4,5]
  const u = g.o("Squeeze", [g.o("Unsqueeze", [g1, g.c([1], [1], true)]), g.c([1], [1], true)]);
  const feat = g.o("Concat", [g.o("Flatten", [p1]), g.o("Flatten", [pad]), g.o("Flatten", [u])], {
    axis: 1,
  });
  await expectFd(g.build(g.head(feat, 30 + 40 + 8), [2, 3, 4]), [2, 2, 3, 4]);
});

Deno.test("Sqrt, Pow, Exp, Neg, Reciprocal, Clip, Where, ReduceSum, LogSoftmax match finite differences", async () => {
  const g = new GraphBuilder(10);
  const s = g.o("Sqrt", [g.o("Add", [g.o("Pow", ["x", g.c([], [2])]), g.c([], [1])])]);
  const e = g.o("Exp", [g.o("Neg", ["x"])]);
  const r = g.o("Reciprocal", [g.o("Add", [s, g.c([], [0.5])])]);
  const cl = g.o("Clip", [g.o("Mul", ["x", g.c([], [3])]), g.c([], [-1]), g.c([], [1])]);
  const mask = g.c([1, 1, 4], [1, 0, 1, 0]);
  const w = g.o("Where", [g.o("Cast", [mask], { to: 9 }), e, r]);
  const rs = g.o("ReduceSum", [g.o("Mul", [w, cl]), g.c([1], [2], true)], { keepdims: 0 }); // [N,2,4]
  const ls = g.o("LogSoftmax", [rs], { axis: -1 });
  await expectFd(
    g.build(g.head(g.o("Add", [g.o("Unsqueeze", [ls, g.c([1], [2], true)]), w]), 2 * 3 * 4), [
      2,
      3,
      4,
    ]),
    [2, 2, 3, 4],
    {},
    0.7,
  );
});

Deno.test("an integer shape sub-graph (Shape/Gather/Unsqueeze/Concat/Reshape) is folded for the batch size", async () => {
  const g = new GraphBuilder(11);
  const sh = g.o("Shape", ["x"]);
  const n = g.o("Unsqueeze", [
    g.o("Gather", [sh, g.c([], [0], true)], { axis: 0 }),
    g.c([1], [0], true),
  ]);
  const tgt = g.o("Concat", [n, g.c([1], [-1], true)], { axis: 0 });
  const flat = g.o("Reshape", ["x", g.o("Cast", [tgt], { to: 7 })]);
  const gemm = g.o("Gemm", [flat, g.w([3, 12])], { transB: 1 });
  const bytes = g.build(gemm, [3, 2, 2]);
  const grad = deriveGradientGraph(bytes, { batch: 5 });
  const text = new TextDecoder("latin1").decode(grad);
  assert(!text.includes("Shape"), "Shape nodes are folded away");
  await expectFd(bytes, [5, 3, 2, 2]);
});

Deno.test("an unsupported op is a ModelFormatError naming the op, the node and the supported ops", () => {
  const g = new GraphBuilder(12);
  const t = g.o("Hardmax", ["x"]);
  const bytes = g.build(g.head(t, 4), [1, 2, 2]);
  const e = assertThrows(
    () => deriveGradientGraph(bytes, { batch: 1 }),
    ModelFormatError,
    "op Hardmax",
  );
  assert((e as Error).message.includes("node Hardmax_t0"), (e as Error).message);
  assert((e as Error).message.includes(SUPPORTED_OPS.join(", ")));
});

Deno.test("deriveGradientGraph rejects bad batch sizes, targets and taps", () => {
  const g = new GraphBuilder(13);
  const bytes = g.build(g.head("x", 4), [1, 2, 2]);
  assertThrows(() => deriveGradientGraph(bytes, { batch: 0 }), RangeError, "batch is 0");
  assertThrows(() => deriveGradientGraph(bytes, { target: "gpu" as "cpu" }), RangeError, "target");
  assertThrows(() => deriveGradientGraph(bytes, { taps: ["nope"] }), RangeError, "nope");
  assertThrows(
    () => deriveGradientGraph(new Uint8Array([1, 2, 3])),
    ModelFormatError,
    "Cannot load",
  );
});

Deno.test("stride-1 Conv gradients as flipped-kernel Conv equal the ConvTranspose form (grouped, dilated, padded)", async () => {
  const g = new GraphBuilder(14);
  const c1 = g.o("Conv", ["x", g.w([4, 1, 3, 3])], {
    group: 2,
    dilations: [2, 1],
    pads: [2, 0, 1, 1],
  });
  const c2 = g.o("Conv", [c1, g.w([3, 4, 1, 1])]);
  const bytes = g.build(g.head(c2, 3 * 5 * 5), [2, 6, 6]);
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 2 * 2 * 6 * 6 }, () => rng.float());
  const grads: Float32Array[] = [];
  for (const convGrad of ["conv", "convtranspose"] as const) {
    const s = await ort.InferenceSession.create(deriveGradientGraph(bytes, { batch: 2, convGrad }));
    grads.push((await runGrad(s, x, [2, 2, 6, 6], [0, 2])).grad);
    await s.release();
  }
  assertArrayClose(grads[0], grads[1], 1e-6);
  await expectFd(bytes, [2, 2, 6, 6]);
});

Deno.test("taps are extra outputs of the gradient, PGD and forward graphs, aliases included", async () => {
  const g = new GraphBuilder(15);
  const c = g.o("Relu", [g.o("Conv", ["x", g.w([2, 1, 3, 3])], { pads: [1, 1, 1, 1] })]);
  const alias = g.o("Identity", [c]);
  const bytes = g.build(g.head(alias, 2 * 4 * 4), [1, 4, 4]);
  const x = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(i));
  const grad = await ort.InferenceSession.create(
    deriveGradientGraph(bytes, { batch: 2, taps: [c, alias] }),
  );
  const o = await grad.run({
    input: new ort.Tensor("float32", x, [2, 1, 4, 4]),
    labels: new ort.Tensor("int64", BigInt64Array.of(0n, 2n), [2]),
  });
  await grad.release();
  assertEquals(o[c].dims, [2, 2, 4, 4]);
  assertArrayClose(o[alias].data as Float32Array, o[c].data as Float32Array, 0);
  const { deriveForwardGraph } = await import("../lib/grad/derive.ts");
  const fwd = await ort.InferenceSession.create(deriveForwardGraph(bytes, { batch: 2, taps: [c] }));
  const f = await fwd.run({ input: new ort.Tensor("float32", x, [2, 1, 4, 4]) });
  await fwd.release();
  assertArrayClose(f[c].data as Float32Array, o[c].data as Float32Array, 0);
  assertArrayClose(f.logits.data as Float32Array, o.logits.data as Float32Array, 1e-6);
  assert((o[c].data as Float32Array).some((v) => v > 0));
});

Deno.test("HardSwish, HardSigmoid, Softplus, Log, Softsign, Abs, Sin, Cos, ThresholdedRelu match finite differences", async () => {
  const g = new GraphBuilder(16);
  const x3 = g.o("Mul", ["x", g.c([], [4])]); // spans HardSwish's −3..3 knees
  const hs = g.o("HardSwish", [x3]);
  const hg = g.o("HardSigmoid", [x3], { alpha: new F(1 / 6), beta: new F(0.5) });
  const hd = g.o("HardSigmoid", ["x"]); // ONNX defaults α = 0.2, β = 0.5
  const sp = g.o("Softplus", [x3]);
  const lg = g.o("Log", [g.o("Add", [g.o("Mul", ["x", "x"]), g.c([], [0.5])])]);
  const ss = g.o("Softsign", [x3]);
  const ab = g.o("Abs", [g.o("Sin", [x3])]);
  const co = g.o("Cos", [x3]);
  const th = g.o("ThresholdedRelu", [x3], { alpha: new F(0.5) });
  const parts = [hs, hg, hd, sp, lg, ss, ab, co, th].map((t) => g.o("Flatten", [t]));
  const cat = g.o("Concat", parts, { axis: 1 });
  await expectFd(g.build(g.head(cat, 9 * 2 * 3 * 3), [2, 3, 3]), [2, 2, 3, 3], {}, 0.6);
});

Deno.test("Elu, Selu, Celu, Mish, PRelu and opset-20 Gelu (exact and tanh) match finite differences", async () => {
  const g = new GraphBuilder(17);
  const x3 = g.o("Mul", ["x", g.c([], [2])]);
  const ts = [
    g.o("Elu", [x3], { alpha: new F(0.7) }),
    g.o("Selu", [x3]),
    g.o("Celu", [x3], { alpha: new F(1.5) }),
    g.o("Mish", [x3]),
    g.o("PRelu", [x3, g.w([2, 1, 1])]),
    g.o("Gelu", [x3]),
    g.o("Gelu", [x3], { approximate: "tanh" }),
  ].map((t) => g.o("Flatten", [t]));
  const cat = g.o("Concat", ts, { axis: 1 });
  await expectFd(g.build(g.head(cat, 7 * 2 * 3 * 3), [2, 3, 3], 3, 20), [2, 2, 3, 3], {}, 0.7);
});

Deno.test("n-ary Max/Min (live and constant operands), Mean, and no-gradient comparisons match finite differences", async () => {
  const g = new GraphBuilder(18);
  const a = g.o("Mul", ["x", g.c([], [2])]);
  const mx = g.o("Max", ["x", a, g.w([1, 3, 1])]);
  const mn = g.o("Min", [g.o("Neg", ["x"]), g.c([], [0.1])]);
  const me = g.o("Mean", [mx, mn, g.w([3, 3])]);
  // A mask from a live comparison (no gradient through it) selects between live branches.
  const mask = g.o("Greater", [g.o("Sin", ["x"]), g.c([], [0])]);
  const w = g.o("Where", [mask, me, g.o("Mul", [me, me])]);
  const fl = g.o("Cast", [g.o("Cast", [g.o("Mul", ["x", g.c([], [3])])], { to: 7 })], { to: 1 });
  await expectFd(g.build(g.head(g.o("Add", [w, fl]), 2 * 3 * 3), [2, 3, 3]), [2, 2, 3, 3], {}, 0.6);
});

Deno.test("ties in Max and ReduceMax share the gradient evenly, as torch does", async () => {
  const g = new GraphBuilder(19);
  const mx = g.o("Max", ["x", g.o("Identity", ["x"])]); // every element tied with itself
  const rm = g.o("ReduceMax", ["x"], { axes: [2, 3], keepdims: 1 });
  const cat = g.o("Concat", [g.o("Flatten", [mx]), g.o("Flatten", [rm])], { axis: 1 });
  const bytes = g.build(g.head(cat, 4 + 1), [1, 2, 2]);
  const s = await ort.InferenceSession.create(deriveGradientGraph(bytes, { batch: 1 }));
  const x = Float32Array.of(0.5, 0.5, 0.1, 0.2);
  const one = await runGrad(s, x, [1, 1, 2, 2], [0]);
  const h = 1e-3;
  const xp = x.map((v, i) => (i === 0 ? v + h : v)), xm = x.map((v, i) => (i === 0 ? v - h : v));
  const lp = (await runGrad(s, xp, [1, 1, 2, 2], [0])).loss[0];
  const lm = (await runGrad(s, xm, [1, 1, 2, 2], [0])).loss[0];
  await s.release();
  // x0 and x1 tie for the ReduceMax: each gets half of its gradient, so the pair's gradients
  // average the one-sided derivatives (the max moves with x0 going up, not going down).
  const l0 = one.loss[0];
  const avg = ((lp - l0) / h + (l0 - lm) / h) / 2;
  assert(
    Math.abs(one.grad[0] - avg) < 2e-2 * Math.max(1, Math.abs(avg)),
    `${one.grad[0]} vs ${avg}`,
  );
});

Deno.test("Einsum (batched, ellipsis, MaxViT's attention, operand-only subscripts, broadcast) matches finite differences", async () => {
  const g = new GraphBuilder(20);
  // x: [N, 2, 3, 4]
  const q = g.o("Einsum", ["x", g.w([4, 4])], { equation: "...ij,jk->...ik" });
  const att = g.o("Einsum", [q, "x"], { equation: "B H I D, B H J D -> B H I J" });
  const sm = g.o("Softmax", [att], { axis: -1 });
  const o = g.o("Einsum", [sm, "x"], { equation: "bhij,bhjd->bhid" });
  const red = g.o("Einsum", [o], { equation: "bhid->bd" }); // i and h summed inside one operand
  const bc = g.o("Einsum", [red, g.w([1, 4])], { equation: "bd,xd->bxd" }); // broadcast x
  const tr = g.o("Einsum", ["x", "x"], { equation: "nhij,nhij->n" });
  const feat = g.o("Concat", [g.o("Flatten", [bc]), g.o("Unsqueeze", [tr, g.c([1], [1], true)])], {
    axis: 1,
  });
  await expectFd(g.build(g.head(feat, 4 + 1), [2, 3, 4]), [2, 2, 3, 4]);
});

Deno.test("ScatterND (live data and updates), GatherND (repeated indices), GatherElements match finite differences", async () => {
  const g = new GraphBuilder(21);
  // x: [N=2, 2, 3, 3]. ScatterND writes rows (n, c, h) of x·2's first row into x.
  const upd = g.o("Gather", [g.o("Mul", ["x", g.c([], [2])]), g.c([], [0], true)], { axis: 2 });
  const rows = g.c([2, 2, 3], [0, 0, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0], true);
  const sc = g.o("ScatterND", ["x", rows, upd]);
  const gnd = g.o("GatherND", ["x", g.c([4, 2], [0, 1, 1, 0, 1, 1, 0, 1], true)]); // [4, 3, 3]
  const gi = Array.from({ length: 24 }, (_, i) => (i * 7) % 3);
  const ge = g.o("GatherElements", ["x", g.c([2, 2, 3, 2], gi, true)], { axis: 3 });
  const feat = g.o("Concat", [
    g.o("Flatten", [sc]),
    g.o("Reshape", [gnd, g.c([2], [2, -1], true)]),
    g.o("Flatten", [ge]),
  ], { axis: 1 });
  await expectFd(g.build(g.head(feat, 18 + 18 + 12), [2, 3, 3]), [2, 2, 3, 3]);
});

Deno.test("Resize nearest/linear/cubic under each coordinate mode, up and down, scales and sizes, matches finite differences", async () => {
  const g = new GraphBuilder(22);
  const none = "";
  const roi = g.c([0], []);
  const sc = (v: number[]) => g.c([4], v);
  const sz = (v: number[]) => g.c([4], v, true);
  const rs: string[] = [
    // HRNet: nearest, asymmetric, floor, ×2.
    g.o("Resize", ["x", roi, sc([1, 1, 2, 2])], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    }),
    g.o("Resize", ["x", none, none, sz([2, 2, 7, 5])], {
      mode: "nearest",
      coordinate_transformation_mode: "half_pixel",
      nearest_mode: "round_prefer_ceil",
    }),
    // torch bilinear, align_corners False / True; downsampling.
    g.o("Resize", ["x", roi, sc([1, 1, 1.5, 2])], {
      mode: "linear",
      coordinate_transformation_mode: "pytorch_half_pixel",
    }),
    g.o("Resize", ["x", none, none, sz([2, 2, 6, 3])], {
      mode: "linear",
      coordinate_transformation_mode: "align_corners",
    }),
    g.o("Resize", ["x", roi, sc([1, 1, 0.5, 0.75])], { mode: "linear" }),
    // CrossViT: bicubic, half_pixel, A = −0.75; and exclude_outside.
    g.o("Resize", ["x", none, none, sz([2, 2, 8, 6])], {
      mode: "cubic",
      cubic_coeff_a: new F(-0.75),
      coordinate_transformation_mode: "half_pixel",
    }),
    g.o("Resize", ["x", roi, sc([1, 1, 2, 1])], {
      mode: "cubic",
      exclude_outside: 1,
      coordinate_transformation_mode: "asymmetric",
    }),
  ];
  const n = [2 * 8 * 8, 2 * 7 * 5, 2 * 6 * 8, 2 * 6 * 3, 2 * 2 * 3, 2 * 8 * 6, 2 * 8 * 4];
  const cat = g.o("Concat", rs.map((t) => g.o("Flatten", [t])), { axis: 1 });
  await expectFd(g.build(g.head(cat, n.reduce((a, b) => a + b, 0)), [2, 4, 4]), [2, 2, 4, 4]);
});

Deno.test("Slice with steps 2, −1 and −2, Gather with run-time (ArgMax) indices, Tile and CumSum match finite differences", async () => {
  const g = new GraphBuilder(23);
  // x: [N, 2, 5, 4]
  const s1 = g.o("Slice", [
    "x",
    g.c([2], [0, 3], true),
    g.c([2], [5, -100], true),
    g.c([2], [2, 3], true),
    g.c([2], [2, -1], true),
  ]); // [N,2,3,4]
  const s2 = g.o("Slice", [
    "x",
    g.c([1], [-1], true),
    g.c([1], [-100], true),
    g.c([1], [2], true),
    g.c([1], [-2], true),
  ]); // [N,2,3,4]
  const am = g.o("ArgMax", [g.o("ReduceSum", ["x", g.c([2], [0, 1], true)], { keepdims: 0 })], {
    axis: 1,
    keepdims: 0,
  }); // [5] int64
  const gr = g.o("Gather", ["x", am], { axis: 3 }); // [N,2,5,5]
  const ti = g.o("Tile", [s1, g.c([4], [1, 2, 1, 2], true)]); // [N,4,3,8]
  const cs = g.o("CumSum", [s2, g.c([], [2], true)], { reverse: 1, exclusive: 1 });
  const cs2 = g.o("CumSum", [s2, g.c([], [-1], true)]);
  const feat = g.o(
    "Concat",
    [ti, cs, cs2].map((t) => g.o("Flatten", [t])).concat(g.o("Flatten", [gr])),
    { axis: 1 },
  );
  await expectFd(g.build(g.head(feat, 96 + 24 + 24 + 50), [2, 5, 4]), [2, 2, 5, 4]);
});

Deno.test("ReduceL1/L2/Max/Min/SumSquare/LogSumExp (keepdims 0 and 1), InstanceNormalization, ConvTranspose match finite differences", async () => {
  const g = new GraphBuilder(24);
  // Opset 17: axes are an attribute for these reductions (an input from opset 18).
  const r = [
    g.o("ReduceL2", ["x"], { axes: [3], keepdims: 1 }),
    g.o("ReduceL1", ["x"], { axes: [1, 2], keepdims: 0 }),
    g.o("ReduceMax", ["x"], { axes: [2], keepdims: 0 }),
    g.o("ReduceMin", ["x"], { axes: [-1], keepdims: 1 }),
    g.o("ReduceSumSquare", ["x"], { axes: [1], keepdims: 1 }),
    g.o("ReduceLogSumExp", ["x"], { axes: [2, 3], keepdims: 0 }),
    g.o("InstanceNormalization", ["x", g.w([2], 1), g.w([2])], { epsilon: new F(1e-5) }),
    g.o("ConvTranspose", ["x", g.w([2, 2, 3, 3]), g.w([4])], {
      strides: [2, 2],
      pads: [1, 0, 0, 1],
      output_padding: [1, 0],
      group: 2,
    }),
  ];
  // sizes: [N,2,3,1] 6, [N,4] 4, [N,2,4] 8, [N,2,3,1] 6, [N,1,3,4] 12, [N,2] 2, [N,2,3,4] 24,
  // ConvTranspose (group 2, 2 out channels per group): [N,4,7,8] 224
  const cat = g.o("Concat", r.map((t) => g.o("Flatten", [t])), { axis: 1 });
  await expectFd(
    g.build(g.head(cat, 6 + 4 + 8 + 6 + 12 + 2 + 24 + 224), [2, 3, 4]),
    [2, 2, 3, 4],
    {},
    0.7,
  );
});
