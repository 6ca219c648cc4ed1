/**
 * The sparse and compacted inference paths compute what the masked dense network computes:
 * every prediction identical except true near-ties (top-2 logit gap below 1e-5), loss within
 * 1e-5 relative, for weight pruning at k = 50, 90, 99 and unit pruning at k = 50, 90. The N:M
 * path gives the dense path's logits within 1e-5 + 1e-5·|logit| for N:M-pruned networks.
 */

import { prepareFromWeights } from "../src/prune/prepare.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { choosePaths, type NmSpeedTable, parseInferMode } from "../src/train/infer_paths.ts";
import type { NmPattern } from "../src/kernels/nm_pack.ts";
import { fastestPath } from "../src/train/infer_paths.ts";
import { UsageError } from "../src/util/errors.ts";
import { getGpu } from "../src/gpu/device.ts";
import {
  initModel,
  mlpSpec,
  type Model,
  type ModelSpec,
  outputSize,
} from "../src/model/network.ts";
import { applyMasks, prunableParams } from "../src/model/masks.ts";
import { compactUnits } from "../src/model/compact.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { createRng } from "../src/util/rng.ts";

const ROWS = 999; // not a multiple of 4: the transposed activations carry padding

async function logitsOf(
  model: Model,
  sparse: string[],
  split: ReturnType<typeof uploadSplit>,
  nm?: Map<string, NmPattern>,
) {
  const gpu = await getGpu({ quiet: true });
  const net = await GpuNetwork.create(gpu, model, {
    batch: 1,
    evalBatch: ROWS,
    adam: { lr: 0 },
    sparse: new Set(sparse),
    nm,
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
      const { masks } = prepareFromWeights(getPruneMethod(method), model, prunable, 0).masks(k);
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
  const { masks } = prepareFromWeights(getPruneMethod("weight"), model, ["layers.0.weight"], 0)
    .masks(90);
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

Deno.test("N:M inference matches the masked dense network, alone and beside sparse layers", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(22);
  // 42 inputs: the first layer's last group is short for M = 4 and 8.
  const spec = mlpSpec(42, [64, 48, 32], 10, true);
  const model = initModel(spec, 4);
  for (const [name, t] of model.params) {
    if (name.endsWith(".bias")) t.data.forEach((_, i) => (t.data[i] = (rng() - 0.5) * 0.1));
  }
  const split = uploadSplit(gpu, {
    count: ROWS,
    features: 42,
    pixels: new Uint8Array(ROWS * 42).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(ROWS).map(() => Math.floor(rng() * 10)),
  }, "nm-inference-test");
  const prunable = prunableParams(spec);
  try {
    for (const [n, m] of [[2, 4], [1, 4], [2, 8]]) {
      const pattern = { n, m };
      const { masks } = prepareFromWeights(getPruneMethod(`nm${n}:${m}`), model, prunable, 0).masks(
        0,
      );
      const pruned = applyMasks(model, masks);
      const dense = await logitsOf(pruned, [], split);
      // auto on a table where N:M won everywhere: the same layers as --infer nm.
      const table: NmSpeedTable = {
        adapter: "test",
        layers: [{
          inputs: 64,
          outputs: 48,
          n,
          m,
          dense_ms: 2,
          sparse_ms: 3,
          nm_ms: 1,
          path: "nm",
        }],
      };
      const paths = choosePaths(pruned, "auto", undefined, true, table);
      assertEquals(paths.map((p) => p.path), ["nm", "nm", "nm", "dense"], `${n}:${m} auto`);
      const all = new Map(
        paths.flatMap((p): [string, NmPattern][] =>
          p.nm && p.path === "nm" ? [[p.name, p.nm]] : []
        ),
      );
      const variants: [string, string[], Map<string, NmPattern>][] = [
        ["N:M", [], all],
        [
          "N:M, sparse, N:M",
          ["layers.1.weight"],
          new Map([["layers.0.weight", pattern], ["layers.2.weight", pattern]]),
        ],
        [
          "sparse, N:M, sparse",
          ["layers.0.weight", "layers.2.weight"],
          new Map([["layers.1.weight", pattern]]),
        ],
      ];
      for (const [label, sparse, nm] of variants) {
        const got = await logitsOf(pruned, sparse, split, nm);
        const where = `${n}:${m} ${label}`;
        assertClose(where, got.logits, dense.logits, 1e-5, 1e-5);
        assert(
          Math.abs(got.loss - dense.loss) <= 1e-5 * Math.abs(dense.loss),
          `${where}: loss ${got.loss} vs ${dense.loss}`,
        );
        assertEquals(got.accuracy, dense.accuracy, where);
      }
      // The N:M layers read their packed weights, not the dense ones: zeroing the dense copies
      // (setParams does not repack) leaves the logits as they were.
      const net = await GpuNetwork.create(gpu, pruned, {
        batch: 1,
        evalBatch: ROWS,
        adam: { lr: 0 },
        nm: all,
      });
      try {
        const zeroed = new Map([...pruned.params].map(([name, t]) => [
          name,
          { shape: t.shape, data: all.has(name) ? new Float32Array(t.data.length) : t.data },
        ]));
        net.setParams({ spec: pruned.spec, params: zeroed });
        await net.evaluate(split);
        assertClose(
          `${n}:${m} packed weights`,
          await net.lastLogits(ROWS),
          dense.logits,
          1e-5,
          1e-5,
        );
      } finally {
        net.destroy();
      }
    }
  } finally {
    destroySplit(split);
  }
});

Deno.test("--infer nm and auto choose the N:M kernel only for N:M weights, auto only where measured", () => {
  const spec = mlpSpec(32, [16, 8], 4, false);
  const model = initModel(spec, 1);
  const { masks } = prepareFromWeights(getPruneMethod("nm2:4"), model, ["layers.0.weight"], 0)
    .masks(0);
  const pruned = applyMasks(model, masks);
  const row = { inputs: 32, outputs: 16, n: 2, m: 4, dense_ms: 1, sparse_ms: 3 };
  const measured = (nmMs: number, path: "nm" | "dense" | "sparse"): NmSpeedTable => ({
    adapter: "test",
    layers: [{ ...row, nm_ms: nmMs, path }],
  });
  const paths = (mode: "auto" | "nm", table?: NmSpeedTable) =>
    choosePaths(pruned, mode, undefined, true, table).map((p) => p.path);
  assertEquals(choosePaths(pruned, "nm", undefined, true)[0].nm, { n: 2, m: 4 });
  assertEquals(paths("nm"), ["nm", "dense", "dense"]);
  assertEquals(paths("auto", measured(0.5, "nm")), ["nm", "dense", "dense"]);
  // Measured slower: auto keeps what the table chose instead.
  assertEquals(paths("auto", measured(2, "dense")), ["dense", "dense", "dense"]);
  // Not measured on this adapter (or not this pattern): the density crossover decides.
  assertEquals(paths("auto"), ["dense", "dense", "dense"]);
  assertEquals(
    paths("auto", { adapter: "test", layers: [{ ...measured(0.5, "nm").layers[0], n: 1 }] }),
    [
      "dense",
      "dense",
      "dense",
    ],
  );
  // A weight far sparser than the pattern it happens to fit (2 non-zeros in 512: 1:16) runs the
  // CSR kernel, whose time scales with the non-zeros, when that beats the N:M kernel's row.
  const sparse = structuredClone(pruned);
  const w = sparse.params.get("layers.0.weight")!.data;
  w.fill(0);
  w[3] = 0.5;
  w[200] = -0.25;
  const oneIn16: NmSpeedTable = {
    adapter: "test",
    layers: [{ ...row, n: 1, m: 16, dense_ms: 1, sparse_ms: 3, nm_ms: 0.5, path: "nm" }],
  };
  const few = choosePaths(sparse, "auto", undefined, true, oneIn16)[0];
  assertEquals([few.nm, few.path], [{ n: 1, m: 16 }, "sparse"]);
  // At the pattern's own density (one weight in every group of 16) the table's row holds.
  w.fill(0);
  for (let o = 0; o < 16; o++) for (const i of [5, 16 + o]) w[i * 16 + o] = 1;
  assertEquals(choosePaths(sparse, "auto", undefined, true, oneIn16)[0].path, "nm");
  // What bench --nm records: the fastest, but dense unless another path wins by 10%.
  assertEquals(fastestPath({ dense: 10, sparse: 12, nm: 9.5 }), "dense");
  assertEquals(fastestPath({ dense: 10, sparse: 5, nm: 4 }), "nm");
  assertEquals(fastestPath({ dense: 10, sparse: 4, nm: 5 }), "sparse");
  assertEquals(parseInferMode("nm"), "nm");
  assertThrows(
    () => parseInferMode("fast"),
    UsageError,
    '--infer must be dense, sparse, auto or nm, got "fast"',
  );
});

Deno.test("sparse inference through leaky ReLUs matches masked dense", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(22);
  const spec: ModelSpec = {
    input: [40],
    layers: [
      { kind: "dense", units: 48, bias: true },
      { kind: "leaky_relu", slope: 0.1 },
      { kind: "dense", units: 32, bias: true },
      { kind: "leaky_relu", slope: 0.01 },
      { kind: "dense", units: 10, bias: true },
    ],
  };
  const model = initModel(spec, 4, "torch");
  const split = uploadSplit(gpu, {
    count: ROWS,
    features: 40,
    pixels: new Uint8Array(ROWS * 40).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(ROWS).map(() => Math.floor(rng() * 10)),
  }, "inference-leaky");
  try {
    const prunable = prunableParams(spec);
    const { masks } = prepareFromWeights(getPruneMethod("weight"), model, prunable, 0).masks(70);
    const pruned = applyMasks(model, masks);
    const dense = await logitsOf(pruned, [], split);
    // Every layer sparse: the leaky ReLUs run in place on transposed activations, padding included.
    const sparse = await logitsOf(pruned, [...prunable, "layers.2.weight"], split);
    // f32 sums of ≤ 48 O(1) terms in another order: 1e-5 absolute + 1e-4 relative.
    assertClose("leaky sparse logits", sparse.logits, dense.logits, 1e-5, 1e-4);
  } finally {
    destroySplit(split);
  }
});
