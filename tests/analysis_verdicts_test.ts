import { assert, assertEquals, assertThrows } from "./asserts.ts";
import { analyzeModel, type LayerInput } from "../lib/analysis/analyze.ts";
import { evaluateClaims } from "../lib/analysis/claims.ts";
import type { ClaimResult } from "../lib/analysis/claim_types.ts";
import { classCentres, dClass } from "../lib/analysis/class_centres.ts";
import { syntheticAttack, synthLayers, type SynthOptions } from "./verdict_fixtures.ts";
import { applyAnalysisOptions, UsageError } from "../tasks/cli.ts";
import { defaultConfig, validateConfig } from "../lib/pipeline/config.ts";
import { claimOptions } from "../lib/pipeline/stages/analyses.ts";
import { PAPER_LIKE, planted } from "./analysis_planted.ts";

const FAST = { resamples: 200, permutations: 100 };
const CLASS_CLAIMS = [
  "val-bmus-match-train",
  "dclass-shrinks-train",
  "dclass-shrinks-val",
  "centre-cd-grows",
  "incorrect-farther",
];
const STRUCTURED: SynthOptions = {
  classes: 12,
  perClass: 20,
  grid: 10,
  sizes: [8],
  k: 3,
  spreads: [2, 1.2, 0.6, 0.3],
  seeds: 1,
  attack: { images: 60, advShift: [0, 1, 3, 5] },
};

function claimsOf(
  layers: LayerInput[],
  options = {},
  claimOptions = {},
): Record<string, ClaimResult> {
  const a = analyzeModel("syn", layers, { ...FAST, ...options });
  return Object.fromEntries(evaluateClaims(a, claimOptions).map((c) => [c.id, c]));
}

Deno.test("class statistics on the full sample equal classCentres/dClass and the centre pairs", () => {
  const layers = synthLayers({ ...STRUCTURED, seed: 3 });
  const a = analyzeModel("syn", layers, FAST);
  for (const [i, l] of a.layers.entries()) {
    const L = layers[i];
    const centres = classCentres(L.train.topk, L.k, L.train.labels, L.grid);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const dTr = mean(
      dClass(L.train.topk, L.k, L.train.labels, centres, L.grid).map((d) => d.dClass),
    );
    const dVa = mean(dClass(L.val.topk, L.k, L.val.labels, centres, L.grid).map((d) => d.dClass));
    assertEquals(l.classStats.dClassTrain.observed, dTr);
    // SOM-val is summed per right/wrong stratum: equal up to rounding.
    assert(Math.abs(l.classStats.dClassVal.observed - dVa) < 1e-12 * dVa, `${l.layer} val`);
    for (const cc of l.centreCd) {
      const obs = l.classStats.centreCd[cc.size].observed;
      assert(Math.abs(obs - mean(cc.pairs.map((p) => p[2]))) < 1e-12, `${l.layer} ${cc.size}`);
    }
    assertEquals(l.classStats.dClassTrain.replicates.length, 200);
    assertEquals(l.classStats.dClassTrain.null.length, 100);
  }
});

Deno.test("planted class structure beats its label-permutation null; shuffled labels never hold", () => {
  const real = claimsOf(synthLayers({ ...STRUCTURED, seed: 3 }));
  for (const id of ["dclass-shrinks-train", "dclass-shrinks-val", "val-bmus-match-train"]) {
    assertEquals(real[id].holds, true, `${id}: ${real[id].reason}`);
  }
  for (const seed of [1, 2, 3]) {
    const layers = synthLayers({ ...STRUCTURED, seed, permuteLabels: true });
    for (const adjust of ["holm", "none"] as const) {
      const shuffled = claimsOf(layers, {}, { adjust });
      for (const id of CLASS_CLAIMS) {
        assert(
          shuffled[id].holds !== true,
          `seed ${seed} ${adjust} ${id} holds on shuffled labels`,
        );
      }
      // The raw D_class still shrinks (spreads shrink with depth): only the null stops it.
      assert(
        shuffled["dclass-shrinks-train"].effect!.perLayer!.every((e) =>
          Math.abs(e.value! - 1) < 0.2
        ),
      );
    }
  }
});

function allInvalid(claims: Record<string, ClaimResult>, word: string): void {
  for (const c of Object.values(claims)) {
    assertEquals(c.holds, "invalid", `${c.id}: ${c.holds} ${c.reason}`);
    assert(c.reason!.includes(word), `${c.id}: ${c.reason}`);
  }
}

