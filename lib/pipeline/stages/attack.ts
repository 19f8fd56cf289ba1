/**
 * Stage 3, attack: PGD and the random-noise control on SOM-val images, then the top-k BMUs of
 * the clean, adversarial and noise images on every layer's main map (the BMU shifts' inputs).
 * Stored in the run folder under a key of the codes and the PGD settings.
 *
 * @module
 */

import { timed } from "../../manifest.ts";
import { Progress } from "../../progress.ts";
import { runAttack } from "../../attack/attack.ts";
import type { AttackResult } from "../../attack/attack.ts";
import { type DatasetLike, extractCodes, type LayerCodes } from "../../extract/extract.ts";
import { Som } from "../../som/som.ts";
import { recordRuntime, type RunContext, streamSeed } from "../run_context.ts";
import { attackKey, SHIFT_KINDS, type ShiftSet } from "../run_folder.ts";
import type { ModelCodes, ModelSource } from "./codes.ts";
import type { ModelMaps } from "./soms.ts";

/** The attack stage's output for one model. */
export interface ModelAttack {
  /** The attack summary (success rates, norms). */
  summary: unknown;
  /** Clean/adversarial/noise top-k BMUs on each layer's main map. */
  shifts: ShiftSet[];
}

/**
 * Runs the attack stage for one model.
 *
 * @param run The run.
 * @param m The codes stage's output.
 * @param maps The SOM stage's output.
 * @returns Summary and BMUs, or null when the run attacks nothing (`attackN` 0).
 */
export async function attackStage(
  run: RunContext,
  m: ModelCodes,
  maps: ModelMaps,
): Promise<ModelAttack | null> {
  const c = run.config, tag = m.config.name;
  if (c.attackN <= 0) return null;
  const seed = streamSeed(run, `attack/${tag}`);
  const key = run.folder.analysisOnly
    ? null
    : await attackKey({ state: m.state.key, n: c.attackN, eps: c.eps, steps: c.steps, seed });
  const mapDirs = maps.main.map((a) => a.dir);
  let examples: unknown;
  const out = await run.folder.loadOrCompute<ModelAttack>({
    what: `the attack results of ${tag}`,
    load: () => run.folder.readAttack(tag, mapDirs, key),
    compute: async () => {
      const result = await _pgd(run, m.source!, tag, seed);
      examples = result.examples;
      const shifts = await timed(
        run.manifest,
        `${tag}/attack-bmus`,
        () => _attackBmus(run, m, maps, result, key!),
      );
      return { summary: result.summary, shifts };
    },
    save: (v) =>
      run.folder.writeAttack(tag, key!, mapDirs, {
        ...v,
        examples,
        k: Math.min(c.k, c.grid * c.grid),
      }),
  });
  recordRuntime(run, tag, "attack", out.summary);
  return out;
}

/** PGD and noise control on the first `attackN` SOM-val images. */
async function _pgd(
  run: RunContext,
  s: ModelSource,
  tag: string,
  seed: number,
): Promise<AttackResult> {
  const c = run.config;
  const ap = new Progress(`${tag}: PGD`, 0, { unit: "step", quiet: run.quiet });
  const result = await timed(
    run.manifest,
    `${tag}/attack`,
    () =>
      runAttack(s.model.bytes, s.val, {
        n: Math.min(c.attackN, s.val.size),
        seed,
        eps: c.eps,
        steps: c.steps,
        normalize: s.extract.normalize,
        name: tag,
        onProgress: (done: number, total: number) => {
          (ap as unknown as { total: number }).total = total;
          ap.tick(done - ap.count);
        },
      }),
  );
  ap.done();
  return result;
}

/** Codes of the clean and perturbed images, then their BMUs on each main map (loaded once). */
async function _attackBmus(
  run: RunContext,
  m: ModelCodes,
  maps: ModelMaps,
  result: AttackResult,
  key: string,
): Promise<ShiftSet[]> {
  const c = run.config, s = m.source!;
  const labels = Int32Array.from(result.examples.map((e) => e.label));
  const options = { ...s.extract, layers: m.state.layers.map((l) => l.label), progress: false };
  const codes = {} as Record<typeof SHIFT_KINDS[number], LayerCodes[]>;
  for (const kind of SHIFT_KINDS) {
    const ds = _arrayDataset(result[kind], result.shape, labels, `attack:${key}:${kind}`);
    const ix = Array.from({ length: ds.size }, (_, i) => i);
    codes[kind] = (await extractCodes(s.model, ds, ix, options)).layers;
  }
  const k = Math.min(c.k, c.grid * c.grid);
  const shifts: ShiftSet[] = [];
  for (const [li, art] of maps.main.entries()) {
    const som = await Som.load(art.dir, { backend: c.backend, ctx: run.gpu ?? undefined });
    try {
      const set = {} as ShiftSet;
      for (const kind of SHIFT_KINDS) set[kind] = (await som.topk(codes[kind][li].codes, k)).index;
      shifts.push(set);
    } finally {
      som.dispose();
    }
  }
  return shifts;
}

/** An in-memory image set (attack outputs) as extraction input. */
function _arrayDataset(
  images: Float32Array,
  shape: number[],
  labels: Int32Array,
  identity: string,
): DatasetLike {
  const [n, ch, h, w] = shape;
  const per = ch * h * w;
  return {
    size: n,
    channels: ch,
    height: h,
    width: w,
    labels,
    load: (ix: number[]) => {
      const out = new Float32Array(ix.length * per);
      ix.forEach((i, j) => out.set(images.subarray(i * per, (i + 1) * per), j * per));
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(identity),
  };
}
