/**
 * Gradient rules for reductions (ReduceSum/Mean/Max/Min/L1/L2/SumSquare/LogSumExp, keepdims or
 * not, `noop_with_empty_axes`) and for the normalisations over trailing axes
 * (LayerNormalization, InstanceNormalization).
 *
 * @module
 */

import { getAttr } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import type { PreparedNode } from "./graph.ts";
import { numel, reduceAxes } from "./shapes.ts";
import type { GradBuilder, GradRule } from "./rule_kit.ts";
import { axisOf, emit1, ints, needConstInput, reshape } from "./rule_kit.ts";

/** The reduced axes of a reduction node and the keepdims shape. */
function _reduced(n: PreparedNode, b: GradBuilder): { axes: number[]; keep: number[] } {
  const x = b.shape(n.inputs[0]);
  const axes = reduceAxes(
    n.proto,
    x.length,
    n.inputs[1] ? ints(needConstInput(n, 1, b)) : undefined,
  );
  return { axes, keep: x.map((d, i) => (axes.includes(i) ? 1 : d)) };
}

/** ∂/∂x of each reduction, as a factor of the broadcast output gradient. */
const _FACTOR: Record<
  string,
  (b: GradBuilder, n: PreparedNode, yKeep: string, x: number[], axes: number[]) => string | null
> = {
  ReduceSum: () => null,
  ReduceMean: (b, _n, _y, x, axes) => b.f32([1 / numel(axes.map((a) => x[a]))], []),
  ReduceSumSquare: (b, n, _y, x) => emit1(b, "Mul", [n.inputs[0], b.f32([2], [])], {}, x),
  ReduceL1: (b, n, _y, x) => emit1(b, "Sign", [n.inputs[0]], {}, x),
  // torch's norm backward: 0 where the norm is 0.
  ReduceL2: (b, n, y, x) => {
    const pos = emit1(b, "Greater", [y, b.f32([0], [])]);
    const safe = emit1(b, "Where", [pos, y, b.f32([1], [])]);
    return emit1(
      b,
      "Where",
      [pos, emit1(b, "Div", [n.inputs[0], safe], {}, x), b.f32([0], [])],
      {},
      x,
    );
  },
  ReduceLogSumExp: (b, n, y, x) =>
    emit1(b, "Exp", [emit1(b, "Sub", [n.inputs[0], y], {}, x)], {}, x),
  // torch's amax/amin: the gradient is shared evenly between tied extrema.
  ReduceMax: (b, n, y, x, axes) => _tieShare(b, n, y, x, axes),
  ReduceMin: (b, n, y, x, axes) => _tieShare(b, n, y, x, axes),
};

function _tieShare(b: GradBuilder, n: PreparedNode, y: string, x: number[], axes: number[]) {
  const m = emit1(b, "Cast", [emit1(b, "Equal", [n.inputs[0], y])], { to: 1 }, x);
  const cnt = emit1(b, "ReduceSum", [m, b.i64(axes)], { keepdims: 1 });
  return emit1(b, "Div", [m, cnt], {}, x);
}

const _reduce: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const { axes, keep } = _reduced(n, b);
  if (axes.length === 0) return [dY[0]!];
  let g = reshape(b, dY[0]!, keep);
  const keepdims = getAttr<number>(n.proto, "keepdims", 1) === 1;
  const yKeep = n.op === "ReduceSum" || n.op === "ReduceMean"
    ? ""
    : keepdims
    ? n.outputs[0]
    : reshape(b, n.outputs[0], keep);
  const f = _FACTOR[n.op](b, n, yKeep, x, axes);
  if (n.op === "ReduceMean") {
    // Scale before broadcasting: the same nodes, in the same order, as before this table.
    g = emit1(b, "Mul", [g, f!], {}, keep);
    return [emit1(b, "Expand", [g, b.i64(x)], {}, x)];
  }
  const e = emit1(b, "Expand", [g, b.i64(x)], {}, x);
  return [f ? emit1(b, "Mul", [e, f], {}, x) : e];
};

const _layerNorm: GradRule = (n, dY, b) => {
  const X = n.inputs[0], x = b.shape(X);
  if (b.live(n.inputs[1]) || (n.inputs[2] && b.live(n.inputs[2]))) needConstInput(n, 1, b);
  if (n.outputs.length > 1 && dY.slice(1).some((d) => d)) {
    throw new ModelFormatError(
      `Cannot differentiate LayerNormalization ${n.name}: its Mean/InvStdDev outputs are used`,
    );
  }
  const ax = axisOf(getAttr<number>(n.proto, "axis", -1), x.length);
  const eps = getAttr<number>(n.proto, "epsilon", 1e-5);
  return [
    _normalizedGrad(b, X, ax, eps, () => emit1(b, "Mul", [dY[0]!, n.inputs[1]], {}, x)),
  ];
};

/**
 * Gradient of x̂ = (x − mean)·rstd over axes `ax..`, given `scaled()` = ∂L/∂x̂ (the output
 * gradient times the scale, emitted after the statistics):
 * rstd·(g − mean(g) − x̂·mean(g·x̂)).
 */
function _normalizedGrad(
  b: GradBuilder,
  X: string,
  ax: number,
  eps: number,
  scaled: () => string,
): string {
  const x = b.shape(X);
  const axes = b.i64([...Array(x.length - ax).keys()].map((i) => i + ax));
  const red = x.map((d, i) => (i >= ax ? 1 : d));
  const invD = b.f32([1 / numel(x.slice(ax))], []);
  const mean = (t: string) =>
    emit1(b, "Mul", [emit1(b, "ReduceSum", [t, axes], { keepdims: 1 }), invD], {}, red);
  const xc = emit1(b, "Sub", [X, mean(X)], {}, x);
  const v = mean(emit1(b, "Mul", [xc, xc], {}, x));
  const rstd = emit1(
    b,
    "Reciprocal",
    [emit1(b, "Sqrt", [emit1(b, "Add", [v, b.f32([eps], [])])])],
    {},
    red,
  );
  const xh = emit1(b, "Mul", [xc, rstd], {}, x);
  const g = scaled();
  const t = emit1(
    b,
    "Sub",
    [
      emit1(b, "Sub", [g, mean(g)], {}, x),
      emit1(b, "Mul", [xh, mean(emit1(b, "Mul", [g, xh], {}, x))], {}, x),
    ],
    {},
    x,
  );
  return emit1(b, "Mul", [t, rstd], {}, x);
}

/** InstanceNormalization: per-(n, c) normalisation over the spatial axes, scale per channel. */
const _instanceNorm: GradRule = (n, dY, b) => {
  const X = n.inputs[0], x = b.shape(X);
  needConstInput(n, 1, b);
  const eps = getAttr<number>(n.proto, "epsilon", 1e-5);
  const sc = x.map((d, i) => (i === 1 ? d : 1));
  return [
    _normalizedGrad(
      b,
      X,
      2,
      eps,
      () => emit1(b, "Mul", [dY[0]!, reshape(b, n.inputs[1], sc)], {}, x),
    ),
    undefined,
    undefined,
  ];
};

/** Reduction and normalisation rules by op type. */
export const REDUCE_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  ...Object.fromEntries(Object.keys(_FACTOR).map((op) => [op, _reduce])),
  LayerNormalization: _layerNorm,
  InstanceNormalization: _instanceNorm,
});