Deno.test("identical codes collapse every map: no claim holds and each says why", () => {
  const layers = synthLayers({ ...STRUCTURED, seeds: 5, seed: 4 }).map((l) => {
    const same = (t: Int32Array) => t.map((_, i) => i % l.k);
    return {
      ...l,
      train: { ...l.train, topk: same(l.train.topk) },
      val: { ...l.val, topk: same(l.val.topk) },
      weights: new Float32Array(l.weights.length).fill(1),
      sizes: l.sizes?.map((s) => ({ ...s, train: { ...s.train, topk: same(s.train.topk) } })),
      ensemble: l.ensemble?.map((e) => ({ ...e, train: { ...e.train, topk: same(e.train.topk) } })),
    };
  });
  allInvalid(claimsOf(layers, { logits: 1000 }), "collapsed");
});

Deno.test("chance accuracy, labels outside the logits and non-finite losses make every claim invalid", () => {
  const base = synthLayers({ ...STRUCTURED, seed: 5 });
  const never = base.map((l) => ({
    ...l,
    val: { ...l.val, correct: Array.from(l.val.labels, () => 0) },
  }));
  allInvalid(claimsOf(never), "chance");
  allInvalid(claimsOf(base, { logits: 10 }), "logits");
  const nan = base.map((l, i) =>
    i === 2 ? { ...l, losses: Float32Array.from(l.losses, (w, j) => j === 7 ? NaN : w) } : l
  );
  allInvalid(claimsOf(nan), "non-finite");
  // Non-finite SOM weights are refused outright, naming the layer and the map.
  const badWeights = base.map((l, i) =>
    i === 2 ? { ...l, weights: l.weights.map((w, j) => j === 7 ? NaN : w) } : l
  );
  assertThrows(
    () => analyzeModel("syn", badWeights, FAST),
    RangeError,
    "CL3: the main map's SOM weights hold 1 non-finite",
  );
  // Every guard is in claims.json with its value and threshold.
  const g = analyzeModel("syn", base, { ...FAST, logits: 10 }).validity;
  const logits = g.find((x) => x.id === "labels-within-logits")!;
  assertEquals([logits.passed, logits.value, logits.threshold], [false, 2, 0]);
  assert(g.filter((x) => x.id.startsWith("map-usage/")).every((x) => x.threshold === 0.05));
});

Deno.test("a statistic within numerical noise of 0 is inconclusive, not decided by rounding", () => {
  // Two identical layers: every replicate of D_class(first) − D_class(last) is exactly 0.
  const [l] = synthLayers({ ...STRUCTURED, spreads: [1], seed: 6 });
  const claims = claimsOf([l, { ...l, layer: "CL2" }]);
  for (const id of ["dclass-shrinks-train", "dclass-shrinks-val"]) {
    assertEquals(claims[id].holds, "inconclusive");
    assert(claims[id].reason!.includes("numerical noise"), claims[id].reason);
  }
});

Deno.test("1000 classes: one subset of 100 classes and 4,950 pairs in every layer and map size", () => {
  const layers = synthLayers({
    classes: 1000,
    perClass: 2,
    valPerClass: 1,
    grid: 10,
    sizes: [6, 12],
    k: 2,
    spreads: [1, 0.5],
    seed: 7,
  });
  const a = analyzeModel("imagenet_like", layers, { resamples: 20, permutations: 20 });
  assertEquals([a.centreSubset.labels.length, a.centreSubset.pairs, a.centreSubset.of], [
    100,
    4950,
    1000,
  ]);
  assertEquals(a.centreSubset.stream, "centre-classes/imagenet_like");
  for (const l of a.layers) {
    assertEquals(l.centreCd.map((c) => c.size), ["6x6", "10x10", "12x12"]);
    for (const c of l.centreCd) {
      assertEquals(c.labels, a.centreSubset.labels);
      assertEquals(c.pairs.length, 4950);
      assert(c.pairs.every(([x, y, d]) => x < y && d >= 0 && d <= 2));
    }
  }
  const claim = evaluateClaims(a).find((c) => c.id === "centre-cd-grows")!;
  assert(claim.statement.includes("100 classes, 4,950 pairs"), claim.statement);
  assert(claim.note!.includes("100 of 1000 classes"), claim.note);
  // A map without one of the subset's classes is an error, not a skip.
  const lacking = layers.map((l) => ({
    ...l,
    sizes: l.sizes!.map((s) => ({
      ...s,
      train: {
        ...s.train,
        labels: Array.from(s.train.labels, (x) => x === a.centreSubset.labels[0] ? 0 : x),
      },
    })),
  }));
  assertThrows(
    () => analyzeModel("imagenet_like", lacking, { resamples: 5, permutations: 5 }),
    RangeError,
    "shared subset",
  );
});

