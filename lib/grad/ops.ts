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
import { type Const, constValues, type PreparedNode } from "./graph.ts";
import { numel, sliceParams, windowGeometry } from "./shapes.ts";

/** What a gradient rule can ask of the graph under construction. */
export interface GradBuilder {
  /** Shape of a tensor of the forward graph or of an emitted gradient. */
  shape(t: string): number[];
  /** The constant behind a tensor name, if it is one. */
  constOf(t: string): Const | undefined;
  /** Whether a forward tensor depends on the image input. */
  live(t: string): boolean;
  /** Emits a node; returns its output names (fresh). */
  emit(op: string, inputs: string[], attrs?: Record<string, unknown>, outputs?: number): string[];
  /** Adds a float32 constant; returns its name. */
  f32(values: ArrayLike<number>, dims: number[]): string;
  /** Adds an int64 constant; returns its name. */
  i64(values: number[], dims?: number[]): string;
  /** Sums `g` (of shape `from`) over broadcast axes down to shape `to`. */
  reduceTo(g: string, from: number[], to: number[]): string;
  /** Records the shape of an emitted tensor. */
  setShape(t: string, s: number[]): void;
  /** Name of the Indices output added to a MaxPool node (CPU target). */
  maxPoolIndices(n: PreparedNode): string | undefined;
  /** Runtime the graph is for. */
  target: "cpu" | "webgpu";
  /** Stride-1 Conv gradients as flipped-kernel Conv (`"conv"`) or ConvTranspose. */
  convGrad: "conv" | "convtranspose";
  /** A constant holding Conv weight `w` flipped spatially with in/out channels swapped per group. */
  flippedWeight(w: string, group: number): string;
}

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

/** A rule: gradients for each input (undefined where not needed) from the output gradients. */
export type GradRule = (
  n: PreparedNode,
  dY: (string | undefined)[],
  b: GradBuilder,
) => (string | undefined)[];

function _e(
  b: GradBuilder,
  op: string,
  ins: string[],
  attrs: Record<string, unknown> = {},
  shape?: number[],
) {
  const [o] = b.emit(op, ins, attrs);
  if (shape) b.setShape(o, shape);
  return o;
}

function _needConstInput(n: PreparedNode, i: number, b: GradBuilder): Const {
  const c = b.constOf(n.inputs[i]);
  if (!c) {
    throw new ModelFormatError(
      `Cannot differentiate ${n.op} node ${n.name}: input ${i} (${n.inputs[i]}) depends on the ` +
        "image input but only the first input may (weights must be constants)",
    );
  }
  return c;
}

function _ints(c: Const): number[] {
  return Array.from(constValues(c), Number);
}

function _reshape(b: GradBuilder, g: string, to: number[]): string {
  return _e(b, "Reshape", [g, b.i64(to)], {}, to);
}

function _unary(fn: (n: PreparedNode, dy: string, b: GradBuilder) => string): GradRule {
  return (n, dY, b) => [fn(n, dY[0]!, b)];
}

