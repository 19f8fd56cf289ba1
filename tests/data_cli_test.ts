// Class indices through the CLI: `codes` on a few wnid-named class folders with a 1000-logit
// model, a 10-logit model, and --class-index.
import { assert, assertEquals } from "./data_helpers.ts";
import { runCli } from "./cli_helper.ts";
import { readNpy } from "../mod.ts";
import { DT, encodeModel } from "../lib/onnx/proto.ts";
import { model, node, tensor, valueInfo } from "../lib/onnx/proto.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;
const PNG = here("./data/loaders/folder/train/bird/b0.png"); // 8×8 RGB

/** x (N×3×8×8) → Relu → h → Flatten → Gemm (zero weights, bias 1 at `hot`) → K logits. */
function linearModel(k: number, hot: number): Uint8Array {
  const bias = new Float32Array(k);
  bias[hot] = 1;
  return encodeModel(model({
    name: `linear${k}`,
    node: [
      node("Relu", ["x"], ["h"]),
      node("Flatten", ["h"], ["f"]),
      node("Gemm", ["f", "w", "b"], ["logits"]),
    ],
    initializer: [tensor("w", [192, k], new Float32Array(192 * k)), tensor("b", [k], bias)],
    input: [valueInfo("x", DT.FLOAT, ["N", 3, 8, 8])],
    output: [valueInfo("logits", DT.FLOAT, ["N", k])],
  }, { opset: 17 }));
}

Deno.test("codes: wnid folders get ImageNet indices with 1000 logits, an error with 10, --class-index fixes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "somscope_data_cli_" });
  try {
    for (const split of ["train", "val"]) {
      for (const c of ["n15075141", "n01443537", "n02099601"]) {
        await Deno.mkdir(`${dir}/data/${split}/${c}`, { recursive: true });
        await Deno.copyFile(PNG, `${dir}/data/${split}/${c}/0.png`);
      }
    }
    await Deno.writeFile(`${dir}/m1000.onnx`, linearModel(1000, 207));
    await Deno.writeFile(`${dir}/m10.onnx`, linearModel(10, 4));
    const codes = (m: string, out: string, ...extra: string[]) =>
      runCli([
        "codes",
        `${dir}/${m}`,
        "--data",
        `folder:${dir}/data`,
        "--layers",
        "h",
        "--out",
        `${dir}/${out}`,
        "--cache",
        `${dir}/cache`,
        "--runtime",
        "node",
        "--quiet",
        ...extra,
      ]);

    const ok = await codes("m1000.onnx", "out1000");
    assert(ok.code === 0, ok.stderr);
    const ex = (await readNpy(`${dir}/out1000/examples.npy`)).data as Int32Array; // id, label, predicted, correct
    const rows = Array.from(
      { length: 3 },
      (_, i) => Array.from(ex.subarray(i * 4, i * 4 + 4)),
    );
    assertEquals(rows.map((r) => r[1]), [1, 207, 999]);
    assertEquals(rows.map((r) => r[2]), [207, 207, 207]);
    assertEquals(rows.map((r) => r[3]), [0, 1, 0]); // only the golden retriever is "correct"
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/out1000/manifest.json`));
    assert(/ImageNet-1k logit indices/.test(manifest.dataset.labels), manifest.dataset.labels);

    const bad = await codes("m10.onnx", "out10");
    assert(bad.code !== 0, "a 10-logit model on 3 wnid folders must fail");
    assert(bad.stderr.includes("pass --class-index FILE"), bad.stderr);

    await Deno.writeTextFile(
      `${dir}/idx.json`,
      JSON.stringify({ n01443537: 3, n02099601: 4, n15075141: 9 }),
    );
    const mapped = await codes("m10.onnx", "out10", "--class-index", `${dir}/idx.json`);
    assert(mapped.code === 0, mapped.stderr);
    const ex10 = (await readNpy(`${dir}/out10/examples.npy`)).data as Int32Array;
    assertEquals([ex10[1], ex10[5], ex10[9]], [3, 4, 9]);
    assertEquals([ex10[3], ex10[7], ex10[11]], [0, 1, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
