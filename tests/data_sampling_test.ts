import { assert, assertEquals, assertRejects, LOADERS } from "./data_helpers.ts";
import { DataFormatError, openDataset, parseDataSpec, Rng, samplePerClass } from "../mod.ts";

function labels(perClass: number[]): Int32Array {
  const out: number[] = [];
  perClass.forEach((n, c) => {
    for (let i = 0; i < n; i++) out.push(c);
  });
  return new Rng(99).shuffle(Int32Array.from(out));
}

Deno.test("samplePerClass() gives the same indices for the same seed, others for another", () => {
  const y = labels([40, 30, 50]);
  const a = samplePerClass(y, 10, new Rng(7));
  const b = samplePerClass(y, 10, new Rng(7));
  const c = samplePerClass(y, 10, new Rng(8));
  assertEquals(Array.from(a.indices), Array.from(b.indices));
  assert(Array.from(a.indices).join() !== Array.from(c.indices).join());
  assertEquals(a.counts, [10, 10, 10]);
});

Deno.test("samplePerClass() draws distinct indices of the right class, class by class", () => {
  const y = labels([40, 30, 50]);
  const { indices } = samplePerClass(y, 25, new Rng(3));
  assertEquals(new Set(indices).size, 75);
  for (let k = 0; k < 75; k++) assertEquals(y[indices[k]], Math.floor(k / 25));
  for (let k = 1; k < 75; k++) if (k % 25) assert(indices[k] > indices[k - 1]);
});

Deno.test("samplePerClass() is uniform: every member is drawn about equally often", () => {
  const y = new Int32Array(20); // one class of 20
  const hits = new Array(20).fill(0);
  const root = new Rng(1);
  for (let t = 0; t < 2000; t++) {
    for (const i of samplePerClass(y, 5, root.stream(`t${t}`)).indices) hits[i]++;
  }
  // Expected 500 each; a binomial sd is ~19.
  for (const h of hits) assert(Math.abs(h - 500) < 100, `count ${h}`);
});

Deno.test("samplePerClass() names a short class and its count unless allowFewer", () => {
  const y = labels([40, 3, 50]);
  let err: Error | undefined;
  try {
    samplePerClass(y, 10, new Rng(1), { classNames: ["a", "b", "c"] });
  } catch (e) {
    err = e as Error;
  }
  assert(err instanceof RangeError);
  assert(err.message.includes("class 1 (b) has 3 but expected at least 10"), err.message);
  const s = samplePerClass(y, 10, new Rng(1), { allowFewer: true });
  assertEquals(s.counts, [10, 3, 10]);
  assertEquals(s.indices.length, 23);
});

Deno.test("samplePerClass() with numClasses treats a missing class as short", () => {
  const y = Int32Array.from([0, 0, 2, 2]);
  let err: Error | undefined;
  try {
    samplePerClass(y, 1, new Rng(1), { numClasses: 3 });
  } catch (e) {
    err = e as Error;
  }
  assert(err instanceof RangeError && err.message.includes("class 1 has 0"));
  assertEquals(samplePerClass(y, 1, new Rng(1)).counts, [1, 0, 1]);
});

Deno.test("SOM-tr and SOM-val draws come from disjoint splits of builtin:fashion-mnist", async () => {
  const train = await openDataset("builtin:fashion-mnist", { split: "train" });
  const val = await openDataset("builtin:fashion-mnist", { split: "val" });
  const rng = new Rng(2026);
  const tr = samplePerClass(train.labels, 50, rng.stream("sampling-train"));
  const va = samplePerClass(val.labels, 50, rng.stream("sampling-val"));
  assertEquals(tr.counts, new Array(10).fill(50));
  assertEquals(va.counts, new Array(10).fill(50));
  assert(train.identity() !== val.identity());
  assert((await train.identity()) !== (await val.identity()));
  const xs = await train.load(tr.indices.subarray(0, 4));
  assertEquals(xs.length, 4 * 784);
});

Deno.test("parseDataSpec() detects bare paths and rejects unknown prefixes", async () => {
  assertEquals(await parseDataSpec(`${LOADERS}idx`), { kind: "idx", path: `${LOADERS}idx` });
  assertEquals(await parseDataSpec(`${LOADERS}cifar10`), {
    kind: "cifar",
    path: `${LOADERS}cifar10`,
  });
  assertEquals(await parseDataSpec(`${LOADERS}folder`), {
    kind: "folder",
    path: `${LOADERS}folder`,
  });
  await assertRejects(() => parseDataSpec("imagenet:/x"), RangeError, 'prefix "imagenet:"');
  await assertRejects(() => parseDataSpec("builtin:mnist"), RangeError, 'unknown built-in "mnist"');
  await assertRejects(() => parseDataSpec(`${LOADERS}nope`), DataFormatError, "nope");
});
