import { assert, assertEquals, assertRejects } from "./data_helpers.ts";
import { DataFormatError, openDataset, readClassIndex, resolveLabelMapping } from "../mod.ts";

import { IMAGENET_NAMES, IMAGENET_WNIDS } from "../lib/data/imagenet_classes.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;
const L = here("./data/loaders/");

/** A train/val folder with one small PNG per class and split, in a fresh temp folder. */
async function folder(classes: string[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "somscope_classidx_" });
  for (const split of ["train", "val"]) {
    for (const c of classes) {
      await Deno.mkdir(`${root}/${split}/${c}`, { recursive: true });
      await Deno.copyFile(`${L}flat/a/0.png`, `${root}/${split}/${c}/0.png`);
    }
  }
  return root;
}

const tmp = await Deno.makeTempDir({ prefix: "somscope_classidx_files_" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

async function file(name: string, text: string): Promise<string> {
  await Deno.writeTextFile(`${tmp}/${name}`, text);
  return `${tmp}/${name}`;
}

Deno.test("the ImageNet table is the 1000 sorted wnids with torchvision's names at known indices", () => {
  assertEquals(IMAGENET_WNIDS.length, 1000);
  assertEquals(new Set(IMAGENET_WNIDS).size, 1000);
  assertEquals([...IMAGENET_WNIDS].sort(), [...IMAGENET_WNIDS]);
  assert(IMAGENET_WNIDS.every((w) => /^n\d{8}$/.test(w)));
  // Well-known anchors of the ILSVRC-2012 index: tench, goldfish, golden retriever, toilet tissue.
  assertEquals([IMAGENET_WNIDS[0], IMAGENET_NAMES[0]], ["n01440764", "tench"]);
  assertEquals([IMAGENET_WNIDS[1], IMAGENET_NAMES[1]], ["n01443537", "goldfish"]);
  assertEquals([IMAGENET_WNIDS[207], IMAGENET_NAMES[207]], ["n02099601", "golden retriever"]);
  assertEquals([IMAGENET_WNIDS[999], IMAGENET_NAMES[999]], ["n15075141", "toilet tissue"]);
});

Deno.test("a folder of a few wnid classes gets ImageNet logit indices with a 1000-logit model", async () => {
  const root = await folder(["n15075141", "n01443537", "n02099601"]);
  try {
    const plain = await openDataset(`folder:${root}`, { split: "train" });
    assertEquals(Array.from(plain.labels), [0, 1, 2]); // sorted folder order
    for (const split of ["train", "val"] as const) {
      const ds = await openDataset(`folder:${root}`, { split, logits: 1000 });
      assertEquals(Array.from(ds.labels), [1, 207, 999]);
      assertEquals(ds.classes.length, 1000);
      assertEquals(ds.classes[207], "golden retriever");
      assertEquals(ds.labelMapping?.kind, "imagenet");
      assert(/standard sorted order of the 1000 wnids \(3 of them/.test(ds.labelMapping!.note));
    }
    const mapped = await openDataset(`folder:${root}`, { split: "train", logits: 1000 });
    assert((await mapped.identity()) !== (await plain.identity()), "mapping is in the identity");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wnid folders with another logit count, or an unknown wnid, are errors saying what to pass", async () => {
  const root = await folder(["n01443537", "n02099601", "n99999999"]);
  try {
    await assertRejects(
      () => openDataset(`folder:${root}`, { split: "train", logits: 1000 }),
      DataFormatError,
      "folder(s) n99999999 look like WordNet ids but are not among the 1000 ImageNet-1k classes; " +
        "pass --class-index FILE",
    );
    await assertRejects(
      () => openDataset(`folder:${root}`, { split: "train", logits: 10 }),
      DataFormatError,
      "3 class folders (n01443537, n02099601, n99999999) would get labels 0..2 in sorted folder " +
        "order, but the model has 10 logits",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--class-index JSON maps folder names to logits; unknown names and big indices are errors", async () => {
  const root = await folder(["cat", "dog"]);
  const json = await file("idx.json", JSON.stringify({ dog: 5, cat: 3, bird: 2 }));
  try {
    const ds = await openDataset(`folder:${root}`, { split: "val", logits: 10, classIndex: json });
    assertEquals(Array.from(ds.labels), [3, 5]);
    assertEquals([ds.classes[2], ds.classes[3], ds.classes[5], ds.classes[0]], [
      "bird",
      "cat",
      "dog",
      "0",
    ]);
    assertEquals(ds.labelMapping?.kind, "class-index");
    await assertRejects(
      () => openDataset(`folder:${root}`, { split: "val", logits: 4, classIndex: json }),
      DataFormatError,
      "idx.json gives dog → 5 but the model has 4 logits (0..3)",
    );
    const partial = await file("partial.json", JSON.stringify({ cat: 0 }));
    await assertRejects(
      () => openDataset(`folder:${root}`, { split: "val", logits: 4, classIndex: partial }),
      DataFormatError,
      "class(es) dog are not in",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readClassIndex() reads synset-words text, Keras JSON and index → name JSON", async () => {
  const words = await file(
    "LOC_synset_mapping.txt",
    "# comment\nn01440764 tench, Tinca tinca\n\nn01443537 goldfish, Carassius auratus\n",
  );
  const t = await readClassIndex(words);
  assertEquals([...t.index.entries()], [["n01440764", 0], ["n01443537", 1]]);
  assertEquals(t.names.get(1), "goldfish, Carassius auratus");
  const keras = await file(
    "imagenet_class_index.json",
    JSON.stringify({ "0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"] }),
  );
  assertEquals([...(await readClassIndex(keras)).index.entries()], [["n01440764", 0], [
    "n01443537",
    1,
  ]]);
  const byIndex = await file("names.json", JSON.stringify({ "0": "airplane", "1": "automobile" }));
  assertEquals((await readClassIndex(byIndex)).index.get("automobile"), 1);
  const dup = await file("dup.json", JSON.stringify({ a: 1, b: 1 }));
  await assertRejects(
    () => readClassIndex(dup),
    DataFormatError,
    "index 1 is given to two classes",
  );
  const neg = await file("neg.json", JSON.stringify({ a: -1 }));
  await assertRejects(() => readClassIndex(neg), DataFormatError, 'class "a" has index -1');
  const bad = await file("bad.json", "{ not json");
  await assertRejects(() => readClassIndex(bad), DataFormatError, "not valid JSON");
});

Deno.test("a synset-words file keeps a subset folder on the model's indices by line order", async () => {
  const root = await folder(["n01443537"]);
  const words = await file(
    "synset_words.txt",
    "n01440764 tench\nn01443537 goldfish\nn01484850 shark\n",
  );
  try {
    const ds = await openDataset(`${root}`, { split: "train", logits: 3, classIndex: words });
    assertEquals(Array.from(ds.labels), [1]);
    assertEquals(ds.classes, ["tench", "goldfish", "shark"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("more classes than logits is an error; file labels with fewer classes stay as they are", async () => {
  await assertRejects(
    () => openDataset(`cifar:${L}cifar10`, { split: "train", logits: 5 }),
    DataFormatError,
    "the data has 10 classes (airplane, automobile, bird, cat, deer, … (10 in all)) but the " +
      "model has 5 logits; pass --class-index FILE",
  );
  const idx = await openDataset(`idx:${L}idx`, { split: "train", logits: 10 });
  assertEquals(idx.labelMapping?.kind, "identity");
  assertEquals(Array.from(idx.labels), [0, 1, 2, 0, 1, 2]);
});

Deno.test("a matching data set keeps its labels, classes and identity (cache keys unchanged)", async () => {
  const a = await openDataset("builtin:fashion-mnist", { split: "val" });
  const b = await openDataset("builtin:fashion-mnist", { split: "val", logits: 10 });
  assertEquals(b.labelMapping?.kind, "identity");
  assertEquals(b.classes, a.classes);
  assertEquals(Array.from(b.labels.subarray(0, 50)), Array.from(a.labels.subarray(0, 50)));
  assertEquals(await b.identity(), await a.identity());
  assertEquals(resolveLabelMapping(["a", "b"], undefined).kind, "identity");
});
