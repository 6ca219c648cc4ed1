import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, readU32, uploadStorage, writeStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  createLeakyRelu,
  createLeakyReluBackward,
  createMaskApply,
  createRelu,
  createReluBackward,
  createTranspose,
} from "../src/kernels/elementwise.ts";
import { createAccuracy, createSoftmaxXent } from "../src/kernels/loss.ts";
import { createAdam } from "../src/kernels/adam.ts";
import { createAdvance, createBiasGrad, createGather } from "../src/kernels/batch.ts";
import {
  accuracyRef,
  adamRef,
  biasGradRef,
  gatherRef,
  leakyReluBackwardRef,
  leakyReluRef,
  maskApplyRef,
  reluBackwardRef,
  reluRef,
  softmaxXentRef,
} from "../src/reference/kernels.ts";
import { createRng, permutation, type Rng, uniformArray } from "../src/util/rng.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { assertClose } from "./_close.ts";

const COUNTS = [1, 3, 255, 257, 1000, 70_001];

Deno.test("relu (in place) matches reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(10);
  for (const count of COUNTS) {
    const x = uniformArray(rng, count);
    const buf = uploadStorage(gpu, x, "x");
    const op = await createRelu(gpu, count, { x: buf });
    submitOps(gpu, [op]);
    // Exact: the kernel only selects values.
    assertClose(`relu n=${count}`, await readF32(gpu, buf, count), reluRef(x), 0, 0);
    buf.destroy();
    op.destroy();
  }
});

Deno.test("transpose writes xᵀ with a padded stride and leaves the padding alone", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(13);
  for (const [rows, cols, stride] of [[1, 1, 4], [3, 5, 4], [1000, 784, 1000], [257, 3, 260]]) {
    const x = uniformArray(rng, rows * cols);
    const xBuf = uploadStorage(gpu, x, "x");
    const tBuf = uploadStorage(gpu, new Float32Array(cols * stride).fill(9), "xt");
    const op = await createTranspose(gpu, rows, cols, stride, { x: xBuf, xt: tBuf });
    submitOps(gpu, [op]);
    const want = new Float32Array(cols * stride).fill(9);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) want[c * stride + r] = x[r * cols + c];
    }
    // Exact: the kernel only moves values.
    assertClose(
      `transpose ${rows}x${cols}/${stride}`,
      await readF32(gpu, tBuf, cols * stride),
      want,
      0,
      0,
    );
    xBuf.destroy();
    tBuf.destroy();
    op.destroy();
  }
});

Deno.test("relu_backward matches reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(11);
  for (const count of COUNTS) {
    const dy = uniformArray(rng, count);
    const act = uniformArray(rng, count).map((x) => Math.max(0, x));
    const bufs = {
      dy: uploadStorage(gpu, dy, "dy"),
      act: uploadStorage(gpu, act, "act"),
      dx: uploadStorage(gpu, new Float32Array(count).fill(9), "dx"),
    };
    const op = await createReluBackward(gpu, count, bufs);
    submitOps(gpu, [op]);
    // Exact: the kernel only selects values.
    assertClose(
      `relu_backward n=${count}`,
      await readF32(gpu, bufs.dx, count),
      reluBackwardRef(dy, act),
      0,
      0,
    );
    Object.values(bufs).forEach((b) => b.destroy());
    op.destroy();
  }
});

/** Negative slopes the leaky ReLU tests cover: 0 (a ReLU), PyTorch's default, f32-inexact, > 1. */
const SLOPES = [0, 0.01, 0.3, 1.5];

/** `count` values in [−1, 1), every seventh exactly 0 (the kink: there dx = slope·dy). */
function withZeros(rng: Rng, count: number): Float32Array {
  return uniformArray(rng, count).map((v, i) => (i % 7 === 3 ? 0 : v));
}

// WGSL rounds an f32 product correctly and the references multiply the f32-rounded slope in f64,
// exact before their one rounding, so both kernels match to the bit except where a driver flushes
// a subnormal product to zero: atol = 2⁻¹²⁶ (the least normal f32), rtol = 0.
const LEAKY_ATOL = 2 ** -126;

Deno.test("leaky_relu (in place) matches reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(14);
  for (const slope of SLOPES) {
    for (const count of COUNTS) {
      const x = withZeros(rng, count);
      const buf = uploadStorage(gpu, x, "x");
      const op = await createLeakyRelu(gpu, count, slope, { x: buf });
      submitOps(gpu, [op]);
      assertClose(
        `leaky_relu slope=${slope} n=${count}`,
        await readF32(gpu, buf, count),
        leakyReluRef(x, slope),
        LEAKY_ATOL,
        0,
      );
      buf.destroy();
      op.destroy();
    }
  }
});

