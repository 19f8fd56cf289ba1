/**
 * Test helper: the QuickSOM test vector (`shared/som-golden/quicksom_20x20_d16.json`, copied to
 * `tests/data/`) and a replay that checks a backend batch by batch.
 *
 * @module
 */

import type { SomBackend } from "../lib/som/backend.ts";
import { assertAlmostEquals, assertArrayClose, assertEquals } from "./asserts.ts";

/** The parsed test vector, flattened to float32 where the SOM stores float32. */
export interface Golden {
  m: number;
  n: number;
  dim: number;
  alpha0: number;
  sigma0: number;
  totalSteps: number;
  batchSize: number;
  w0: Float32Array;
  x: Float32Array;
  steps: { step: number; factor: number; bmu: number[]; loss: number; wAfter: Float64Array }[];
}

/**
 * Loads the test vector.
 *
 * @returns The golden data.
 */
export async function loadGolden(): Promise<Golden> {
  const url = new URL("./data/quicksom_20x20_d16.json", import.meta.url);
  const j = JSON.parse(await Deno.readTextFile(url));
  return {
    m: j.m,
    n: j.n,
    dim: j.dim,
    alpha0: j.alpha0,
    sigma0: j.sigma0,
    totalSteps: j.total_steps,
    batchSize: j.batch_size,
    w0: Float32Array.from(j.W0.flat()),
    x: Float32Array.from(j.X.flat()),
    steps: j.steps.map((
      s: { step: number; factor: number; bmu: number[]; loss: number; W_after: number[][] },
    ) => ({
      step: s.step,
      factor: s.factor,
      bmu: s.bmu,
      loss: s.loss,
      wAfter: Float64Array.from(s.W_after.flat()),
    })),
  };
}

/**
 * Replays the test vector on a backend one batch at a time, asserting the same BMUs and losses
 * and weights within `tol` after every batch.
 *
 * @param backend The backend.
 * @param tol Absolute weight tolerance.
 * @param lossTol Absolute loss tolerance.
 * @returns The worst weight and loss differences seen.
 */
export async function replayGolden(
  backend: SomBackend,
  tol: number,
  lossTol: number,
): Promise<{ weight: number; loss: number }> {
  const g = await loadGolden();
  const w = g.w0.slice();
  let worst = 0, worstLoss = 0;
  for (const [i, s] of g.steps.entries()) {
    const order = Int32Array.from({ length: g.batchSize }, (_, r) => i * g.batchSize + r);
    const res = await backend.trainEpoch({ m: g.m, n: g.n, periodic: true }, {
      weights: w,
      dim: g.dim,
      data: g.x,
      order,
      batchSize: g.batchSize,
      step: s.step,
      totalSteps: g.totalSteps,
      alpha0: g.alpha0,
      sigma0: g.sigma0,
      returnBmus: true,
    });
    assertEquals(res.step, s.step + g.batchSize, `step counter after batch ${i}`);
    assertEquals(Array.from(res.bmus!), s.bmu, `BMUs of batch ${i}`);
    assertAlmostEquals(res.losses[0], s.loss, lossTol, `loss of batch ${i}`);
    worstLoss = Math.max(worstLoss, Math.abs(res.losses[0] - s.loss));
    worst = Math.max(worst, assertArrayClose(w, s.wAfter, tol, 0, `weights after batch ${i}`));
  }
  return { weight: worst, loss: worstLoss };
}
