import { assert, assertEquals } from "./asserts.ts";
import { Progress, type ProgressOptions } from "../lib/progress.ts";

/** A progress indicator on a fake clock that records what it prints. */
function fake(total: number, options: ProgressOptions = {}) {
  const clock = { t: 0 }, out: string[] = [];
  const p = new Progress("codes", total, {
    unit: "img",
    context: "m SOM-tr CL1–CL4",
    tty: false,
    now: () => clock.t,
    write: (s) => out.push(s),
    ...options,
  });
  return { p, clock, out };
}

Deno.test("Progress prints one closing line for a short stage and never the finished bar twice", () => {
  const { p, clock, out } = fake(5);
  for (let i = 0; i < 5; i++) {
    clock.t += 500;
    p.tick();
  }
  p.done();
  p.done();
  assertEquals(out, ["codes m SOM-tr CL1–CL4: 5 img in 2.5 s (2.00 img/s)\n"]);
});

Deno.test("Progress ETA ignores the time before the first update (rate over a window)", () => {
  const { p, clock, out } = fake(1000, { plainInterval: 1 });
  clock.t = 60_000; // a minute of model loading before the first image
  p.tick(10);
  for (let i = 0; i < 5; i++) {
    clock.t += 1000; // then 10 img/s
    p.tick(10);
  }
  const first = out.find((l) => l.includes("ETA"));
  assert(first, out.join(""));
  // 940 images left at 10 img/s: 94 s, not the ~100 min a start-to-now rate would give.
  const m = first.match(/ETA (\d+)m(\d+)s/);
  assert(m, first);
  const eta = Number(m[1]) * 60 + Number(m[2]);
  assert(eta >= 90 && eta <= 100, first);
  assert(first.startsWith("codes m SOM-tr CL1–CL4: "), first);
  assert(first.includes("10.0 img/s"), first);
});

Deno.test("Progress on a terminal redraws one line and replaces it with the closing line", () => {
  const { p, clock, out } = fake(4, { tty: true });
  for (let i = 0; i < 4; i++) {
    clock.t += 200;
    p.tick();
  }
  const text = out.join("");
  assertEquals(text.split("\n").length, 2, JSON.stringify(text)); // one line, one newline
  assert(text.includes("\r"), "redrawn in place");
  assert(text.endsWith("codes m SOM-tr CL1–CL4: 4 img in 0.8 s (5.00 img/s)\x1b[K\n"), text);
});

Deno.test("Progress quiet prints nothing but still reports updates", () => {
  const seen: number[] = [];
  const { p, out } = fake(2, { quiet: true, onUpdate: (d) => seen.push(d) });
  p.tick();
  p.tick();
  p.done();
  assertEquals(out, []);
  assertEquals(seen, [1, 2]);
});

Deno.test("Progress with an unknown total counts without a percentage or an ETA", () => {
  const { p, clock, out } = fake(0, { plainInterval: 1 });
  for (let i = 0; i < 4; i++) {
    clock.t += 1000;
    p.tick(3);
  }
  p.done();
  assert(out.length >= 2, out.join(""));
  assert(out.every((l) => !l.includes("%") && !l.includes("ETA")), out.join(""));
  assertEquals(out.at(-1), "codes m SOM-tr CL1–CL4: 12 img in 4.0 s (3.00 img/s)\n");
});
