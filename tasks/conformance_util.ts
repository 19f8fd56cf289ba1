/**
 * Shared helpers of the conformance checks (`tasks/conformance.ts`, `tasks/conformance_zoo.ts`):
 * the relative error against a torch reference and the codes error with its centre-of-mass bound.
 *
 * @module
 */

/** Relative error: max |a − b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/**
 * Compares codes with torch's: max, mean and std relative to the largest magnitude of their
 * block (≤ 1e-5 passes); the centre of mass (in (0,1)) against the error the tap difference can
 * cause. For a channel with positive mass `S = Σ max(a_i, 0)`, changing the activations by
 * `Δa` moves the centre of mass by at most `Σ|Δa_i| / S` (ReLU is 1-Lipschitz and positions lie
 * in (0,1)), so a channel whose mass is tiny — a dead ReLU channel with two values of 1e-4 where
 * others reach 10 — can legitimately move far more than 1e-5 while the taps agree to 1e-6. Each
 * centre of mass is therefore scaled by `1e-5 / (1e-5 + 2·Σ|Δa_i| / S)`, so that ≤ 1e-5 passes
 * exactly when `|Δcom| ≤ 1e-5 + 2·Σ|Δa_i| / S`. The number of channels where the propagated
 * bound exceeds 1e-5 is reported as ill-conditioned.
 */
export function codesErr(
  ours: Float32Array,
  ref: Float64Array,
  hook: ArrayLike<number>,
  tap: ArrayLike<number>,
  dims: number[],
): { err: number; skipped: number } {
  if (dims.length === 2) return { err: relErr(ours, ref), skipped: 0 };
  const [N, C, H, W] = dims, hw = H * W, dim = 4 * C;
  let err = 0, skipped = 0;
  for (let b = 0; b < 3; b++) {
    let d = 0, m = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const k = n * dim + b * C + c;
        d = Math.max(d, Math.abs(ours[k] - ref[k]));
        m = Math.max(m, Math.abs(ref[k]));
      }
    }
    err = Math.max(err, m === 0 ? d : d / m);
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let s = 0, s2 = 0, da = 0;
      for (let i = (n * C + c) * hw, e = i + hw; i < e; i++) {
        if (hook[i] > 0) s += hook[i];
        if (tap[i] > 0) s2 += tap[i];
        da += Math.abs(tap[i] - hook[i]);
      }
      const mass = Math.max(s, s2);
      const bound = mass > 0 ? 2 * da / mass : 0;
      if (bound > 1e-5) skipped++;
      const k = n * dim + 3 * C + c;
      err = Math.max(err, Math.abs(ours[k] - ref[k]) * 1e-5 / (1e-5 + bound));
    }
  }
  return { err, skipped };
}
