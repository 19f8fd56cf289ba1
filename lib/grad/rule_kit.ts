/**
 * What a gradient rule is and what it may ask of the graph under construction
 * ({@linkcode GradBuilder}), plus the small helpers every rule module shares: emit one node with
 * its shape, read a constant input, reshape, zeros, a rule for one-input ops.
 *
 * Only gradients with respect to the image input are needed, so weights are constants; a rule is
 * asked only for inputs that depend on the image input.
 *
 * @module
 */

import { DT } from "../onnx/proto.ts";
import { ModelFormatError } from "../errors.ts";
import { type Const, constValues, type PreparedNode } from "./graph.ts";

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
  /**
   * Whether tensor `t` is a Relu's output whose only consumer is a MaxPool on the CPU target:
   * the MaxPool rule then masks its (pooled-size) gradient with `Y > 0` before the scatter, and
   * the Relu rule passes its gradient through (the same values: the pooled maximum is the Relu
   * output at the arg-max, so a window's mask is the Relu's mask at the position it routes to).
   */
  reluIntoMaxPool(t: string): boolean;
}

/** A rule: gradients for each input (undefined where not needed) from the output gradients. */
export type GradRule = (
  n: PreparedNode,
  dY: (string | undefined)[],
  b: GradBuilder,
) => (string | undefined)[];

/** Emits one node and records its output's shape. */
export function emit1(
  b: GradBuilder,
  op: string,
  ins: string[],
  attrs: Record<string, unknown> = {},
  shape?: number[],
): string {
  const [o] = b.emit(op, ins, attrs);
  if (shape) b.setShape(o, shape);
  return o;
}

/** The constant behind input `i` of `n`, or a `ModelFormatError` if it depends on the image. */
export function needConstInput(n: PreparedNode, i: number, b: GradBuilder): Const {
  const c = b.constOf(n.inputs[i]);
  if (!c) {
    throw new ModelFormatError(
      `Cannot differentiate ${n.op} node ${n.name}: input ${i} (${n.inputs[i]}) depends on the ` +
        "image input but only the first input may (weights must be constants)",
    );
  }
  return c;
}

/** A constant's values as a number array. */
export function ints(c: Const): number[] {
  return Array.from(constValues(c), Number);
}

/** Reshapes `g` to `to`. */
export function reshape(b: GradBuilder, g: string, to: number[]): string {
  return emit1(b, "Reshape", [g, b.i64(to)], {}, to);
}

/** A float32 tensor of zeros of shape `s`. */
export function zeros(b: GradBuilder, s: number[]): string {
  return emit1(b, "ConstantOfShape", [b.i64(s)], {
    value: { dims: [1], dataType: DT.FLOAT, floatData: [0] },
  }, s);
}

/** A rule for an op whose only differentiable input is the first. */
export function unaryRule(fn: (n: PreparedNode, dy: string, b: GradBuilder) => string): GradRule {
  return (n, dY, b) => [fn(n, dY[0]!, b)];
}

/** A possibly negative axis as an index into a rank-`r` shape. */
export function axisOf(a: number, r: number): number {
  return a < 0 ? a + r : a;
}
