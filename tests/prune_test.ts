import { assert, assertEquals } from "./_assert.ts";
import { prepareFromWeights } from "../src/prune/prepare.ts";
import { pruneCount, pruneSmallest, sortedScores } from "../src/prune/select.ts";
import { getPruneMethod, methodNames } from "../src/prune/registry.ts";
import { UsageError } from "../src/util/errors.ts";
import {
  hiddenWidths,
  initModel,
  mlpSpec,
  type Model,
  referenceGradients,
  referenceLogits,
} from "../src/model/network.ts";
import type { LayerSpec } from "../src/model/layers/layer.ts";
import { createRng } from "../src/util/rng.ts";
import { applyMasks, type Masks, prunableParams, sparsityOf } from "../src/model/masks.ts";
import { compactUnits } from "../src/model/compact.ts";

const f = (xs: number[]) => Float32Array.from(xs);

/** An MLP of layer widths `sizes` with seeded parameters. */
function mlp(sizes: number[], bias: boolean, seed: number): Model {
  return initModel(mlpSpec(sizes[0], sizes.slice(1, -1), sizes.at(-1)!, bias), seed);
}

/** The default prunable parameters of a model. */
const prunable = (m: Model) => prunableParams(m.spec);

/** A mask by parameter name (kept whole when the method gave none). */
const mask = (masks: Masks, name: string) => [...(masks.get(name) ?? [])];

/** A hand-built 3-layer network: W0 [2, 3], W1 [3, 2], W2 [2, 2] (output layer). */
function fixture(): Model {
  const model = mlp([2, 3, 2, 2], false, 0);
  model.params.get("layers.0.weight")!.data = f([0.5, -0.1, 0.0, -0.3, 0.0, 0.2]); // W0 [2, 3]
  model.params.get("layers.1.weight")!.data = f([0.4, -0.4, 0.0, 0.1, 0.9, -0.05]); // W1 [3, 2]
  model.params.get("layers.2.weight")!.data = f([0.01, 0.02, 0.03, 0.04]); // W2, never pruned
  return model;
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
  const { masks } = prepareFromWeights(getPruneMethod("weight"), p, prunable(p), 0).masks(50);
  // W0 |w| = [.5 .1 0 .3 0 .2]: prune 3 → the two zeros (index 2, 4) and 0.1 (index 1).
  assertEquals(mask(masks, "layers.0.weight"), [1, 0, 0, 1, 0, 1]);
  // W1 |w| = [.4 .4 0 .1 .9 .05]: prune 3 → 0 (2), 0.05 (5), 0.1 (3).
  assertEquals(mask(masks, "layers.1.weight"), [1, 1, 0, 0, 1, 0]);
  assertEquals([...masks.keys()], ["layers.0.weight", "layers.1.weight"]);
});

Deno.test("--prune-params: default, all, and name patterns choose the pruned parameters", () => {
  const spec = mlpSpec(4, [3, 2], 2, true);
  assertEquals(prunableParams(spec), ["layers.0.weight", "layers.1.weight"]);
  assertEquals(prunableParams(spec, "all").length, 6);
  assertEquals(prunableParams(spec, "layers.*.bias"), [
    "layers.0.bias",
    "layers.1.bias",
    "layers.2.bias",
  ]);
  assertEquals(prunableParams(spec, "layers.2.weight,layers.0.*"), [
    "layers.0.weight",
    "layers.0.bias",
    "layers.2.weight",
  ]);
  try {
    prunableParams(spec, "layers.9.*");
    throw new Error("no error");
  } catch (err) {
    assert(err instanceof UsageError && err.message.includes("matches no parameter"), `${err}`);
  }
  // The output layer and biases are pruned when asked for.
  const model = initModel(spec, 1);
  const names = prunableParams(spec, "all");
  const { masks } = prepareFromWeights(getPruneMethod("weight"), model, names, 0).masks(50);
  assertEquals(mask(masks, "layers.2.weight").filter((x) => x === 0).length, 2);
  assertEquals(mask(masks, "layers.2.bias").filter((x) => x === 0).length, 1);
});

