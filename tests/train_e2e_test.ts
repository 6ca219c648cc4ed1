import { assert, assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { initMlp } from "../src/model/mlp.ts";
import { destroySplit, GpuMlp, uploadSplit } from "../src/train/gpu_mlp.ts";
import { evaluateParams, trainMlp } from "../src/train/trainer.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { applyMasks } from "../src/sweep/measure.ts";

// End-to-end gate (as tinygrad's CI does): a short real MNIST run must clear a threshold far
// above chance (10%), which "every kernel passes but the model does not learn" would miss.
async function smallRun() {
  const gpu = await getGpu({ quiet: true });
  const data = await loadDataset({
    dataset: "mnist",
    numValid: 1000,
    seed: 0,
    limitTrain: 4000,
    limitTest: 2000,
  });
  const train = uploadSplit(gpu, data.train, "e2e-train");
  const valid = uploadSplit(gpu, data.valid, "e2e-valid");
  const test = uploadSplit(gpu, data.test, "e2e-test");
  return {
    gpu,
    data,
    train,
    valid,
    test,
    destroy: () => [train, valid, test].forEach(destroySplit),
  };
}

Deno.test("MNIST subset: 2 epochs of a small MLP beat 85% test accuracy", async () => {
  const ctx = await smallRun();
  try {
    const outcome = await trainMlp(ctx.gpu, {
      params: initMlp([784, 64, 32, 10], false, 0),
      train: ctx.train,
      valid: ctx.valid,
      epochs: 2,
      batchSize: 64,
      adam: { lr: 2e-3 },
      seed: 0,
      keepBest: true,
      quiet: true,
    });
    const result = await evaluateParams(ctx.gpu, outcome.params, ctx.test);
    assert(result.accuracy > 0.85, `test accuracy ${result.accuracy}`);
    assertEquals(outcome.history.length, 2);
    assert(outcome.history[1].train_loss < outcome.history[0].train_loss, "loss falls");
  } finally {
    ctx.destroy();
  }
});

Deno.test("masked fine-tuning recovers a heavily pruned model; pruned weights stay exactly 0", async () => {
  const ctx = await smallRun();
  try {
    const job = {
      train: ctx.train,
      valid: ctx.valid,
      batchSize: 64,
      adam: { lr: 2e-3 },
      seed: 0,
      keepBest: false,
      quiet: true,
    };
    const dense = await trainMlp(ctx.gpu, {
      ...job,
      params: initMlp([784, 64, 10], false, 1),
      epochs: 2,
    });
    const { masks } = getPruneMethod("weight").prepare(dense.params, 0).masks(97);
    const pruned = applyMasks(dense.params, masks);
    const before = await evaluateParams(ctx.gpu, pruned, ctx.test);
    const tuned = await trainMlp(ctx.gpu, { ...job, params: pruned, masks, epochs: 1 });
    const after = await evaluateParams(ctx.gpu, tuned.params, ctx.test);
    assert(
      after.accuracy > before.accuracy + 0.05,
      `fine-tuning: ${before.accuracy} -> ${after.accuracy}`,
    );
    tuned.params.weights.forEach((w, l) => {
      for (let i = 0; i < w.length; i++) {
        if (masks[l][i] === 0) {
          assert(Object.is(w[i], 0), `layer ${l} weight ${i} revived: ${w[i]}`);
        }
      }
    });
  } finally {
    ctx.destroy();
  }
});

Deno.test("rewinding restores exactly the saved weights of surviving entries", async () => {
  const gpu = await getGpu({ quiet: true });
  const init = initMlp([20, 16, 10], false, 3);
  const trained = initMlp([20, 16, 10], false, 4);
  const { masks } = getPruneMethod("weight").prepare(trained, 0).masks(80);
  const net = await GpuMlp.create(gpu, init, { batch: 1, evalBatch: 1, adam: { lr: 0 } });
  net.setMasks(masks);
  const rewound = await net.getParams();
  net.destroy();
  rewound.weights.forEach((w, l) => {
    for (let i = 0; i < w.length; i++) {
      const want = masks[l][i] !== 0 ? init.weights[l][i] : 0;
      assert(Object.is(w[i], want), `layer ${l}[${i}]: ${w[i]} != ${want}`);
    }
  });
});
