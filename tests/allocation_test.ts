import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  erkDensities,
  lampScores,
  parseAllocation,
  prepareAllocated,
} from "../src/prune/allocation.ts";
import { prepareFromWeights, prepareMethod } from "../src/prune/prepare.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { prunableParams } from "../src/model/masks.ts";
import { UsageError } from "../src/util/errors.ts";
import { assertClose } from "./_close.ts";

Deno.test("ERK densities: Σ dims / Π dims scaled to the target, overfull layers kept dense", () => {
  // [4, 2] and [2, 2] at density 0.5: raw 6/8 and 4/4, ε = 6 / (0.75·8 + 1·4) = 0.6.
  assertClose("two layers", erkDensities([[4, 2], [2, 2]], 0.5), [0.45, 0.6], 1e-12, 0);
  // A tiny layer would pass density 1: it stays dense, the big one takes the rest.
  assertClose(
    "overfull",
    erkDensities([[100, 100], [2, 2]], 0.5),
    [(5002 - 4) / 10000, 1],
    1e-12,
    0,
  );
  // Convolutions count their kernel dimensions: [out, in, kh, kw].
  const [conv, dense] = erkDensities([[20, 1, 5, 5], [800, 500]], 0.1);
  assert(conv > dense, `conv ${conv} keeps more than dense ${dense}`);
  assertClose("total", [conv * 500 + dense * 400000], [0.1 * 400500], 1e-6, 0);
});

Deno.test("LAMP scores: s² over the sum of s² at and above it, per layer", () => {
  // Ascending 1, 2, 3: 1/14, 4/13, 9/9.
  assertClose("lamp", lampScores(Float32Array.of(2, 1, 3)), [4 / 13, 1 / 14, 1], 1e-7, 0);
  assertEquals([...lampScores(Float32Array.of(0, 0))], [0, 0]);
});

Deno.test("allocations prune the exact counts they promise", () => {
  const parts = [
    { name: "a", shape: [10, 10], scores: Float32Array.from({ length: 100 }, (_, i) => i) },
    { name: "b", shape: [10, 1], scores: Float32Array.from({ length: 10 }, (_, i) => 1000 + i) },
  ];
  const zeros = (m: Float32Array) => m.filter((v) => v === 0).length;
  // uniform: 50% of each.
  let masks = prepareAllocated(parts, "uniform").masks(50).masks;
  assertEquals([zeros(masks.get("a")!), zeros(masks.get("b")!)], [50, 5]);
  // global: the 55 smallest scores overall are all in a.
  masks = prepareAllocated(parts, "global").masks(50).masks;
  assertEquals([zeros(masks.get("a")!), zeros(masks.get("b")!)], [55, 0]);
  // lamp: b's scores are all close, so its LAMP scores are larger than most of a's.
  masks = prepareAllocated(parts, "lamp").masks(50).masks;
  assertEquals(zeros(masks.get("a")!) + zeros(masks.get("b")!), 55);
  assert(zeros(masks.get("b")!) < 5, `lamp keeps more of b: ${zeros(masks.get("b")!)}`);
  // erk: b ([10, 1], raw 1.1) is denser than a ([10, 10], raw 0.2).
  masks = prepareAllocated(parts, "erk").masks(50).masks;
  const d = erkDensities([[10, 10], [10, 1]], 0.5);
  assertEquals(
    [zeros(masks.get("a")!), zeros(masks.get("b")!)],
    [100 - Math.round(d[0] * 100), 10 - Math.round(d[1] * 10)],
  );
  assertThrows(() => parseAllocation("er"), UsageError, "--allocation must be one of");
});

Deno.test("prepareMethod: uniform is the method's own masks; structured methods refuse others", async () => {
  const model = initModel(mlpSpec(30, [20, 10], 4, false), 1);
  const prunable = prunableParams(model.spec);
  const weight = getPruneMethod("weight");
  const own = prepareFromWeights(weight, model, prunable, 0).masks(70).masks;
  const viaUniform = (await prepareMethod(weight, model, prunable, 0, { allocation: "uniform" }))
    .masks(70).masks;
  const viaGlobal = (await prepareMethod(weight, model, prunable, 0, { allocation: "global" }))
    .masks(70).masks;
  const global = prepareFromWeights(getPruneMethod("global"), model, prunable, 0).masks(70).masks;
  for (const name of prunable) {
    assertEquals([...viaUniform.get(name)!], [...own.get(name)!]);
    assertEquals([...viaGlobal.get(name)!], [...global.get(name)!]);
  }
  await prepareMethod(getPruneMethod("unit"), model, prunable, 0, { allocation: "erk" }).then(
    () => {
      throw new Error("unit with erk resolved");
    },
    (err) => assert(err instanceof UsageError && err.message.includes("unit"), String(err)),
  );
});