Deno.test("leaky_relu_backward matches reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(15);
  for (const slope of SLOPES) {
    for (const count of COUNTS) {
      const dy = uniformArray(rng, count);
      const act = leakyReluRef(withZeros(rng, count), slope);
      const bufs = {
        dy: uploadStorage(gpu, dy, "dy"),
        act: uploadStorage(gpu, act, "act"),
        dx: uploadStorage(gpu, new Float32Array(count).fill(9), "dx"),
      };
      const op = await createLeakyReluBackward(gpu, count, slope, bufs);
      submitOps(gpu, [op]);
      assertClose(
        `leaky_relu_backward slope=${slope} n=${count}`,
        await readF32(gpu, bufs.dx, count),
        leakyReluBackwardRef(dy, act, slope),
        LEAKY_ATOL,
        0,
      );
      Object.values(bufs).forEach((b) => b.destroy());
      op.destroy();
    }
  }
});

Deno.test("leaky_relu kernels refuse a negative or non-finite slope and a short buffer", async () => {
  const gpu = await getGpu({ quiet: true });
  const buf = uploadStorage(gpu, new Float32Array(4), "x");
  try {
    for (const slope of [-0.01, NaN, Infinity]) {
      await assertRejects(() => createLeakyRelu(gpu, 4, slope, { x: buf }), RangeError, "slope");
      await assertRejects(
        () => createLeakyReluBackward(gpu, 4, slope, { dy: buf, act: buf, dx: buf }),
        RangeError,
        "slope",
      );
    }
    await assertRejects(() => createLeakyRelu(gpu, 5, 0.01, { x: buf }), ShapeError, "[5]");
  } finally {
    buf.destroy();
  }
});

Deno.test("mask_apply zeroes exactly the masked entries", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(12);
  for (const count of COUNTS) {
    const w = uniformArray(rng, count);
    const mask = new Float32Array(count).map(() => (rng() < 0.5 ? 0 : 1));
    const wBuf = uploadStorage(gpu, w, "w");
    const mBuf = uploadStorage(gpu, mask, "mask");
    const op = await createMaskApply(gpu, count, { w: wBuf, mask: mBuf });
    submitOps(gpu, [op]);
    assertClose(
      `mask_apply n=${count}`,
      await readF32(gpu, wBuf, count),
      maskApplyRef(w, mask),
      0,
      0,
    );
    wBuf.destroy();
    mBuf.destroy();
    op.destroy();
  }
});

Deno.test("softmax_xent: loss and gradient match reference, stable at ±1e4", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(13);
  for (const [rows, classes, scale] of [[1, 10, 1], [3, 7, 5], [128, 10, 3], [1000, 10, 1e4]]) {
    const logits = uniformArray(rng, rows * classes, -scale, scale);
    const labels = new Uint32Array(rows).map(() => Math.floor(rng() * classes));
    const bufs = {
      logits: uploadStorage(gpu, logits, "logits"),
      labels: uploadStorage(gpu, labels, "labels"),
      grad: uploadStorage(gpu, new Float32Array(rows * classes), "grad"),
      stats: uploadStorage(gpu, new Float32Array([0, 1.5]), "stats"),
    };
    const op = await createSoftmaxXent(gpu, rows, classes, bufs);
    submitOps(gpu, [op]);
    const ref = softmaxXentRef(logits, labels, rows, classes);
    const stats = await readF32(gpu, bufs.stats, 2);
    const grad = await readF32(gpu, bufs.grad, rows * classes);
    assert(grad.every(Number.isFinite) && stats.every(Number.isFinite), "non-finite output");
    assertClose(`softmax_xent loss ${rows}x${classes}`, [stats[0]], [ref.loss], 1e-5, 1e-5);
    assertClose(`softmax_xent sum ${rows}x${classes}`, [stats[1]], [ref.sum + 1.5], 1e-4, 1e-5);
    assertClose(`softmax_xent grad ${rows}x${classes}`, grad, ref.grad, 1e-6, 1e-4);
    Object.values(bufs).forEach((b) => b.destroy());
    op.destroy();
  }
});

Deno.test("accuracy counts argmax hits and accumulates", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(14);
  for (const [rows, classes] of [[1, 10], [65, 3], [1000, 10]]) {
    const logits = uniformArray(rng, rows * classes);
    const labels = new Uint32Array(rows).map(() => Math.floor(rng() * classes));
    const bufs = {
      logits: uploadStorage(gpu, logits, "logits"),
      labels: uploadStorage(gpu, labels, "labels"),
      correct: uploadStorage(gpu, new Uint32Array([5]), "correct"),
    };
    const op = await createAccuracy(gpu, rows, classes, bufs);
    submitOps(gpu, [op, op]);
    const got = (await readU32(gpu, bufs.correct, 1))[0];
    assertEquals(
      got,
      5 + 2 * accuracyRef(logits, labels, rows, classes),
      `accuracy ${rows}x${classes}`,
    );
    Object.values(bufs).forEach((b) => b.destroy());
    op.destroy();
  }
});

