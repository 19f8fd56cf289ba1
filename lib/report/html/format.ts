/**
 * Text helpers of the report page: HTML escaping and numbers written to their precision
 * (3 significant digits, no rounding noise such as `−0.0000000000000002`, `—` for a missing
 * value).
 *
 * @module
 */

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param s Any value (stringified).
 * @returns The escaped text.
 */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * A number for reading: 3 significant digits (`digits`), exponent form below 1e-3 or from 1e5,
 * `0` for values within 1e-12 of 0, a real minus sign, `—` when missing or not finite.
 *
 * @param x The number.
 * @param digits Significant digits. Default 3.
 * @returns The text.
 */
export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a < 1e-12) return "0";
  const s = a < 1e-3 || a >= 1e5
    ? x.toExponential(digits - 1).replace(/e\+?/, "e")
    : String(+x.toPrecision(digits));
  return s.replace(/^-/, "−");
}

/**
 * An interval `[lo, hi]`, or null when either end is missing.
 *
 * @param iv The interval.
 * @returns The text or null.
 */
export function interval(iv: readonly (number | null | undefined)[] | undefined): string | null {
  if (!iv || iv.length < 2) return null;
  const [lo, hi] = iv;
  if (lo === null || lo === undefined || hi === null || hi === undefined) return null;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  return `[${num(lo)}, ${num(hi)}]`;
}

/**
 * A share as a percentage with one decimal (`77.8 %`), or `—`.
 *
 * @param x A fraction in [0, 1].
 * @returns The text.
 */
export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  return `${(100 * x).toFixed(1)} %`;
}

/**
 * A short sentence-case label from an internal camelCase or kebab key
 * (`randomUnitDistance` → `random unit distance`).
 *
 * @param key The key.
 * @returns Words.
 */
export function words(key: string): string {
  return key.replace(/[-_]/g, " ").replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}
