import { assertEquals, assertThrows } from "./asserts.ts";
import { DataFormatError, decodeNpy, encodeNpy, readNpy, writeNpy } from "../mod.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;

Deno.test("readNpy() reads float32, int32 and float64 files written by numpy", async () => {
  const f = await readNpy(here("./data/numpy_f32_3x5.npy"));
  assertEquals(f.shape, [3, 5]);
  assertEquals(
    Array.from(f.data as Float32Array),
    Array.from({ length: 15 }, (_, i) => (i - 7) / 4),
  );
  const i = await readNpy(here("./data/numpy_i32_4.npy"));
  assertEquals(i.shape, [4]);
  assertEquals(Array.from(i.data as Int32Array), [3, -1, 0, 2 ** 31 - 1]);
  const d = await readNpy(here("./data/numpy_f64_2x2x2.npy"));
  assertEquals(d.shape, [2, 2, 2]);
  assertEquals((d.data as Float64Array)[7], 1);
});

Deno.test("encodeNpy() writes the same bytes numpy writes", async () => {
  const bytes = await Deno.readFile(here("./data/numpy_f32_3x5.npy"));
  const arr = decodeNpy(bytes);
  assertEquals(encodeNpy(arr), bytes);
});

Deno.test("writeNpy()/readNpy() round-trip every supported dtype bit-identically", async () => {
  const dir = await Deno.makeTempDir();
  const arrays = [
    new Float32Array([NaN, -0, Infinity, 1.5e-42]),
    new Float64Array([Math.PI, -1e300]),
    new Int32Array([-5, 7]),
    new BigInt64Array([-(2n ** 62n), 3n]),
    new Uint8Array([0, 255, 9]),
  ];
  for (const data of arrays) {
    await writeNpy(`${dir}/a.npy`, { data, shape: [data.length] });
    const back = await readNpy(`${dir}/a.npy`);
    assertEquals(back.data.constructor, data.constructor);
    assertEquals(new Uint8Array(back.data.buffer), new Uint8Array(data.buffer));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("decodeNpy() rejects bad magic, truncation, object arrays and a wrong shape", () => {
  assertThrows(() => decodeNpy(new Uint8Array(20)), DataFormatError, "bad magic");
  const ok = encodeNpy({ data: new Float32Array(6), shape: [2, 3] });
  assertThrows(() => decodeNpy(ok.slice(0, ok.length - 4)), DataFormatError, "needs 24");
  const obj = ok.slice();
  const at = new TextDecoder("latin1").decode(ok).indexOf("<f4");
  obj.set(new TextEncoder().encode("|O8"), at);
  assertThrows(() => decodeNpy(obj), DataFormatError, "dtype '|O8'");
  assertThrows(() => encodeNpy({ data: new Float32Array(5), shape: [2, 3] }), RangeError);
});
