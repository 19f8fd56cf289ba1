/**
 * Class indices: which logit of the model each data class is. A folder of a few ImageNet
 * classes gets labels `0..N−1` in folder order, which are not the model's logit indices (those
 * follow the full sorted list of 1000 wnids), so accuracy, correct-vs-incorrect and PGD's labels
 * would all be wrong. {@linkcode resolveLabelMapping} decides the mapping — from a class-index
 * file, from the ImageNet-1k wnid order when a 1000-logit model meets wnid-named folders, or the
 * labels as they are — and refuses every other mismatch with a message that says what to pass;
 * {@linkcode relabelDataset} applies it.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { IMAGENET_NAMES, IMAGENET_WNIDS } from "./imagenet_classes.ts";
import { readBytes, toUrl } from "./io.ts";
import type { Dataset, LabelMapping } from "./types.ts";

/** A class-index table read by {@linkcode readClassIndex}. */
export interface ClassIndex {
  /** Where it came from (the file's path). */
  source: string;
  /** Logit index of each class name (a folder name, or a data set's class name). */
  index: Map<string, number>;
  /** Display names by logit index, where the file gives them. */
  names: Map<number, string>;
}

const _WNID = /^n\d{8}$/;

/** What the messages suggest passing. */
const _PASS = 'pass --class-index FILE (a JSON object {"class": logit index, …}, or a ' +
  "text file with one class name a line in logit order, like ImageNet's " +
  "LOC_synset_mapping.txt)";

/**
 * Reads a class-index file. Accepted forms:
 *
 * - JSON `{"n01440764": 0, …}` (class name → logit index);
 * - JSON `{"0": ["n01440764", "tench"], …}` (Keras's `imagenet_class_index.json`) or
 *   `{"0": "airplane", …}` (logit index → class name);
 * - text with one class a line in logit order: `NAME` or `NAME DISPLAY NAME…` (ImageNet's
 *   `LOC_synset_mapping.txt`, Caffe's `synset_words.txt`); blank lines and `#` comments skipped.
 *
 * @param location Path or URL of the file.
 * @returns The table.
 * @throws {DataFormatError} If the file cannot be read, is empty, has a negative or
 * non-integer index, or names a class or an index twice.
 * @example
 * ```ts
 * import { readClassIndex } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const file = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(file, "n01440764 tench, Tinca tinca\nn01443537 goldfish\n");
 * const table = await readClassIndex(file);
 * assertEquals(table.index.get("n01443537"), 1);
 * assertEquals(table.names.get(0), "tench, Tinca tinca");
 * await Deno.remove(file);
 * ```
 */
export async function readClassIndex(location: string | URL): Promise<ClassIndex> {
  const url = toUrl(location);
  const source = url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
  const fail = (why: string) => new DataFormatError(`Cannot read class index ${source}: ${why}`);
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(url);
  } catch (e) {
    throw fail(`${(e as Error).message.replace(/^Cannot read [^:]*: /, "")}`);
  }
  const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, "");
  const index = new Map<string, number>(), names = new Map<number, string>();
  const used = new Set<number>();
  const add = (name: string, i: number, display?: string) => {
    if (!Number.isInteger(i) || i < 0) {
      throw fail(`class "${name}" has index ${i} but expected an integer ≥ 0`);
    }
    if (index.has(name)) throw fail(`class "${name}" is listed twice`);
    if (used.has(i)) throw fail(`index ${i} is given to two classes`);
    index.set(name, i);
    used.add(i);
    if (display !== undefined) names.set(i, display);
  };
  if (/^\s*[{[]/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw fail(`not valid JSON (${(e as Error).message})`);
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw fail("expected a JSON object");
    }
    for (const [k, v] of Object.entries(json)) {
      if (typeof v === "number") add(k, v);
      else if (/^\d+$/.test(k) && typeof v === "string") add(v, Number(k));
      else if (/^\d+$/.test(k) && Array.isArray(v) && typeof v[0] === "string") {
        add(v[0], Number(k), typeof v[1] === "string" ? v[1] : undefined);
      } else {
        throw fail(
          `entry ${JSON.stringify(k)}: ${JSON.stringify(v)} but expected "name": index, ` +
            `"index": "name" or "index": ["name", "display name"]`,
        );
      }
    }
  } else {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    for (const [i, l] of lines.entries()) {
      const m = /^(\S+?):?(?:\s+:?\s*(.+))?$/.exec(l)!;
      add(m[1], i, m[2]);
    }
  }
  if (index.size === 0) throw fail("no classes");
  return { source, index, names };
}

/** Options for {@linkcode resolveLabelMapping}. */
export interface ResolveLabelMappingOptions {
  /** A class-index table; it takes precedence over every automatic rule. */
  classIndex?: ClassIndex;
  /**
   * Whether the labels are the classes' positions in sorted folder order (an image folder
   * without a class-name file), so that fewer classes than logits is a mismatch too.
   * Default `false` (labels come from the data files, e.g. IDX, CIFAR, SVHN).
   */
  folderOrder?: boolean;
  /** Data set name for messages. */
  name?: string;
}

/** Lists at most five names. */
function _some(names: readonly string[]): string {
  return names.slice(0, 5).join(", ") + (names.length > 5 ? `, … (${names.length} in all)` : "");
}

