/**
 * `somscope grad`: derive the gradient ONNX graph of a classifier (inputs `input`, `labels`;
 * outputs `logits`, `loss`, `input_grad`), or with `--pgd` the fused PGD step graph.
 *
 * @module
 */

import {
  type CommandSpec,
  integerOption,
  NORMALIZE_OPTION,
  normalizeOption,
  UsageError,
} from "./cli.ts";
import { deriveGradientGraph, derivePgdStepGraph } from "../lib/grad/derive.ts";
import { writeFileAtomic } from "../lib/fs_atomic.ts";
import { loadModel } from "../lib/model/load.ts";

/** The `grad` command. */
export const command: CommandSpec = {
  name: "grad",
  summary: "derive the input-gradient ONNX graph (logits, per-example CE loss, ∂Σloss/∂input)",
  usage: "MODEL.onnx -o MODEL.grad.onnx [--batch N] [--normalize none|imagenet|m1,m2,m3/s1,s2,s3]",
  options: {
    out: { type: "string", short: "o", arg: "FILE", help: "output ONNX file" },
    batch: { type: "string", default: "1", arg: "N", help: "batch size to specialise" },
    ...NORMALIZE_OPTION,
    target: { type: "string", default: "cpu", arg: "cpu|webgpu", help: "runtime the graph is for" },
    tap: { type: "string", multiple: true, arg: "TENSOR", help: "extra output (repeatable)" },
    pgd: {
      type: "boolean",
      help: "emit the fused PGD step graph (x_adv, x0, labels, eps, step → x_next)",
    },
  },
  notes:
    "The graph runs on onnxruntime-node and -web (wasm); use --target webgpu for the WebGPU EP.",
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError("expected exactly one MODEL.onnx argument");
    const out = values.out as string | undefined;
    if (!out) throw new UsageError("-o/--out FILE is required");
    const batch = integerOption("batch", values.batch, 1);
    const normalize = normalizeOption(values.normalize);
    const target = String(values.target);
    if (target !== "cpu" && target !== "webgpu") {
      throw new UsageError(`--target is "${target}" but must be cpu or webgpu`);
    }
    const path = positionals[0];
    // loadModel inlines external data, which the graph derivation needs in memory.
    const bytes = (await loadModel(path)).bytes;
    const opts = {
      batch,
      normalize,
      target: target as "cpu" | "webgpu",
      taps: (values.tap as string[] | undefined) ?? [],
      name: path,
    };
    const t0 = performance.now();
    const g = values.pgd ? derivePgdStepGraph(bytes, opts) : deriveGradientGraph(bytes, opts);
    await writeFileAtomic(out, g);
    console.error(
      `wrote ${out} (${(g.length / 1e6).toFixed(1)} MB, batch ${batch}) in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
  },
};
