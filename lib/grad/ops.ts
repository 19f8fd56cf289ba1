/**
 * Reverse-mode rules: for each supported forward op, the ONNX nodes that compute the gradient of
 * its inputs from the gradient of its outputs (MODELS.md, "Gradient graphs: the op table").
 *
 * Only gradients with respect to the image input are needed, so weights are constants; a rule is
 * asked only for inputs that depend on the image input.
 *
 * @module
 */

import { DT, F, getAttr } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { constValues, type PreparedNode } from "./graph.ts";
import { numel, windowGeometry } from "./shapes.ts";
import type { GradBuilder, GradRule } from "./rule_kit.ts";
import { axisOf, emit1, ints, needConstInput, reshape, unaryRule } from "./rule_kit.ts";
import { POINTWISE_RULES } from "./ops_pointwise.ts";
import { INDEX_RULES } from "./ops_index.ts";
import { REDUCE_RULES } from "./ops_reduce.ts";
import { EINSUM_RULES } from "./ops_einsum.ts";
import { RESIZE_RULES } from "./ops_resize.ts";

/**
 * Flips a Conv weight `[M, C/g, k…]` into the weight of the equivalent transposed convolution
 * `[C, M/g, k…]` (every spatial axis reversed, channel axes swapped within each group).
 *
 * @param w Weight values.
 * @param dims Weight shape.
 * @param group Conv groups.
 * @returns Values and shape.
 */
export function flipConvWeight(
  w: ArrayLike<number>,
  dims: number[],
  group: number,
): { values: Float32Array; dims: number[] } {
  const [M, Cg, ...k] = dims;
  const K = k.reduce((a, c) => a * c, 1), Mg = M / group;
  const out = new Float32Array(w.length);
  for (let gi = 0; gi < group; gi++) {
    for (let m = 0; m < Mg; m++) {
      for (let c = 0; c < Cg; c++) {
        const src = ((gi * Mg + m) * Cg + c) * K, dst = ((gi * Cg + c) * Mg + m) * K;
        for (let s = 0; s < K; s++) out[dst + K - 1 - s] = w[src + s];
      }
    }
  }
  return { values: out, dims: [Cg * group, Mg, ...k] };
}

/** Output padding so that ConvTranspose reproduces the forward input size. */
function _outputPadding(
  x: number[],
  y: number[],
  k: number[],
  geo: ReturnType<typeof windowGeometry>,
) {
  const r = k.length;
  return x.map((h, i) => {
    const op = h - geo.strides[i] * (y[i] - 1) - geo.dilations[i] * (k[i] - 1) - 1 + geo.pads[i] +
      geo.pads[i + r];
    if (op < 0 || op >= Math.max(geo.strides[i], geo.dilations[i])) {
      throw new ModelFormatError(
        `Cannot differentiate a window op: output padding ${op} is outside [0, stride) for input ` +
          `size ${h}, output ${y[i]}, kernel ${k[i]}`,
      );
    }
    return op;
  });
}

const _conv: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), w = b.shape(n.inputs[1]), y = b.shape(n.outputs[0]);
  if (b.live(n.inputs[1]) || (n.inputs[2] && b.live(n.inputs[2]))) needConstInput(n, 1, b);
  const k = w.slice(2);
  const geo = windowGeometry(n.proto, x.slice(2), k);
  const group = getAttr<number>(n.proto, "group", 1);
  const r = k.length;
  const padsT = [...Array(2 * r).keys()].map((i) =>
    geo.dilations[i % r] * (k[i % r] - 1) - geo.pads[i]
  );
  if (b.convGrad === "conv" && geo.strides.every((s) => s === 1) && padsT.every((p) => p >= 0)) {
    // Stride 1: the transposed convolution is a plain Conv with the kernel flipped and its
    // channel axes swapped, which onnxruntime's CPU EP runs much faster than ConvTranspose.
    const wf = b.flippedWeight(n.inputs[1], group);
    return [emit1(b, "Conv", [dY[0]!, wf], {
      pads: padsT,
      dilations: geo.dilations,
      group,
      kernel_shape: k,
    }, x)];
  }
  const dx = emit1(b, "ConvTranspose", [dY[0]!, n.inputs[1]], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group,
    kernel_shape: k,
    output_padding: _outputPadding(x.slice(2), y.slice(2), k, geo),
  }, x);
  return [dx];
};

