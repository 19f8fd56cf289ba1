import { assert, assertEquals } from "./asserts.ts";
import { analyzeModel, type LayerInput } from "../lib/analysis/analyze.ts";
import { evaluateClaims } from "../lib/analysis/claims.ts";
import { Rng } from "../lib/rng.ts";

/**
 * A planted model: 10 classes, 20×20 maps. In layer i (0..3) each class's BMUs scatter around
 * its own unit with spread `spread[i]`; weights get more diverse with depth; the loss ends
 * higher in deeper layers; adversarial shifts grow with depth, noise shifts are 0 or 1 unit;
 * wrong predictions land `wrongOffset` units farther from their centre.
 */
function planted(opts: {
  spread: number[];
  weightNoise: number[];
  finalLoss: number[];
  advShift: number[];
  wrongOffset: number;
}): LayerInput[] {
  const grid = { m: 20, n: 20 }, K = 400, dim = 8, k = 3, C = 10, per = 20;
  const rng = new Rng(1);
  const labelsOf = (n: number) => Array.from({ length: n * C }, (_, i) => Math.floor(i / n));
  const home = (c: number) => ((c * 2) % 20) * 20 + ((c * 7) % 20);
  const scatter = (u: number, s: number) => {
    const r = Math.floor(u / 20) + Math.round(rng.normal() * s);
    const c = (u % 20) + Math.round(rng.normal() * s);
    return (((r % 20) + 20) % 20) * 20 + (((c % 20) + 20) % 20);
  };
  const shift = (u: number, by: number) => {
    const r = Math.floor(u / 20), c = (u % 20 + by) % 20;
    return r * 20 + c;
  };
  return opts.spread.map((s, li) => {
    const trL = labelsOf(per), vaL = labelsOf(per);
    const tr = Int32Array.from(trL.flatMap((c) => [0, 1, 2].map(() => scatter(home(c), s))));
    const correct = vaL.map((_, i) => (i % 5 === 0 ? 0 : 1));
    const va = Int32Array.from(
      vaL.flatMap((c, i) =>
        [0, 1, 2].map(() =>
          correct[i] ? scatter(home(c), s) : shift(scatter(home(c), s), opts.wrongOffset)
        )
      ),
    );
    const base = Float32Array.from({ length: dim }, () => rng.normal());
    const weights = Float32Array.from(
      { length: K * dim },
      (_, i) => base[i % dim] + opts.weightNoise[li] * rng.normal(),
    );
    const losses = Float32Array.from(
      { length: 100 },
      (_, t) => opts.finalLoss[li] + Math.exp(-t / 10) + 0.01 * rng.normal(),
    );
    const clean = Int32Array.from({ length: 50 * k }, () => rng.int(K));
    const adversarial = clean.map((u) => shift(u, opts.advShift[li] + rng.int(2)));
    const noise = clean.map((u) => (rng.float() < 0.2 ? shift(u, 1) : u));
    return {
      layer: `CL${li + 1}`,
      grid,
      dim,
      weights,
      losses,
      k,
      train: { topk: tr, labels: trL },
      val: { topk: va, labels: vaL, correct },
      shifts: { clean, adversarial, noise },
    };
  });
}

const PAPER_LIKE = {
  spread: [4, 3, 1.5, 0.5],
  weightNoise: [0.05, 0.1, 1, 2],
  finalLoss: [0.1, 0.15, 0.2, 0.4],
  advShift: [0, 1, 3, 6],
  wrongOffset: 5,
};

Deno.test("evaluateClaims() finds every planted paper-like effect", () => {
  const a = analyzeModel("planted", planted(PAPER_LIKE), { seed: 2 });
  const claims = evaluateClaims(a, { resamples: 300, seed: 4 });
  const byId = Object.fromEntries(claims.map((c) => [c.id, c]));
  for (
    const id of [
      "loss-last-layer-highest",
      "dclass-shrinks-train",
      "dclass-shrinks-val",
      "weight-cd-grows",
      "centre-cd-grows",
      "noise-barely-moves",
      "pgd-shift-grows",
      "incorrect-farther",
    ]
  ) {
    assertEquals(byId[id].holds, true, `${id}: ${JSON.stringify(byId[id].interval)}`);
    assert(byId[id].interval[0]! <= byId[id].interval[1]!, `${id} ${JSON.stringify(byId[id])}`);
    assertEquals(byId[id].perLayer.length, 4);
  }
  // Layer 1: PGD shifts by 0 or 1 unit (mean 0.5), noise moves 20 % of BMUs by 1 (mean 0.2).
  assertEquals(byId["adversarial-beats-noise"].holds, true);
  assertEquals(byId["adversarial-beats-noise"].perLayer[0].value! > 0.2, true);
});

Deno.test("evaluateClaims() reports reversed effects as failing, never as holding", () => {
  const reversed = {
    spread: [...PAPER_LIKE.spread].reverse(),
    weightNoise: [...PAPER_LIKE.weightNoise].reverse(),
    finalLoss: [...PAPER_LIKE.finalLoss].reverse(),
    advShift: [...PAPER_LIKE.advShift].reverse(),
    wrongOffset: 0,
  };
  const claims = evaluateClaims(analyzeModel("rev", planted(reversed)), { resamples: 300 });
  const byId = Object.fromEntries(claims.map((c) => [c.id, c]));
  for (
    const id of [
      "loss-last-layer-highest",
      "dclass-shrinks-train",
      "dclass-shrinks-val",
      "weight-cd-grows",
      "pgd-shift-grows",
    ]
  ) {
    assertEquals(byId[id].holds, false, `${id}: ${JSON.stringify(byId[id].interval)}`);
  }
  assert(byId["incorrect-farther"].holds !== true);
});

Deno.test("evaluateClaims() is deterministic for a seed and inconclusive without inputs", () => {
  const layers = planted(PAPER_LIKE).map((l) => ({ ...l, shifts: undefined }));
  const a = analyzeModel("m", layers);
  assertEquals(
    JSON.stringify(evaluateClaims(a, { resamples: 100, seed: 9 })),
    JSON.stringify(evaluateClaims(a, { resamples: 100, seed: 9 })),
  );
  const noise = evaluateClaims(a, { resamples: 50 }).find((c) => c.id === "noise-barely-moves")!;
  assertEquals([noise.holds, noise.value], ["inconclusive", null]);
  assert(noise.note!.includes("noise"));
});

Deno.test("analyzeModel() rejects a class present in SOM-val but not in SOM-tr", () => {
  const [l] = planted(PAPER_LIKE);
  const labels = Array.from(l.val.labels);
  labels[0] = 99;
  let msg = "";
  try {
    analyzeModel("m", [{ ...l, val: { ...l.val, labels } }]);
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("99") && msg.includes("SOM-tr"), msg);
});
