/**
 * Up-front model validation (issue 12 §4): before codes, SOMs or an attack run, check that the
 * model really is an image classifier somscope can work with — its output is `N×K` logits with
 * K ≥ 2, the data's classes fit those logits, and, when an attack is planned, that the gradient
 * graph can be derived (an unsupported op fails here, in seconds, naming the op and the node) —
 * plus the run-time check that every logit (and PGD gradient) is finite, naming the example.
 *
 * @module
 */

import { ModelFormatError } from "../errors.ts";
import type { LoadedModel } from "../model/load.ts";
import { type Normalize, prepareModel } from "../model/surgery.ts";
import { createRuntime } from "../model/runtime.ts";
import { _deriveAhead, deriveGradientGraph } from "./derive.ts";
import { decodeModel } from "../onnx/proto.ts";

/** Options of {@linkcode validateModel}. */
export interface ValidateModelOptions {
  /** Input `[C, H, W]` for models with symbolic sizes (e.g. the data's). Default: the model's. */
  inputShape?: [number, number, number];
  /** Number of classes of the data; must not exceed the logits. Default: unchecked. */
  classes?: number;
  /** An attack is planned: also derive the gradient graph (default false). */
  gradients?: boolean;
  /** Normalisation the attack folds in (default `"none"`). */
  normalize?: Normalize;
  /**
   * The attack's batch size: with `gradients`, the fused PGD step graph is derived at this batch
   * and handed over to the attack's first identical request (so it is not derived twice),
   * instead of a gradient graph at batch 2.
   */
  batch?: number;
  /** Model name in messages and in the derived graph (default `model.name`). */
  name?: string;
}

/** What {@linkcode validateModel} found. */
export interface ModelValidation {
  /** Number of logits K. */
  classes: number;
  /** Input `[C, H, W]` probed. */
  inputShape: [number, number, number];
  /** Whether the gradient graph was derived (an attack is possible). */
  gradients: boolean;
}

/**
 * Validates a model before any work: the output is `N×K` logits (K ≥ 2) and `classes ≤ K`.
 * Without `gradients`, one probe run of 2 mid-grey images shows the shape (and that its logits
 * are finite); with `gradients`, the gradient graph is derived once at batch 2 and its inferred
 * logits shape is the proof (no model session is opened).
 *
 * @param model A loaded model (external data inlined by `loadModel`).
 * @param options Input size, the data's classes, whether an attack is planned, normalisation.
 * @returns K, the probed input shape and whether gradients were derived.
 * @throws {ModelFormatError} If the output is not `N×K` logits with K ≥ 2, the probe's logits
 *   are not finite, or the gradient graph cannot be derived (naming the op and the node).
 * @throws {RangeError} If the data has more classes than the model has logits, or the model has
 *   a symbolic input size and no `inputShape` is given.
 * @example
 * ```ts
 * import { loadModel, validateModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await loadModel("tests/data/models/toy_cnn.onnx");
 * const v = await validateModel(model, { classes: 10, gradients: true });
 * assertEquals(v, { classes: 10, inputShape: [1, 28, 28], gradients: true });
 * ```
 */
export async function validateModel(
  model: LoadedModel,
  options: ValidateModelOptions = {},
): Promise<ModelValidation> {
  const shape = _inputShape(model, options.inputShape);
  // With gradients, the derivation's shape inference gives the logits' shape (no probe run).
  const batch = options.gradients ? options.batch ?? 2 : 2;
  const dims = options.gradients
    ? _derivedLogits(model, options.normalize, options.batch, options.name ?? model.name)
    : await _probeLogits(model, shape);
  if (dims.length !== 2 || dims[0] !== batch || dims[1] < 2) {
    throw new ModelFormatError(
      `Cannot use model ${model.name}: its output ${model.logits.name} has shape [${dims}] for a ` +
        `batch of ${batch} images but expected N×K logits with K ≥ 2 classes ([${batch}, K])`,
    );
  }
  const K = dims[1];
  if (options.classes !== undefined && options.classes > K) {
    throw new RangeError(
      `Cannot use model ${model.name} on this data: the data has ${options.classes} classes but ` +
        `the model has ${K} logits; expected at most ${K} classes`,
    );
  }
  return { classes: K, inputShape: shape, gradients: !!options.gradients };
}

