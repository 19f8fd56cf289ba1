/**
 * Small assertion helpers for tests (std's assert lives on JSR, which these machines cannot
 * reach), built on `node:assert`.
 *
 * @module
 */

import nodeAssert from "node:assert";

/**
 * Asserts that `cond` is truthy.
 *
 * @param cond Condition.
 * @param msg Message on failure.
 */
export function assert(cond: unknown, msg?: string): asserts cond {
  if (msg === undefined) nodeAssert.ok(cond);
  else nodeAssert.ok(cond, msg);
}

/**
 * Deep strict equality.
 *
 * @param actual Actual value.
 * @param expected Expected value.
 * @param msg Message on failure.
 */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (msg === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else nodeAssert.deepStrictEqual(actual, expected, msg);
}

/**
 * Deep strict inequality.
 *
 * @param actual Actual value.
 * @param expected Value it must differ from.
 * @param msg Message on failure.
 */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (msg === undefined) nodeAssert.notDeepStrictEqual(actual, expected);
  else nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/**
 * Asserts `|actual − expected| ≤ tol` (NaN equals NaN).
 *
 * @param actual Actual value.
 * @param expected Expected value.
 * @param tol Absolute tolerance.
 * @param msg Message prefix.
 */
export function assertAlmostEquals(actual: number, expected: number, tol = 1e-7, msg = ""): void {
  if (Number.isNaN(actual) && Number.isNaN(expected)) return;
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new nodeAssert.AssertionError({
      message: `${msg}${msg ? ": " : ""}${actual} differs from ${expected} by more than ${tol}`,
    });
  }
}

/**
 * Asserts that two arrays agree elementwise within `tol` (absolute + relative·|expected|).
 *
 * @param actual Actual values.
 * @param expected Expected values.
 * @param tol Absolute tolerance.
 * @param rel Relative tolerance.
 * @param msg Message prefix.
 * @returns The largest absolute difference.
 */
export function assertArrayClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-6,
  rel = 0,
  msg = "",
): number {
  assertEquals(actual.length, expected.length, `${msg} length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    const d = Math.abs(a - e);
    worst = Math.max(worst, d);
    if (!(d <= tol + rel * Math.abs(e))) {
      throw new nodeAssert.AssertionError({
        message: `${msg}${msg ? ": " : ""}element ${i} is ${a} but expected ${e} (±${tol})`,
      });
    }
  }
  return worst;
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * Asserts that `fn` throws an instance of `cls` whose message includes `includes`.
 *
 * @param fn The function.
 * @param cls Expected error class.
 * @param includes Substring of the message.
 * @returns The error.
 */
export function assertThrows(fn: () => unknown, cls?: ErrorClass, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    _check(e, cls, includes);
    return e as Error;
  }
  throw new nodeAssert.AssertionError({ message: "Expected function to throw" });
}

/**
 * Asserts that `fn` rejects with an instance of `cls` whose message includes `includes`.
 *
 * @param fn The async function.
 * @param cls Expected error class.
 * @param includes Substring of the message.
 * @returns The error.
 */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: ErrorClass,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    _check(e, cls, includes);
    return e as Error;
  }
  throw new nodeAssert.AssertionError({ message: "Expected promise to reject" });
}

function _check(e: unknown, cls?: ErrorClass, includes?: string): void {
  if (cls && !(e instanceof cls)) {
    throw new nodeAssert.AssertionError({
      message: `Expected ${cls.name} but got ${(e as Error)?.name}: ${(e as Error)?.message}`,
    });
  }
  if (includes && !String((e as Error)?.message).includes(includes)) {
    throw new nodeAssert.AssertionError({
      message: `Expected message to include "${includes}" but got "${(e as Error)?.message}"`,
    });
  }
}
