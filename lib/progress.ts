/**
 * Progress reporting for long steps: a redrawn bar with rate and ETA on a terminal, plain lines
 * (at most one every few seconds) otherwise. Written to stderr so stdout stays machine-readable.
 *
 * @module
 */

/** Options for {@linkcode Progress}. */
export interface ProgressOptions {
  /** Unit shown after the rate, e.g. `"img"` → `123 img/s`. Default `"it"`. */
  unit?: string;
  /** Force the terminal bar on or off. Default: whether stderr is a terminal. */
  tty?: boolean;
  /** Minimum seconds between plain lines. Default 5. */
  plainInterval?: number;
  /** Silence all output (the callback still runs). Default false. */
  quiet?: boolean;
  /** Called on every update with (done, total). */
  onUpdate?: (done: number, total: number) => void;
}

/**
 * A progress indicator for `total` units of work.
 *
 * @example
 * ```ts
 * import { Progress } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const seen: number[] = [];
 * const p = new Progress("demo", 3, { quiet: true, onUpdate: (d) => seen.push(d) });
 * p.tick(); p.tick(2); p.done();
 * assertEquals(seen, [1, 3]);
 * ```
 */
export class Progress {
  #done = 0;
  #start = performance.now();
  #lastDraw = 0;
  #tty: boolean;
  #opts: ProgressOptions;

  /**
   * Starts the indicator.
   *
   * @param label What is being done.
   * @param total Units of work in all (0 if unknown).
   * @param options Display options.
   */
  constructor(readonly label: string, readonly total: number, options: ProgressOptions = {}) {
    this.#opts = options;
    let tty = false;
    try {
      tty = Deno.stderr.isTerminal();
    } catch { /* no stderr */ }
    this.#tty = options.tty ?? tty;
  }

  /** Units done so far. */
  get count(): number {
    return this.#done;
  }

  /** Seconds since the indicator was created. */
  get elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  /**
   * Records `n` more units of work.
   *
   * @param n Units just finished. Default 1.
   */
  tick(n = 1): void {
    this.#done += n;
    this.#opts.onUpdate?.(this.#done, this.total);
    if (this.#opts.quiet) return;
    const now = performance.now();
    const interval = this.#tty ? 100 : (this.#opts.plainInterval ?? 5) * 1000;
    if (now - this.#lastDraw < interval && this.#done < this.total) return;
    this.#lastDraw = now;
    this.#draw(false);
  }

  /** Finishes the indicator, printing a final line. */
  done(): void {
    if (!this.#opts.quiet) this.#draw(true);
  }

  #draw(final: boolean): void {
    const t = this.elapsed;
    const rate = t > 0 ? this.#done / t : 0;
    const unit = this.#opts.unit ?? "it";
    const pct = this.total > 0 ? Math.min(1, this.#done / this.total) : 0;
    const eta = rate > 0 && this.total > 0 ? (this.total - this.#done) / rate : NaN;
    const tail = `${this.#done}/${this.total || "?"} ${_fmtRate(rate)} ${unit}/s` +
      (final ? ` in ${t.toFixed(1)} s` : Number.isFinite(eta) ? ` ETA ${_fmtTime(eta)}` : "");
    let line: string;
    if (this.#tty) {
      const w = 24, filled = Math.round(pct * w);
      line = `\r${this.label} [${"#".repeat(filled)}${"-".repeat(w - filled)}] ${tail}\x1b[K` +
        (final ? "\n" : "");
    } else {
      line = `${this.label}: ${(pct * 100).toFixed(0)}% ${tail}\n`;
    }
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(line));
    } catch { /* stderr closed */ }
  }
}

function _fmtRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function _fmtTime(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - 60 * m).toString().padStart(2, "0")}s`;
}
