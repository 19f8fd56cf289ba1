// Data loaders: decoding throughput of the streaming image-folder loader (sharp: JPEG decode,
// resize 256, centre crop 224, planar float32) and of the built-in IDX set, in images/s.
// Baseline: the IDX loader (bytes already in memory). Results in bench/RESULTS.md.
// @ts-types="../lib/data/sharp.d.ts"
import sharp from "npm:sharp@0.35.5";
import { openDataset } from "../mod.ts";

const N = 32;
const dir = await Deno.makeTempDir({ prefix: "somscope-data-bench-" });
// ImageNet-like JPEGs: 500×375, a smooth pattern plus noise so the encoder does real work.
for (let i = 0; i < N; i++) {
  const w = 500, h = 375, px = new Uint8Array(w * h * 3);
  let s = i * 7919 + 1;
  for (let j = 0; j < px.length; j++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[j] = ((j % (w * 3)) * 0.3 + (j / (w * 3)) * 0.5 + (s >>> 27)) & 255;
  }
  const cls = `${dir}/train/c${i % 4}`;
  await Deno.mkdir(cls, { recursive: true });
  await Deno.mkdir(`${dir}/val/c${i % 4}`, { recursive: true });
  const jpg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 })
    .toBuffer();
  await Deno.writeFile(`${cls}/${i}.jpg`, jpg);
  if (i < 4) await Deno.writeFile(`${dir}/val/c${i % 4}/${i}.jpg`, jpg);
}
const folder = await openDataset(`folder:${dir}`, { split: "train" });
const idx = await openDataset("builtin:fashion-mnist", { split: "train" });
const all = Array.from({ length: N }, (_, i) => i);
const many = Array.from({ length: 1000 }, (_, i) => i);

Deno.bench({
  name: "builtin:fashion-mnist load 1000 × 1×28×28",
  group: "load",
  baseline: true,
  async fn() {
    await idx.load(many);
  },
});

Deno.bench({
  name: `folder load ${N} JPEG 500×375 → 3×224×224 (resize 256, crop 224)`,
  group: "load",
  async fn() {
    await folder.load(all);
  },
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