/** Logits shape of one run of 2 mid-grey images; their logits must be finite. */
async function _probeLogits(model: LoadedModel, shape: [number, number, number]) {
  const rt = await createRuntime("node", prepareModel(model, { taps: [] }).bytes, { threads: 1 });
  try {
    const r = await rt.run(new Float32Array(2 * shape[0] * shape[1] * shape[2]).fill(0.5), [
      2,
      ...shape,
    ]);
    const dims = [...r.logitsDims];
    if (dims.length === 2 && dims[0] === 2 && dims[1] >= 2) {
      checkFiniteLogits(r.logits, dims[1], [0, 1], model.name, "a mid-grey probe image");
    }
    r.dispose();
    return dims;
  } finally {
    await rt.dispose();
  }
}

/**
 * Logits shape of the derived gradient graph at batch 2, or of the PGD step graph at the attack's
 * batch (the one `PgdAttack.create` asks for); a shape error names the shape.
 */
function _derivedLogits(
  model: LoadedModel,
  normalize: Normalize | undefined,
  batch: number | undefined,
  name: string,
): number[] {
  try {
    const bytes = batch === undefined
      ? deriveGradientGraph(model.bytes, { batch: 2, normalize, name })
      : _deriveAhead(model.bytes, { batch, normalize, name }, "pgd");
    const g = decodeModel(bytes);
    const out = g.graph!.output!.find((o) => o.name === "logits")!;
    return out.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
  } catch (e) {
    const m = /output \S+ has shape \[([^\]]*)\] but expected/.exec((e as Error).message);
    if (m) return m[1].split(",").filter(Boolean).map(Number);
    throw e;
  }
}

/**
 * Throws if any logit of a batch is NaN or ±Inf, naming the first such example.
 *
 * @param logits `n × K` row-major.
 * @param k Classes per row.
 * @param ids The example of each row (reported in the message).
 * @param name Model name for the message.
 * @param what What the rows are (default "example").
 * @throws {ModelFormatError} On the first non-finite logit.
 * @example
 * ```ts
 * import { checkFiniteLogits } from "../../mod.ts";
 * import { throws } from "node:assert";
 * checkFiniteLogits(Float32Array.of(0, 1, 2, 3), 2, [7, 8], "m"); // fine
 * throws(() => checkFiniteLogits(Float32Array.of(0, 1, NaN, 3), 2, [7, 8], "m"), /example 8/);
 * ```
 */
export function checkFiniteLogits(
  logits: ArrayLike<number>,
  k: number,
  ids: ArrayLike<number>,
  name: string,
  what = "example",
): void {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) {
      const row = Math.floor(i / k);
      throw new ModelFormatError(
        `Cannot use model ${name}: logit ${i % k} of ${what} ${ids[row]} is ${logits[i]}; ` +
          "expected finite logits (the model overflows or divides by zero on this input)",
      );
    }
  }
}

function _inputShape(
  model: LoadedModel,
  given: [number, number, number] | undefined,
): [number, number, number] {
  const { channels, height, width } = model.input;
  const s: [number, number, number] = [
    channels ?? given?.[0] ?? 0,
    height ?? given?.[1] ?? 0,
    width ?? given?.[2] ?? 0,
  ];
  if (s.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(
      `Cannot validate model ${model.name}: its input is ${channels ?? "?"}×${height ?? "?"}×` +
        `${width ?? "?"} and no input shape was given; expected inputShape [C, H, W]`,
    );
  }
  return s;
}
