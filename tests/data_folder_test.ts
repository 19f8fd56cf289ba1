import {
  assert,
  assertClose,
  assertEachOpenRejects,
  assertEquals,
  assertOpenRejects,
  assertRejects,
  LOADERS,
} from "./data_helpers.ts";
import { DataFormatError, openDataset } from "../mod.ts";

/** make_loader_files.ts's pixel formula at (x, y), channel k. */
const px = (x: number, y: number, k: number, seed: number) =>
  ((17 * x + 29 * y + 80 * k + seed) % 256) / 255;

Deno.test("folder: train/ and val/ class folders give sorted classes and labels", async () => {
  const train = await openDataset(`folder:${LOADERS}folder`, { split: "train", crop: 8 });
  assertEquals(train.classes, ["bird", "cat", "dog"]);
  assertEquals(Array.from(train.labels), [0, 0, 1, 1, 2, 2]);
  assertEquals([train.size, train.channels, train.height, train.width], [6, 3, 8, 8]);
  const val = await openDataset(`folder:${LOADERS}folder`, { split: "val", crop: 8 });
  assertEquals(Array.from(val.labels), [0, 1, 2]);
  assertEquals(val.size, 3);
});

Deno.test("folder: PNG, WebP, RGBA and grey images decode to exact RGB pixels", async () => {
  const train = await openDataset(`folder:${LOADERS}folder`, { split: "train", crop: 8 });
  const x = await train.load([0, 1, 3, 4]); // b0.png, b1.webp (lossless), c1.png (RGBA), d0.png (grey)
  const plane = 64, img = 3 * plane;
  for (const [slot, seed, channels] of [[0, 1, 3], [1, 2, 3], [2, 4, 4], [3, 5, 1]]) {
    const expected: number[] = [];
    for (let k = 0; k < 3; k++) {
      for (let y = 0; y < 8; y++) {
        for (let xx = 0; xx < 8; xx++) expected.push(px(xx, y, channels === 1 ? 0 : k, seed));
      }
    }
    assertClose(x.subarray(slot * img, (slot + 1) * img), expected, 1e-6);
  }
});

Deno.test("folder: the JPEG is resized (shorter side) and centre-cropped; grey output has 1 channel", async () => {
  const grey = await openDataset(`folder:${LOADERS}folder`, {
    split: "train",
    resize: 8,
    crop: 6,
    channels: 1,
  });
  assertEquals([grey.channels, grey.height, grey.width], [1, 6, 6]);
  const x = await grey.load([2, 4]); // c0.jpg 12×10 → 9×8 → 6×6; d0.png grey
  assertEquals(x.length, 2 * 36);
  assert(x.every((v) => v >= 0 && v <= 1));
  // The grey PNG cropped to its centre 6×6 (8 → 6: offset 1).
  const expected: number[] = [];
  for (let y = 1; y < 7; y++) for (let xx = 1; xx < 7; xx++) expected.push(px(xx, y, 0, 5));
  assertClose(x.subarray(36), expected, 1e-6);
});

Deno.test("folder: without size options a mixed-size folder loads until an image differs", async () => {
  const train = await openDataset(`folder:${LOADERS}folder`, { split: "train" });
  assertEquals([train.height, train.width], [8, 8]);
  await assertRejects(
    () => train.load([2]),
    DataFormatError,
    "c0.jpg: image is 12×10 but expected 8×8",
  );
});

Deno.test("folder: a class-name file renames classes and fixes label order", async () => {
  const ds = await openDataset(`folder:${LOADERS}folder`, {
    split: "val",
    crop: 8,
    classNames: `${LOADERS}folder/classes.txt`,
  });
  assertEquals(ds.classes, ["Small bird", "House cat", "Dog"]);
  assertEquals(Array.from(ds.labels), [0, 1, 2]);
});

Deno.test("folder: a single pool of class folders splits every 5th image into val", async () => {
  const train = await openDataset(`folder:${LOADERS}flat`, { split: "train" });
  const val = await openDataset(`${LOADERS}flat`, { split: "val" });
  assertEquals([train.size, val.size], [12, 3]);
  assertEquals(Array.from(val.labels), [0, 1, 2]);
  assertEquals([val.channels, val.height, val.width], [3, 4, 4]);
  assert((await train.identity()) !== (await val.identity()));
});

