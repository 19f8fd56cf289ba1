// Assertions for the data tests, on node:assert directly: tests/asserts.ts does not type-check
// beside sharp's @types/node (its `msg?: string` does not fit that version's overloads).
import { AssertionError, deepStrictEqual } from "node:assert";
import { DataFormatError, openDataset, type OpenDatasetOptions } from "../mod.ts";

/** The folder of the loader fixtures (tests/data/loaders/), with a trailing slash. */
export const LOADERS: string = new URL("./data/loaders/", import.meta.url).pathname;

/** Deep strict equality. */
export const assertEquals: <T>(actual: T, expected: T) => void = deepStrictEqual;

/** Asserts a condition. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError({ message: msg });
}

/** Asserts elementwise |a − e| ≤ tol. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  assertEquals(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new AssertionError({
        message: `element ${i} is ${actual[i]} but expected ${expected[i]}`,
      });
    }
  }
}

/** Asserts that `fn` rejects (or throws) with `cls` and a message containing `part`. */
export async function assertRejects(
  fn: () => unknown,
  cls: new (...args: never[]) => Error,
  part: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls) || !e.message.includes(part)) {
      throw new AssertionError({
        message: `Expected ${cls.name} containing "${part}" but got ${(e as Error).name}: ` +
          (e as Error).message,
      });
    }
    return e;
  }
  throw new AssertionError({ message: `Expected ${cls.name} containing "${part}"` });
}

/** Asserts that `openDataset(spec, options)` rejects with a DataFormatError containing `part`. */
export async function assertOpenRejects(
  spec: string,
  options: OpenDatasetOptions,
  part: string,
): Promise<Error> {
  return await assertRejects(() => openDataset(spec, options), DataFormatError, part);
}

/**
 * {@linkcode assertOpenRejects} for each bad data set: opening `spec` at `split` rejects with a
 * DataFormatError containing `part`.
 *
 * @param cases `[spec, split, part]` for each data set.
 */
export async function assertEachOpenRejects(
  cases: readonly (readonly [spec: string, split: OpenDatasetOptions["split"], part: string])[],
): Promise<void> {
  for (const [spec, split, part] of cases) await assertOpenRejects(spec, { split }, part);
}