/** ConvTranspose: its adjoint is the Conv with the same weight, strides, pads and groups. */
const _convTranspose: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), w = b.shape(n.inputs[1]), p = n.proto;
  if (b.live(n.inputs[1]) || (n.inputs[2] && b.live(n.inputs[2]))) needConstInput(n, 1, b);
  const r = w.length - 2;
  return [
    emit1(b, "Conv", [dY[0]!, n.inputs[1]], {
      strides: getAttr<number[]>(p, "strides", new Array(r).fill(1)),
      pads: getAttr<number[]>(p, "pads", new Array(2 * r).fill(0)),
      dilations: getAttr<number[]>(p, "dilations", new Array(r).fill(1)),
      group: getAttr<number>(p, "group", 1),
      kernel_shape: w.slice(2),
    }, x),
  ];
};

/** Integer and bool element types (a Cast to one of them passes no gradient). */
const _INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

const _maxPool: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), y = b.shape(n.outputs[0]);
  const k = getAttr<number[]>(n.proto, "kernel_shape", []);
  if (getAttr<number>(n.proto, "storage_order", 0) !== 0) {
    throw new ModelFormatError(
      `Cannot differentiate MaxPool ${n.name}: storage_order 1 is not supported`,
    );
  }
  if (b.target === "cpu") {
    const idx = b.maxPoolIndices(n)!;
    const flat = [numel(x)];
    const g = b.reluIntoMaxPool(n.inputs[0])
      ? emit1(
        b,
        "Where",
        [emit1(b, "Greater", [n.outputs[0], b.f32([0], [])]), dY[0]!, b.f32([0], [])],
        {},
        y,
      )
      : dY[0]!;
    const z = emit1(b, "ConstantOfShape", [b.i64(flat)], {
      value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
    }, flat);
    const s = emit1(b, "ScatterElements", [
      z,
      reshape(b, idx, [numel(y)]),
      reshape(b, g, [numel(y)]),
    ], {
      axis: 0,
      reduction: "add",
    }, flat);
    return [reshape(b, s, x)];
  }
  return [_maxPoolUnfold(n, dY[0]!, b, x, y, k)];
};

/**
 * MaxPool gradient without the Indices output (the WebGPU EP rejects it): unfold the windows with
 * a depthwise one-hot Conv, mark the first element of each window equal to the pooled maximum
 * (ties go to the first in row-major window order, as the CPU MaxPool's Indices and torch do),
 * and fold the masked gradients back with the transposed one-hot Conv, which sums overlaps.
 */
