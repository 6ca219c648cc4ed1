import { assert, assertEquals } from "./_assert.ts";
import { prepareFromWeights } from "../src/prune/prepare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { loadDataset } from "../src/data/datasets.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { applyMasks, prunableParams } from "../src/model/masks.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { evaluateModel, trainModel } from "../src/train/trainer.ts";
import { getPruneMethod } from "../src/prune/registry.ts";

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
    const outcome = await trainModel(ctx.gpu, {
      model: initModel(mlpSpec(784, [64, 32], 10, false), 0),
      train: ctx.train,
      valid: ctx.valid,
      epochs: 2,
      batchSize: 64,
      adam: { lr: 2e-3 },
      seed: 0,
      keepBest: true,
    });
    const result = await evaluateModel(ctx.gpu, outcome.model, ctx.test);
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
    };
    const spec = mlpSpec(784, [64], 10, false);
    const dense = await trainModel(ctx.gpu, { ...job, model: initModel(spec, 1), epochs: 2 });
    const { masks } = prepareFromWeights(
      getPruneMethod("weight"),
      dense.model,
      prunableParams(spec),
      0,
    )
      .masks(97);
    const pruned = applyMasks(dense.model, masks);
    const before = await evaluateModel(ctx.gpu, pruned, ctx.test);
    const tuned = await trainModel(ctx.gpu, { ...job, model: pruned, masks, epochs: 1 });
    const after = await evaluateModel(ctx.gpu, tuned.model, ctx.test);
    assert(
      after.accuracy > before.accuracy + 0.05,
      `fine-tuning: ${before.accuracy} -> ${after.accuracy}`,
    );
    for (const [name, mask] of masks) {
      const w = tuned.model.params.get(name)!.data;
      for (let i = 0; i < w.length; i++) {
        if (mask[i] === 0) assert(Object.is(w[i], 0), `${name}[${i}] revived: ${w[i]}`);
      }
    }
  } finally {
    ctx.destroy();
  }
});

Deno.test("rewinding restores exactly the saved weights of surviving entries", async () => {
  const gpu = await getGpu({ quiet: true });
  const spec = mlpSpec(20, [16], 10, false);
  const init = initModel(spec, 3);
  const trained = initModel(spec, 4);
  const { masks } = prepareFromWeights(getPruneMethod("weight"), trained, prunableParams(spec), 0)
    .masks(80);
  const net = await GpuNetwork.create(gpu, init, { batch: 1, evalBatch: 1, adam: { lr: 0 } });
  net.setMasks(masks);
  const rewound = await net.getModel();
  net.destroy();
  for (const [name, t] of rewound.params) {
    const mask = masks.get(name);
    t.data.forEach((w, i) => {
      const want = !mask || mask[i] !== 0 ? init.params.get(name)!.data[i] : 0;
      assert(Object.is(w, want), `${name}[${i}]: ${w} != ${want}`);
    });
  }
});
