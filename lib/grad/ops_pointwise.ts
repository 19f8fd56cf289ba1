/**
 * Gradient rules for pointwise activations beyond MODELS.md's table (HardSigmoid, HardSwish,
 * Softplus, Log, Elu, Selu, Celu, Softsign, Mish, Gelu, PRelu, ThresholdedRelu, Abs, Sin, Cos),
 * n-ary Max/Min/Mean, and the ops whose output is piecewise constant in the input (comparisons,
 * Sign, Floor, Ceil, Round, ArgMax, integer Cast): they pass no gradient. Each rule follows
 * torch's autograd convention at kinks, so derived and torch gradients agree there too.
 *
 * @module
 */

import { getAttr } from "../onnx/proto.ts";
import { emit1, type GradBuilder, type GradRule, unaryRule } from "./rule_kit.ts";
import type { PreparedNode } from "./graph.ts";

/** `Where(cond, a, b)` with the shape of input 0. */
function _where(b: GradBuilder, n: PreparedNode, cond: string, a: string, c: string): string {
  return emit1(b, "Where", [cond, a, c], {}, b.shape(n.inputs[0]));
}

function _mul(b: GradBuilder, n: PreparedNode, ...xs: string[]): string {
  return xs.reduce((p, q) => emit1(b, "Mul", [p, q], {}, b.shape(n.inputs[0])));
}

/** `HardSigmoid`: α·g where 0 < αx+β < 1 (torch: `hardsigmoid_backward`, open interval). */
const _hardSigmoid = unaryRule((n, g, b) => {
  const a = getAttr<number>(n.proto, "alpha", 0.2), bt = getAttr<number>(n.proto, "beta", 0.5);
  const X = n.inputs[0];
  const lin = emit1(b, "Add", [emit1(b, "Mul", [X, b.f32([a], [])]), b.f32([bt], [])]);
  const inside = emit1(b, "And", [
    emit1(b, "Greater", [lin, b.f32([0], [])]),
    emit1(b, "Less", [lin, b.f32([1], [])]),
  ]);
  return _where(b, n, inside, _mul(b, n, g, b.f32([a], [])), b.f32([0], []));
});

/** `HardSwish` = x·HardSigmoid(x; 1/6, ½): 0 below −3, g above 3, g·(x/3 + ½) between (torch). */
const _hardSwish = unaryRule((n, g, b) => {
  const X = n.inputs[0];
  const mid = emit1(b, "Add", [emit1(b, "Mul", [X, b.f32([1 / 3], [])]), b.f32([0.5], [])]);
  const upper = _where(b, n, emit1(b, "LessOrEqual", [X, b.f32([3], [])]), _mul(b, n, g, mid), g);
  return _where(b, n, emit1(b, "Less", [X, b.f32([-3], [])]), b.f32([0], []), upper);
});

/** σ(x) for Softplus/Mish (beta 1, as ONNX defines them). */
function _sigmoid(b: GradBuilder, n: PreparedNode): string {
  return emit1(b, "Sigmoid", [n.inputs[0]], {}, b.shape(n.inputs[0]));
}

/** `Mish` = x·tanh(softplus(x)): tanh(sp) + x·σ(x)·(1 − tanh²(sp)). */
const _mish = unaryRule((n, g, b) => {
  const X = n.inputs[0];
  const t = emit1(b, "Tanh", [emit1(b, "Softplus", [X])], {}, b.shape(X));
  const sech2 = emit1(b, "Sub", [b.f32([1], []), emit1(b, "Mul", [t, t])]);
  const d = emit1(b, "Add", [t, _mul(b, n, X, _sigmoid(b, n), sech2)], {}, b.shape(X));
  return _mul(b, n, g, d);
});

/** `Gelu` (opset 20): exact Φ(x) + x·φ(x), or torch's tanh approximation's derivative. */
const _gelu = unaryRule((n, g, b) => {
  const X = n.inputs[0], x = b.shape(X);
  if (getAttr<string>(n.proto, "approximate", "none") === "tanh") {
    const k = Math.sqrt(2 / Math.PI), c = 0.044715;
    const x2 = emit1(b, "Mul", [X, X], {}, x);
    const inner = _mul(
      b,
      n,
      b.f32([k], []),
      X,
      emit1(b, "Add", [b.f32([1], []), _mul(b, n, x2, b.f32([c], []))]),
    );
    const t = emit1(b, "Tanh", [inner], {}, x);
    const sech2 = emit1(b, "Sub", [b.f32([1], []), emit1(b, "Mul", [t, t])], {}, x);
    const dInner = _mul(
      b,
      n,
      b.f32([k], []),
      emit1(b, "Add", [b.f32([1], []), _mul(b, n, x2, b.f32([3 * c], []))]),
    );
    const d = emit1(
      b,
      "Add",
      [
        _mul(b, n, b.f32([0.5], []), emit1(b, "Add", [b.f32([1], []), t], {}, x)),
        _mul(b, n, b.f32([0.5], []), X, sech2, dInner),
      ],
      {},
      x,
    );
    return _mul(b, n, g, d);
  }
  const cdf = _mul(
    b,
    n,
    b.f32([0.5], []),
    emit1(
      b,
      "Add",
      [b.f32([1], []), emit1(b, "Erf", [_mul(b, n, X, b.f32([Math.SQRT1_2], []))])],
      {},
      x,
    ),
  );
  const pdf = _mul(
    b,
    n,
    b.f32([1 / Math.sqrt(2 * Math.PI)], []),
    emit1(b, "Exp", [_mul(b, n, X, X, b.f32([-0.5], []))], {}, x),
  );
  return _mul(b, n, g, emit1(b, "Add", [cdf, _mul(b, n, X, pdf)], {}, x));
});

