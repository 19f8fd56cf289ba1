import { assert, assertEquals } from "./asserts.ts";
import {
  binomialUpperTail,
  bootstrapP,
  holmLevels,
  kendallTau,
  normalCdf,
  normalQuantile,
  tCdf,
  tQuantile,
  wilsonInterval,
} from "../lib/analysis/stats.ts";
import { accuracyGuard, finiteGuard, logitsGuard, mapGuards } from "../lib/analysis/guards.ts";
import { attackOutcome, attackRows } from "../lib/analysis/attack_outcome.ts";
import { intervalVerdict, replicateInterval } from "../lib/analysis/claim_evaluators.ts";
import { syntheticAttack } from "./verdict_fixtures.ts";

const close = (a: number, b: number, tol: number, what: string) =>
  assert(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

Deno.test("t, normal and binomial tails match scipy.stats (reference values)", () => {
  // scipy 1.x: t.cdf, t.ppf, norm.cdf, norm.ppf, binom.sf.
  close(tCdf(2.0, 3), 0.9303370157205785, 1e-10, "t.cdf(2, 3)");
  close(tCdf(-1.5, 10), 0.08225366322272007, 1e-10, "t.cdf(-1.5, 10)");
  close(tQuantile(0.975, 4), 2.7764451051977934, 1e-9, "t.ppf(.975, 4)");
  close(tQuantile(0.9975, 9), 3.689662392304245, 1e-9, "t.ppf(.9975, 9)");
  close(normalCdf(-3), 0.0013498980316300933, 1e-12, "norm.cdf(-3)");
  close(normalCdf(-8), 6.22096057427174e-16, 1e-9, "norm.cdf(-8)");
  close(normalQuantile(0.995), 2.5758293035489004, 1e-10, "norm.ppf(.995)");
  close(binomialUpperTail(30, 100, 0.2), 0.011248978720991648, 1e-10, "binom.sf(29, 100, .2)");
  close(binomialUpperTail(1, 400, 0.1), 1 - 0.9 ** 400, 1e-12, "at least one success");
  assertEquals(binomialUpperTail(0, 10, 0.3), 1);
});

Deno.test("Wilson intervals, Kendall's τ and Holm's levels on textbook cases", () => {
  const [lo, hi] = wilsonInterval(0, 40);
  assert(lo === 0 && Math.abs(hi - 0.08762160119728662) < 1e-12, `${lo} ${hi}`); // scipy binomtest(0, 40) wilson
  assertEquals(kendallTau([3, 1, 2]), -1 / 3);
  assertEquals(kendallTau([1, 1, 1]), NaN);
  // Holm: p-values 0.01, 0.04, 0.03 (m = 3) → levels α/3, α/1, α/2 in input order.
  assertEquals(holmLevels([0.01, 0.04, 0.03], 0.05).map((h) => h.rank), [0, 2, 1]);
  close(holmLevels([0.01, 0.04, 0.03], 0.05)[2].alpha, 0.025, 1e-15, "second");
  assert(bootstrapP(0, [-1, 0, 1], 0) === 1 && bootstrapP(5, [5, 5], 0) === 0);
});

Deno.test("verdicts are never decided by rounding and the expanded percentile widens small samples", () => {
  assertEquals(intervalVerdict([-2.2e-16, -2.2e-16], 0, "above", 1), {
    holds: "inconclusive",
    noise: true,
  });
  assertEquals(intervalVerdict([0.1, 0.2], 0, "above", 1).holds, true);
  assertEquals(intervalVerdict([-0.2, -0.1], 0, "above", 1).holds, false);
  assertEquals(intervalVerdict([0.1, 0.2], 0, "below", 1).holds, false);
  const reps = Float64Array.from({ length: 1001 }, (_, i) => i / 1000);
  const plain = replicateInterval(reps, 0.95), wide = replicateInterval(reps, 0.95, 5);
  assert(wide[0] < plain[0] && wide[1] > plain[1], `${plain} ${wide}`);
  const big = replicateInterval(reps, 0.95, 100000);
  close(big[0], plain[0], 1e-3, "large n → plain percentile");
});

Deno.test("guards: collapse, chance accuracy, labels outside the logits and non-finite values", () => {
  const spread = Int32Array.from({ length: 100 }, (_, i) => i % 50);
  assert(mapGuards("CL1", "CL1", spread, 1, 100, "all").every((g) => g.passed === true));
  const one = mapGuards("CL1", "CL1", new Int32Array(100), 1, 100, "all");
  assertEquals(one.map((g) => [g.passed, g.value]), [[false, 0.01], [false, 0]]);
  assert(one[0].reason.includes("1 of 100"));
  const labels = Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));
  // 70 % right is exactly the majority rate: not above chance.
  const maj = accuracyGuard("SOM-val", "acc", labels.map((l) => (l === 0 ? 1 : 0)), labels, "all");
  assertEquals([maj.passed, maj.threshold], [false, 0.7]);
  assertEquals(accuracyGuard("SOM-val", "acc", undefined, labels, "all").passed, null);
  const lg = logitsGuard([0, 5, 999, 1000, 1001], 1000);
  assertEquals([lg.passed, lg.value], [false, 2]);
  assert(lg.reason.includes("1000, 1001"), lg.reason);
  assertEquals(finiteGuard({ a: [1, 2], b: [Infinity] }, ["x"]).value, 1);
});

Deno.test("attackOutcome() counts Table 2 from the per-image rows, with Wilson intervals", () => {
  const { summary, examples } = syntheticAttack(5);
  const o = attackOutcome(summary, examples);
  assertEquals([o.accuracy.clean.count, o.accuracy.adversarial.count, o.accuracy.noise.count], [
    80,
    5,
    80,
  ]);
  assertEquals(o.success.vsLabel.count, 95);
  // Against the clean prediction: 75 right images flipped, and the 20 wrong ones moved elsewhere.
  assertEquals(o.success.vsCleanPrediction.count, 95);
  assertEquals([o.success.onCleanCorrect.count, o.success.onCleanCorrect.of], [75, 80]);
  assertEquals([o.quantized.stillSucceed, o.budget.within, o.parameters.steps], [90, true, 50]);
  const [lo, hi] = o.accuracy.clean.interval;
  assert(lo < 0.8 && hi > 0.8 && lo > 0.7 && hi < 0.88, `${lo} ${hi}`);
  const rows = attackRows("m", o);
  assert(rows.some((r) => r.quantity === "8-bit survival" && r.count === 90));
  assert(rows.some((r) => r.quantity === "Linf max" && r.condition === "adversarial"));
});