function _maxPoolUnfold(
  n: PreparedNode,
  dy: string,
  b: GradBuilder,
  x: number[],
  y: number[],
  k: number[],
) {
  if (k.length !== 2) {
    throw new ModelFormatError(
      `Cannot differentiate MaxPool ${n.name} for webgpu: only 2-D pooling is supported`,
    );
  }
  const [N, C, H, W] = x, [Ho, Wo] = y.slice(2), K2 = k[0] * k[1];
  const geo = windowGeometry(n.proto, x.slice(2), k);
  const oneHot = new Float32Array(C * K2 * K2);
  for (let c = 0; c < C; c++) for (let j = 0; j < K2; j++) oneHot[(c * K2 + j) * K2 + j] = 1;
  const w1 = b.f32(oneHot, [C * K2, 1, k[0], k[1]]);
  const common = {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group: C,
    kernel_shape: k,
  };
  const u = emit1(b, "Conv", [n.inputs[0], w1], common, [N, C * K2, Ho, Wo]);
  // Window positions that fall on padding never hold the maximum.
  const valid = new Float32Array(K2 * Ho * Wo);
  for (let j = 0; j < K2; j++) {
    const kh = Math.floor(j / k[1]), kw = j % k[1];
    for (let ho = 0; ho < Ho; ho++) {
      for (let wo = 0; wo < Wo; wo++) {
        const h = ho * geo.strides[0] - geo.pads[0] + kh * geo.dilations[0];
        const w = wo * geo.strides[1] - geo.pads[1] + kw * geo.dilations[1];
        valid[(j * Ho + ho) * Wo + wo] = h >= 0 && h < H && w >= 0 && w < W ? 1 : 0;
      }
    }
  }
  const s5 = [N, C, K2, Ho, Wo];
  const u5 = reshape(b, u, s5);
  const y5 = reshape(b, n.outputs[0], [N, C, 1, Ho, Wo]);
  const eq = emit1(b, "Cast", [emit1(b, "Equal", [u5, y5])], { to: DT.FLOAT }, s5);
  const m = emit1(b, "Mul", [eq, b.f32(valid, [1, 1, K2, Ho, Wo])], {}, s5);
  // Exclusive prefix count of maxima before each window position (grouped 1×1 Conv).
  const tri = new Float32Array(C * K2 * K2);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < K2; j++) for (let i = 0; i < j; i++) tri[(c * K2 + j) * K2 + i] = 1;
  }
  const m4 = reshape(b, m, [N, C * K2, Ho, Wo]);
  const p = emit1(
    b,
    "Conv",
    [m4, b.f32(tri, [C * K2, K2, 1, 1])],
    { group: C, kernel_shape: [1, 1] },
    [N, C * K2, Ho, Wo],
  );
  const first = emit1(b, "Mul", [m4, emit1(b, "Relu", [emit1(b, "Sub", [b.f32([1], []), p])])]);
  const g5 = emit1(b, "Mul", [reshape(b, first, s5), reshape(b, dy, [N, C, 1, Ho, Wo])], {}, s5);
  return emit1(b, "ConvTranspose", [reshape(b, g5, [N, C * K2, Ho, Wo]), w1], {
    ...common,
    output_padding: _outputPadding(x.slice(2), y.slice(2), k, geo),
  }, x);
}

const _avgPool: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), y = b.shape(n.outputs[0]);
  const k = getAttr<number[]>(n.proto, "kernel_shape", []);
  const geo = windowGeometry(n.proto, x.slice(2), k);
  const incl = getAttr<number>(n.proto, "count_include_pad", 0) === 1;
  const r = k.length, C = x[1];
  const sp = y.slice(2), inv = new Float32Array(numel(sp));
  for (let i = 0; i < inv.length; i++) {
    let rest = i, cnt = 1;
    for (let d = r - 1; d >= 0; d--) {
      const o = rest % sp[d];
      rest = Math.floor(rest / sp[d]);
      const st = o * geo.strides[d] - geo.pads[d];
      const en = Math.min(st + geo.dilations[d] * (k[d] - 1) + 1, x[2 + d] + geo.pads[d + r]);
      cnt *= incl ? en - st : Math.min(en, x[2 + d]) - Math.max(st, 0);
    }
    inv[i] = 1 / cnt;
  }
  const scaled = emit1(b, "Mul", [dY[0]!, b.f32(inv, [1, 1, ...sp])], {}, y);
  const ones = b.f32(new Float32Array(C * numel(k)).fill(1), [C, 1, ...k]);
  return [emit1(b, "ConvTranspose", [scaled, ones], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group: C,
    kernel_shape: k,
    output_padding: _outputPadding(x.slice(2), y.slice(2), k, geo),
  }, x)];
};

