import { assert, assertEquals } from "./asserts.ts";
import { analyzeModel } from "../lib/analysis/analyze.ts";
import { PAPER_LIKE, planted } from "./analysis_planted.ts";
import { evaluateClaims } from "../lib/analysis/claims.ts";

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
