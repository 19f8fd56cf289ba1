/**
 * What every figure builder returns.
 *
 * @module
 */

/** A figure: its file stem, the paper figure it mirrors, a caption and the Vega-Lite spec. */
export interface FigureSpec {
  /** File stem, e.g. `fig06ab_dclass`. */
  id: string;
  /** Paper figure mirrored, e.g. `Fig. 6A,B`; `beyond the paper` for extras. */
  paper: string;
  /** Title. */
  title: string;
  /** What is drawn and how to read it. */
  caption: string;
  /** Vega-Lite spec (data inline). */
  spec: Record<string, unknown>;
}