const _gap: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), y = b.shape(n.outputs[0]);
  const sc = emit1(b, "Mul", [dY[0]!, b.f32([1 / numel(x.slice(2))], [])], {}, y);
  return [emit1(b, "Expand", [sc, b.i64(x)], {}, x)];
};

function _binary(
  n: PreparedNode,
  dY: (string | undefined)[],
  b: GradBuilder,
): (string | undefined)[] {
  const [A, B] = n.inputs, y = b.shape(n.outputs[0]), g = dY[0]!;
  const a = b.shape(A), bs = b.shape(B);
  const la = b.live(A), lb = b.live(B);
  switch (n.op) {
    case "Add":
      return [la ? b.reduceTo(g, y, a) : undefined, lb ? b.reduceTo(g, y, bs) : undefined];
    case "Sub":
      return [
        la ? b.reduceTo(g, y, a) : undefined,
        lb ? b.reduceTo(emit1(b, "Neg", [g], {}, y), y, bs) : undefined,
      ];
    case "Mul":
      return [
        la ? b.reduceTo(emit1(b, "Mul", [g, B], {}, y), y, a) : undefined,
        lb ? b.reduceTo(emit1(b, "Mul", [g, A], {}, y), y, bs) : undefined,
      ];
    case "Div":
      return [
        la ? b.reduceTo(emit1(b, "Div", [g, B], {}, y), y, a) : undefined,
        lb
          ? b.reduceTo(
            emit1(b, "Neg", [emit1(b, "Div", [emit1(b, "Mul", [g, n.outputs[0]]), B])], {}, y),
            y,
            bs,
          )
          : undefined,
      ];
    case "Pow": {
      if (lb) needConstInput(n, 1, b);
      const e = ints(needConstInput(n, 1, b)).length === 1
        ? Number(constValues(b.constOf(B)!)[0])
        : NaN;
      if (!Number.isFinite(e)) {
        throw new ModelFormatError(
          `Cannot differentiate Pow ${n.name}: the exponent must be a scalar constant`,
        );
      }
      const d = emit1(b, "Mul", [emit1(b, "Pow", [A, b.f32([e - 1], [])]), b.f32([e], [])], {}, a);
      return [b.reduceTo(emit1(b, "Mul", [g, d], {}, y), y, a), undefined];
    }
  }
  throw new Error(`unreachable: ${n.op}`);
}

const _reshapeBack: GradRule = (n, dY, b) => [reshape(b, dY[0]!, b.shape(n.inputs[0]))];

const _gemm: GradRule = (n, dY, b) => {
  const [A, B, Cn] = n.inputs, p = n.proto, g = dY[0]!;
  const alpha = getAttr<number>(p, "alpha", 1), beta = getAttr<number>(p, "beta", 1);
  const ta = getAttr<number>(p, "transA", 0), tb = getAttr<number>(p, "transB", 0);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (b.live(A)) {
    out[0] = ta
      ? emit1(b, "Gemm", [B, g], { transA: tb, transB: 1, alpha: new F(alpha) }, b.shape(A))
      : emit1(b, "Gemm", [g, B], { transB: tb ? 0 : 1, alpha: new F(alpha) }, b.shape(A));
  }
  if (b.live(B)) {
    out[1] = tb
      ? emit1(b, "Gemm", [g, A], { transA: 1, transB: ta, alpha: new F(alpha) }, b.shape(B))
      : emit1(b, "Gemm", [A, g], { transA: ta ? 0 : 1, alpha: new F(alpha) }, b.shape(B));
  }
  if (Cn && b.live(Cn)) {
    const y = b.shape(n.outputs[0]);
    out[2] = b.reduceTo(emit1(b, "Mul", [g, b.f32([beta], [])], {}, y), y, b.shape(Cn));
  }
  return out;
};

function _swapLast(r: number): number[] {
  const p = [...Array(r).keys()];
  [p[r - 2], p[r - 1]] = [p[r - 1], p[r - 2]];
  return p;
}

