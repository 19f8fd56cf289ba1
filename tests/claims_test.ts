import { assert, assertEquals } from "./asserts.ts";
import { analyzeModel, type LayerInput } from "../lib/analysis/analyze.ts";
import { PAPER_LIKE, planted } from "./analysis_planted.ts";
import { evaluateClaims } from "../lib/analysis/claims.ts";
import { syntheticAttack } from "./verdict_fixtures.ts";

const FAST = { resamples: 300, permutations: 100 };

function byId(layers: LayerInput[], options = {}, claimOptions = {}) {
  const a = analyzeModel("planted", layers, { seed: 2, ...FAST, ...options });
  return Object.fromEntries(evaluateClaims(a, { seed: 4, ...claimOptions }).map((c) => [c.id, c]));
}

Deno.test("evaluateClaims() finds every planted paper-like effect, with null, effect, trend and guard lines", () => {
  // Wrong predictions 8 units off their class (with 4 wrong of 20 per class, 5 is too few to
  // tell apart in CL1 at the Holm-adjusted level).
  const claims = byId(planted({ ...PAPER_LIKE, wrongOffset: 8 }, { seeds: 5, smooth: true }), {
    attack: syntheticAttack(5),
  });
  for (
    const id of [
      "loss-last-layer-highest",
      "val-bmus-match-train",
      "dclass-shrinks-train",
      "dclass-shrinks-val",
      "weight-cd-grows",
      "noise-barely-moves",
      "pgd-shift-grows",
      "adversarial-beats-noise",
      "pgd-collapses-accuracy",
      "incorrect-farther",
    ]
  ) {
    const c = claims[id];
    assertEquals(c.holds, true, `${id}: ${c.reason} ${JSON.stringify(c.interval)}`);
    assert(c.interval[0]! <= c.interval[1]!, id);
    assert(c.adjustedLevel! > 0.95 && c.adjustedLevel! < 1, `${id} adjusted ${c.adjustedLevel}`);
    assert(c.guards.length > 0 && c.guards.every((g) => g.passed !== false), id);
    assert(c.effect !== null && c.measures.length > 0 && c.rule.includes("Holm"), id);
  }
  for (const id of ["dclass-shrinks-train", "dclass-shrinks-val", "val-bmus-match-train"]) {
    const n = claims[id].null!;
    assert(n.permutations === 100 && n.met === true && n.perLayer.length === 4, id);
  }
  for (const id of ["dclass-shrinks-train", "weight-cd-grows", "pgd-shift-grows"]) {
    assert(claims[id].trend!.tau !== null && claims[id].trend!.layers === 4, id);
  }
  assertEquals(claims["dclass-shrinks-train"].trend!.expected, "decreasing");
  assert(claims["dclass-shrinks-train"].trend!.tau! < 0);
  assertEquals(claims["weight-cd-grows"].intervalKind, "Student t over SOM seeds");
  assertEquals(claims["pgd-shift-grows"].secondary!.holds, true);
  assertEquals(claims["dclass-shrinks-train"].statement.includes("from CL1 to CL4"), true);
});

Deno.test("the class-centre claim holds when class centres are apart and shuffled labels centre on a hub", () => {
  const c = byId(planted(PAPER_LIKE, { seeds: 5, smooth: true, hub: 0.3 }))["centre-cd-grows"];
  assertEquals(c.holds, true, `${c.reason} ${JSON.stringify(c.interval)}`);
  assertEquals(c.null!.met, true);
  assert(c.statement.includes("10 classes, 45 pairs"), c.statement);
});

