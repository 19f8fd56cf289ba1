// issue 10, "What it must show": a synthetic 1000-class run end to end — 1000 class folders of
// small images and a tiny 1000-logit CNN through `reproduce` — whose class-centre analysis uses
// one subset of 100 classes and 4,950 pairs in every layer and map size.
// node:assert directly: tests/asserts.ts does not type-check beside sharp's @types/node.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import * as aq from "npm:arquero@8.0.3";
import { flags, runCli } from "./cli_helper.ts";
import { DT, encodeModel, model, node, tensor, valueInfo } from "../lib/onnx/proto.ts";
import { Rng } from "../lib/rng.ts";

/** x (N×3×8×8) → Conv 3×3 → Relu (h1) → Conv 3×3 → Relu (h2) → Flatten → Gemm → 1000 logits. */
function tinyCnn(rng: Rng): Uint8Array {
  const w = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  return encodeModel(model({
    name: "tiny1000",
    node: [
      node("Conv", ["x", "w1", "b1"], ["c1"], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
      node("Relu", ["c1"], ["h1"]),
      node("Conv", ["h1", "w2", "b2"], ["c2"], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
      node("Relu", ["c2"], ["h2"]),
      node("Flatten", ["h2"], ["f"]),
      node("Gemm", ["f", "w3", "b3"], ["logits"]),
    ],
    initializer: [
      tensor("w1", [8, 3, 3, 3], w(8 * 27, 0.3)),
      tensor("b1", [8], w(8, 0.1)),
      tensor("w2", [8, 8, 3, 3], w(8 * 72, 0.2)),
      tensor("b2", [8], w(8, 0.1)),
      tensor("w3", [512, 1000], w(512 * 1000, 0.05)),
      tensor("b3", [1000], new Float32Array(1000)),
    ],
    input: [valueInfo("x", DT.FLOAT, ["N", 3, 8, 8])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 1000])],
  }, { opset: 17 }));
}

const CRC = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function _crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal 8-bit RGB PNG (one IDAT, filter 0), zlib through CompressionStream("deflate"). */
async function png(rgb: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  const raw = new Uint8Array(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) {
    raw.set(rgb.subarray(y * 3 * w, (y + 1) * 3 * w), y * (1 + 3 * w) + 1);
  }
  const z = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate")))
      .arrayBuffer(),
  );
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    dv.setUint32(8 + data.length, _crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10),
    chunk("IHDR", ihdr),
    chunk("IDAT", z),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test({
  name:
    "a synthetic 1000-class reproduce compares one subset of 100 classes (4,950 pairs) in every layer and size",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "somscope_1000_" });
    try {
      const rng = new Rng(5);
      await Deno.writeFile(`${tmp}/tiny.onnx`, tinyCnn(rng));
      for (let c = 0; c < 1000; c++) {
        // Each class: its own colour pattern; each image: that pattern plus noise.
        const base = Uint8Array.from({ length: 192 }, () => rng.int(256));
        for (const [split, n] of [["train", 2], ["val", 2]] as const) {
          const dir = `${tmp}/data/${split}/c${String(c).padStart(4, "0")}`;
          await Deno.mkdir(dir, { recursive: true });
          for (let i = 0; i < n; i++) {
            const px = base.map((v) =>
              Math.max(0, Math.min(255, v + Math.round(20 * rng.normal())))
            );
            await Deno.writeFile(`${dir}/${i}.png`, await png(px, 8, 8));
          }
        }
      }
      const r = await runCli([
        "reproduce",
        ...flags({
          model: `${tmp}/tiny.onnx`,
          data: `folder:${tmp}/data`,
          layers: "h1,h2",
          "per-class": 2,
          grid: 6,
          sizes: "6,8",
          epochs: 1,
          seeds: 1,
          "attack-n": 0,
          resamples: 30,
          permutations: 20,
          backend: "cpu",
          out: `${tmp}/run`,
          quiet: true,
        }),
      ], { SOMSCOPE_CACHE: `${tmp}/cache` });
      assertEquals(r.code, 0, r.stderr);
      const doc = JSON.parse(await Deno.readTextFile(`${tmp}/run/claims.json`));
      const [m] = doc.models;
      assertEquals([m.classes, m.centreSubset.labels.length, m.centreSubset.pairs], [
        1000,
        100,
        4950,
      ]);
      assertEquals(m.centreSubset.stream, "centre-classes/tiny");
      const claim = doc.claims.find((c: { id: string }) => c.id === "centre-cd-grows");
      assert(claim.statement.includes("100 classes, 4,950 pairs"), claim.statement);
      // The centre_cd table: the same 4,950 pairs in every layer and size.
      const t = aq.fromArrow(await Deno.readFile(`${tmp}/run/tables/centre_cd.arrow`));
      const rows = t.objects() as {
        layer: string;
        size: string;
        label_a: number;
        label_b: number;
      }[];
      const keyOf = (x: { label_a: number; label_b: number }) => `${x.label_a},${x.label_b}`;
      const groups = new Map<string, Set<string>>();
      for (const x of rows) {
        const g = `${x.layer}/${x.size}`;
        if (!groups.has(g)) groups.set(g, new Set());
        groups.get(g)!.add(keyOf(x));
      }
      assertEquals(groups.size, 4, [...groups.keys()].join(" "));
      const sets = [...groups.values()];
      for (const s of sets) {
        assertEquals(s.size, 4950);
        assert([...s].every((k) => sets[0].has(k)));
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
