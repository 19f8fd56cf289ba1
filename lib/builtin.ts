/**
 * The built-in fixtures that `deno task reproduce` runs offline: two Fashion-MNIST classifiers
 * exported with `torch.onnx.export` (a ResNet-18-layout CNN and a small ViT) and a committed
 * Fashion-MNIST subset. Locations are URLs relative to this module, so they resolve both in a
 * checkout and when `mod.ts` is imported over HTTP.
 *
 * @module
 */

/** Names of the built-in models. */
export type BuiltinModelName = "fmnist-resnet" | "fmnist-vit";

/**
 * The built-in models, by name → file name in `fixtures/models/`.
 *
 * @example
 * ```ts
 * import { BUILTIN_MODELS } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(Object.keys(BUILTIN_MODELS), ["fmnist-resnet", "fmnist-vit"]);
 * ```
 */
export const BUILTIN_MODELS: Readonly<Record<BuiltinModelName, string>> = Object.freeze({
  "fmnist-resnet": "fmnist_resnet.onnx",
  "fmnist-vit": "fmnist_vit.onnx",
});

/**
 * The URL of a built-in model, for {@linkcode loadModel}.
 *
 * @param name `"fmnist-resnet"` or `"fmnist-vit"`.
 * @returns A `file:` URL in a checkout, an `http(s):` URL when imported remotely.
 * @throws {RangeError} For an unknown name, listing the valid ones.
 * @example
 * ```ts
 * import { builtinModelUrl } from "../mod.ts";
 * import { ok } from "node:assert";
 * ok(builtinModelUrl("fmnist-vit").href.endsWith("fixtures/models/fmnist_vit.onnx"));
 * ```
 */
export function builtinModelUrl(name: BuiltinModelName): URL {
  const file = (BUILTIN_MODELS as Record<string, string>)[name];
  if (!file) {
    throw new RangeError(
      `Cannot find built-in model: "${name}" is unknown; expected one of ${
        Object.keys(BUILTIN_MODELS).join(", ")
      }`,
    );
  }
  return new URL(`../fixtures/models/${file}`, import.meta.url);
}
