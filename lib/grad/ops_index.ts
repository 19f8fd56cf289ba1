/**
 * Gradient rules for indexing ops: Gather (constant or run-time indices, any index rank), Slice
 * with any steps, GatherElements, GatherND, ScatterND, Tile and CumSum. Gathers scatter-add the
 * output gradient back into zeros (repeated indices accumulate, as in torch); scatters route it
 * around the overwritten positions.
 *
 * @module
 */

import { getAttr } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { numel, sliceParams } from "./shapes.ts";
import type { GradBuilder, GradRule } from "./rule_kit.ts";
import { axisOf, emit1, ints, needConstInput, reshape, zeros } from "./rule_kit.ts";

/**
 * Scatter-adds `g` (shape `mid` = x with axis `ax` of length q) into zeros of shape `x` at the
 * positions `idx` (a constant list, or a run-time int tensor of q elements) along `ax`.
 */
function _unGather(
  b: GradBuilder,
  g: string,
  x: number[],
  ax: number,
  idx: number[] | string,
): string {
  const q = typeof idx === "string" ? numel(b.shape(idx)) : idx.length;
  const mid = [...x.slice(0, ax), q, ...x.slice(ax + 1)];
  const ishape = mid.map((d, i) => (i === ax ? d : 1));
  const col = typeof idx === "string" ? reshape(b, idx, ishape) : b.i64(idx, ishape);
  const full = emit1(b, "Expand", [col, b.i64(mid)], {}, mid);
  return emit1(b, "ScatterElements", [zeros(b, x), full, reshape(b, g, mid)], {
    axis: ax,
    reduction: "add",
  }, x);
}

const _gather: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), r = x.length;
  const ax = axisOf(getAttr<number>(n.proto, "axis", 0), r);
  const g = dY[0]!;
  const ic = b.constOf(n.inputs[1]);
  if (!ic) {
    // Run-time indices (e.g. from an ArgMax): negative ones wrap as Gather's do.
    const I = n.inputs[1], s = b.shape(I);
    const neg = emit1(b, "Less", [I, b.i64([0], [])], {}, s);
    const wrapped = emit1(
      b,
      "Where",
      [neg, emit1(b, "Add", [I, b.i64([x[ax]], [])], {}, s), I],
      {},
      s,
    );
    return [_unGather(b, g, x, ax, wrapped), undefined];
  }
  const idx = ints(ic).map((i) => (i < 0 ? i + x[ax] : i));
  const contiguous = idx.every((v, i) => v === idx[0] + i);
  if (contiguous && ic.dims.length <= 1) {
    const q = idx.length;
    const mid = [...x.slice(0, ax), q, ...x.slice(ax + 1)];
    const g2 = reshape(b, g, mid);
    const pads = new Array(2 * r).fill(0);
    pads[ax] = idx[0];
    pads[ax + r] = x[ax] - idx[0] - q;
    return [emit1(b, "Pad", [g2, b.i64(pads)], { mode: "constant" }, x), undefined];
  }
  return [_unGather(b, g, x, ax, idx), undefined];
};

/** Slice: strided axes are scattered back one by one, then unit-step axes are zero-padded. */
const _slice: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const c = (i: number) => (n.inputs[i] ? ints(needConstInput(n, i, b)) : undefined);
  const sl = sliceParams(x, c(1)!, c(2)!, c(3), c(4));
  let g = dY[0]!, cur = sl.map((s) => s.len);
  sl.forEach((s, a) => {
    if (s.step === 1 || s.len === 0) return;
    const to = cur.map((d, i) => (i === a ? x[a] : d));
    g = _unGather(b, g, to, a, Array.from({ length: s.len }, (_, q) => s.start + q * s.step));
    cur = to;
  });
  const unit = (a: number) => sl[a].step === 1 || sl[a].len === 0;
  if (sl.every((s, a) => !unit(a) || (s.start === 0 && s.len === x[a]))) return [g];
  const pads = [
    ...sl.map((s, a) => (unit(a) && s.len ? s.start : 0)),
    ...sl.map((s, a) => (unit(a) ? x[a] - (s.len ? s.start : 0) - s.len : 0)),
  ];
  return [emit1(b, "Pad", [g, b.i64(pads)], { mode: "constant" }, x)];
};

const _gatherElements: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]);
  const ax = axisOf(getAttr<number>(n.proto, "axis", 0), x.length);
  return [
    emit1(b, "ScatterElements", [zeros(b, x), n.inputs[1], dY[0]!], {
      axis: ax,
      reduction: "add",
    }, x),
    undefined,
  ];
};

function _noBatchDims(n: { op: string; name: string; proto: Parameters<typeof getAttr>[0] }) {
  if (getAttr<number>(n.proto, "batch_dims", 0) !== 0) {
    throw new ModelFormatError(
      `Cannot differentiate ${n.op} ${n.name}: batch_dims is ${
        getAttr<number>(n.proto, "batch_dims", 0)
      } but only 0 is supported`,
    );
  }
}

const _gatherND: GradRule = (n, dY, b) => {
  _noBatchDims(n);
  const x = b.shape(n.inputs[0]);
  return [
    emit1(b, "ScatterND", [zeros(b, x), n.inputs[1], dY[0]!], { reduction: "add" }, x),
    undefined,
  ];
};

/** ScatterND: data gets g except at the written positions; updates get g gathered there. */
const _scatterND: GradRule = (n, dY, b) => {
  const [D, I, U] = n.inputs, g = dY[0]!;
  const red = getAttr<string>(n.proto, "reduction", "none");
  if (red !== "none" && red !== "add") {
    throw new ModelFormatError(
      `Cannot differentiate ScatterND ${n.name}: reduction is ${red} but only none and add are ` +
        "supported",
    );
  }
  const x = b.shape(D), u = b.shape(U);
  const dData = red === "add" ? g : emit1(b, "ScatterND", [g, I, zeros(b, u)], {}, x);
  return [
    b.live(D) ? dData : undefined,
    undefined,
    b.live(U) ? emit1(b, "GatherND", [g, I], {}, u) : undefined,
  ];
};

/** Tile: the output axis i is (repeat, element) row-major, so sum over the repeat halves. */
const _tile: GradRule = (n, dY, b) => {
  const x = b.shape(n.inputs[0]), rep = ints(needConstInput(n, 1, b));
  const split = x.flatMap((d, i) => [rep[i], d]);
  const g = reshape(b, dY[0]!, split);
  const axes = x.map((_, i) => 2 * i);
  return [emit1(b, "ReduceSum", [g, b.i64(axes)], { keepdims: 0 }, x), undefined];
};

/** CumSum: the adjoint is the cumulative sum in the other direction (same exclusivity). */
const _cumSum: GradRule = (n, dY, b) => {
  const rev = getAttr<number>(n.proto, "reverse", 0);
  return [
    emit1(b, "CumSum", [dY[0]!, n.inputs[1]], {
      reverse: rev ? 0 : 1,
      exclusive: getAttr<number>(n.proto, "exclusive", 0),
    }, b.shape(n.inputs[0])),
    undefined,
  ];
};

/** Indexing rules by op type. */
export const INDEX_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  Gather: _gather,
  Slice: _slice,
  GatherElements: _gatherElements,
  GatherND: _gatherND,
  ScatterND: _scatterND,
  Tile: _tile,
  CumSum: _cumSum,
});