const _matmul: GradRule = (n, dY, b) => {
  const [A, B] = n.inputs, g = dY[0]!;
  const a = b.shape(A), bs = b.shape(B), y = b.shape(n.outputs[0]);
  const out: (string | undefined)[] = [undefined, undefined];
  if (b.live(A)) {
    const bt = emit1(b, "Transpose", [B], { perm: _swapLast(bs.length) });
    const full = [...y.slice(0, -2), a[a.length - 2], a[a.length - 1]];
    out[0] = b.reduceTo(emit1(b, "MatMul", [g, bt], {}, full), full, a);
  }
  if (b.live(B)) {
    const at = emit1(b, "Transpose", [A], { perm: _swapLast(a.length) });
    const full = [...y.slice(0, -2), bs[bs.length - 2], bs[bs.length - 1]];
    out[1] = b.reduceTo(emit1(b, "MatMul", [at, g], {}, full), full, bs);
  }
  return out;
};

const _softmax: GradRule = (n, dY, b) => {
  const y = b.shape(n.outputs[0]), Y = n.outputs[0], g = dY[0]!;
  const ax = axisOf(getAttr<number>(n.proto, "axis", -1), y.length);
  const axes = b.i64([ax]);
  if (n.op === "Softmax") {
    const s = emit1(b, "ReduceSum", [emit1(b, "Mul", [g, Y], {}, y), axes], { keepdims: 1 });
    return [emit1(b, "Mul", [Y, emit1(b, "Sub", [g, s], {}, y)], {}, y)];
  }
  const s = emit1(b, "ReduceSum", [g, axes], { keepdims: 1 });
  return [emit1(b, "Sub", [g, emit1(b, "Mul", [emit1(b, "Exp", [Y], {}, y), s], {}, y)], {}, y)];
};

const _transpose: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const perm = getAttr<number[]>(n.proto, "perm", [...Array(x.length).keys()].reverse());
  const inv = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [emit1(b, "Transpose", [dY[0]!], { perm: inv }, x)];
};

const _concat: GradRule = (n, dY, b) => {
  const sh = n.inputs.map((t) => b.shape(t));
  const ax = axisOf(getAttr<number>(n.proto, "axis", 0), sh[0].length);
  const outs = b.emit(
    "Split",
    [dY[0]!, b.i64(sh.map((s) => s[ax]))],
    { axis: ax },
    n.inputs.length,
  );
  outs.forEach((o, i) => b.setShape(o, sh[i]));
  return n.inputs.map((t, i) => (b.live(t) ? outs[i] : undefined));
};

const _split: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const ax = axisOf(getAttr<number>(n.proto, "axis", 0), x.length);
  const parts = n.outputs.map((o, i) => {
    if (dY[i]) return dY[i]!;
    const s = b.shape(o);
    return emit1(b, "ConstantOfShape", [b.i64(s)], {
      value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
    }, s);
  });
  return [emit1(b, "Concat", parts, { axis: ax }, x)];
};

const _pad: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), r = x.length;
  const mode = getAttr<string>(n.proto, "mode", "constant");
  if (mode !== "constant") {
    throw new ModelFormatError(
      `Cannot differentiate Pad ${n.name}: mode ${mode} is not supported (constant only)`,
    );
  }
  const pads = ints(needConstInput(n, 1, b));
  const axes = n.inputs[3]
    ? ints(needConstInput(n, 3, b)).map((a) => axisOf(a, r))
    : [...Array(r).keys()];
  if (pads.some((p) => p < 0)) {
    throw new ModelFormatError(`Cannot differentiate Pad ${n.name}: negative pads`);
  }
  const starts = axes.map((_, i) => pads[i]);
  const ends = axes.map((a, i) => pads[i] + x[a]);
  return [emit1(b, "Slice", [dY[0]!, b.i64(starts), b.i64(ends), b.i64(axes)], {}, x)];
};