Deno.test("evaluateClaims() reports reversed effects as failing, never as holding", () => {
  const reversed = {
    spread: [...PAPER_LIKE.spread].reverse(),
    weightNoise: [...PAPER_LIKE.weightNoise].reverse(),
    finalLoss: [...PAPER_LIKE.finalLoss].reverse(),
    advShift: [...PAPER_LIKE.advShift].reverse(),
    wrongOffset: 0,
  };
  const claims = byId(planted(reversed, { seeds: 5, smooth: true }), {
    attack: syntheticAttack(75),
  });
  for (
    const id of [
      "loss-last-layer-highest",
      "dclass-shrinks-train",
      "dclass-shrinks-val",
      "weight-cd-grows",
      "pgd-shift-grows",
      "pgd-collapses-accuracy",
    ]
  ) {
    assertEquals(claims[id].holds, false, `${id}: ${claims[id].reason}`);
  }
  assert(claims["incorrect-farther"].holds !== true);
});

Deno.test("evaluateClaims() is deterministic for a seed and inconclusive without inputs", () => {
  const layers = planted(PAPER_LIKE).map((l) => ({ ...l, shifts: undefined }));
  const a = analyzeModel("m", layers, FAST);
  assertEquals(
    JSON.stringify(evaluateClaims(a, { resamples: 100, seed: 9 })),
    JSON.stringify(evaluateClaims(a, { resamples: 100, seed: 9 })),
  );
  const claims = evaluateClaims(a, { resamples: 50 });
  const noise = claims.find((c) => c.id === "noise-barely-moves")!;
  assertEquals([noise.holds, noise.value, noise.adjustedLevel], ["inconclusive", null, null]);
  assert(noise.reason!.includes("noise"));
  const collapse = claims.find((c) => c.id === "pgd-collapses-accuracy")!;
  assertEquals(collapse.reason, "no attack was run");
});

Deno.test("map-level claims need 5 SOM seeds: with 3 they show the range and stay inconclusive", () => {
  const claims = byId(planted(PAPER_LIKE, { seeds: 3, smooth: true }));
  for (const id of ["loss-last-layer-highest", "weight-cd-grows"]) {
    const c = claims[id];
    assertEquals([c.holds, c.intervalKind, c.adjustedLevel], [
      "inconclusive",
      "range over 3 SOM seeds",
      null,
    ]);
    assert(c.reason!.includes("at least 5 seeds"), c.reason);
    assert(!c.rule.includes("95"), c.rule);
  }
});

Deno.test("Holm: the smallest p is judged at 1 − α/m and `adjust: none` judges every claim at 1 − α", () => {
  const a = analyzeModel("h", planted(PAPER_LIKE, { seeds: 5, smooth: true }), FAST);
  const holm = evaluateClaims(a), none = evaluateClaims(a, { adjust: "none" });
  const fam = holm.filter((c) => c.adjustedLevel !== null);
  const m = fam.length;
  const levels = fam.map((c) => c.adjustedLevel!).sort((x, y) => y - x);
  assert(Math.abs(levels[0] - (1 - 0.05 / m)) < 1e-12, `${levels[0]} vs m = ${m}`);
  assert(Math.abs(levels[m - 1] - 0.95) < 1e-12 || levels[m - 1] > 0.95);
  assert(none.every((c) => c.adjustedLevel === null || c.adjustedLevel === 0.95));
  assert(none.every((c) => c.adjustment === "none") && holm.every((c) => c.adjustment === "holm"));
  // The adjustment changes levels and intervals, never the statistics.
  assertEquals(holm.map((c) => c.value), none.map((c) => c.value));
});

Deno.test("ViT layer names and the family from the caller word the claims and choose the figures", () => {
  const layers = planted(PAPER_LIKE).map((l, i) => ({ ...l, layer: `cls${i * 3}` }));
  const a = analyzeModel("model_from_some_file", layers, { ...FAST, family: "vit" });
  const claims = Object.fromEntries(evaluateClaims(a).map((c) => [c.id, c]));
  assertEquals(claims["weight-cd-grows"].figure, "Fig. 9");
  assert(claims["pgd-shift-grows"].statement.includes("in cls0 and much more in cls9"));
  assert(!JSON.stringify(claims).includes("CL1"));
  // Without a family, layer names decide (never the model's file name).
  assertEquals(analyzeModel("my_vit_file", planted(PAPER_LIKE), FAST).family, "cnn");
});