/** Elu/Selu/Celu: g·scale for x > 0, else g·(y + scale·α) (Celu: g·exp(x/α)). */
function _expLinear(kind: "Elu" | "Selu" | "Celu"): GradRule {
  return unaryRule((n, g, b) => {
    const X = n.inputs[0], Y = n.outputs[0];
    const alpha = getAttr<number>(
      n.proto,
      "alpha",
      kind === "Selu" ? 1.67326319217681884765625 : 1,
    );
    const gamma = kind === "Selu"
      ? getAttr<number>(n.proto, "gamma", 1.05070102214813232421875)
      : 1;
    const neg = kind === "Celu"
      ? emit1(b, "Exp", [emit1(b, "Div", [X, b.f32([alpha], [])])], {}, b.shape(X))
      : emit1(b, "Add", [Y, b.f32([gamma * alpha], [])], {}, b.shape(X));
    const pos = gamma === 1 ? g : _mul(b, n, g, b.f32([gamma], []));
    return _where(b, n, emit1(b, "Greater", [X, b.f32([0], [])]), pos, _mul(b, n, g, neg));
  });
}

/** PRelu(x, slope): g where x > 0, else g·slope; the slope is a constant. */
const _prelu: GradRule = (n, dY, b) => {
  const X = n.inputs[0], g = dY[0]!, y = b.shape(n.outputs[0]);
  const neg = emit1(b, "Mul", [g, n.inputs[1]], {}, y);
  const d = emit1(b, "Where", [emit1(b, "Greater", [X, b.f32([0], [])]), g, neg], {}, y);
  return [b.reduceTo(d, y, b.shape(X)), undefined];
};

/** n-ary Max/Min: each input gets g where it equals the output, split evenly among ties (torch). */
const _extremum: GradRule = (n, dY, b) => {
  const Y = n.outputs[0], y = b.shape(Y), g = dY[0]!;
  const masks = n.inputs.map((t) => emit1(b, "Cast", [emit1(b, "Equal", [t, Y])], { to: 1 }, y));
  const count = masks.length === 1 ? masks[0] : emit1(b, "Sum", masks, {}, y);
  const share = emit1(b, "Div", [g, count], {}, y);
  return n.inputs.map((t, i) =>
    b.live(t) ? b.reduceTo(emit1(b, "Mul", [share, masks[i]], {}, y), y, b.shape(t)) : undefined
  );
};

/** Mean: g/k to each input, summed over its broadcast axes. */
const _mean: GradRule = (n, dY, b) => {
  const y = b.shape(n.outputs[0]);
  const s = emit1(b, "Mul", [dY[0]!, b.f32([1 / n.inputs.length], [])], {}, y);
  return n.inputs.map((t) => (b.live(t) ? b.reduceTo(s, y, b.shape(t)) : undefined));
};

/** No gradient: the output is piecewise constant (or integer) in every input. */
const _none: GradRule = (n) => n.inputs.map(() => undefined);

/** Pointwise and no-gradient rules by op type. */
export const POINTWISE_RULES: Readonly<Record<string, GradRule>> = Object.freeze({
  HardSigmoid: _hardSigmoid,
  HardSwish: _hardSwish,
  Softplus: unaryRule((n, g, b) => _mul(b, n, g, _sigmoid(b, n))),
  Log: unaryRule((n, g, b) => emit1(b, "Div", [g, n.inputs[0]], {}, b.shape(n.inputs[0]))),
  Softsign: unaryRule((n, g, b) => {
    const x = b.shape(n.inputs[0]);
    const d = emit1(b, "Add", [b.f32([1], []), emit1(b, "Abs", [n.inputs[0]])], {}, x);
    return emit1(b, "Div", [g, emit1(b, "Mul", [d, d], {}, x)], {}, x);
  }),
  Abs: unaryRule((n, g, b) => _mul(b, n, g, emit1(b, "Sign", [n.inputs[0]]))),
  Sin: unaryRule((n, g, b) => _mul(b, n, g, emit1(b, "Cos", [n.inputs[0]]))),
  Cos: unaryRule((n, g, b) =>
    emit1(b, "Neg", [_mul(b, n, g, emit1(b, "Sin", [n.inputs[0]]))], {}, b.shape(n.inputs[0]))
  ),
  ThresholdedRelu: unaryRule((n, g, b) => {
    const a = getAttr<number>(n.proto, "alpha", 1);
    return _where(b, n, emit1(b, "Greater", [n.inputs[0], b.f32([a], [])]), g, b.f32([0], []));
  }),
  Mish: _mish,
  Gelu: _gelu,
  Elu: _expLinear("Elu"),
  Selu: _expLinear("Selu"),
  Celu: _expLinear("Celu"),
  PRelu: _prelu,
  Max: _extremum,
  Min: _extremum,
  Mean: _mean,
  ...Object.fromEntries(
    [
      "ArgMax",
      "ArgMin",
      "Equal",
      "Less",
      "Greater",
      "LessOrEqual",
      "GreaterOrEqual",
      "Not",
      "And",
      "Or",
      "Xor",
      "Sign",
      "Floor",
      "Ceil",
      "Round",
    ].map((op) => [op, _none]),
  ),
});