function _axis(a: number, r: number): number {
  return a < 0 ? a + r : a;
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
  if (b.live(n.inputs[1]) || (n.inputs[2] && b.live(n.inputs[2]))) _needConstInput(n, 1, b);
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
    return [_e(b, "Conv", [dY[0]!, wf], {
      pads: padsT,
      dilations: geo.dilations,
      group,
      kernel_shape: k,
    }, x)];
  }
  const dx = _e(b, "ConvTranspose", [dY[0]!, n.inputs[1]], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group,
    kernel_shape: k,
    output_padding: _outputPadding(x.slice(2), y.slice(2), k, geo),
  }, x);
  return [dx];
};

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
    const z = _e(b, "ConstantOfShape", [b.i64(flat)], {
      value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
    }, flat);
    const s = _e(b, "ScatterElements", [
      z,
      _reshape(b, idx, [numel(y)]),
      _reshape(b, dY[0]!, [numel(y)]),
    ], {
      axis: 0,
      reduction: "add",
    }, flat);
    return [_reshape(b, s, x)];
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
  const u = _e(b, "Conv", [n.inputs[0], w1], common, [N, C * K2, Ho, Wo]);
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
  const u5 = _reshape(b, u, s5);
  const y5 = _reshape(b, n.outputs[0], [N, C, 1, Ho, Wo]);
  const eq = _e(b, "Cast", [_e(b, "Equal", [u5, y5])], { to: DT.FLOAT }, s5);
  const m = _e(b, "Mul", [eq, b.f32(valid, [1, 1, K2, Ho, Wo])], {}, s5);
  // Exclusive prefix count of maxima before each window position (grouped 1×1 Conv).
  const tri = new Float32Array(C * K2 * K2);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < K2; j++) for (let i = 0; i < j; i++) tri[(c * K2 + j) * K2 + i] = 1;
  }
  const m4 = _reshape(b, m, [N, C * K2, Ho, Wo]);
  const p = _e(
    b,
    "Conv",
    [m4, b.f32(tri, [C * K2, K2, 1, 1])],
    { group: C, kernel_shape: [1, 1] },
    [N, C * K2, Ho, Wo],
  );
  const first = _e(b, "Mul", [m4, _e(b, "Relu", [_e(b, "Sub", [b.f32([1], []), p])])]);
  const g5 = _e(b, "Mul", [_reshape(b, first, s5), _reshape(b, dy, [N, C, 1, Ho, Wo])], {}, s5);
  return _e(b, "ConvTranspose", [_reshape(b, g5, [N, C * K2, Ho, Wo]), w1], {
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
  const scaled = _e(b, "Mul", [dY[0]!, b.f32(inv, [1, 1, ...sp])], {}, y);
  const ones = b.f32(new Float32Array(C * numel(k)).fill(1), [C, 1, ...k]);
  return [_e(b, "ConvTranspose", [scaled, ones], {
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
  const sc = _e(b, "Mul", [dY[0]!, b.f32([1 / numel(x.slice(2))], [])], {}, y);
  return [_e(b, "Expand", [sc, b.i64(x)], {}, x)];
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
        lb ? b.reduceTo(_e(b, "Neg", [g], {}, y), y, bs) : undefined,
      ];
    case "Mul":
      return [
        la ? b.reduceTo(_e(b, "Mul", [g, B], {}, y), y, a) : undefined,
        lb ? b.reduceTo(_e(b, "Mul", [g, A], {}, y), y, bs) : undefined,
      ];
    case "Div":
      return [
        la ? b.reduceTo(_e(b, "Div", [g, B], {}, y), y, a) : undefined,
        lb
          ? b.reduceTo(
            _e(b, "Neg", [_e(b, "Div", [_e(b, "Mul", [g, n.outputs[0]]), B])], {}, y),
            y,
            bs,
          )
          : undefined,
      ];
    case "Pow": {
      if (lb) _needConstInput(n, 1, b);
      const e = _ints(_needConstInput(n, 1, b)).length === 1
        ? Number(constValues(b.constOf(B)!)[0])
        : NaN;
      if (!Number.isFinite(e)) {
        throw new ModelFormatError(
          `Cannot differentiate Pow ${n.name}: the exponent must be a scalar constant`,
        );
      }
      const d = _e(b, "Mul", [_e(b, "Pow", [A, b.f32([e - 1], [])]), b.f32([e], [])], {}, a);
      return [b.reduceTo(_e(b, "Mul", [g, d], {}, y), y, a), undefined];
    }
  }
  throw new Error(`unreachable: ${n.op}`);
}

const _reshapeBack: GradRule = (n, dY, b) => [_reshape(b, dY[0]!, b.shape(n.inputs[0]))];

const _gemm: GradRule = (n, dY, b) => {
  const [A, B, Cn] = n.inputs, p = n.proto, g = dY[0]!;
  const alpha = getAttr<number>(p, "alpha", 1), beta = getAttr<number>(p, "beta", 1);
  const ta = getAttr<number>(p, "transA", 0), tb = getAttr<number>(p, "transB", 0);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (b.live(A)) {
    out[0] = ta
      ? _e(b, "Gemm", [B, g], { transA: tb, transB: 1, alpha: new F(alpha) }, b.shape(A))
      : _e(b, "Gemm", [g, B], { transB: tb ? 0 : 1, alpha: new F(alpha) }, b.shape(A));
  }
  if (b.live(B)) {
    out[1] = tb
      ? _e(b, "Gemm", [g, A], { transA: 1, transB: ta, alpha: new F(alpha) }, b.shape(B))
      : _e(b, "Gemm", [A, g], { transA: ta ? 0 : 1, alpha: new F(alpha) }, b.shape(B));
  }
  if (Cn && b.live(Cn)) {
    const y = b.shape(n.outputs[0]);
    out[2] = b.reduceTo(_e(b, "Mul", [g, b.f32([beta], [])], {}, y), y, b.shape(Cn));
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
    const bt = _e(b, "Transpose", [B], { perm: _swapLast(bs.length) });
    const full = [...y.slice(0, -2), a[a.length - 2], a[a.length - 1]];
    out[0] = b.reduceTo(_e(b, "MatMul", [g, bt], {}, full), full, a);
  }
  if (b.live(B)) {
    const at = _e(b, "Transpose", [A], { perm: _swapLast(a.length) });
    const full = [...y.slice(0, -2), bs[bs.length - 2], bs[bs.length - 1]];
    out[1] = b.reduceTo(_e(b, "MatMul", [at, g], {}, full), full, bs);
  }
  return out;
};

const _layerNorm: GradRule = (n, dY, b) => {
  const X = n.inputs[0], x = b.shape(X), g0 = dY[0]!;
  if (b.live(n.inputs[1]) || (n.inputs[2] && b.live(n.inputs[2]))) _needConstInput(n, 1, b);
  if (n.outputs.length > 1 && dY.slice(1).some((d) => d)) {
    throw new ModelFormatError(
      `Cannot differentiate LayerNormalization ${n.name}: its Mean/InvStdDev outputs are used`,
    );
  }
  const ax = _axis(getAttr<number>(n.proto, "axis", -1), x.length);
  const eps = getAttr<number>(n.proto, "epsilon", 1e-5);
  const axes = b.i64([...Array(x.length - ax).keys()].map((i) => i + ax));
  const red = x.map((d, i) => (i >= ax ? 1 : d));
  const invD = b.f32([1 / numel(x.slice(ax))], []);
  const mean = (t: string) =>
    _e(b, "Mul", [_e(b, "ReduceSum", [t, axes], { keepdims: 1 }), invD], {}, red);
  const xc = _e(b, "Sub", [X, mean(X)], {}, x);
  const v = mean(_e(b, "Mul", [xc, xc], {}, x));
  const rstd = _e(b, "Reciprocal", [_e(b, "Sqrt", [_e(b, "Add", [v, b.f32([eps], [])])])], {}, red);
  const xh = _e(b, "Mul", [xc, rstd], {}, x);
  const g = _e(b, "Mul", [g0, n.inputs[1]], {}, x);
  const t = _e(
    b,
    "Sub",
    [
      _e(b, "Sub", [g, mean(g)], {}, x),
      _e(b, "Mul", [xh, mean(_e(b, "Mul", [g, xh], {}, x))], {}, x),
    ],
    {},
    x,
  );
  return [_e(b, "Mul", [t, rstd], {}, x)];
};

const _softmax: GradRule = (n, dY, b) => {
  const y = b.shape(n.outputs[0]), Y = n.outputs[0], g = dY[0]!;
  const ax = _axis(getAttr<number>(n.proto, "axis", -1), y.length);
  const axes = b.i64([ax]);
  if (n.op === "Softmax") {
    const s = _e(b, "ReduceSum", [_e(b, "Mul", [g, Y], {}, y), axes], { keepdims: 1 });
    return [_e(b, "Mul", [Y, _e(b, "Sub", [g, s], {}, y)], {}, y)];
  }
  const s = _e(b, "ReduceSum", [g, axes], { keepdims: 1 });
  return [_e(b, "Sub", [g, _e(b, "Mul", [_e(b, "Exp", [Y], {}, y), s], {}, y)], {}, y)];
};

const _transpose: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const perm = getAttr<number[]>(n.proto, "perm", [...Array(x.length).keys()].reverse());
  const inv = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [_e(b, "Transpose", [dY[0]!], { perm: inv }, x)];
};

const _concat: GradRule = (n, dY, b) => {
  const sh = n.inputs.map((t) => b.shape(t));
  const ax = _axis(getAttr<number>(n.proto, "axis", 0), sh[0].length);
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
  const ax = _axis(getAttr<number>(n.proto, "axis", 0), x.length);
  const parts = n.outputs.map((o, i) => {
    if (dY[i]) return dY[i]!;
    const s = b.shape(o);
    return _e(b, "ConstantOfShape", [b.i64(s)], {
      value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
    }, s);
  });
  return [_e(b, "Concat", parts, { axis: ax }, x)];
};

const _slice: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const c = (i: number) => (n.inputs[i] ? _ints(_needConstInput(n, i, b)) : undefined);
  const sl = sliceParams(x, c(1)!, c(2)!, c(3), c(4));
  if (sl.some((s) => s.step !== 1)) {
    throw new ModelFormatError(`Cannot differentiate Slice ${n.name}: only step 1 is supported`);
  }
  const pads = [...sl.map((s) => s.start), ...sl.map((s, i) => x[i] - s.start - s.len)];
  return [_e(b, "Pad", [dY[0]!, b.i64(pads)], { mode: "constant" }, x)];
};

