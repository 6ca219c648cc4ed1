import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { getGpu } from "../src/gpu/device.ts";
import {
  activationShapes,
  initModel,
  mlpSpec,
  type Model,
  type ModelSpec,
  outputSize,
  referenceGradients,
} from "../src/model/network.ts";
import { sizeOf } from "../src/model/tensor.ts";
import { createRng } from "../src/util/rng.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { gatherRef } from "../src/reference/kernels.ts";
import { UsageError } from "../src/util/errors.ts";

/** A model of `spec` with seeded weights and small random biases. */
function modelWithBiases(spec: ModelSpec, seed: number): Model {
  const model = initModel(spec, seed);
  const rng = createRng(seed + 100);
  for (const [name, t] of model.params) {
    if (name.endsWith(".bias")) t.data.forEach((_, i) => (t.data[i] = (rng() - 0.5) * 0.2));
  }
  return model;
}

/** A small CNN: padded conv, fused ReLU, overlapping pool, strided conv, flatten, dense. */
function cnnSpec(bias: boolean): ModelSpec {
  return {
    input: [2, 7, 7],
    layers: [
      { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias },
      { kind: "relu" },
      { kind: "maxpool2d", kernel: 3, stride: 2 },
      { kind: "conv2d", filters: 4, kernel: 2, stride: 2, padding: 0, bias },
      { kind: "relu" },
      { kind: "flatten" },
      { kind: "dense", units: 5, bias },
    ],
  };
}

/**
 * Leaky ReLUs after a padded convolution and between dense layers; the first sits on the
 * (non-negative) input, where its forward is the identity and its backward is skipped (the first
 * layer gets no dx).
 */
function leakySpec(bias: boolean): ModelSpec {
  return {
    input: [2, 5, 5],
    layers: [
      { kind: "leaky_relu", slope: 0.1 },
      { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias },
      { kind: "leaky_relu", slope: 0.1 },
      { kind: "maxpool2d", kernel: 2, stride: 2 },
      { kind: "flatten" },
      { kind: "dense", units: 7, bias },
      { kind: "leaky_relu", slope: 0.01 },
      { kind: "dense", units: 4, bias },
    ],
  };
}

// The CPU reference itself is checked against central finite differences of its own loss.
Deno.test("reference network gradients match finite differences (MLP, CNN, leaky ReLU)", () => {
  const rng = createRng(3);
  const specs = [false, true].flatMap((bias) => [
    mlpSpec(5, [4], 3, bias),
    cnnSpec(bias),
    leakySpec(bias),
  ]);
  for (const spec of specs) {
    const model = modelWithBiases(spec, 1);
    const rows = 3;
    const x = Float32Array.from({ length: rows * sizeOf(spec.input) }, () => rng());
    const labels = [0, 2, 1];
    const g = referenceGradients(model, x, labels, rows);
    const h = 1e-3;
    for (const [name, t] of model.params) {
      for (let i = 0; i < t.data.length; i++) {
        const orig = t.data[i];
        t.data[i] = orig + h;
        const up = referenceGradients(model, x, labels, rows).loss;
        t.data[i] = orig - h;
        const down = referenceGradients(model, x, labels, rows).loss;
        t.data[i] = orig;
        const fd = (up - down) / (2 * h);
        const want = g.grads.get(name)![i];
        // f32 weights limit the difference quotient to ~1e-4 relative.
        assert(
          Math.abs(fd - want) <= 2e-3 + 1e-2 * Math.abs(fd),
          `d${name}[${i}]: fd ${fd} vs ${want}`,
        );
      }
    }
  }
});

Deno.test("leaky_relu specs with a negative, non-finite or missing slope are refused", () => {
  for (const slope of [-0.01, NaN, Infinity, undefined]) {
    const spec = {
      input: [4],
      layers: [{ kind: "leaky_relu", slope }, { kind: "dense", units: 2, bias: false }],
    } as ModelSpec;
    assertThrows(() => activationShapes(spec), UsageError, "leaky_relu: slope must be");
  }
  const ok: ModelSpec = { input: [4], layers: [{ kind: "leaky_relu", slope: 0 }] };
  assertEquals(activationShapes(ok), [[4], [4]]);
});

