/**
 * The sparse and compacted inference paths compute what the masked dense network computes:
 * every prediction identical except true near-ties (top-2 logit gap below 1e-5), loss within
 * 1e-5 relative, for weight pruning at k = 50, 90, 99 and unit pruning at k = 50, 90.
 */

import { assert, assertEquals } from "./_assert.ts";
import { choosePaths } from "../src/train/infer_paths.ts";
import { getGpu } from "../src/gpu/device.ts";
import { initModel, mlpSpec, type Model, outputSize } from "../src/model/network.ts";
import { applyMasks, prunableParams } from "../src/model/masks.ts";
import { compactUnits } from "../src/model/compact.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { createRng } from "../src/util/rng.ts";

const ROWS = 999; // not a multiple of 4: the transposed activations carry padding

async function logitsOf(model: Model, sparse: string[], split: ReturnType<typeof uploadSplit>) {
  const gpu = await getGpu({ quiet: true });
  const net = await GpuNetwork.create(gpu, model, {
    batch: 1,
    evalBatch: ROWS,
    adam: { lr: 0 },
    sparse: new Set(sparse),
  });
  try {
    const result = await net.evaluate(split);
    return { ...result, logits: await net.lastLogits(ROWS) };
  } finally {
    net.destroy();
  }
}

Deno.test("sparse and compacted inference match masked dense, prediction by prediction", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(21);
  const spec = mlpSpec(40, [64, 48, 32], 10, true);
  const model = initModel(spec, 3);
  for (const [name, t] of model.params) {
    if (name.endsWith(".bias")) t.data.forEach((_, i) => (t.data[i] = (rng() - 0.5) * 0.1));
  }
  const split = uploadSplit(gpu, {
    count: ROWS,
    features: 40,
    pixels: new Uint8Array(ROWS * 40).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(ROWS).map(() => Math.floor(rng() * 10)),
  }, "inference-test");
  const prunable = prunableParams(spec);
  const classes = outputSize(spec);
  try {
    for (
      const [method, k] of [["weight", 50], ["weight", 90], ["weight", 99], ["unit", 50], [
        "unit",
        90,
      ]] as const
    ) {
      const { masks } = getPruneMethod(method).prepare(model, prunable, 0).masks(k);
      const pruned = applyMasks(model, masks);
      const dense = await logitsOf(pruned, [], split);
      const compact = compactUnits(pruned);
      const variants: [string, Model, string[]][] = [
        ["sparse", pruned, prunable],
        ["sparse, output layer too", pruned, [...prunable, "layers.3.weight"]],
        ["compacted then sparse", compact, prunableParams(compact.spec)],
      ];
      for (const [label, m, sparse] of variants) {
        const got = await logitsOf(m, sparse, split);
        const where = `${method} k=${k} ${label}`;
        assert(
          Math.abs(got.loss - dense.loss) <= 1e-5 * Math.abs(dense.loss),
          `${where}: loss ${got.loss} vs ${dense.loss}`,
        );
        for (let r = 0; r < ROWS; r++) {
          const a = dense.logits.subarray(r * classes, (r + 1) * classes);
          const b = got.logits.subarray(r * classes, (r + 1) * classes);
          const top = (x: Float32Array) => x.indexOf(Math.max(...x));
          if (top(a) === top(b)) continue;
          const sorted = [...a].sort((x, y) => y - x);
          assert(
            sorted[0] - sorted[1] < 1e-5,
            `${where}: row ${r} predicts ${top(b)}, dense ${top(a)}`,
          );
        }
      }
    }
  } finally {
    destroySplit(split);
  }
});

Deno.test("--infer auto runs sparse exactly the layers below their crossover", () => {
  const spec = mlpSpec(30, [20, 10], 4, false);
  const model = initModel(spec, 1);
  const { masks } = getPruneMethod("weight").prepare(model, ["layers.0.weight"], 0).masks(90);
  const pruned = applyMasks(model, masks);
  const table = {
    adapter: "test",
    layers: [{ inputs: 30, outputs: 20, density: 0.3 }, { inputs: 20, outputs: 10, density: 0.3 }],
  };
  const auto = choosePaths(pruned, "auto", table, true);
  assertEquals(auto.map((p) => [p.name, p.sparse]), [
    ["layers.0.weight", true],
    ["layers.1.weight", false],
    ["layers.2.weight", false],
  ]);
  assertEquals(auto[0].density, 60 / 600);
  assert(choosePaths(pruned, "sparse", table, true).every((p) => p.sparse), "sparse forces all");
  assert(choosePaths(pruned, "dense", table, true).every((p) => !p.sparse), "dense forces none");
  // Unmeasured adapters fall back to the default crossover.
  assertEquals(choosePaths(pruned, "auto", undefined, true)[0].crossover, 0.2);
});
