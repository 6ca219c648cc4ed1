import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import { createCentroidGrad, createCodebookDecode } from "../src/kernels/weight_sharing.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { kmeans1d } from "../src/quant/kmeans.ts";
import {
  clusterOrder,
  codebooksOf,
  decodeShared,
  parseQuantizeBits,
  shareWeights,
} from "../src/quant/weight_sharing.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { UsageError } from "../src/util/errors.ts";
import { centroidGradRef, codebookDecodeRef } from "../src/reference/weight_sharing.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

Deno.test("kmeans1d: linear initialisation over [min, max], Lloyd to a stable assignment", () => {
  // Two tight groups: init [-1, 0.6] already separates them; centroids become the group means.
  const { centroids, assignment } = kmeans1d(Float32Array.of(-1, -0.9, 0.5, 0.6), 2);
  assertClose("centroids", centroids, [-0.95, 0.55], 1e-7, 0);
  assertEquals([...assignment], [0, 0, 1, 1]);
  // Three clusters over 0..10: init 0, 5, 10; values 0,1,2 | 5 | 9,10 → means 1, 5, 9.5.
  const three = kmeans1d(Float32Array.of(0, 1, 2, 5, 9, 10), 3);
  assertEquals([...three.centroids], [1, 5, 9.5]);
  assertEquals([...three.assignment], [0, 0, 0, 1, 2, 2]);
  // More clusters than distinct values: the empty ones keep their place, order is kept.
  const many = kmeans1d(Float32Array.of(1, 1, 3), 4);
  assertEquals([...many.assignment], [0, 0, 3]);
  for (let j = 1; j < 4; j++) {
    if (!(many.centroids[j] >= many.centroids[j - 1])) throw new Error("centroids not sorted");
  }
  // Ties at a midpoint go to the lower cluster; a constant input is one value.
  assertEquals([...kmeans1d(Float32Array.of(0, 1, 2), 2).assignment], [0, 0, 1]);
  assertEquals([...kmeans1d(Float32Array.of(3, 3), 1).centroids], [3]);
  assertEquals(kmeans1d(new Float32Array(0), 4).assignment.length, 0);
});

Deno.test("kmeans1d: each weight ends at its nearest centroid, each centroid at its cluster's mean", () => {
  const values = uniformArray(createRng(5), 5000).map((v) => v * v * v);
  const { centroids, assignment } = kmeans1d(values, 32);
  const sums = new Float64Array(32);
  const counts = new Float64Array(32);
  values.forEach((v, i) => {
    const a = assignment[i];
    sums[a] += v;
    counts[a]++;
    for (let j = 0; j < 32; j++) {
      if (Math.abs(v - centroids[j]) < Math.abs(v - centroids[a]) - 1e-6) {
        throw new Error(`value ${i} = ${v} is nearer centroid ${j} than its own ${a}`);
      }
    }
  });
  for (let j = 0; j < 32; j++) {
    if (counts[j] > 0) {
      assertClose(`centroid ${j}`, [centroids[j]], [sums[j] / counts[j]], 1e-6, 1e-6);
    }
  }
});

Deno.test("--quantize-bits: B for every layer or C,F for convolutions and dense layers", () => {
  assertEquals(parseQuantizeBits("5"), { conv: 5, dense: 5 });
  assertEquals(parseQuantizeBits("8,5"), { conv: 8, dense: 5 });
  for (const bad of ["0", "9", "4.5", "8,5,3", "", "x", "8,"]) {
    assertThrows(() => parseQuantizeBits(bad), UsageError, "--quantize-bits must be");
  }
});

Deno.test("shareWeights: pruned weights get no cluster, decode gives 2^B values, codebooks read back", () => {
  const model = initModel(mlpSpec(12, [9], 3, true), 3);
  const w0 = model.params.get("layers.0.weight")!.data;
  const mask = Float32Array.from(w0, (_, i) => (i % 3 === 0 ? 0 : 1));
  w0.forEach((_, i) => (w0[i] *= mask[i]));
  const shared = shareWeights(model, new Map([["layers.0.weight", mask]]), { conv: 8, dense: 2 });
  assertEquals([...shared.keys()], ["layers.0.weight", "layers.1.weight"]);
  const s0 = shared.get("layers.0.weight")!;
  assertEquals(s0.codebook.length, 4);
  s0.clusters.forEach((c, i) => assertEquals(c < 0, mask[i] === 0, `weight ${i}`));
  const decoded = decodeShared(model, shared);
  const d0 = decoded.params.get("layers.0.weight")!.data;
  d0.forEach((v, i) => {
    if (mask[i] === 0) assertEquals(v, 0);
    else assertEquals(v, s0.codebook[s0.clusters[i]]);
  });
  // Biases are not shared; the output layer (no mask) has every weight clustered.
  assertEquals(decoded.params.get("layers.0.bias")!.data, model.params.get("layers.0.bias")!.data);
  assertEquals(shared.get("layers.1.weight")!.clusters.every((c) => c >= 0), true);
  const moved = decodeShared(
    decoded,
    new Map([["layers.0.weight", {
      ...s0,
      codebook: s0.codebook.map((v) => v + 1),
    }]]),
  );
  assertEquals([...codebooksOf(moved, shared).get("layers.0.weight")!.codebook], [
    ...s0.codebook.map((v) => v + 1),
  ]);
  const { order, offsets } = clusterOrder(s0);
  assertEquals(offsets[4], mask.filter((m) => m !== 0).length);
  for (let c = 0; c < 4; c++) {
    for (let j = offsets[c]; j < offsets[c + 1]; j++) assertEquals(s0.clusters[order[j]], c);
  }
});