Deno.test("calibration: nominal 95 % intervals cover a planted D_class in 90–99 % of 120 replicates", () => {
  // Truth: the expected D_class at this design, from 3000 classes of the same generator.
  // One fixed map (no weight noise): intervals are conditional on the map, classes are random.
  const design = {
    perClass: 8,
    valPerClass: 4,
    grid: 10,
    k: 2,
    spreads: [1.5, 0.6],
    weightNoise: [0, 0],
  };
  const big = synthLayers({ ...design, classes: 3000, seed: 1000 });
  const truth = big.map((l) => {
    const centres = classCentres(l.train.topk, l.k, l.train.labels, l.grid);
    const d = dClass(l.train.topk, l.k, l.train.labels, centres, l.grid).map((x) => x.dClass);
    return d.reduce((s, x) => s + x, 0) / d.length;
  });
  const target = truth[0] - truth[1];
  let coverLayer = 0, coverDiff = 0;
  const R = 120;
  for (let r = 0; r < R; r++) {
    const a = analyzeModel("cal", synthLayers({ ...design, classes: 25, seed: r }), {
      resamples: 300,
      permutations: 2,
      seed: r,
    });
    const c = evaluateClaims(a, { adjust: "none" }).find((x) => x.id === "dclass-shrinks-train")!;
    const [lo, hi] = c.perLayer[0].interval;
    if (lo! <= truth[0] && truth[0] <= hi!) coverLayer++;
    const [dlo, dhi] = c.secondary!.interval;
    if (dlo! <= target && target <= dhi!) coverDiff++;
  }
  const msg = `coverage: layer ${coverLayer}/${R}, difference ${coverDiff}/${R}`;
  assert(coverLayer >= 0.9 * R && coverLayer <= 0.99 * R, msg);
  assert(coverDiff >= 0.9 * R && coverDiff <= 0.99 * R, msg);
});

/** Everything of a model's analyses except the named layer fields and top-level keys. */
function without(a: unknown, layerKeys: string[], topKeys: string[] = []): string {
  const o = a as { layers: Record<string, unknown>[] } & Record<string, unknown>;
  return JSON.stringify({
    ...Object.fromEntries(
      Object.entries(o).filter(([k]) => !topKeys.includes(k) && k !== "layers"),
    ),
    layers: o.layers.map((l) =>
      Object.fromEntries(Object.entries(l).filter(([k]) => !layerKeys.includes(k)))
    ),
  }, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));
}

/** Equal JSON strings, or a failure showing where they first differ. */
function assertSameJson(a: string, b: string, what: string): void {
  if (a === b) return;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  throw new Error(
    `${what} differ at ${i}: …${a.slice(i - 150, i + 80)}… vs …${b.slice(i - 150, i + 80)}…`,
  );
}

function claimsWithout(cs: ClaimResult[], ids: string[]): string {
  return JSON.stringify(cs.filter((c) => !ids.includes(c.id)));
}

Deno.test("each analysis option changes the numbers it is for and nothing else", () => {
  const layers = planted(PAPER_LIKE, { seeds: 5, smooth: true });
  const base = analyzeModel("opt", layers, FAST);
  const baseClaims = evaluateClaims(base, { adjust: "none" });
  // --bandwidth: only the densities.
  const bw = analyzeModel("opt", layers, { ...FAST, density: { bandwidth: 2 } });
  assert(JSON.stringify(bw.layers[0].density) !== JSON.stringify(base.layers[0].density));
  assertSameJson(without(bw, ["density"]), without(base, ["density"]), "--bandwidth");
  // --featured: only the BMUs-by-class figure's inputs.
  const ft = analyzeModel("opt", layers, { ...FAST, featuredClasses: [1, 2] });
  assertEquals(ft.layers[0].bmusByClass.train.map((x) => x.label), [1, 2]);
  assertEquals(
    without(ft, ["bmusByClass"], ["featuredClasses"]),
    without(base, ["bmusByClass"], ["featuredClasses"]),
  );
  // --max-centre-classes: only the class-centre analysis and its claim.
  const mc = analyzeModel("opt", layers, { ...FAST, maxCentreClasses: 5 });
  assertEquals(mc.centreSubset.labels.length, 5);
  assertEquals(mc.layers[0].centreCd[0].pairs.length, 10);
  const strip = (a: typeof base) => ({
    ...a,
    centreSubset: null,
    layers: a.layers.map((l) => ({
      ...l,
      centreCd: null,
      classStats: { ...l.classStats, centreCd: null },
    })),
  });
  assertSameJson(without(strip(mc), []), without(strip(base), []), "--max-centre-classes");
  assertEquals(
    claimsWithout(evaluateClaims(mc, { adjust: "none" }), ["centre-cd-grows"]),
    claimsWithout(baseClaims, ["centre-cd-grows"]),
  );
  // --resamples: intervals move, values and nulls do not.
  const rs = analyzeModel("opt", layers, { ...FAST, resamples: 120 });
  const rsClaims = evaluateClaims(rs, { adjust: "none" });
  assertEquals(rsClaims.map((c) => c.value), baseClaims.map((c) => c.value));
  assert(
    JSON.stringify(rsClaims.map((c) => c.interval)) !==
      JSON.stringify(baseClaims.map((c) => c.interval)),
  );
  assertEquals(
    rs.layers.map((l) => l.classStats.dClassTrain.nullMean),
    base.layers.map((l) => l.classStats.dClassTrain.nullMean),
  );
});