Deno.test("bias_grad matches reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(15);
  for (const [rows, cols] of [[1, 1], [128, 10], [33, 200]]) {
    const dz = uniformArray(rng, rows * cols);
    const bufs = {
      dz: uploadStorage(gpu, dz, "dz"),
      db: uploadStorage(gpu, new Float32Array(cols), "db"),
    };
    const op = await createBiasGrad(gpu, rows, cols, bufs);
    submitOps(gpu, [op]);
    assertClose(
      `bias_grad ${rows}x${cols}`,
      await readF32(gpu, bufs.db, cols),
      biasGradRef(dz, rows, cols),
      1e-5,
      1e-5,
    );
    Object.values(bufs).forEach((b) => b.destroy());
    op.destroy();
  }
});

Deno.test("masked Adam: 25 steps match reference; pruned weights and moments stay 0", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(16);
  for (const count of [1, 257, 10_000]) {
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, l1: 1e-4, l2: 1e-3 };
    const w0 = uniformArray(rng, count);
    const mask = new Float32Array(count).map(() => (rng() < 0.3 ? 0 : 1));
    const ref = { w: w0.slice(), m: new Float32Array(count), v: new Float32Array(count) };
    const bufs = {
      w: uploadStorage(gpu, w0, "w"),
      grad: uploadStorage(gpu, new Float32Array(count), "grad"),
      m: uploadStorage(gpu, new Float32Array(count), "m"),
      v: uploadStorage(gpu, new Float32Array(count), "v"),
      mask: uploadStorage(gpu, mask, "mask"),
      state: uploadStorage(gpu, new Uint32Array(2), "state"),
    };
    const op = await createAdam(gpu, count, cfg, bufs);
    const advance = await createAdvance(gpu, bufs.state);
    const steps = 25;
    for (let t = 1; t <= steps; t++) {
      const grad = uniformArray(rng, count);
      writeStorage(gpu, bufs.grad, grad);
      submitOps(gpu, [op, advance]);
      adamRef(ref, grad, mask, t, cfg);
    }
    const [w, m, v] = await Promise.all([
      readF32(gpu, bufs.w, count),
      readF32(gpu, bufs.m, count),
      readF32(gpu, bufs.v, count),
    ]);
    // w is O(1) and each step moves it by up to lr; f32 rounding of m̂/√v̂ (computed with f32
    // pow) gives ~1e-4 relative error on each step of ≤ 0.01: 25 steps drift by ≤ 2.5e-5.
    assertClose(`adam w n=${count}`, w, ref.w, 5e-5, 1e-4);
    // A weight near 0 can cross zero a step apart on GPU and CPU, flipping its L1 term
    // (l1·sign(w)) and moving m by up to (1 − β1)·2·l1 = 2e-5.
    assertClose(`adam m n=${count}`, m, ref.m, 3e-5, 1e-4);
    assertClose(`adam v n=${count}`, v, ref.v, 1e-7, 1e-4);
    for (let i = 0; i < count; i++) {
      if (mask[i] === 0) {
        assert(Object.is(w[i], 0) && m[i] === 0 && v[i] === 0, `pruned entry ${i} moved`);
      }
    }
    assertEquals([...(await readU32(gpu, bufs.state, 2))], [steps, steps], "step counters");
    Object.values(bufs).forEach((b) => b.destroy());
    op.destroy();
    advance.destroy();
  }
});

Deno.test("gather_batch unpacks u8 pixels of the cursor's batch, row-major and transposed", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(17);
  // 13 features straddle pixel words; 16 take the aligned one-word path. 70 rows span two
  // workgroups of rows.
  for (const [features, rows] of [[13, 5], [16, 7], [13, 70], [784, 3]]) {
    const samples = 3 * rows + 2;
    const pixels = new Uint8Array(samples * features + 3).map(() => Math.floor(rng() * 256));
    const labels = new Uint32Array(samples).map(() => Math.floor(rng() * 10));
    const order = permutation(rng, samples);
    const ref = gatherRef(pixels, labels, order, 2, rows, features);
    for (const transposed of [false, true]) {
      const stride = rows + 3;
      const size = transposed ? features * stride : rows * features;
      const bufs = {
        pixels: uploadStorage(gpu, pixels, "pixels"),
        labelsAll: uploadStorage(gpu, labels, "labels"),
        order: uploadStorage(gpu, order, "order"),
        state: uploadStorage(gpu, new Uint32Array([0, 2]), "state"),
        x: uploadStorage(gpu, new Float32Array(size).fill(9), "x"),
        y: uploadStorage(gpu, new Uint32Array(rows), "y"),
      };
      const op = await createGather(gpu, rows, features, bufs, 0, transposed ? stride : undefined);
      submitOps(gpu, [op]);
      // The padding of the transposed layout keeps its 9s.
      const want = transposed ? new Float32Array(size).fill(9) : ref.x;
      if (transposed) {
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < features; j++) want[j * stride + r] = ref.x[r * features + j];
        }
      }
      const what = `gather ${rows}x${features}${transposed ? " transposed" : ""}`;
      assertClose(`${what} x`, await readF32(gpu, bufs.x, size), want, 1e-7, 0);
      assertEquals([...(await readU32(gpu, bufs.y, rows))], [...ref.y], `${what} y`);
      Object.values(bufs).forEach((b) => b.destroy());
      op.destroy();
    }
  }
});