Deno.test("unit: prunes whole columns by L2 norm", () => {
  const p = fixture();
  // W0 columns: c0 = (.5, -.3) → .58, c1 = (-.1, 0) → .1, c2 = (0, .2) → .2
  const { masks } = prepareFromWeights(getPruneMethod("unit"), p, prunable(p), 0).masks(34); // 1 unit
  assertEquals(mask(masks, "layers.0.weight"), [1, 0, 1, 1, 0, 1]);
  // W1 columns: c0 = (.4, 0, .9) → .98, c1 = (-.4, .1, -.05) → .41; round(.34·2) = 1 unit
  assertEquals(mask(masks, "layers.1.weight"), [1, 0, 1, 0, 1, 0]);
  assert(!masks.has("layers.2.weight"), "output layer untouched");
});

Deno.test("global: one threshold over all prunable layers", () => {
  const p = fixture();
  // All prunable |w|: W0 [.5 .1 0 .3 0 .2], W1 [.4 .4 0 .1 .9 .05]; prune 6 of 12:
  // the three zeros, .05, then the two 0.1s (W0[1] before W1[3] by position).
  const { masks } = prepareFromWeights(getPruneMethod("global"), p, prunable(p), 0).masks(50);
  assertEquals(mask(masks, "layers.0.weight"), [1, 0, 0, 1, 0, 1]);
  assertEquals(mask(masks, "layers.1.weight"), [1, 1, 0, 0, 1, 0]);
});

Deno.test("std: reports s and reaches exactly k over prunable weights", () => {
  const p = mlp([20, 30, 10, 3], false, 5);
  const result = prepareFromWeights(getPruneMethod("std"), p, prunable(p), 0).masks(70);
  const pruned = applyMasks(p, result.masks);
  const report = sparsityOf(pruned, prunable(p));
  assertEquals(
    report.params.slice(0, 2).reduce((s, x) => s + x.total - x.nonzeros, 0),
    Math.round(0.7 * (600 + 300)),
  );
  assert(result.detail !== undefined && result.detail.s > 0, "std reports s");
});

Deno.test("weight, unit and random reach exactly round(k%·n) per layer for every k", () => {
  const p = mlp([30, 21, 13, 4], false, 2);
  for (const name of ["weight", "random"]) {
    const prep = prepareFromWeights(getPruneMethod(name), p, prunable(p), 1);
    for (const k of [0, 25, 50, 90, 99.5]) {
      const { masks } = prep.masks(k);
      for (const [param, m] of masks) {
        const zeros = m.reduce((s, x) => s + (x === 0 ? 1 : 0), 0);
        assertEquals(zeros, pruneCount(k, m.length), `${name} k=${k} ${param}`);
      }
    }
  }
  const unit = prepareFromWeights(getPruneMethod("unit"), p, prunable(p), 0);
  const { masks } = unit.masks(50);
  assertEquals(
    masks.get("layers.0.weight")!.reduce((s, x) => s + (x === 0 ? 1 : 0), 0),
    30 * pruneCount(50, 21),
  );
});

Deno.test("random differs from weight and is seeded", () => {
  const p = mlp([30, 21, 4], false, 2);
  const first = (name: string) =>
    prepareFromWeights(getPruneMethod(name), p, prunable(p), 1).masks(50).masks.get(
      "layers.0.weight",
    )!;
  const [a, b, w] = [first("random"), first("random"), first("weight")];
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
      `unknown pruning method "magic"; valid methods: ${methodNames().join(", ")}`,
    );
  }
});

