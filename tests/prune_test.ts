import { assert, assertEquals } from "./_assert.ts";
import { pruneCount, pruneSmallest, sortedScores } from "../src/prune/select.ts";
import { getPruneMethod, PRUNE_METHODS } from "../src/prune/registry.ts";
import { UsageError } from "../src/util/errors.ts";
import { initMlp, type MlpParams } from "../src/model/mlp.ts";
import { applyMasks, sparsityOf } from "../src/sweep/measure.ts";
import { compactUnits } from "../src/sweep/compact.ts";

const f = (xs: number[]) => Float32Array.from(xs);

/** A hand-built 3-layer network: W0 [2, 3], W1 [3, 2], W2 [2, 2] (output layer). */
function fixture(): MlpParams {
  return {
    sizes: [2, 3, 2, 2],
    weights: [
      f([0.5, -0.1, 0.0, -0.3, 0.0, 0.2]), // W0 [2, 3]
      f([0.4, -0.4, 0.0, 0.1, 0.9, -0.05]), // W1 [3, 2]
      f([0.01, 0.02, 0.03, 0.04]), // W2 [2, 2], never pruned
    ],
    biases: null,
  };
}

Deno.test("pruneSmallest prunes exactly n, ties broken by lowest index", () => {
  const scores = f([0, 0, 0, 0.5, 0, 1]);
  const sorted = sortedScores(scores);
  assertEquals([...pruneSmallest(scores, sorted, 2)], [0, 0, 1, 1, 1, 1]);
  assertEquals([...pruneSmallest(scores, sorted, 4)], [0, 0, 0, 1, 0, 1]);
  assertEquals([...pruneSmallest(scores, sorted, 5)], [0, 0, 0, 0, 0, 1]);
  assertEquals([...pruneSmallest(scores, sorted, 0)], [1, 1, 1, 1, 1, 1]);
  assertEquals([...pruneSmallest(scores, sorted, 6)], [0, 0, 0, 0, 0, 0]);
  assertEquals(pruneCount(50, 7), 4);
  assertEquals(pruneCount(99.9, 784000), 783216);
});

Deno.test("weight: exact per-layer masks on a fixture; output layer untouched", () => {
  const p = fixture();
  const { masks } = getPruneMethod("weight").prepare(p, 0).masks(50);
  // W0 |w| = [.5 .1 0 .3 0 .2]: prune 3 → the two zeros (index 2, 4) and 0.1 (index 1).
  assertEquals([...masks[0]], [1, 0, 0, 1, 0, 1]);
  // W1 |w| = [.4 .4 0 .1 .9 .05]: prune 3 → 0 (2), 0.05 (5), 0.1 (3).
  assertEquals([...masks[1]], [1, 1, 0, 0, 1, 0]);
  assertEquals([...masks[2]], [1, 1, 1, 1]);
});

Deno.test("unit: prunes whole columns by L2 norm", () => {
  const p = fixture();
  // W0 columns: c0 = (.5, -.3) → .58, c1 = (-.1, 0) → .1, c2 = (0, .2) → .2
  const { masks } = getPruneMethod("unit").prepare(p, 0).masks(34); // round(.34·3) = 1 unit
  assertEquals([...masks[0]], [1, 0, 1, 1, 0, 1]);
  // W1 columns: c0 = (.4, 0, .9) → .98, c1 = (-.4, .1, -.05) → .41; round(.34·2) = 1 unit
  assertEquals([...masks[1]], [1, 0, 1, 0, 1, 0]);
  assertEquals([...masks[2]], [1, 1, 1, 1]);
});

Deno.test("global: one threshold over all prunable layers", () => {
  const p = fixture();
  // All prunable |w|: W0 [.5 .1 0 .3 0 .2], W1 [.4 .4 0 .1 .9 .05]; prune 6 of 12:
  // the three zeros, .05, then the two 0.1s (W0[1] before W1[3] by position).
  const { masks } = getPruneMethod("global").prepare(p, 0).masks(50);
  assertEquals([...masks[0]], [1, 0, 0, 1, 0, 1]);
  assertEquals([...masks[1]], [1, 1, 0, 0, 1, 0]);
});

