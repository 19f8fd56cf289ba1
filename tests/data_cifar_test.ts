import { assertClose, assertEquals, assertRejects } from "./data_helpers.ts";
import { CIFAR10_CLASSES, DataFormatError, openDataset } from "../mod.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;
const L = here("./data/loaders/");

/** make_loader_files.ts's CIFAR pixel formula: record i of a batch made with `seed`. */
const pixels = (i: number, seed: number) =>
  Array.from({ length: 3072 }, (_, j) => ((j * 7 + i * 13 + seed) % 256) / 255);

Deno.test("cifar: CIFAR-10 train joins data_batch_1..N in order; val is test_batch", async () => {
  const train = await openDataset(`cifar:${L}cifar10`, { split: "train" });
  assertEquals([train.size, train.channels, train.height, train.width], [6, 3, 32, 32]);
  assertEquals(Array.from(train.labels), [0, 1, 2, 9, 3, 0]);
  assertEquals(train.classes, CIFAR10_CLASSES);
  const x = await train.load([5, 0]);
  assertClose(x.subarray(0, 3072), pixels(1, 2), 1e-7); // record 1 of data_batch_2
  assertClose(x.subarray(3072), pixels(0, 1), 1e-7);
  const val = await openDataset(`${L}cifar10`, { split: "val" });
  assertEquals(Array.from(val.labels), [5, 6, 0]);
});

Deno.test("cifar: CIFAR-100 train.bin/test.bin use the fine label", async () => {
  const train = await openDataset(`cifar:${L}cifar100`, { split: "train" });
  assertEquals(Array.from(train.labels), [10, 99, 10]);
  assertEquals(train.classes.length, 100);
  assertClose(await train.load([1]), pixels(1, 4), 1e-7);
  const val = await openDataset(`cifar:${L}cifar100`, { split: "val" });
  assertEquals(Array.from(val.labels), [42]);
});

Deno.test("cifar: a batch that is not whole records is a DataFormatError", async () => {
  await assertRejects(
    () => openDataset(`cifar:${L}cifar_bad`, { split: "train" }),
    DataFormatError,
    "data_batch_1.bin: 3173 bytes but expected a positive multiple of 3073",
  );
});

Deno.test("cifar: 1 channel is PIL's convert('L') of the RGB planes", async () => {
  const ds = await openDataset(`cifar:${L}cifar10`, { split: "val", channels: 1 });
  assertEquals([ds.channels, ds.height, ds.width], [1, 32, 32]);
  const x = await ds.load([0]), rgb = pixels(0, 3).map((v) => Math.round(v * 255));
  const expected = Array.from(
    { length: 1024 },
    (_, j) =>
      ((rgb[j] * 19595 + rgb[1024 + j] * 38470 + rgb[2048 + j] * 7471 + 0x8000) >> 16) / 255,
  );
  assertClose(x, expected, 1e-7);
});

Deno.test("cifar: crop takes the centre of the 32×32 images", async () => {
  const ds = await openDataset(`cifar:${L}cifar10`, { split: "val", crop: 30 });
  assertEquals([ds.height, ds.width], [30, 30]);
  const x = await ds.load([0]);
  const full = pixels(0, 3);
  const expected: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let y = 1; y < 31; y++) {
      for (let xx = 1; xx < 31; xx++) expected.push(full[c * 1024 + y * 32 + xx]);
    }
  }
  assertClose(x, expected, 1e-7);
});
