import { assert, assertEquals } from "./_assert.ts";
import { type ScheduleConfig, sparsityAt } from "../src/prune/schedule.ts";
import { gradualPruner } from "../src/prune/gradual.ts";
import { weightPruning } from "../src/prune/weight.ts";
import { initModel, mlpSpec, type Model } from "../src/model/network.ts";
import { keepPruned, type Masks, prunableParams } from "../src/model/masks.ts";
import { createRng } from "../src/util/rng.ts";

const poly: ScheduleConfig = {
  kind: "polynomial",
  initial: 0.1,
  target: 0.9,
  begin: 100,
  end: 300,
  frequency: 10,
};

Deno.test("polynomial schedule matches Zhu & Gupta's formula at begin, middle and end", () => {
  assertEquals(sparsityAt(poly, 99), undefined);
  assert(Math.abs(sparsityAt(poly, 100)! - 0.1) < 1e-12, "s_i at begin");
  // t = 200: progress 0.5 → 0.9 + (0.1 − 0.9)·0.5³ = 0.8
  assert(Math.abs(sparsityAt(poly, 200)! - 0.8) < 1e-12, String(sparsityAt(poly, 200)));
  // t = 150: progress 0.25 → 0.9 − 0.8·0.75³
  assert(Math.abs(sparsityAt(poly, 150)! - (0.9 - 0.8 * 0.75 ** 3)) < 1e-12);
  assertEquals(sparsityAt(poly, 300), 0.9);
  assertEquals(sparsityAt(poly, 10_000), 0.9);
  const constant: ScheduleConfig = { ...poly, kind: "constant" };
  assertEquals(sparsityAt(constant, 100), 0.9);
  assertEquals(sparsityAt(constant, 50), undefined);
});

Deno.test("keepPruned never revives an entry", () => {
  const prev = new Map([["w", Float32Array.from([0, 1, 1, 0])]]);
  const next = new Map([["w", Float32Array.from([1, 1, 0, 1])]]);
  assertEquals([...keepPruned(next, prev).get("w")!], [0, 1, 0, 0]);
});

Deno.test("gradual pruner: masks grow monotonically to the target and never revive", async () => {
  const spec = mlpSpec(12, [10], 3, false);
  let current: Model = initModel(spec, 1);
  const prunable = prunableParams(spec);
  const rng = createRng(2);
  const pruner = gradualPruner(
    weightPruning,
    { ...poly, initial: 0, begin: 0, end: 100 },
    0,
    prunable,
  );
  let previous: Masks | undefined;
  for (let step = 10; step <= 120; step += 10) {
    // Weights change between updates (as in training); pruned ones stay 0.
    const before = previous;
    current = {
      spec,
      params: new Map([...current.params].map(([name, t]) => {
        const m = before?.get(name);
        const data = t.data.map((x, i) => (m && m[i] === 0 ? 0 : x + (rng() - 0.5)));
        return [name, { shape: t.shape, data }];
      })),
    };
    const masks = await pruner.update(step, () => Promise.resolve(current));
    if (!masks) continue;
    if (before) {
      for (const [name, m] of masks) {
        const p = before.get(name)!;
        m.forEach((x, i) => assert(!(p[i] === 0 && x !== 0), `revived ${name}:${i}`));
      }
    }
    previous = masks;
  }
  const zeros = previous!.get("layers.0.weight")!.reduce((s, x) => s + (x === 0 ? 1 : 0), 0);
  assertEquals(zeros, Math.round(0.9 * 120));
  assertEquals(pruner.lastSparsity(), 0.9);
  assert(!previous!.has("layers.1.weight"), "output layer never pruned");
});