Deno.test("folder: load() decodes only the requested images (streaming)", async () => {
  // bad_image has a corrupt file at index 1; loading index 0 alone must not touch it.
  const ds = await openDataset(`folder:${LOADERS}bad_image`, { split: "train" });
  assertEquals((await ds.load([0])).length, 3 * 64);
});

Deno.test("folder: truncated and garbage images are DataFormatErrors naming the file", async () => {
  const ds = await openDataset(`folder:${LOADERS}bad_image`, { split: "train" });
  await assertRejects(() => ds.load([1]), DataFormatError, "1_truncated.jpg");
  await assertRejects(() => ds.load([0, 2]), DataFormatError, "2_garbage.png");
});

Deno.test("folder: decode failures give a plain reason naming the file", async () => {
  const ds = await openDataset(`folder:${LOADERS}bad_decode`, { split: "train", crop: 4 });
  await assertRejects(
    () => ds.load([0]),
    DataFormatError,
    "0_truncated.png: truncated: the PNG file ends after",
  );
  const text = await assertRejects(
    () => ds.load([1]),
    DataFormatError,
    '1_text.jpg: not an image: it starts with the text "name,label\\nthis is a CSV"',
  );
  assert(!/failOn|Warning|vips/i.test(text.message), text.message);
  await assertRejects(() => ds.load([2]), DataFormatError, "2_empty.png: the file is empty");
  // The first image is read at open time: the same reasons apply there.
  await assertRejects(
    () => openDataset(`folder:${LOADERS}bad_image`, { split: "train" }).then((d) => d.load([1])),
    DataFormatError,
    "1_truncated.jpg: truncated: the JPEG file ends after",
  );
});

Deno.test("folder: grey output is PIL's convert('L') of the sRGB pixels, not sharp's grey", async () => {
  const ref = JSON.parse(await Deno.readTextFile(`${LOADERS}grey/grey_ref.json`));
  for (const split of ["train", "val"] as const) {
    const ds = await openDataset(`folder:${LOADERS}grey`, { split, channels: 1 });
    assertEquals([ds.channels, ds.height, ds.width], [1, 6, 7]);
    assertClose(await ds.load([0]), ref[split].map((v: number) => v / 255), 1e-7);
  }
});

Deno.test("folder: an image over the pixel limit is a DataFormatError (decompression bomb)", async () => {
  await assertOpenRejects(
    `folder:${LOADERS}bomb`,
    { split: "train", maxPixels: 1_000_000, crop: 4 },
    "big.png: 2000×2000 = 4000000 pixels but the limit is 1000000 (too many pixels",
  );
  const ds = await openDataset(`folder:${LOADERS}folder`, {
    split: "train",
    crop: 8,
    maxPixels: 100,
  });
  await assertRejects(() => ds.load([2]), DataFormatError, "c0.jpg: 12×10 = 120 pixels");
});

Deno.test("folder: an empty class folder and a val-only class are DataFormatErrors", async () => {
  await assertEachOpenRejects([
    [`folder:${LOADERS}bad_empty`, "train", "bad_empty/train/b has no images"],
    [
      `folder:${LOADERS}bad_valclass`,
      "val",
      `class "zebra" is in ${LOADERS}bad_valclass/val but not in`,
    ],
  ]);
});

Deno.test("folder: bad option values are RangeErrors", async () => {
  await assertRejects(
    () => openDataset(`folder:${LOADERS}folder`, { split: "train", channels: 2 as 1 }),
    RangeError,
    "channels is 2 but expected 1 or 3",
  );
  await assertRejects(
    () => openDataset(`folder:${LOADERS}folder`, { split: "test" as "val" }),
    RangeError,
    'split is "test"',
  );
});

Deno.test("folder: identity changes with preprocessing and is stable otherwise", async () => {
  const a = await openDataset(`folder:${LOADERS}folder`, { split: "train", crop: 8 });
  const b = await openDataset(`folder:${LOADERS}folder`, { split: "train", crop: 8 });
  const c = await openDataset(`folder:${LOADERS}folder`, { split: "train", crop: 6 });
  assertEquals(await a.identity(), await b.identity());
  assert((await a.identity()) !== (await c.identity()));
});