const _bn: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  for (let i = 1; i < 5; i++) needConstInput(n, i, b);
  if (getAttr<number>(n.proto, "training_mode", 0) === 1) {
    throw new ModelFormatError(
      `Cannot differentiate BatchNormalization ${n.name}: training_mode is set`,
    );
  }
  const eps = getAttr<number>(n.proto, "epsilon", 1e-5);
  const gam = constValues(b.constOf(n.inputs[1])!), v = constValues(b.constOf(n.inputs[4])!);
  const s = Float32Array.from(gam, (gv, i) => gv / Math.sqrt(Math.fround(v[i] + eps)));
  const sh = x.map((d, i) => (i === 1 ? d : 1));
  return [emit1(b, "Mul", [dY[0]!, b.f32(s, sh)], {}, x)];
};

const _where: GradRule = (n, dY, b) => {
  const [Cd, A, B] = n.inputs, y = b.shape(n.outputs[0]), g = dY[0]!;
  const z = b.f32([0], []);
  return [
    undefined,
    b.live(A) ? b.reduceTo(emit1(b, "Where", [Cd, g, z], {}, y), y, b.shape(A)) : undefined,
    b.live(B) ? b.reduceTo(emit1(b, "Where", [Cd, z, g], {}, y), y, b.shape(B)) : undefined,
  ];
};

const _clip: GradRule = (n, dY, b) => {
  const X = n.inputs[0], x = b.shape(X);
  let mask: string | undefined;
  if (n.inputs[1]) mask = emit1(b, "GreaterOrEqual", [X, n.inputs[1]]);
  if (n.inputs[2]) {
    const m2 = emit1(b, "LessOrEqual", [X, n.inputs[2]]);
    mask = mask ? emit1(b, "And", [mask, m2]) : m2;
  }
  return [mask ? emit1(b, "Where", [mask, dY[0]!, b.f32([0], [])], {}, x) : dY[0]];
};

const _sum: GradRule = (n, dY, b) => {
  const y = b.shape(n.outputs[0]);
  return n.inputs.map((t) => (b.live(t) ? b.reduceTo(dY[0]!, y, b.shape(t)) : undefined));
};

const _expand: GradRule = (
  n,
  dY,
  b,
) => [b.reduceTo(dY[0]!, b.shape(n.outputs[0]), b.shape(n.inputs[0])), undefined];