/**
 * Decides which logit each data class is.
 *
 * 1. With a class-index table: every data class must be in it, at an index below `logits`.
 * 2. Else, when the model has 1000 logits and every class name is an ImageNet wnid
 *    (`n` + 8 digits): the standard sorted-wnid order of ImageNet-1k (every class must be one
 *    of its 1000 wnids).
 * 3. Else the labels stay as they are, if they fit: no more classes than logits, and, for
 *    labels from folder order, exactly as many.
 *
 * @param classes The data's class names in label order.
 * @param logits The model's number of logits, or `undefined` when not known (then only a
 * class-index table changes anything).
 * @param options The table and where the labels came from.
 * @returns The mapping.
 * @throws {DataFormatError} On any other mismatch, saying what to pass.
 * @example
 * ```ts
 * import { resolveLabelMapping } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const m = resolveLabelMapping(["n01443537", "n02099601"], 1000, { folderOrder: true });
 * assertEquals(m.kind, "imagenet");
 * assertEquals(Array.from(m.logitOf), [1, 207]);
 * assertEquals(m.classes[207], "golden retriever");
 * ```
 */
export function resolveLabelMapping(
  classes: readonly string[],
  logits: number | undefined,
  options: ResolveLabelMappingOptions = {},
): LabelMapping {
  const what = `Cannot map the classes of ${options.name ?? "the data"} to the model's logits`;
  const { classIndex } = options;
  if (logits !== undefined && (!Number.isInteger(logits) || logits < 1)) {
    throw new RangeError(`${what}: logits is ${logits} but expected a positive integer`);
  }
  if (classIndex) {
    const missing = classes.filter((c) => !classIndex.index.has(c));
    if (missing.length) {
      throw new DataFormatError(
        `${what}: class(es) ${_some(missing)} are not in ${classIndex.source} ` +
          `(${classIndex.index.size} classes, e.g. ${_some([...classIndex.index.keys()])})`,
      );
    }
    const logitOf = Int32Array.from(classes, (c) => classIndex.index.get(c)!);
    const size = logits ?? Math.max(...logitOf) + 1;
    const over = classes.filter((_, i) => logitOf[i] >= size);
    if (over.length) {
      throw new DataFormatError(
        `${what}: ${classIndex.source} gives ${
          _some(over.map((c) => `${c} → ${classIndex.index.get(c)}`))
        } but the model has ${size} logits (0..${size - 1})`,
      );
    }
    // Names by logit: the file's display name, else its class name, else the index.
    const names = Array.from({ length: size }, (_, k) => String(k));
    for (const [c, k] of classIndex.index) if (k < size) names[k] = classIndex.names.get(k) ?? c;
    return {
      kind: "class-index",
      logitOf,
      classes: names,
      note: `labels are logit indices from ${classIndex.source} (${classes.length} classes)`,
    };
  }
  if (logits === 1000 && classes.length > 0 && classes.every((c) => _WNID.test(c))) {
    const missing = classes.filter((c) => !IMAGENET_WNIDS.includes(c));
    if (missing.length) {
      throw new DataFormatError(
        `${what}: folder(s) ${_some(missing)} look like WordNet ids but are not among the 1000 ` +
          `ImageNet-1k classes; ${_PASS}`,
      );
    }
    return {
      kind: "imagenet",
      logitOf: Int32Array.from(classes, (c) => IMAGENET_WNIDS.indexOf(c)),
      classes: [...IMAGENET_NAMES],
      note: `labels are ImageNet-1k logit indices: the standard sorted order of the 1000 wnids ` +
        `(${classes.length} of them in the data)`,
    };
  }
  const identity = (): LabelMapping => ({
    kind: "identity",
    logitOf: Int32Array.from(classes, (_, i) => i),
    classes: [...classes],
    note: `labels are the data's own (${classes.length} classes)` +
      (logits === undefined ? "" : ` for ${logits} logits`),
  });
  if (logits === undefined || classes.length === logits) return identity();
  if (classes.length > logits) {
    throw new DataFormatError(
      `${what}: the data has ${classes.length} classes (${_some(classes)}) but the model has ` +
        `${logits} logits; ${_PASS}`,
    );
  }
  if (options.folderOrder) {
    throw new DataFormatError(
      `${what}: ${classes.length} class folders (${_some(classes)}) would get labels ` +
        `0..${classes.length - 1} in sorted folder order, but the model has ${logits} logits, ` +
        `so those are probably not its indices; ${_PASS}`,
    );
  }
  return identity();
}

/**
 * A dataset whose labels are the mapping's logit indices and whose classes are named by logit
 * index; its identity includes the mapping. An identity mapping keeps labels, classes and
 * identity as they are.
 *
 * @param ds The dataset.
 * @param mapping From {@linkcode resolveLabelMapping} for `ds.classes`.
 * @returns The relabelled dataset, with `labelMapping` set.
 * @throws {RangeError} If the mapping is for another number of classes.
 * @example
 * ```ts
 * import { openDataset, relabelDataset, resolveLabelMapping } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ds = await openDataset("builtin:fashion-mnist", { split: "val" });
 * const same = relabelDataset(ds, resolveLabelMapping(ds.classes, 10));
 * assertEquals(same.labelMapping?.kind, "identity");
 * assertEquals(await same.identity(), await ds.identity());
 * ```
 */
export function relabelDataset(ds: Dataset, mapping: LabelMapping): Dataset {
  if (mapping.logitOf.length !== ds.classes.length) {
    throw new RangeError(
      `Cannot relabel ${ds.name}: the mapping is for ${mapping.logitOf.length} classes but the ` +
        `data has ${ds.classes.length}`,
    );
  }
  const same = mapping.kind === "identity";
  let identity: Promise<string> | undefined;
  return {
    name: ds.name,
    classes: same ? ds.classes : mapping.classes,
    size: ds.size,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    labels: same ? ds.labels : Int32Array.from(ds.labels, (l) => mapping.logitOf[l]),
    labelMapping: mapping,
    load: (indices) => ds.load(indices),
    identity: () =>
      identity ??= same
        ? ds.identity()
        : ds.identity().then((base) =>
          JSON.stringify({ base, labels: mapping.kind, logitOf: Array.from(mapping.logitOf) })
        ),
  };
}