const _pad: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), r = x.length;
  const mode = getAttr<string>(n.proto, "mode", "constant");
  if (mode !== "constant") {
    throw new ModelFormatError(
      `Cannot differentiate Pad ${n.name}: mode ${mode} is not supported (constant only)`,
    );
  }
  const pads = _ints(_needConstInput(n, 1, b));
  const axes = n.inputs[3]
    ? _ints(_needConstInput(n, 3, b)).map((a) => _axis(a, r))
    : [...Array(r).keys()];
  if (pads.some((p) => p < 0)) {
    throw new ModelFormatError(`Cannot differentiate Pad ${n.name}: negative pads`);
  }
  const starts = axes.map((_, i) => pads[i]);
  const ends = axes.map((a, i) => pads[i] + x[a]);
  return [_e(b, "Slice", [dY[0]!, b.i64(starts), b.i64(ends), b.i64(axes)], {}, x)];
};

const _gather: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), r = x.length;
  const ax = _axis(getAttr<number>(n.proto, "axis", 0), r);
  const ic = _needConstInput(n, 1, b);
  const idx = _ints(ic).map((i) => (i < 0 ? i + x[ax] : i));
  const g = dY[0]!;
  const contiguous = idx.every((v, i) => v === idx[0] + i);
  if (contiguous && ic.dims.length <= 1) {
    const q = idx.length;
    const mid = [...x.slice(0, ax), q, ...x.slice(ax + 1)];
    const g2 = _reshape(b, g, mid);
    const pads = new Array(2 * r).fill(0);
    pads[ax] = idx[0];
    pads[ax + r] = x[ax] - idx[0] - q;
    return [_e(b, "Pad", [g2, b.i64(pads)], { mode: "constant" }, x), undefined];
  }
  const q = idx.length;
  const mid = [...x.slice(0, ax), q, ...x.slice(ax + 1)];
  const g2 = _reshape(b, g, mid);
  const ishape = mid.map((d, i) => (i === ax ? d : 1));
  const full = _e(b, "Expand", [b.i64(idx, ishape), b.i64(mid)], {}, mid);
  const z = _e(b, "ConstantOfShape", [b.i64(x)], {
    value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
  }, x);
  return [_e(b, "ScatterElements", [z, full, g2], { axis: ax, reduction: "add" }, x), undefined];
};

