/**
 * `somscope layers MODEL.onnx [--json]`: every candidate layer (cut tensor) of a model with its
 * shape, and the automatic composite layers (`CL1..CL4` or `cls0..clsN`).
 *
 * @module
 */

import { type CommandSpec, numberOption, UsageError } from "./cli.ts";
import { loadModel } from "../lib/model/load.ts";
import { listLayers } from "../lib/model/layers.ts";
import { RUNTIME_CHOICES, type RuntimeChoice } from "../lib/model/runtime.ts";

/** The `layers` command. */
export const command: CommandSpec = {
  name: "layers",
  summary: "list candidate layers (cut tensors) of an ONNX model and the proposed aliases",
  usage: "MODEL.onnx [--json] [--size N]",
  options: {
    json: { type: "boolean", default: false, help: "print JSON instead of a table" },
    size: {
      type: "string",
      arg: "N|HxW",
      help: "input size for models with a symbolic size (default: the model's, else 224)",
    },
    channels: {
      type: "string",
      arg: "C",
      help: "channels for models with symbolic channels (default 3)",
    },
    runtime: {
      type: "string",
      arg: "NAME",
      default: "node",
      help: "runtime for the shape probe: node or wasm",
    },
  },
  notes: [
    "A cut tensor is one that every input→logits path passes through (MODELS.md). Any listed",
    "name, or an alias, can be given to `somscope codes --layers`.",
  ].join("\n"),
  async run(values, positionals) {
    if (positionals.length !== 1) {
      throw new UsageError(`expected one MODEL.onnx argument but got ${positionals.length}`);
    }
    const runtime = String(values.runtime) as RuntimeChoice;
    if (!RUNTIME_CHOICES.includes(runtime)) {
      throw new UsageError(
        `--runtime is "${runtime}" but expected one of ${RUNTIME_CHOICES.join(", ")}`,
      );
    }
    let inputSize: number | [number, number] | undefined;
    if (values.size !== undefined) {
      const s = String(values.size);
      const m = /^(\d+)x(\d+)$/.exec(s);
      inputSize = m ? [Number(m[1]), Number(m[2])] : numberOption("size", s);
    }
    const channels = values.channels !== undefined
      ? numberOption("channels", values.channels)
      : undefined;
    const model = await loadModel(positionals[0]);
    const list = await listLayers(model, { inputSize, channels, runtime });
    if (values.json) {
      console.log(JSON.stringify(
        {
          model: model.name,
          sha256: model.sha256,
          input: model.input,
          logits: model.logits,
          ...list,
        },
        null,
        2,
      ));
      return 0;
    }
    const [C, H, W] = list.inputShape;
    console.log(
      `${model.name}: ${list.family === "vit" ? "ViT-style" : list.family.toUpperCase()}, ` +
        `input "${model.input.name}" ${C}×${H}×${W}, logits "${model.logits.name}"` +
        (model.logits.classes ? ` (${model.logits.classes} classes)` : ""),
    );
    const rows = list.candidates.map((c) => [
      c.alias ?? "",
      c.op,
      c.shape.join("×"),
      c.name,
    ]);
    const head = ["alias", "op", "shape", "tensor"];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((x, i) => (i < 3 ? x.padEnd(w[i]) : x)).join("  ");
    console.log(fmt(head));
    for (const r of rows) console.log(fmt(r));
    if (list.auto.length) {
      console.log(
        `\nauto: ${
          list.auto.map((l) => `${l.label}=${l.tensor}${l.token0 ? "[:,0]" : ""}`).join(", ")
        }`,
      );
    } else console.log("\nauto: none found (name tensors with --layers)");
    return 0;
  },
};