Deno.test("std: reports s and reaches exactly k over prunable weights", () => {
  const p = initMlp([20, 30, 10, 3], false, 5);
  const result = getPruneMethod("std").prepare(p, 0).masks(70);
  const pruned = applyMasks(p, result.masks);
  assertEquals(
    sparsityOf(pruned).layers.slice(0, 2).reduce((s, x) => s + x.total - x.nonzeros, 0),
    Math.round(0.7 * (600 + 300)),
  );
  assert(result.detail !== undefined && result.detail.s > 0, "std reports s");
});

Deno.test("weight, unit and random reach exactly round(k%·n) per layer for every k", () => {
  const p = initMlp([30, 21, 13, 4], false, 2);
  for (const name of ["weight", "random"]) {
    const prep = getPruneMethod(name).prepare(p, 1);
    for (const k of [0, 25, 50, 90, 99.5]) {
      const { masks } = prep.masks(k);
      for (let l = 0; l < 2; l++) {
        const zeros = masks[l].reduce((s, x) => s + (x === 0 ? 1 : 0), 0);
        assertEquals(zeros, pruneCount(k, masks[l].length), `${name} k=${k} layer ${l}`);
      }
    }
  }
  const unit = getPruneMethod("unit").prepare(p, 0);
  const { masks } = unit.masks(50);
  assertEquals(masks[0].reduce((s, x) => s + (x === 0 ? 1 : 0), 0), 30 * pruneCount(50, 21));
});

Deno.test("random differs from weight and is seeded", () => {
  const p = initMlp([30, 21, 4], false, 2);
  const a = getPruneMethod("random").prepare(p, 1).masks(50).masks[0];
  const b = getPruneMethod("random").prepare(p, 1).masks(50).masks[0];
  const w = getPruneMethod("weight").prepare(p, 1).masks(50).masks[0];
  assertEquals([...a], [...b]);
  assert(a.some((x, i) => x !== w[i]), "random equals magnitude pruning");
});

Deno.test("unknown method lists the valid ones", () => {
  try {
    getPruneMethod("magic");
    throw new Error("no error");
  } catch (err) {
    assert(err instanceof UsageError, "UsageError");
    assertEquals(
      err.message,
      `unknown pruning method "magic"; valid methods: ${[...PRUNE_METHODS.keys()].join(", ")}`,
    );
  }
});

Deno.test("compactUnits removes dead units and keeps the function", () => {
  const p = initMlp([6, 8, 5, 3], true, 3);
  p.biases![0].set([0.1, -0.2, 0.3, 0, 0.05, -0.1, 0.2, 0.4]);
  const { masks } = getPruneMethod("unit").prepare(p, 0).masks(50);
  const pruned = applyMasks(p, masks);
  const small = compactUnits(pruned);
  // round(50% · 8) = 4 and round(50% · 5) = 3 units pruned.
  assertEquals(small.sizes, [6, 4, 2, 3]);
  // Same outputs on a few inputs (biases of dead units folded into the next layer).
  const forward = (q: MlpParams, x: number[]) => {
    let a = x;
    q.weights.forEach((w, l) => {
      const [n, m] = [q.sizes[l], q.sizes[l + 1]];
      const out = Array.from({ length: m }, (_, j) => {
        let s = q.biases ? q.biases[l][j] : 0;
        for (let i = 0; i < n; i++) s += a[i] * w[i * m + j];
        return l < q.weights.length - 1 ? Math.max(0, s) : s;
      });
      a = out;
    });
    return a;
  };
  for (const x of [[1, 0, 0.5, 0.2, 0.9, 0.1], [0, 1, 1, 0, 0.3, 0.7]]) {
    const want = forward(pruned, x);
    const got = forward(small, x);
    got.forEach((v, i) => assert(Math.abs(v - want[i]) < 1e-5, `output ${i}: ${v} vs ${want[i]}`));
  }
});