async function gpuGradients(model: Model, rows: number, seed: number) {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(seed);
  const features = sizeOf(model.spec.input);
  const split = {
    count: rows,
    features,
    pixels: new Uint8Array(rows * features).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(rows).map(() => Math.floor(rng() * outputSize(model.spec))),
  };
  const train = uploadSplit(gpu, split, "grad-test");
  const other = uploadSplit(gpu, {
    ...split,
    pixels: split.pixels.map((p) => 255 - p),
  }, "grad-other");
  // lr = 0: the Adam step leaves the weights as they were, so the gradients read back are
  // exactly those of `model`.
  const net = await GpuNetwork.create(gpu, model, {
    batch: rows,
    evalBatch: rows,
    adam: { lr: 0 },
  });
  await net.bindTrain(train);
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  net.startEpoch(order);
  net.trainSteps(1);
  const got = await net.readGradients();
  // An evaluation between steps (of other data) must leave the training figures alone.
  const evaluatedOther = await net.evaluate(other);
  const metrics = await net.trainMetrics(1);
  const evaluated = await net.evaluate(train);
  net.destroy();
  destroySplit(train);
  destroySplit(other);
  const { x, y } = gatherRef(
    split.pixels,
    Uint32Array.from(split.labels),
    order,
    0,
    rows,
    features,
  );
  return { got, metrics, evaluated, evaluatedOther, ref: referenceGradients(model, x, y, rows) };
}

const SPECS: [string, ModelSpec][] = [
  ["MLP 13-11-7-5, no biases", mlpSpec(13, [11, 7], 5, false)],
  ["MLP 13-11-7-5, biases", mlpSpec(13, [11, 7], 5, true)],
  // A ReLU no layer before it can fuse: exercises the standalone relu kernel.
  ["CNN conv-relu-pool-conv-relu-flatten-dense, no biases", cnnSpec(false)],
  ["CNN conv-relu-pool-conv-relu-flatten-dense, biases", cnnSpec(true)],
  // Batch-major flatten straight after a pool, and a conv as the first layer with odd sizes.
  ["CNN conv(5×5, stride 2) → pool(2) → flatten → dense", {
    input: [1, 11, 9],
    layers: [
      { kind: "conv2d", filters: 2, kernel: 5, stride: 2, padding: 1, bias: true },
      { kind: "maxpool2d", kernel: 2, stride: 2 },
      { kind: "flatten" },
      { kind: "dense", units: 3, bias: true },
    ],
  }],
  ["relu → dense → relu → dense", {
    input: [13],
    layers: [
      { kind: "relu" },
      { kind: "dense", units: 9, bias: true },
      { kind: "relu" },
      { kind: "dense", units: 4, bias: false },
    ],
  }],
  [
    "leaky_relu → conv → leaky_relu → pool → flatten → dense → leaky_relu → dense, no biases",
    leakySpec(false),
  ],
  [
    "leaky_relu → conv → leaky_relu → pool → flatten → dense → leaky_relu → dense, biases",
    leakySpec(true),
  ],
  ["dense → leaky_relu(0.2) → dense → leaky_relu(0) → dense", {
    input: [13],
    layers: [
      { kind: "dense", units: 11, bias: true },
      { kind: "leaky_relu", slope: 0.2 },
      { kind: "dense", units: 7, bias: true },
      { kind: "leaky_relu", slope: 0 },
      { kind: "dense", units: 5, bias: false },
    ],
  }],
];

for (const [name, spec] of SPECS) {
  Deno.test(`GPU backward pass matches the CPU reference: ${name}`, async () => {
    const model = modelWithBiases(spec, 4);
    const { got, metrics, evaluated, evaluatedOther, ref } = await gpuGradients(model, 9, 5);
    assert(Math.abs(evaluatedOther.loss - ref.loss) > 1e-3, "the other split differs");
    assertClose("loss", [metrics.lastLoss], [ref.loss], 1e-5, 1e-4);
    assertClose("mean loss", [metrics.loss], [ref.loss], 1e-5, 1e-4);
    // Evaluation has its own buffers: the same loss, and the training figures untouched.
    assertClose("evaluated loss", [evaluated.loss], [ref.loss], 1e-5, 1e-4);
    for (const [param, want] of ref.grads) {
      // f32 products of O(1) activations summed over ≤ 13 terms: 1e-5 absolute + 1e-3 relative.
      assertClose(`d${param}`, got.get(param)!, want, 1e-5, 1e-3);
    }
  });
}
