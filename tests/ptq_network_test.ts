/**
 * Post-training quantisation end to end: a network evaluated with int8 or f16 weights read
 * packed by the GPU (dense and convolution layers) computes the CPU reference of the
 * dequantised model, and pruned weights stay exactly zero.
 */

import { assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { initModel, mlpSpec, type ModelSpec, referenceLogits } from "../src/model/network.ts";
import { dequantizedModel, quantizeModelWeights } from "../src/quant/ptq_model.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { createRng } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

const CNN: ModelSpec = {
  input: [2, 9, 9],
  layers: [
    { kind: "conv2d", filters: 5, kernel: 3, stride: 1, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "maxpool2d", kernel: 2, stride: 2 },
    { kind: "conv2d", filters: 7, kernel: 3, stride: 2, padding: 0, bias: false },
    { kind: "relu" },
    { kind: "flatten" },
    { kind: "dense", units: 13, bias: true },
    { kind: "relu" },
    { kind: "dense", units: 4, bias: true },
  ],
};

Deno.test("int8 and f16 networks on the GPU match the dequantised model's CPU reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rows = 37;
  for (const spec of [mlpSpec(45, [31, 17], 6, true), CNN]) {
    const model = initModel(spec, 8);
    const rng = createRng(8);
    for (const [name, t] of model.params) {
      // Biases non-zero; a third of each weight pruned.
      t.data.forEach((
        v,
        i,
      ) => (t.data[i] = name.endsWith(".bias") ? rng() - 0.5 : rng() < 0.33 ? 0 : v));
    }
    const features = spec.input.reduce((a, b) => a * b, 1);
    const pixels = new Uint8Array(rows * features).map(() => Math.floor(rng() * 256));
    const split = uploadSplit(
      gpu,
      { count: rows, features, pixels, labels: new Uint8Array(rows) },
      "ptq",
    );
    const x = Float32Array.from(pixels, (p) => p / 255);
    try {
      for (const format of ["int8", "f16"] as const) {
        const weights = quantizeModelWeights(model, format);
        const reference = dequantizedModel(model, weights);
        for (const [name, t] of reference.params) {
          const before = model.params.get(name)!.data;
          t.data.forEach((v, i) =>
            before[i] === 0 && assertEquals(v, 0, `${format} ${name}[${i}]`)
          );
        }
        const net = await GpuNetwork.create(gpu, model, {
          batch: 1,
          evalBatch: rows,
          adam: { lr: 0 },
          ptq: format,
        });
        try {
          await net.evaluate(split);
          // f32 sums in another order than the f64 reference, over ≤ 45 products per layer.
          assertClose(
            `${format} ${spec.layers.length} layers`,
            await net.lastLogits(rows),
            referenceLogits(reference, x, rows),
            1e-4,
            1e-4,
          );
        } finally {
          net.destroy();
        }
        // The quantisation is not a no-op: the dequantised weights differ from f32.
        const name = [...weights.keys()][0];
        const original = model.params.get(name)!.data;
        assertEquals(reference.params.get(name)!.data.some((v, i) => v !== original[i]), true);
      }
    } finally {
      destroySplit(split);
    }
  }
});