Deno.test("each claim threshold and --adjust change only their own claim's verdict and wording", () => {
  const a = analyzeModel("opt", planted(PAPER_LIKE, { seeds: 5, smooth: true }), {
    ...FAST,
    attack: syntheticAttack(5),
  });
  const base = evaluateClaims(a, { adjust: "none" });
  const cases: [Record<string, number>, string[]][] = [
    [{ noiseFraction: 0.01 }, ["noise-barely-moves"]],
    [{ muchMoreRatio: 50 }, ["pgd-shift-grows"]],
    [{ muchMoreSimilarRatio: 2 * base.find((c) => c.id === "weight-cd-grows")!.effect!.value! }, [
      "weight-cd-grows",
    ]],
    [{ minSeeds: 6 }, ["loss-last-layer-highest", "weight-cd-grows"]],
    [{ collapseRatio: 0.01 }, ["pgd-collapses-accuracy"]],
    [{ keepRatio: 1.5 }, ["pgd-collapses-accuracy"]],
  ];
  for (const [opt, ids] of cases) {
    const changed = evaluateClaims(a, { adjust: "none", ...opt });
    assertEquals(claimsWithout(changed, ids), claimsWithout(base, ids), JSON.stringify(opt));
    for (const id of ids) {
      const b = base.find((c) => c.id === id)!, c = changed.find((x) => x.id === id)!;
      assertEquals(b.holds, true, id);
      assert(c.holds !== true, `${id} under ${JSON.stringify(opt)}: ${c.holds}`);
    }
  }
  const holm = evaluateClaims(a);
  assertEquals(holm.map((c) => c.value), base.map((c) => c.value));
  assert(holm.some((c) => c.adjustedLevel !== null && c.adjustedLevel > 0.95));
});

Deno.test("--permutations changes only the nulls; options reach the config and the claims", () => {
  const layers = planted(PAPER_LIKE);
  const a = analyzeModel("p", layers, FAST),
    b = analyzeModel("p", layers, { ...FAST, permutations: 50 });
  assertEquals(b.layers[0].classStats.dClassTrain.null.length, 50);
  const noNulls = (x: typeof a) =>
    JSON.stringify(
      x.layers.map((
        l,
      ) => [l.classStats.dClassTrain.observed, Array.from(l.classStats.dClassTrain.replicates)]),
    );
  assertEquals(noNulls(b), noNulls(a));
  assertEquals(
    without(b, ["classStats"], ["resampling"]),
    without(a, ["classStats"], ["resampling"]),
  );
  // CLI flags → config → claim options.
  const c = defaultConfig(true);
  applyAnalysisOptions(c, {
    adjust: "none",
    permutations: "300",
    "much-more-ratio": "3",
    "much-more-similar-ratio": "4",
    "collapse-ratio": "0.25",
    "keep-ratio": "0.8",
    "noise-fraction": "0.05",
  });
  validateConfig(c);
  assertEquals(
    [
      c.adjust,
      c.permutations,
      c.muchMoreRatio,
      c.muchMoreSimilarRatio,
      c.collapseRatio,
      c.keepRatio,
    ],
    ["none", 300, 3, 4, 0.25, 0.8],
  );
  const o = claimOptions(c);
  assertEquals([o.adjust, o.muchMoreRatio, o.noiseFraction, o.keepRatio], ["none", 3, 0.05, 0.8]);
  assertThrows(
    () => applyAnalysisOptions(defaultConfig(), { adjust: "bonferroni" }),
    UsageError,
    "holm, none",
  );
  assertThrows(
    () => validateConfig({ ...defaultConfig(), permutations: 5 }),
    RangeError,
    "permutations",
  );
  // The full default run has enough SOM seeds for intervals; --quick says "range over 3 seeds".
  assertEquals([defaultConfig().seeds, defaultConfig(true).seeds], [5, 3]);
});
