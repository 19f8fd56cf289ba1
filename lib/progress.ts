/**
 * Progress reporting for long steps, written to stderr so stdout stays machine-readable.
 *
 * One stage, one line: on a terminal the line is redrawn in place and replaced by its closing
 * line; in a log (no terminal) a line is printed at most every `plainInterval` seconds while the
 * stage runs, so a short stage prints only its closing line. The rate and the ETA come from the
 * updates of the last `window` seconds, not from the start, so time spent before the first unit
 * (model loading, shader compilation) does not inflate the first ETA; no ETA is shown before two
 * updates have been seen.
 *
 * Library functions report progress only when asked (their `progress` option); the command-line
 * tasks ask unless `--quiet`.
 *
 * @module
 */

/** Options for {@linkcode Progress}. */
export interface ProgressOptions {
  /**
   * Unit of the counter, shown after the count and the rate (`500/900 img · 123 img/s`). Name
   * what is counted: PGD over several batches counts `"batch×step"`. Default `"it"`.
   */
  unit?: string;
  /**
   * Words appended to the label naming what is processed: model, split, layers
   * (`"fmnist_resnet SOM-tr CL1–CL4"`). Default none.
   */
  context?: string;
  /** Force the redrawn terminal line on or off. Default: whether stderr is a terminal. */
  tty?: boolean;
  /** Minimum seconds between lines when not on a terminal. Default 10. */
  plainInterval?: number;
  /** Seconds of recent updates the rate and the ETA are computed over. Default 10. */
  window?: number;
  /** Silence all output (`onUpdate` still runs). Default false. */
  quiet?: boolean;
  /** Called on every update with (done, total). */
  onUpdate?: (done: number, total: number) => void;
  /** Where lines go. Default: stderr (errors writing are ignored). */
  write?: (text: string) => void;
  /** Clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/**
 * A progress indicator for `total` units of work.
 *
 * @example
 * ```ts
 * import { Progress } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * let t = 0;
 * const lines: string[] = [];
 * const p = new Progress("codes", 3, {
 *   unit: "img", context: "toy SOM-tr", tty: false, now: () => t, write: (s) => lines.push(s),
 * });
 * t = 1000; p.tick();
 * t = 2000; p.tick(2); // reaching the total closes the stage
 * p.done(); // already closed: prints nothing
 * assertEquals(lines, ["codes toy SOM-tr: 3 img in 2.0 s (1.50 img/s)\n"]);
 * ```
 */
export class Progress {
  #done = 0;
  #start: number;
  #lastDraw = -Infinity;
  #samples: [number, number][] = [];
  #tty: boolean;
  #closed = false;
  #drawn = false;
  #opts: ProgressOptions;
  #now: () => number;

  /**
   * Starts the indicator (prints nothing yet).
   *
   * @param label What is being done, e.g. `"codes"`.
   * @param total Units of work in all (0 if unknown).
   * @param options Display options.
   */
  constructor(readonly label: string, readonly total: number, options: ProgressOptions = {}) {
    this.#opts = options;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    let tty = false;
    if (!options.write) {
      try {
        tty = Deno.stderr.isTerminal();
      } catch { /* no stderr */ }
    }
    this.#tty = options.tty ?? tty;
  }

  /** Units done so far. */
  get count(): number {
    return this.#done;
  }

  /** Seconds since the indicator was created. */
  get elapsed(): number {
    return (this.#now() - this.#start) / 1000;
  }

  /** The label with its context, as printed. */
  get title(): string {
    return this.#opts.context ? `${this.label} ${this.#opts.context}` : this.label;
  }

  /**
   * Units per second over the recent window, or NaN before two updates.
   *
   * @returns The rate.
   */
  rate(): number {
    const s = this.#samples;
    if (s.length < 2) return NaN;
    const [t0, d0] = s[0], [t1, d1] = s[s.length - 1];
    return t1 > t0 ? (d1 - d0) / ((t1 - t0) / 1000) : NaN;
  }

  /**
   * Records `n` more units of work; reaching `total` closes the stage.
   *
   * @param n Units just finished. Default 1.
   */
  tick(n = 1): void {
    if (this.#closed) return;
    this.#done += n;
    const now = this.#now();
    this.#samples.push([now, this.#done]);
    const horizon = now - (this.#opts.window ?? 10) * 1000;
    while (this.#samples.length > 2 && this.#samples[1][0] <= horizon) this.#samples.shift();
    this.#opts.onUpdate?.(this.#done, this.total);
    if (this.total > 0 && this.#done >= this.total) return this.done();
    if (this.#opts.quiet) return;
    const interval = this.#tty ? 100 : (this.#opts.plainInterval ?? 10) * 1000;
    const first = this.#lastDraw === -Infinity;
    // In a log, the first line waits one interval too: a short stage prints only its close.
    if (now - (first && !this.#tty ? this.#start : this.#lastDraw) < interval) return;
    this.#lastDraw = now;
    this.#write(this.#tty ? `\r${this.#line(true)}\x1b[K` : `${this.#line(false)}\n`);
    this.#drawn = true;
  }

  /** Finishes the stage with its one closing line (again: nothing). */
  done(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#opts.quiet) return;
    const t = this.elapsed, d = this.#done, unit = this.#opts.unit ?? "it";
    const rate = t > 0 ? ` (${_fmtRate(d / t)} ${unit}/s)` : "";
    const line = `${this.title}: ${d} ${unit} in ${t.toFixed(1)} s${rate}`;
    this.#write(this.#tty ? `${this.#drawn ? "\r" : ""}${line}\x1b[K\n` : `${line}\n`);
  }

  #line(bar: boolean): string {
    const unit = this.#opts.unit ?? "it", total = this.total;
    const pct = total > 0 ? Math.min(1, this.#done / total) : 0;
    const rate = this.rate();
    const eta = Number.isFinite(rate) && rate > 0 && total > 0
      ? ` · ETA ${_fmtTime((total - this.#done) / rate)}`
      : "";
    const w = 20, filled = Math.round(pct * w);
    const gauge = bar ? ` [${"#".repeat(filled)}${"-".repeat(w - filled)}]` : "";
    const count = total > 0 ? `${(pct * 100).toFixed(0)}% ${this.#done}/${total}` : `${this.#done}`;
    const r = Number.isFinite(rate) ? ` · ${_fmtRate(rate)} ${unit}/s` : "";
    return `${this.title}:${gauge} ${count} ${unit}${r}${eta}`;
  }

  #write(text: string): void {
    if (this.#opts.write) return this.#opts.write(text);
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(text));
    } catch { /* stderr closed */ }
  }
}

function _fmtRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function _fmtTime(s: number): string {
  const r = Math.ceil(s);
  if (r < 60) return `${r}s`;
  const pad = (x: number) => x.toString().padStart(2, "0");
  if (r < 3600) return `${Math.floor(r / 60)}m${pad(r % 60)}s`;
  return `${Math.floor(r / 3600)}h${pad(Math.floor((r % 3600) / 60))}m`;
}
