/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through SplitMix32, with named streams.
 *
 * No code in `lib/` calls `Math.random`: every random choice (sampling, SOM init, shuffling,
 * attack start, noise) takes an {@linkcode Rng}, and a run fans one root seed out into named
 * streams with {@linkcode Rng.stream} so that adding a stream never changes another one.
 *
 * @module
 */

function _splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a over the UTF-8 bytes of `text`, 32 bits. */
function _fnv1a(text: string, h = 0x811c9dc5): number {
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A seeded random number generator (xoshiro128**, period 2^128 − 1).
 *
 * The same seed always gives the same sequence on every machine: the generator uses only 32-bit
 * integer arithmetic.
 *
 * @example Same seed, same numbers
 * ```ts
 * import { Rng } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const a = new Rng(42), b = new Rng(42);
 * assertEquals([a.float(), a.float()], [b.float(), b.float()]);
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);
  #spare: number | undefined;
  /** The seed this generator was made from, as given. */
  readonly seed: number | string;

  /**
   * Creates a generator from a seed.
   *
   * @param seed An integer or a string; strings are hashed.
   * @throws {RangeError} If a numeric seed is not a finite integer.
   */
  constructor(seed: number | string = 0) {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot seed Rng: seed is ${seed} but must be a safe integer`);
    }
    this.seed = seed;
    let st = typeof seed === "string"
      ? _fnv1a(seed)
      : ((seed % 0x100000000) ^ Math.floor(seed / 0x100000000) * 0x9e3779b1) | 0;
    for (let i = 0; i < 4; i++) {
      let v: number;
      [st, v] = _splitmix32(st);
      this.#s[i] = v;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /**
   * A named, independent stream derived from this generator's seed (not from its state), so
   * the order in which streams are made does not matter.
   *
   * @param name Stream name, e.g. `"som-init"`.
   * @returns A new generator.
   */
  stream(name: string): Rng {
    return new Rng(`${String(this.seed)}/${name}`);
  }

  /**
   * The next raw output.
   *
   * @returns The next 32-bit unsigned integer.
   */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(_rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = _rotl(s[3], 11);
    return result;
  }

  /**
   * A uniform float.
   *
   * @returns A float in [0, 1) with 53 random bits.
   */
  float(): number {
    const hi = this.nextU32() >>> 5, lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A uniform integer.
   *
   * @param n Upper bound (exclusive), a positive integer below 2^32.
   * @returns A uniform integer in [0, n), without modulo bias.
   * @throws {RangeError} If `n` is not a positive integer below 2^32.
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) {
      throw new RangeError(`Cannot draw an integer: bound is ${n} but must be in [1, 2^32]`);
    }
    const limit = Math.floor(0x100000000 / n) * n;
    let v: number;
    do v = this.nextU32(); while (v >= limit);
    return v % n;
  }

  /**
   * A standard normal deviate (Box–Muller; pairs are cached).
   *
   * @returns The deviate.
   */
  normal(): number {
    if (this.#spare !== undefined) {
      const v = this.#spare;
      this.#spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Shuffles an array in place (Fisher–Yates).
   *
   * @param a The array to shuffle.
   * @returns The same array.
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /**
   * A random permutation.
   *
   * @param n Length of the permutation.
   * @returns A random permutation of 0..n−1.
   */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function _rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
