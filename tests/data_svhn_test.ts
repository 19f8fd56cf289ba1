import {
  assert,
  assertClose,
  assertEachOpenRejects,
  assertEquals,
  LOADERS,
} from "./data_helpers.ts";
import { openDataset, parseDataSpec } from "../mod.ts";

/** make_svhn_mat.py's X[h, w, c, n] formula, scaled to [0,1]. */
const px = (h: number, w: number, c: number, n: number, seed: number) =>
  ((17 * w + 29 * h + 80 * c + 7 * n + seed) % 256) / 255;

/** Expected planar C×H×W pixels of example n. */
function image(n: number, seed: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) out.push(px(h, w, c, n, seed));
  }
  return out;
}

Deno.test("svhn: a compressed train file gives digit labels (10 is 0) and H×W-ordered pixels", async () => {
  const ds = await openDataset(`svhn:${LOADERS}svhn`, { split: "train" });
  assertEquals(ds.classes, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  assertEquals(Array.from(ds.labels), [1, 0, 3, 0, 5]);
  assertEquals([ds.size, ds.channels, ds.height, ds.width], [5, 3, 32, 32]);
  const x = await ds.load([4, 1]);
  assertClose(x.subarray(0, 3072), image(4, 1), 1e-7);
  assertClose(x.subarray(3072), image(1, 1), 1e-7);
});

Deno.test("svhn: an uncompressed test file (double labels) is the val split", async () => {
  const ds = await openDataset(`svhn:${LOADERS}svhn`, { split: "val" });
  assertEquals(Array.from(ds.labels), [2, 0, 9]);
  assertClose(await ds.load([2]), image(2, 50), 1e-7);
});

Deno.test("svhn: compressed and uncompressed files of the same arrays load the same", async () => {
  for (const split of ["train", "val"] as const) {
    const a = await openDataset(`svhn:${LOADERS}svhn`, { split });
    const b = await openDataset(`svhn:${LOADERS}svhn_plain`, { split });
    assertEquals(Array.from(a.labels), Array.from(b.labels));
    const all = Array.from({ length: a.size }, (_, i) => i);
    assertEquals(Array.from(await a.load(all)), Array.from(await b.load(all)));
    // Identity follows the file's bytes, which differ.
    assert((await a.identity()) !== (await b.identity()));
  }
});

Deno.test("svhn: grey output is PIL's convert('L') exactly (torchvision Grayscale)", async () => {
  const ref: number[][] = JSON.parse(await Deno.readTextFile(`${LOADERS}svhn/grey_ref.json`));
  const ds = await openDataset(`svhn:${LOADERS}svhn`, { split: "train", channels: 1 });
  assertEquals(ds.channels, 1);
  const x = await ds.load([0, 1, 2, 3, 4]);
  assertClose(x, ref.flat().map((v) => v / 255), 1e-7);
});

Deno.test("svhn: crop and resize go through the shared preprocessing", async () => {
  const ds = await openDataset(`svhn:${LOADERS}svhn`, { split: "train", crop: 28 });
  assertEquals([ds.height, ds.width], [28, 28]);
  const x = await ds.load([0]), full = image(0, 1), expected: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let h = 2; h < 30; h++) {
      for (let w = 2; w < 30; w++) expected.push(full[c * 1024 + h * 32 + w]);
    }
  }
  assertClose(x, expected, 1e-7);
  const small = await openDataset(`svhn:${LOADERS}svhn`, { split: "train", height: 16, width: 16 });
  assertEquals((await small.load([0, 1])).length, 2 * 3 * 16 * 16);
});

Deno.test("svhn: a bare folder with the .mat files is detected as svhn", async () => {
  assertEquals(await parseDataSpec(`${LOADERS}svhn`), { kind: "svhn", path: `${LOADERS}svhn` });
  const ds = await openDataset(`${LOADERS}svhn_plain`, { split: "val" });
  assertEquals(ds.size, 3);
});

Deno.test("svhn: bad labels, a truncated file and a missing split are DataFormatErrors", async () => {
  await assertEachOpenRejects([
    [`svhn:${LOADERS}svhn_bad`, "train", "train_32x32.mat has label 11 at y(2) but expected 1..10"],
    [`svhn:${LOADERS}svhn_bad`, "val", "test_32x32.mat: truncated"],
    [`svhn:${LOADERS}cifar10`, "train", 'no train_32x32.mat for split "train"'],
    [`svhn:${LOADERS}svhn_notmat`, "train", "not a MATLAB level-5 MAT-file"],
  ]);
});
