import {
  assert,
  assertClose as assertArrayClose,
  assertEquals,
  assertOpenRejects,
  assertRejects,
  LOADERS,
} from "./data_helpers.ts";
import { DataFormatError, openDataset, parseIdx } from "../mod.ts";

/** The formula make_loaders.ts used for the IDX images (4 wide, one tall strip). */
function pattern(seed: number, image: number): number[] {
  const out: number[] = [];
  for (let y = 4 * image; y < 4 * image + 4; y++) {
    for (let x = 0; x < 4; x++) out.push(((17 * x + 29 * y + seed) % 256) / 255);
  }
  return out;
}

Deno.test("parseIdx() reads a raw labels file and rejects a wrong magic number", async () => {
  const ok = await parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 4, 5]), "ok", 1);
  assertEquals(ok.dims, [2]);
  assertEquals(Array.from(ok.data), [4, 5]);
  await assertRejects(
    () => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 4, 5]), "labels.idx", 3),
    DataFormatError,
    "magic number 0x00000801 (1 dimensions) but expected 0x00000803",
  );
  await assertRejects(
    () => parseIdx(new TextEncoder().encode("PK\x03\x04 zip file"), "x.zip"),
    DataFormatError,
    "Cannot read IDX x.zip: magic number 0x504b0304",
  );
});

Deno.test("parseIdx() rejects a truncated file and a corrupt gzip stream", async () => {
  await assertRejects(
    () => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 5, 4, 5]), "short", 1),
    DataFormatError,
    "2 data bytes but expected 5",
  );
  await assertRejects(
    () => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), "bad.gz"),
    DataFormatError,
    "Cannot gunzip bad.gz",
  );
});

Deno.test("idx: reads a gzipped train pair and a raw t10k pair with class names", async () => {
  const train = await openDataset(`idx:${LOADERS}idx`, { split: "train" });
  assertEquals([train.size, train.channels, train.height, train.width], [6, 1, 4, 4]);
  assertEquals(Array.from(train.labels), [0, 1, 2, 0, 1, 2]);
  assertEquals(train.classes, ["zero", "one", "two"]);
  const px = await train.load([4, 1]);
  assertArrayClose(px, [...pattern(3, 4), ...pattern(3, 1)], 1e-7);
  const val = await openDataset(`${LOADERS}idx`, { split: "val" });
  assertEquals(val.name, `${LOADERS}idx`);
  assertEquals(Array.from(val.labels), [2, 1, 0]);
  assertArrayClose(await val.load([2]), pattern(50, 2), 1e-7);
});

Deno.test("idx: a wrong magic number is a DataFormatError naming the file", async () => {
  await assertOpenRejects(
    `idx:${LOADERS}idx_badmagic`,
    { split: "train" },
    "idx_badmagic/train-images-idx3-ubyte: magic number 0x00000801",
  );
});

Deno.test("idx: channels 3 repeats the grey plane and resize scales the images", async () => {
  const rgb = await openDataset(`idx:${LOADERS}idx`, { split: "train", channels: 3 });
  assertEquals(rgb.channels, 3);
  const px = await rgb.load([0]);
  assertArrayClose(px, [...pattern(3, 0), ...pattern(3, 0), ...pattern(3, 0)], 1e-7);
  const big = await openDataset(`idx:${LOADERS}idx`, { split: "train", height: 8, width: 8 });
  assertEquals([big.height, big.width], [8, 8]);
  const up = await big.load([0, 1]);
  assertEquals(up.length, 2 * 64);
  assert(up.every((v) => v >= 0 && v <= 1));
  const plain = await openDataset(`idx:${LOADERS}idx`, { split: "train" });
  assert((await big.identity()) !== (await plain.identity()));
});

Deno.test("builtin:fashion-mnist opens 10,000 train and 10,000 test images of 1×28×28", async () => {
  const train = await openDataset("builtin:fashion-mnist", { split: "train" });
  const val = await openDataset("builtin:fashion-mnist", { split: "val" });
  for (const d of [train, val]) {
    assertEquals([d.size, d.channels, d.height, d.width], [10000, 1, 28, 28]);
    assertEquals(d.classes.length, 10);
  }
  assertEquals(train.classes[0], "T-shirt/top");
  const perClass = new Array(10).fill(0);
  for (const l of train.labels) perClass[l]++;
  assertEquals(perClass, new Array(10).fill(1000));
  // The t10k set is the original: its first labels are 9, 2, 1, 1 (Ankle boot, Pullover, Trouser).
  assertEquals(Array.from(val.labels.slice(0, 4)), [9, 2, 1, 1]);
  const px = await val.load([0]);
  assert(px.every((v) => v >= 0 && v <= 1));
  assert(px.some((v) => v > 0.5));
  const id = await train.identity();
  assertEquals(
    id,
    await (await openDataset("builtin:fashion-mnist", { split: "train" })).identity(),
  );
  assert(id !== (await val.identity()));
});

Deno.test("idx: identity depends on file contents and preprocessing, not on the location", async () => {
  const a = await openDataset(`idx:${LOADERS}idx`, { split: "train" });
  const b = await openDataset(`idx:${LOADERS}idx`, { split: "train", height: 4, width: 4 });
  assertEquals(await a.identity(), await b.identity());
  const copy = await Deno.makeTempDir();
  try {
    for await (const e of Deno.readDir(`${LOADERS}idx`)) {
      await Deno.copyFile(`${LOADERS}idx/${e.name}`, `${copy}/${e.name}`);
    }
    const c = await openDataset(`idx:${copy}`, { split: "train" });
    assertEquals(await c.identity(), await a.identity());
    const bytes = await Deno.readFile(`${copy}/t10k-labels-idx1-ubyte`);
    bytes[bytes.length - 1] = 1;
    await Deno.writeFile(`${copy}/t10k-labels-idx1-ubyte`, bytes);
    const v1 = await openDataset(`idx:${copy}`, { split: "val" });
    const v0 = await openDataset(`idx:${LOADERS}idx`, { split: "val" });
    assert((await v1.identity()) !== (await v0.identity()));
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
