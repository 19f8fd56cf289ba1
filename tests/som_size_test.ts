import { assert, assertEquals, assertThrows } from "./asserts.ts";
import { checkSomSize, Som } from "../mod.ts";

Deno.test("checkSomSize() reports the bytes of the largest buffers", () => {
  const s = checkSomSize({ m: 20, n: 30, dim: 2048, memoryBytes: 1e12 });
  assertEquals(s, {
    units: 600,
    weightsBytes: 600 * 2048 * 4,
    gridTableBytes: 600 * 600 * 4,
    unitMatrixBytes: 600 * 600 * 12,
  });
});

Deno.test("a 1000×1000 grid is refused at construction, naming the grid, the bytes and the limit", () => {
  const e = assertThrows(
    () => new Som({ m: 1000, n: 1000, dim: 2048 }),
    RangeError,
    "1000×1000",
  );
  assert(e.message.includes("4000000000000 bytes (4.00 TB)"), e.message);
  assert(e.message.includes("neighbourhood table"), e.message);
  // The default init would draw 2·10⁹ normals first: the check comes before any of it.
  // The analyses' K×K float64 matrix, on any backend.
  assertThrows(
    () => checkSomSize({ m: 1000, n: 1000, backend: "reference", analyses: true }),
    RangeError,
    "12000000000000 bytes (12.0 TB)",
  );
});

Deno.test("each limit applies where it should: weights vs memory, the cpu table vs 2 GiB, analyses on request", () => {
  const GB = 1e9;
  // Weights: 100 units × 1e6 dims × 4 = 400 MB > 100 MB.
  assertThrows(
    () => checkSomSize({ m: 10, n: 10, dim: 1e6, memoryBytes: 100e6 }),
    RangeError,
    "float32 weights needs 400000000 bytes",
  );
  // 160×160 = 25,600 units: the table is 2.6 GB, over the 2 GiB an ONNX graph holds — on cpu and
  // auto only; webgpu and reference build no table.
  for (const backend of ["cpu", "auto"]) {
    assertThrows(
      () => checkSomSize({ m: 160, n: 160, backend, memoryBytes: 100 * GB }),
      RangeError,
      "an ONNX graph holds at most 2 GiB",
    );
  }
  for (const backend of ["webgpu", "reference"]) {
    checkSomSize({ m: 160, n: 160, backend, memoryBytes: 100 * GB });
  }
  // The analyses' matrix only when asked: 25,600² × 12 = 7.9 GB > 4 GB.
  checkSomSize({ m: 160, n: 160, backend: "reference", memoryBytes: 4 * GB });
  const e = assertThrows(
    () =>
      checkSomSize({ m: 160, n: 160, backend: "reference", memoryBytes: 4 * GB, analyses: true }),
    RangeError,
    "unit distance matrix",
  );
  assert(e.message.includes(`at most ${Math.floor(Math.sqrt(4 * GB / 12))} units`), e.message);
  assertThrows(() => checkSomSize({ m: 0, n: 3 }), RangeError, "grid is 0×3");
  assertThrows(() => checkSomSize({ m: 3, n: 3, dim: 1.5 }), RangeError, "dim is 1.5");
});

Deno.test("the paper's sizes pass: 40×40 on 8,192-dimensional codes", () => {
  checkSomSize({ m: 40, n: 40, dim: 8192, analyses: true });
  new Som({ m: 40, n: 40, dim: 8192, init: "pca" }).dispose();
});