Deno.test("compactUnits removes dead units and keeps the function", () => {
  const p = mlp([6, 8, 5, 3], true, 3);
  p.params.get("layers.0.bias")!.data.set([0.1, -0.2, 0.3, 0, 0.05, -0.1, 0.2, 0.4]);
  const { masks } = prepareFromWeights(getPruneMethod("unit"), p, prunable(p), 0).masks(50);
  const pruned = applyMasks(p, masks);
  const small = compactUnits(pruned);
  // round(50% · 8) = 4 and round(50% · 5) = 3 units pruned.
  assertEquals(hiddenWidths(small.spec), [4, 2]);
  // Same loss on a few inputs (biases of dead units folded into the next layer).
  const x = f([1, 0, 0.5, 0.2, 0.9, 0.1, 0, 1, 1, 0, 0.3, 0.7]);
  const want = referenceGradients(pruned, x, [0, 2], 2).loss;
  const got = referenceGradients(small, x, [0, 2], 2).loss;
  assert(Math.abs(got - want) < 1e-6, `loss ${got} vs ${want}`);
});

Deno.test("compactUnits removes pruned filters with what reads them, through pools, flatten and leaky ReLUs", () => {
  const conv = (filters: number, padding: number): LayerSpec => ({
    kind: "conv2d",
    filters,
    kernel: 3,
    stride: 1,
    padding,
    bias: true,
  });
  const pool: LayerSpec = { kind: "maxpool2d", kernel: 2, stride: 2 };
  const relu: LayerSpec = { kind: "relu" };
  const flatten: LayerSpec = { kind: "flatten" };
  const leaky: LayerSpec = { kind: "leaky_relu", slope: 0.1 };
  const dense = (units: number): LayerSpec => ({ kind: "dense", units, bias: true });
  // [name, layers, widths after unit pruning at k = 50: round(k·n) of each layer go]
  const cases: [string, LayerSpec[], number[]][] = [
    ["conv → relu → pool → conv → relu → flatten → dense", [
      conv(6, 0),
      relu,
      pool,
      conv(4, 0),
      relu,
      flatten,
      dense(5),
      relu,
      dense(3),
    ], [3, 2, 2]],
    // No ReLU after the convolutions (as lenet5-caffe): negative constants are folded too.
    ["conv → pool → conv → pool → flatten → dense", [
      conv(6, 0),
      pool,
      conv(4, 0),
      flatten,
      dense(3),
    ], [3, 2]],
    // A padded consumer cannot take a non-zero constant exactly: those filters stay.
    ["conv → conv(padding 1)", [conv(6, 0), conv(4, 1), flatten, dense(3)], [-1, 2]],
    // A leaky ReLU passes slope · c of a negative constant on: folded as the kind maps it.
    ["conv → leaky → pool → flatten → dense → leaky → dense", [
      conv(6, 0),
      leaky,
      pool,
      flatten,
      dense(5),
      leaky,
      dense(3),
    ], [3, 2]],
  ];
  for (const [what, layers, widths] of cases) {
    const model = initModel({ input: [2, 10, 10], layers }, 5);
    const rng = createRng(9);
    for (const [name, t] of model.params) {
      if (name.endsWith("bias")) t.data.set(t.data.map(() => rng() - 0.5));
    }
    const { masks } = prepareFromWeights(getPruneMethod("unit"), model, prunable(model), 0).masks(
      50,
    );
    const pruned = applyMasks(model, masks);
    const small = compactUnits(pruned);
    const got = hiddenWidths(small.spec);
    widths.forEach((width, i) => {
      if (width >= 0) assertEquals(got[i], width, `${what}: width ${i}`);
    });
    if (widths[0] < 0) {
      // Only filters whose constant output is 0 may go; here every bias is non-zero.
      assertEquals(got[0], 6, `${what}: no filter of the padded consumer's producer removed`);
    }
    const x = Float32Array.from({ length: 3 * 200 }, () => rng());
    const want = referenceLogits(pruned, x, 3);
    const have = referenceLogits(small, x, 3);
    have.forEach((v, i) =>
      assert(Math.abs(v - want[i]) < 1e-6, `${what}: logit ${i} ${v} vs ${want[i]}`)
    );
  }
});