/** Gradient rules by op type. */
export const GRADIENT_RULES: Readonly<Record<string, GradRule>> = {
  Conv: _conv,
  // The mask reads the Relu's output (Y > 0 ⇔ X > 0), not its input, so that onnxruntime can
  // still fuse Conv + Relu in the forward part (a fused pre-activation is never materialised).
  // Before a MaxPool the mask is applied at the pooled size, by the MaxPool rule.
  Relu: unaryRule((n, g, b) =>
    b.reluIntoMaxPool(n.outputs[0]) ? g : emit1(
      b,
      "Where",
      [emit1(b, "Greater", [n.outputs[0], b.f32([0], [])]), g, b.f32([0], [])],
      {},
      b.shape(n.inputs[0]),
    )
  ),
  LeakyRelu: unaryRule((n, g, b) => {
    const a = getAttr<number>(n.proto, "alpha", 0.01);
    const x = b.shape(n.inputs[0]);
    return emit1(
      b,
      "Where",
      [
        emit1(b, "Greater", [n.inputs[0], b.f32([0], [])]),
        g,
        emit1(b, "Mul", [g, b.f32([a], [])], {}, x),
      ],
      {},
      x,
    );
  }),
  MaxPool: _maxPool,
  AveragePool: _avgPool,
  GlobalAveragePool: _gap,
  Add: _binary,
  Sub: _binary,
  Mul: _binary,
  Div: _binary,
  Pow: _binary,
  Sum: _sum,
  BatchNormalization: _bn,
  Pad: _pad,
  Flatten: _reshapeBack,
  Reshape: _reshapeBack,
  Squeeze: _reshapeBack,
  Unsqueeze: _reshapeBack,
  Expand: _expand,
  Gemm: _gemm,
  MatMul: _matmul,
  Transpose: _transpose,
  Concat: _concat,
  Split: _split,
  Erf: unaryRule((n, g, b) => {
    const X = n.inputs[0], x = b.shape(X);
    const e = emit1(b, "Exp", [emit1(b, "Neg", [emit1(b, "Mul", [X, X], {}, x)], {}, x)], {}, x);
    return emit1(
      b,
      "Mul",
      [g, emit1(b, "Mul", [e, b.f32([2 / Math.sqrt(Math.PI)], [])], {}, x)],
      {},
      x,
    );
  }),
  Sqrt: unaryRule((n, g, b) =>
    emit1(
      b,
      "Div",
      [emit1(b, "Mul", [g, b.f32([0.5], [])]), n.outputs[0]],
      {},
      b.shape(n.inputs[0]),
    )
  ),
  Tanh: unaryRule((n, g, b) => {
    const Y = n.outputs[0];
    return emit1(
      b,
      "Mul",
      [g, emit1(b, "Sub", [b.f32([1], []), emit1(b, "Mul", [Y, Y])])],
      {},
      b.shape(Y),
    );
  }),
  Sigmoid: unaryRule((n, g, b) => {
    const Y = n.outputs[0];
    return emit1(
      b,
      "Mul",
      [g, emit1(b, "Mul", [Y, emit1(b, "Sub", [b.f32([1], []), Y])])],
      {},
      b.shape(Y),
    );
  }),
  Exp: unaryRule((n, g, b) => emit1(b, "Mul", [g, n.outputs[0]], {}, b.shape(n.inputs[0]))),
  Neg: unaryRule((n, g, b) => emit1(b, "Neg", [g], {}, b.shape(n.inputs[0]))),
  Reciprocal: unaryRule((n, g, b) => {
    const Y = n.outputs[0];
    return emit1(b, "Neg", [emit1(b, "Mul", [g, emit1(b, "Mul", [Y, Y])])], {}, b.shape(Y));
  }),
  Cast: (n, dY) => {
    const to = getAttr<number>(n.proto, "to", DT.FLOAT);
    if (to === DT.FLOAT) return [dY[0]];
    // To an integer or bool type: piecewise constant, no gradient (torch's `.long()`).
    if (_INTEGER_TYPES.has(to)) return [undefined];
    throw new ModelFormatError(
      `Cannot differentiate Cast ${n.name}: it casts a live tensor to element type ${to}; ` +
        "expected float32 (or an integer type, which passes no gradient)",
    );
  },
  Clip: _clip,
  Where: _where,
  Softmax: _softmax,
  LogSoftmax: _softmax,
  ConvTranspose: _convTranspose,
  // Inference-mode Dropout with its mask output used: the identity.
  Dropout: (n, dY) => n.inputs.map((_, i) => (i === 0 ? dY[0] : undefined)),
  ...POINTWISE_RULES,
  ...INDEX_RULES,
  ...REDUCE_RULES,
  ...EINSUM_RULES,
  ...RESIZE_RULES,
};

/**
 * The forward ops the gradient derivation supports (besides Identity, Dropout and Constant).
 *
 * @example
 * ```ts
 * import { SUPPORTED_OPS } from "../../mod.ts";
 * import { ok } from "node:assert";
 * ok(SUPPORTED_OPS.includes("Conv") && SUPPORTED_OPS.includes("Identity"));
 * ```
 */
export const SUPPORTED_OPS: readonly string[] = Object.freeze(
  [...new Set([...Object.keys(GRADIENT_RULES), "Identity", "Dropout", "Constant"])].sort(),
);
