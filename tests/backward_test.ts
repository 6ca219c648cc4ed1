import { assert } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { getGpu } from "../src/gpu/device.ts";
import { initMlp, type MlpParams } from "../src/model/mlp.ts";
import { mlpGradientsRef } from "../src/reference/mlp.ts";
import { createRng } from "../src/reference/random.ts";
import { destroySplit, GpuMlp, uploadSplit } from "../src/train/gpu_mlp.ts";
import { gatherRef } from "../src/reference/kernels.ts";

// The CPU reference itself is checked against central finite differences of its own loss.
Deno.test("reference MLP gradients match finite differences", () => {
  const rng = createRng(3);
  for (const bias of [false, true]) {
    const params = initMlp([5, 4, 3], bias, 1);
    if (params.biases) params.biases.forEach((b) => b.forEach((_, i) => (b[i] = rng() - 0.5)));
    const rows = 3;
    const x = Float32Array.from({ length: rows * 5 }, () => rng());
    const labels = [0, 2, 1];
    const g = mlpGradientsRef(params, x, labels, rows);
    const h = 1e-3;
    for (let l = 0; l < 2; l++) {
      for (let i = 0; i < params.weights[l].length; i++) {
        const w = params.weights[l];
        const orig = w[i];
        w[i] = orig + h;
        const up = mlpGradientsRef(params, x, labels, rows).loss;
        w[i] = orig - h;
        const down = mlpGradientsRef(params, x, labels, rows).loss;
        w[i] = orig;
        const fd = (up - down) / (2 * h);
        // f32 weights limit the difference quotient to ~1e-4 relative.
        assert(
          Math.abs(fd - g.weights[l][i]) <= 2e-3 + 1e-2 * Math.abs(fd),
          `dW${l}[${i}]: fd ${fd} vs ${g.weights[l][i]}`,
        );
      }
    }
  }
});

async function gpuGradients(params: MlpParams, rows: number, seed: number) {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(seed);
  const features = params.sizes[0];
  const count = rows;
  const split = {
    count,
    features,
    pixels: new Uint8Array(count * features).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(count).map(() => Math.floor(rng() * params.sizes.at(-1)!)),
  };
  const train = uploadSplit(gpu, split, "grad-test");
  // lr = 0: the Adam step leaves the weights as they were, so the gradients read back are
  // exactly those of `params`.
  const net = await GpuMlp.create(gpu, params, { batch: rows, evalBatch: rows, adam: { lr: 0 } });
  await net.bindTrain(train);
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  net.startEpoch(order);
  net.trainSteps(1);
  const got = await net.readGradients();
  const metrics = await net.trainMetrics(1);
  net.destroy();
  destroySplit(train);
  const { x, y } = gatherRef(
    split.pixels,
    Uint32Array.from(split.labels),
    order,
    0,
    rows,
    features,
  );
  return { got, metrics, ref: mlpGradientsRef(params, x, y, rows) };
}

for (const bias of [false, true]) {
  Deno.test(`GPU backward pass matches the CPU reference (bias ${bias ? "on" : "off"})`, async () => {
    const params = initMlp([13, 11, 7, 5], bias, 4);
    if (params.biases) {
      const rng = createRng(9);
      params.biases.forEach((b) => b.forEach((_, i) => (b[i] = (rng() - 0.5) * 0.2)));
    }
    const { got, metrics, ref } = await gpuGradients(params, 9, 5);
    assertClose("loss", [metrics.lastLoss], [ref.loss], 1e-5, 1e-4);
    for (let l = 0; l < 3; l++) {
      // f32 products of O(1) activations summed over ≤ 13 terms: 1e-5 absolute + 1e-3 relative.
      assertClose(`dW${l}`, got.weights[l], ref.weights[l], 1e-5, 1e-3);
      if (bias) assertClose(`db${l}`, got.biases[l], ref.biases![l], 1e-5, 1e-3);
    }
  });
}