// f32 sums of up to ~1000 values in [-1, 1] in another order than the f64 reference.
const ATOL = 1e-4;
const RTOL = 1e-5;

Deno.test("centroid_grad and codebook_decode match their references over odd sizes", async () => {
  const gpu = await getGpu({ quiet: true });
  let seed = 70;
  // [weights, clusters, share pruned]: one weight, empty clusters, 8 bits, every weight pruned.
  const cases: [number, number, number][] = [
    [1, 1, 0],
    [7, 4, 0.3],
    [333, 32, 0.5],
    [1000, 256, 0.1],
    [40001, 32, 0.9],
    [50, 8, 1],
  ];
  for (const [count, clusters, pruned] of cases) {
    const rng = createRng(seed++);
    const grad = uniformArray(rng, count);
    const assign = Int32Array.from(
      { length: count },
      () => (rng() < pruned ? -1 : Math.floor(rng() * clusters)),
    );
    const codebook = uniformArray(rng, clusters);
    const { order, offsets } = clusterOrder({ bits: 0, codebook, clusters: assign });
    const buffers = {
      grad: uploadStorage(gpu, grad, "grad"),
      order: uploadStorage(gpu, order.length ? order : new Uint32Array(1), "order"),
      offsets: uploadStorage(gpu, offsets, "offsets"),
      cgrad: uploadStorage(gpu, new Float32Array(clusters).fill(7), "cgrad"),
      clusters: uploadStorage(gpu, assign, "clusters"),
      codebook: uploadStorage(gpu, codebook, "codebook"),
      w: uploadStorage(gpu, new Float32Array(count).fill(7), "w"),
    };
    const ops = [
      await createCentroidGrad(gpu, { count, clusters, members: order.length }, buffers),
      await createCodebookDecode(gpu, { count, clusters }, buffers),
    ];
    submitOps(gpu, ops);
    const label = `${count} weights, ${clusters} clusters`;
    assertClose(
      `${label}: centroid grad`,
      await readF32(gpu, buffers.cgrad, clusters),
      centroidGradRef(grad, assign, clusters),
      ATOL,
      RTOL,
    );
    // A decode copies values: exact.
    assertEquals(
      [...await readF32(gpu, buffers.w, count)],
      [...codebookDecodeRef(assign, codebook)],
      label,
    );
    ops.forEach((op) => op.destroy());
    Object.values(buffers).forEach((b) => b.destroy());
  }
});

Deno.test("centroid_grad refuses buffers that do not fit", async () => {
  const gpu = await getGpu({ quiet: true });
  const small = uploadStorage(gpu, new Float32Array(4), "small");
  assertThrows(
    () =>
      createCentroidGrad(gpu, { count: 8, clusters: 2, members: 8 }, {
        grad: small,
        order: small,
        offsets: small,
        cgrad: small,
      }),
    ShapeError,
    "centroid_grad: grad expected [8]",
  );
  small.destroy();
});

Deno.test("a weight-shared training step: Adam moves each centroid by its cluster's summed gradient", async () => {
  const gpu = await getGpu({ quiet: true });
  const model = initModel(mlpSpec(20, [12], 5, true), 11);
  const rows = 16;
  const rng = createRng(12);
  const split = uploadSplit(gpu, {
    count: rows,
    features: 20,
    pixels: new Uint8Array(rows * 20).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(rows).map(() => Math.floor(rng() * 5)),
  }, "shared-step");
  const w0 = model.params.get("layers.0.weight")!.data;
  const mask = Float32Array.from(w0, (_, i) => (i % 4 === 0 ? 0 : 1));
  w0.forEach((_, i) => (w0[i] *= mask[i]));
  const masks = new Map([["layers.0.weight", mask]]);
  const shared = shareWeights(model, masks, { conv: 8, dense: 3 });
  const start = decodeShared(model, shared);
  const lr = 0.01;
  const net = await GpuNetwork.create(gpu, start, {
    batch: rows,
    evalBatch: rows,
    adam: { lr },
    shared,
  });
  try {
    net.setMasks(masks);
    await net.bindTrain(split);
    net.startEpoch(Uint32Array.from({ length: rows }, (_, i) => i));
    net.trainSteps(1);
    const grads = await net.readGradients();
    const after = await net.getModel();
    for (const [name, s] of shared) {
      const w = after.params.get(name)!.data;
      const cgrad = centroidGradRef(grads.get(name)!, s.clusters, s.codebook.length);
      w.forEach((v, i) => {
        const c = s.clusters[i];
        if (c < 0) return assertEquals(v, 0, `${name}[${i}] pruned`);
        // Adam's first step moves a parameter by lr·sign(g) (|m̂/√v̂| = 1), 0 for a zero gradient.
        const expected = s.codebook[c] - (cgrad[c] === 0 ? 0 : lr * Math.sign(cgrad[c]));
        assertClose(`${name}[${i}]`, [v], [expected], 1e-6, 1e-5);
      });
    }
    // Biases train as usual.
    const b = after.params.get("layers.0.bias")!.data;
    assert(b.some((v) => v !== 0), "biases moved");
  } finally {
    net.destroy();
    destroySplit(split);
  }
});
