// The committed Fashion-MNIST fixtures: accuracy recorded by the training script, file sizes,
// and the ONNX exports reproducing the torch reference tensors on onnxruntime-node.
import * as ort from "npm:onnxruntime-node@1.30.0";
import { assert, assertClose, assertEquals } from "./data_helpers.ts";
import { openDataset, readNpy } from "../mod.ts";

const root = new URL("../", import.meta.url).pathname;
const meta = JSON.parse(await Deno.readTextFile(`${root}fixtures/models/fixtures.json`));

Deno.test("fixtures.json records ≥ 92 % (ResNet) and ≥ 85 % (ViT) test accuracy in torch and ONNX", () => {
  for (const [name, goal] of [["resnet", 0.92], ["vit", 0.85]] as const) {
    assert(
      meta[name].test_accuracy_torch >= goal,
      `${name} torch ${meta[name].test_accuracy_torch}`,
    );
    assert(meta[name].test_accuracy_onnx >= goal, `${name} onnx ${meta[name].test_accuracy_onnx}`);
    assertEquals(meta[name].export.opset_version, 17);
    assertEquals(meta[name].train_images, 60000);
  }
});

Deno.test("the fixture ONNX files are under 10 MB and named resnet / vit", async () => {
  for (const f of ["fmnist_resnet.onnx", "fmnist_vit.onnx"]) {
    const { size } = await Deno.stat(`${root}fixtures/models/${f}`);
    assert(size > 100_000 && size < 10_000_000, `${f}: ${size} bytes`);
  }
});

Deno.test("the ONNX exports reproduce torch's logits on the 4 reference images", async () => {
  const x = await readNpy(`${root}fixtures/reference/input.npy`);
  assertEquals(x.shape, [4, 1, 28, 28]);
  // The reference input is the first 4 images of builtin:fashion-mnist's val split.
  const val = await openDataset("builtin:fashion-mnist", { split: "val" });
  assertClose(await val.load([0, 1, 2, 3]), x.data as Float32Array, 1e-7);
  const labels = await readNpy(`${root}fixtures/reference/labels.npy`);
  assertEquals(Array.from(labels.data as Int32Array), Array.from(val.labels.subarray(0, 4)));
  for (const name of ["resnet", "vit"]) {
    const session = await ort.InferenceSession.create(`${root}fixtures/models/fmnist_${name}.onnx`);
    const { logits } = await session.run({
      input: new ort.Tensor("float32", x.data as Float32Array, [4, 1, 28, 28]),
    });
    const ref = await readNpy(`${root}fixtures/reference/${name}_logits.npy`);
    assertEquals(ref.shape, [4, 10]);
    assertClose(logits.data as Float32Array, ref.data as Float32Array, 1e-4);
    const grad = await readNpy(`${root}fixtures/reference/${name}_input_grad.npy`);
    assertEquals(grad.shape, [4, 1, 28, 28]);
    assert((grad.data as Float32Array).some((v) => v !== 0), `${name} gradient is all zero`);
    // The high-loss set: unsaturated softmax, large gradients.
    const hx = await readNpy(`${root}fixtures/reference/${name}_hard_input.npy`);
    const hard = await session.run({
      input: new ort.Tensor("float32", hx.data as Float32Array, [4, 1, 28, 28]),
    });
    const href = await readNpy(`${root}fixtures/reference/${name}_hard_logits.npy`);
    assertClose(hard.logits.data as Float32Array, href.data as Float32Array, 1e-4);
    const idx = await readNpy(`${root}fixtures/reference/${name}_hard_indices.npy`);
    assertClose(await val.load(idx.data as Int32Array), hx.data as Float32Array, 1e-7);
    await session.release();
  }
});

Deno.test("the reference taps have the fixture's stage shapes", async () => {
  const shapes = [[4, 16, 14, 14], [4, 32, 7, 7], [4, 64, 4, 4], [4, 128, 2, 2]];
  for (let i = 1; i <= 4; i++) {
    assertEquals(
      (await readNpy(`${root}fixtures/reference/resnet_layer${i}.npy`)).shape,
      shapes[i - 1],
    );
  }
  for (let b = 0; b < 6; b++) {
    assertEquals((await readNpy(`${root}fixtures/reference/vit_block${b}_cls.npy`)).shape, [4, 64]);
  }
});
