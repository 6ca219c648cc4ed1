import { assert, assertEquals } from "./_assert.ts";
import { keepPruned, type ScheduleConfig, sparsityAt } from "../src/prune/schedule.ts";
import { gradualPruner } from "../src/prune/gradual.ts";
import { weightPruning } from "../src/prune/weight.ts";
import { initMlp, type MlpParams } from "../src/model/mlp.ts";
import { createRng } from "../src/reference/random.ts";

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
  const prev = [Float32Array.from([0, 1, 1, 0])];
  const next = [Float32Array.from([1, 1, 0, 1])];
  assertEquals([...keepPruned(next, prev)[0]], [0, 1, 0, 0]);
});

Deno.test("gradual pruner: masks grow monotonically to the target and never revive", async () => {
  const params = initMlp([12, 10, 3], false, 1);
  const rng = createRng(2);
  const pruner = gradualPruner(weightPruning, { ...poly, initial: 0, begin: 0, end: 100 }, 0);
  let previous: Float32Array[] | undefined;
  let current: MlpParams = params;
  for (let step = 10; step <= 120; step += 10) {
    // Weights change between updates (as in training); pruned ones stay 0.
    current = {
      ...current,
      weights: current.weights.map((w, l) =>
        w.map((x, i) => (previous && previous[l][i] === 0 ? 0 : x + (rng() - 0.5)))
      ),
    };
    const masks = await pruner.update(step, () => Promise.resolve(current));
    if (!masks) continue;
    if (previous) {
      masks.forEach((m, l) =>
        m.forEach((x, i) => assert(!(previous![l][i] === 0 && x !== 0), `revived ${l}:${i}`))
      );
    }
    previous = masks;
  }
  const zeros = previous![0].reduce((s, x) => s + (x === 0 ? 1 : 0), 0);
  assertEquals(zeros, Math.round(0.9 * 120));
  assertEquals(pruner.lastSparsity(), 0.9);
  assert(previous![1].every((x) => x === 1), "output layer never pruned");
});