const _reduce: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const axes0 = n.inputs[1]
    ? _ints(_needConstInput(n, 1, b))
    : getAttr<number[] | undefined>(n.proto, "axes", undefined);
  const axes = (axes0 ?? [...x.keys()]).map((a) => _axis(a, x.length));
  const keep = x.map((d, i) => (axes.includes(i) ? 1 : d));
  let g = _reshape(b, dY[0]!, keep);
  if (n.op === "ReduceMean") {
    g = _e(
      b,
      "Mul",
      [g, b.f32([1 / numel(axes.map((a) => x[a]))], [])],
      {},
      keep,
    );
  }
  return [_e(b, "Expand", [g, b.i64(x)], {}, x)];
};

const _bn: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  for (let i = 1; i < 5; i++) _needConstInput(n, i, b);
  if (getAttr<number>(n.proto, "training_mode", 0) === 1) {
    throw new ModelFormatError(
      `Cannot differentiate BatchNormalization ${n.name}: training_mode is set`,
    );
  }
  const eps = getAttr<number>(n.proto, "epsilon", 1e-5);
  const gam = constValues(b.constOf(n.inputs[1])!), v = constValues(b.constOf(n.inputs[4])!);
  const s = Float32Array.from(gam, (gv, i) => gv / Math.sqrt(Math.fround(v[i] + eps)));
  const sh = x.map((d, i) => (i === 1 ? d : 1));
  return [_e(b, "Mul", [dY[0]!, b.f32(s, sh)], {}, x)];
};

