/**
 * Gradient-based pruning scores: the accumulation kernel against its reference, and whole
 * scoring passes (first-order Taylor, Σ |w ⊙ ∂L/∂w| over batches) on the GPU against the CPU
 * reference network's gradients, on a tiny MLP and a tiny CNN.
 */

import { assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import { createScoreAccumulate } from "../src/kernels/scores.ts";
import { movementAccumulateRef, scoreAccumulateRef } from "../src/reference/scores.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { gatherRef } from "../src/reference/kernels.ts";
import {
  initModel,
  mlpSpec,
  type ModelSpec,
  outputSize,
  referenceGradients,
} from "../src/model/network.ts";
import { prunableParams } from "../src/model/masks.ts";
import { taylorScores } from "../src/train/gradient_scores.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { createRng, permutation, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

Deno.test("score_accumulate (Taylor and movement) matches its reference over odd sizes", async () => {
  const gpu = await getGpu({ quiet: true });
  let seed = 90;
  for (const count of [1, 7, 257, 66000]) {
    const rng = createRng(seed++);
    const [score, w, grad] = [
      uniformArray(rng, count, 0, 1),
      uniformArray(rng, count),
      uniformArray(rng, count),
    ];
    const buffers = {
      score: uploadStorage(gpu, score, "score"),
      w: uploadStorage(gpu, w, "w"),
      grad: uploadStorage(gpu, grad, "grad"),
    };
    const op = await createScoreAccumulate(gpu, count, buffers);
    const movement = await createScoreAccumulate(gpu, count, buffers, "movement");
    submitOps(gpu, [op]);
    // One f32 product and sum: a few ulps.
    const taylor = scoreAccumulateRef(score, w, grad);
    assertClose(`${count}`, await readF32(gpu, buffers.score, count), taylor, 1e-7, 1e-6);
    submitOps(gpu, [movement]);
    const both = movementAccumulateRef(Float32Array.from(taylor), w, grad);
    assertClose(`${count} movement`, await readF32(gpu, buffers.score, count), both, 1e-7, 1e-6);
    movement.destroy();
    op.destroy();
    Object.values(buffers).forEach((b) => b.destroy());
  }
});

const CNN: ModelSpec = {
  input: [2, 7, 7],
  layers: [
    { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "maxpool2d", kernel: 3, stride: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 5, bias: true },
  ],
};

Deno.test("Taylor scores on the GPU equal Σ |w ⊙ ∂L/∂w| of the CPU reference over the same batches", async () => {
  const gpu = await getGpu({ quiet: true });
  for (const spec of [mlpSpec(13, [11, 7], 5, true), CNN]) {
    const model = initModel(spec, 4);
    const features = spec.input.reduce((a, b) => a * b, 1);
    const count = 40;
    const rows = 8;
    const batches = 3;
    const seed = 6;
    const rng = createRng(17);
    const split = {
      count,
      features,
      pixels: new Uint8Array(count * features).map(() => Math.floor(rng() * 256)),
      labels: new Uint8Array(count).map(() => Math.floor(rng() * outputSize(spec))),
    };
    const train = uploadSplit(gpu, split, "scores");
    const prunable = prunableParams(spec, "all");
    try {
      const got = await taylorScores(gpu, { train, valid: train, test: train }, model, prunable, {
        batchSize: rows,
        batches,
        seed,
      });
      // The pass draws its order as taylorScores documents: permutation(seed ^ 0x5c0e).
      const order = permutation(createRng(seed ^ 0x5c0e), count);
      const want = new Map(
        prunable.map((n) => [n, new Float64Array(model.params.get(n)!.data.length)]),
      );
      for (let b = 0; b < batches; b++) {
        const { x, y } = gatherRef(
          split.pixels,
          Uint32Array.from(split.labels),
          order,
          b,
          rows,
          features,
        );
        const { grads } = referenceGradients(model, x, y, rows);
        for (const name of prunable) {
          const w = model.params.get(name)!.data;
          const g = grads.get(name)!;
          want.get(name)!.forEach((_, i, s) => (s[i] += Math.abs(w[i] * g[i])));
        }
      }
      assertEquals([...got.keys()], prunable);
      for (const name of prunable) {
        // f32 gradients (checked at 1e-5 by backward_test) times |w| ≤ 1, summed over 3 batches.
        assertClose(
          `${spec.layers.length} layers ${name}`,
          got.get(name)!,
          want.get(name)!,
          3e-6,
          1e-3,
        );
      }
    } finally {
      destroySplit(train);
    }
  }
});

Deno.test("movement scores accumulated by training steps equal −Σ w ⊙ ∂L/∂w of the CPU reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const spec = mlpSpec(13, [11, 7], 5, true);
  const model = initModel(spec, 4);
  const [count, rows, steps] = [40, 8, 3];
  const rng = createRng(21);
  const split = {
    count,
    features: 13,
    pixels: new Uint8Array(count * 13).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(count).map(() => Math.floor(rng() * 5)),
  };
  const train = uploadSplit(gpu, split, "movement");
  const prunable = prunableParams(spec);
  // lr 0: the weights stay those of `model`, so each step's gradient is the reference's.
  const net = await GpuNetwork.create(gpu, model, {
    batch: rows,
    evalBatch: rows,
    adam: { lr: 0 },
    scored: prunable,
    scoreMode: "movement",
  });
  try {
    await net.bindTrain(train);
    const order = permutation(createRng(3), count);
    net.startEpoch(order);
    net.trainSteps(steps);
    const got = await net.readScores();
    for (const name of prunable) {
      const w = model.params.get(name)!.data;
      const want = new Float64Array(w.length);
      for (let b = 0; b < steps; b++) {
        const { x, y } = gatherRef(
          split.pixels,
          Uint32Array.from(split.labels),
          order,
          b,
          rows,
          13,
        );
        const g = referenceGradients(model, x, y, rows).grads.get(name)!;
        want.forEach((_, i) => (want[i] -= w[i] * g[i]));
      }
      assertClose(name, got.get(name)!, want, 3e-6, 1e-3);
    }
  } finally {
    net.destroy();
    destroySplit(train);
  }
});
