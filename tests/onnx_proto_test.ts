import { assertEquals, assertThrows } from "./asserts.ts";
import {
  decodeModel,
  DT,
  encodeModel,
  getAttr,
  model,
  node,
  tensor,
  tensorData,
  valueInfo,
} from "../lib/onnx/proto.ts";
import { ModelFormatError } from "../mod.ts";

function roundTrip() {
  const g = {
    name: "g",
    node: [node("Gemm", ["x", "w"], ["y"], { transB: 1, alpha: 2.5, perm: [1, 0] })],
    initializer: [
      tensor("a", [3], new Float32Array([9, 8, 7])),
      tensor("shape", [2], [3, -1]),
      tensor("w", [2, 3], new Float32Array([1.5, 0, -2, 0.25, 1, 0])),
      tensor("i32", [2], new Int32Array([-7, 11])),
    ],
    input: [valueInfo("x", DT.FLOAT, ["N", 3])],
    output: [valueInfo("y", DT.FLOAT, ["N", 2])],
  };
  return decodeModel(encodeModel(model(g)), "t.onnx");
}

Deno.test("tensorData() reads raw initializers at any offset of the decoded bytes", () => {
  const m = roundTrip();
  const byName = Object.fromEntries(m.graph!.initializer!.map((t) => [t.name, tensorData(t)]));
  assertEquals(Array.from(byName.a as Float32Array), [9, 8, 7]);
  assertEquals(Array.from(byName.shape as BigInt64Array), [3n, -1n]);
  assertEquals(Array.from(byName.w as Float32Array), [1.5, 0, -2, 0.25, 1, 0]);
  assertEquals(Array.from(byName.i32 as Int32Array), [-7, 11]);
});

Deno.test("node() attributes round-trip with their types (INT, FLOAT, INTS)", () => {
  const n = roundTrip().graph!.node![0];
  assertEquals(getAttr(n, "transB"), 1);
  assertEquals(getAttr(n, "alpha"), 2.5);
  assertEquals(getAttr(n, "perm"), [1, 0]);
  assertEquals(getAttr(n, "missing", 42), 42);
});

Deno.test("decodeModel() rejects truncated and non-ONNX bytes with ModelFormatError", () => {
  const bytes = encodeModel(model({ name: "g", node: [node("Relu", ["x"], ["y"])] }));
  assertThrows(() => decodeModel(bytes.slice(0, 9), "cut.onnx"), ModelFormatError, "cut.onnx");
  assertThrows(
    () => decodeModel(new TextEncoder().encode("hello, not a model"), "t.txt"),
    ModelFormatError,
    "t.txt",
  );
});