const _where: GradRule = (n, dY, b) => {
  const [Cd, A, B] = n.inputs, y = b.shape(n.outputs[0]), g = dY[0]!;
  const z = b.f32([0], []);
  return [
    undefined,
    b.live(A) ? b.reduceTo(_e(b, "Where", [Cd, g, z], {}, y), y, b.shape(A)) : undefined,
    b.live(B) ? b.reduceTo(_e(b, "Where", [Cd, z, g], {}, y), y, b.shape(B)) : undefined,
  ];
};

const _clip: GradRule = (n, dY, b) => {
  const X = n.inputs[0], x = b.shape(X);
  let mask: string | undefined;
  if (n.inputs[1]) mask = _e(b, "GreaterOrEqual", [X, n.inputs[1]]);
  if (n.inputs[2]) {
    const m2 = _e(b, "LessOrEqual", [X, n.inputs[2]]);
    mask = mask ? _e(b, "And", [mask, m2]) : m2;
  }
  return [mask ? _e(b, "Where", [mask, dY[0]!, b.f32([0], [])], {}, x) : dY[0]];
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
  Relu: _unary((n, g, b) =>
    _e(
      b,
      "Where",
      [_e(b, "Greater", [n.outputs[0], b.f32([0], [])]), g, b.f32([0], [])],
      {},
      b.shape(n.inputs[0]),
    )
  ),
  LeakyRelu: _unary((n, g, b) => {
    const a = getAttr<number>(n.proto, "alpha", 0.01);
    const x = b.shape(n.inputs[0]);
    return _e(
      b,
      "Where",
      [
        _e(b, "Greater", [n.inputs[0], b.f32([0], [])]),
        g,
        _e(b, "Mul", [g, b.f32([a], [])], {}, x),
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
  Slice: _slice,
  Gather: _gather,
  Erf: _unary((n, g, b) => {
    const X = n.inputs[0], x = b.shape(X);
    const e = _e(b, "Exp", [_e(b, "Neg", [_e(b, "Mul", [X, X], {}, x)], {}, x)], {}, x);
    return _e(b, "Mul", [g, _e(b, "Mul", [e, b.f32([2 / Math.sqrt(Math.PI)], [])], {}, x)], {}, x);
  }),
  Sqrt: _unary((n, g, b) =>
    _e(b, "Div", [_e(b, "Mul", [g, b.f32([0.5], [])]), n.outputs[0]], {}, b.shape(n.inputs[0]))
  ),
  Tanh: _unary((n, g, b) => {
    const Y = n.outputs[0];
    return _e(b, "Mul", [g, _e(b, "Sub", [b.f32([1], []), _e(b, "Mul", [Y, Y])])], {}, b.shape(Y));
  }),
  Sigmoid: _unary((n, g, b) => {
    const Y = n.outputs[0];
    return _e(b, "Mul", [g, _e(b, "Mul", [Y, _e(b, "Sub", [b.f32([1], []), Y])])], {}, b.shape(Y));
  }),
  Exp: _unary((n, g, b) => _e(b, "Mul", [g, n.outputs[0]], {}, b.shape(n.inputs[0]))),
  Neg: _unary((n, g, b) => _e(b, "Neg", [g], {}, b.shape(n.inputs[0]))),
  Reciprocal: _unary((n, g, b) => {
    const Y = n.outputs[0];
    return _e(b, "Neg", [_e(b, "Mul", [g, _e(b, "Mul", [Y, Y])])], {}, b.shape(Y));
  }),
  Cast: _unary((n, g, _b) => {
    if (getAttr<number>(n.proto, "to", DT.FLOAT) !== DT.FLOAT) {
      throw new ModelFormatError(
        `Cannot differentiate Cast ${n.name}: it casts a live tensor to a non-float type`,
      );
    }
    return g;
  }),
  Clip: _clip,
  Where: _where,
  LayerNormalization: _layerNorm,
  Softmax: _softmax,
  LogSoftmax: _softmax,
  ReduceMean: _reduce,
  ReduceSum: _reduce,
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
  [...Object.keys(GRADIENT_RULES), "Identity", "Dropout", "Constant"].sort(),
);
