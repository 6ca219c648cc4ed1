/**
 * Per-sample predictions: `GpuNetwork.predict` returns every sample's logits, chunk by chunk
 * (odd counts: full chunks plus a tail), on the dense and the CSR path, against the f64 CPU
 * reference; `argmaxRows` takes the first largest logit and the top-two margin; the public
 * API's `Inference` classifies one image again and again on the same buffers.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { getGpu } from "../src/gpu/device.ts";
import { initModel, mlpSpec, referenceLogits } from "../src/model/network.ts";
import { applyMasks, prunableParams } from "../src/model/masks.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { prepareFromWeights } from "../src/prune/prepare.ts";
import { createInferenceNetwork } from "../src/train/inference_network.ts";
import { argmaxRows, predictSplit } from "../src/train/predict.ts";
import { destroySplit, rewriteSplit, uploadSplit } from "../src/train/splits.ts";
import { createRng } from "../src/util/rng.ts";
import { openInference } from "../src/mod.ts";

/** `count` seeded random u8 samples of `features` pixels. */
function samples(count: number, features: number, seed: number) {
  const rng = createRng(seed);
  return {
    count,
    features,
    pixels: Uint8Array.from({ length: count * features }, () => Math.floor(rng() * 256)),
    labels: Uint8Array.from({ length: count }, () => Math.floor(rng() * 10)),
  };
}

Deno.test("predict: every sample's logits, over full chunks and a tail, dense and CSR, match the reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const model = initModel(mlpSpec(37, [29, 13], 10, true), 5);
  const prunable = prunableParams(model.spec);
  const { masks } = prepareFromWeights(getPruneMethod("weight"), model, prunable, 0).masks(80);
  const pruned = applyMasks(model, masks);
  const data = samples(1003, 37, 9);
  const want = referenceLogits(pruned, Float32Array.from(data.pixels, (p) => p / 255), data.count);
  const split = uploadSplit(gpu, data, "predict-test");
  try {
    for (const csr of [false, true]) {
      const weights = new Map(
        csr ? prunable.map((n) => [n, { kind: "csr" as const }]) : [],
      );
      // Chunks of 100: ten full ones and a tail of 3.
      const net = await createInferenceNetwork(gpu, pruned, weights, 100);
      try {
        const p = await predictSplit(net, split);
        assertClose(`logits (csr ${csr})`, p.logits, want, 1e-5, 1e-4);
        assertEquals(p.predicted.length, data.count);
        const { loss, accuracy } = await net.evaluate(split);
        const correct = p.predicted.filter((c, i) => c === data.labels[i]).length;
        assertEquals(Math.round(accuracy * data.count), correct, "evaluate agrees with predict");
        assert(Number.isFinite(loss));
      } finally {
        net.destroy();
      }
    }
  } finally {
    destroySplit(split);
  }
});

Deno.test("argmaxRows: the first largest logit and the top-two margin", () => {
  const p = argmaxRows(Float32Array.from([1, 3, 3, 0, 2, -1, 5, 4.5, 0]), 3);
  assertEquals([...p.predicted], [1, 1, 0]);
  assertEquals([...p.margin], [0, 2, 0.5]);
});

Deno.test("rewriteSplit refuses a split of another size; classify rewrites its one image", async () => {
  const gpu = await getGpu({ quiet: true });
  const model = initModel(mlpSpec(16, [8], 10, true), 2);
  const split = uploadSplit(gpu, samples(2, 16, 1), "rewrite");
  try {
    let message = "";
    try {
      rewriteSplit(gpu, split, samples(3, 16, 1));
    } catch (err) {
      message = (err as Error).message;
    }
    assertEquals(message, "rewriteSplit: 3×16 samples into a split of 2×16");
  } finally {
    destroySplit(split);
  }
  const inference = await openInference(gpu, model, { path: "dense" });
  try {
    for (const seed of [3, 4, 5]) {
      const one = samples(1, 16, seed);
      const got = await inference.classify(one.pixels);
      const logits = referenceLogits(model, Float32Array.from(one.pixels, (p) => p / 255), 1);
      const top = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - top));
      const sum = e.reduce((a, b) => a + b, 0);
      assertClose(`classify seed ${seed}`, got, e.map((v) => v / sum), 1e-6, 1e-4);
    }
  } finally {
    inference.destroy();
  }
});
