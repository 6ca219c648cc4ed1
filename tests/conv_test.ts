// Convolution and pooling kernels against the layers' CPU references (src/model/layers/*.ts), on
// odd shapes: |gpu − ref| ≤ atol + rtol·|ref|. Whole-network gradients of CNNs, and the references
// against finite differences, are in backward_test.ts.
import { prepareFromWeights } from "../src/prune/prepare.ts";
import { assert, assertEquals } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { getGpu } from "../src/gpu/device.ts";
import { createStorage, readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  type ConvShape,
  createCol2im,
  createConv2d,
  createConv2dBackward,
  createIm2col,
} from "../src/kernels/conv2d.ts";
import { createBatchTranspose } from "../src/kernels/elementwise.ts";
import { batchTransposeRef, col2imRef, im2colRef } from "../src/reference/kernels.ts";
import { createMaxPool2d, createMaxPool2dBackward } from "../src/kernels/pool.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { conv2dLayer } from "../src/model/layers/conv2d.ts";
import { maxPool2dLayer } from "../src/model/layers/maxpool2d.ts";
import type { Conv2dSpec, MaxPool2dSpec } from "../src/model/layers/layer.ts";
import { sizeOf } from "../src/model/tensor.ts";
import {
  checkParams,
  initModel,
  type Model,
  type ModelSpec,
  paramInfos,
  referenceLogits,
} from "../src/model/network.ts";
import { decodeSafetensors } from "../src/model/safetensors.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { prunableParams } from "../src/model/masks.ts";
import { type ModelName, modelSpec } from "../src/model/zoo.ts";
import { unitPruning } from "../src/prune/unit.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";

// [rows, channels, height, width, filters, kernel, stride, padding]
const CONV_CASES = [
  [1, 1, 5, 7, 2, 1, 1, 0],
  [7, 3, 9, 8, 5, 3, 1, 1],
  [7, 2, 11, 10, 3, 3, 2, 0],
  [1, 3, 8, 9, 4, 5, 2, 1],
  [7, 1, 28, 28, 6, 5, 1, 0],
  [2, 16, 4, 4, 7, 4, 1, 0],
];

/** The kernel wrappers' shape of one CONV_CASES entry. */
function convShape(
  ...[rows, channels, height, width, filters, kernel, stride, padding]: number[]
): ConvShape {
  return {
    rows,
    channels,
    height,
    width,
    outputs: filters,
    kernel: [kernel, kernel],
    stride,
    padding,
  };
}

Deno.test("conv2d forward, input gradient and weight/bias gradients match the reference", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(31);
  for (const [rows, channels, height, width, filters, kernel, stride, padding] of CONV_CASES) {
    for (const [bias, relu] of [[false, false], [true, true], [true, false]]) {
      const spec: Conv2dSpec = { kind: "conv2d", filters, kernel, stride, padding, bias };
      const input = [channels, height, width];
      const output = conv2dLayer.outputShape(spec, input);
      const shape = convShape(rows, channels, height, width, filters, kernel, stride, padding);
      const x = uniformArray(rng, rows * sizeOf(input)).map((v) => v * 2 - 1);
      const w = uniformArray(rng, filters * channels * kernel * kernel).map((v) => v - 0.5);
      const b = uniformArray(rng, filters).map((v) => v - 0.5);
      const dy = uniformArray(rng, rows * sizeOf(output)).map((v) => v - 0.5);
      const params = bias ? [w, b] : [w];
      let want = conv2dLayer.forwardRef(spec, input, Float64Array.from(x), rows, params);
      if (relu) want = want.map((v) => Math.max(0, v));
      const grads = conv2dLayer.backwardRef(
        spec,
        input,
        Float64Array.from(x),
        want,
        Float64Array.from(dy),
        rows,
        params,
      );
      const bufs = {
        x: uploadStorage(gpu, x, "x"),
        weight: uploadStorage(gpu, w, "w"),
        bias: uploadStorage(gpu, b, "b"),
        y: createStorage(gpu, want.length * 4, "y"),
        dy: uploadStorage(gpu, dy, "dy"),
        dx: uploadStorage(gpu, new Float32Array(x.length).fill(7), "dx"),
        dw: uploadStorage(gpu, new Float32Array(w.length).fill(7), "dw"),
        db: uploadStorage(gpu, new Float32Array(filters).fill(7), "db"),
      };
      const forward = await createConv2d(gpu, shape, {
        x: bufs.x,
        weight: bufs.weight,
        y: bufs.y,
        bias: bias ? bufs.bias : undefined,
      }, relu);
      // With a ReLU the backward op takes the forward op's columns (as training does); without,
      // it builds its own.
      const ops = [
        forward,
        await createConv2dBackward(gpu, shape, {
          x: bufs.x,
          dy: bufs.dy,
          weight: bufs.weight,
          dw: bufs.dw,
          db: bias ? bufs.db : undefined,
          dx: bufs.dx,
          saved: relu ? forward.saved : undefined,
        }),
      ];
      submitOps(gpu, ops);
      const what =
        `conv ${rows}×${channels}×${height}×${width} → ${filters} k${kernel} s${stride} ` +
        `p${padding}${bias ? " bias" : ""}${relu ? " relu, saved columns" : ""}`;
      // f32 sums of up to C·k·k = 256 (forward, dx) or rows·OH·OW = 4032 (dw) products of O(1).
      assertClose(`${what}: y`, await readF32(gpu, bufs.y, want.length), want, 1e-5, 1e-4);
      assertClose(`${what}: dx`, await readF32(gpu, bufs.dx, x.length), grads.dx, 1e-5, 1e-4);
      assertClose(`${what}: dw`, await readF32(gpu, bufs.dw, w.length), grads.grads[0], 1e-4, 1e-4);
      if (bias) {
        assertClose(
          `${what}: db`,
          await readF32(gpu, bufs.db, filters),
          grads.grads[1],
          1e-4,
          1e-4,
        );
      }
      Object.values(bufs).forEach((buf) => buf.destroy());
      ops.forEach((op) => op.destroy());
    }
  }
});

Deno.test("im2col, col2im and the per-sample transpose match their references exactly", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(41);
  for (const [rows, channels, height, width, filters, kernel, stride, padding] of CONV_CASES) {
    const shape = convShape(rows, channels, height, width, filters, kernel, stride, padding);
    const what = `${rows}×${channels}×${height}×${width} k${kernel} s${stride} p${padding}`;
    const x = uniformArray(rng, rows * channels * height * width).map((v) => v - 0.5);
    const col = im2colRef(x, shape);
    const dcol = uniformArray(rng, col.length).map((v) => v - 0.5);
    const bufs = {
      x: uploadStorage(gpu, x, "x"),
      col: uploadStorage(gpu, new Float32Array(col.length).fill(7), "col"),
      dcol: uploadStorage(gpu, dcol, "dcol"),
      dx: uploadStorage(gpu, new Float32Array(x.length).fill(7), "dx"),
    };
    const ops = [
      await createIm2col(gpu, shape, { x: bufs.x, col: bufs.col }),
      await createCol2im(gpu, shape, { dcol: bufs.dcol, dx: bufs.dx }),
    ];
    submitOps(gpu, ops);
    // im2col moves values, so it is exact; col2im sums at most KH·KW terms.
    assertClose(`im2col ${what}`, await readF32(gpu, bufs.col, col.length), col, 0, 0);
    assertClose(
      `col2im ${what}`,
      await readF32(gpu, bufs.dx, x.length),
      col2imRef(dcol, shape),
      1e-6,
      1e-6,
    );
    Object.values(bufs).forEach((buf) => buf.destroy());
    ops.forEach((op) => op.destroy());
  }
  // [batch, a, b]: one element, odd sizes, b over and under the 8 columns an invocation moves.
  for (const [batch, a, b] of [[1, 1, 1], [7, 5, 3], [3, 33, 17], [2, 576, 20], [1, 9, 64]]) {
    const x = uniformArray(rng, batch * a * b);
    const bufs = {
      x: uploadStorage(gpu, x, "x"),
      y: uploadStorage(gpu, new Float32Array(x.length).fill(7), "y"),
    };
    const op = await createBatchTranspose(gpu, batch, a, b, bufs);
    submitOps(gpu, [op]);
    assertClose(
      `batch_transpose [${batch}, ${a}, ${b}]`,
      await readF32(gpu, bufs.y, x.length),
      batchTransposeRef(x, batch, a, b),
      0,
      0,
    );
    Object.values(bufs).forEach((buf) => buf.destroy());
    op.destroy();
  }
});

Deno.test("maxpool2d forward and backward match the reference, ties go to the first maximum", async () => {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(37);
  // [rows, channels, height, width, kernel, stride]; 3/2 windows overlap.
  const cases = [[1, 1, 4, 4, 2, 2], [7, 3, 9, 7, 2, 2], [7, 2, 9, 9, 3, 2], [1, 6, 24, 24, 2, 2], [
    2,
    1,
    5,
    6,
    3,
    1,
  ]];
  for (const [rows, channels, height, width, kernel, stride] of cases) {
    for (const ties of [false, true]) {
      const spec: MaxPool2dSpec = { kind: "maxpool2d", kernel, stride };
      const input = [channels, height, width];
      const output = maxPool2dLayer.outputShape(spec, input);
      // With ties, values are drawn from {0, 1, 2} so most windows hold repeated maxima.
      const x = uniformArray(rng, rows * sizeOf(input)).map((v) => (ties ? Math.floor(v * 3) : v));
      const dy = uniformArray(rng, rows * sizeOf(output)).map((v) => v - 0.5);
      const want = maxPool2dLayer.forwardRef(spec, input, Float64Array.from(x), rows, []);
      const { dx } = maxPool2dLayer.backwardRef(
        spec,
        input,
        Float64Array.from(x),
        want,
        Float64Array.from(dy),
        rows,
        [],
      );
      const shape = { planes: rows * channels, height, width, kernel, stride };
      const bufs = {
        x: uploadStorage(gpu, x, "x"),
        y: createStorage(gpu, want.length * 4, "y"),
        dy: uploadStorage(gpu, dy, "dy"),
        dx: uploadStorage(gpu, new Float32Array(x.length).fill(7), "dx"),
      };
      const ops = [
        await createMaxPool2d(gpu, shape, { x: bufs.x, y: bufs.y }),
        await createMaxPool2dBackward(gpu, shape, { x: bufs.x, dy: bufs.dy, dx: bufs.dx }),
      ];
      submitOps(gpu, ops);
      const what = `maxpool ${rows}×${channels}×${height}×${width} k${kernel} s${stride}${
        ties ? " ties" : ""
      }`;
      // Exact: the forward moves values, the backward adds at most ⌈k/s⌉² of them.
      assertClose(`${what}: y`, await readF32(gpu, bufs.y, want.length), want, 0, 0);
      assertClose(`${what}: dx`, await readF32(gpu, bufs.dx, x.length), dx, 1e-7, 1e-6);
      Object.values(bufs).forEach((buf) => buf.destroy());
      ops.forEach((op) => op.destroy());
    }
  }
});

Deno.test("conv and pool kernels reject shapes that do not fit", async () => {
  const gpu = await getGpu({ quiet: true });
  const buf = createStorage(gpu, 4 * 100, "b");
  const shape: ConvShape = {
    rows: 1,
    channels: 1,
    height: 3,
    width: 3,
    outputs: 1,
    kernel: [5, 5],
    stride: 1,
    padding: 0,
  };
  let error: unknown;
  try {
    await createConv2d(gpu, shape, { x: buf, weight: buf, y: buf });
  } catch (e) {
    error = e;
  }
  assert(error instanceof ShapeError, "a 5×5 kernel on a 3×3 input is a ShapeError");
  error = undefined;
  try {
    await createMaxPool2d(gpu, { planes: 200, height: 2, width: 2, kernel: 2, stride: 2 }, {
      x: buf,
      y: buf,
    });
  } catch (e) {
    error = e;
  }
  assert(error instanceof ShapeError, "x smaller than planes × H × W is a ShapeError");
  assertEquals(String((error as Error).message).includes("maxpool2d"), true, "names the kernel");
  buf.destroy();
});

Deno.test("the paper networks have the papers' parameter counts", () => {
  const counts: [ModelName, number][] = [
    ["lenet-300-100", 266_610],
    ["lenet5", 167_566],
    ["lenet5-caffe", 431_080],
    ["cnn-small", 20_410],
  ];
  for (const [name, want] of counts) {
    const spec = modelSpec(name, { features: 784, classes: 10, hidden: [], bias: false });
    const got = paramInfos(spec).reduce((sum, p) => sum + sizeOf(p.shape), 0);
    assertEquals(got, want, `${name} parameters`);
  }
});

Deno.test("unit pruning of a convolution removes whole filters, smallest L2 norm first", () => {
  const spec = modelSpec("lenet5", { features: 784, classes: 10, hidden: [], bias: false });
  const model = initModel(spec, 3);
  const prunable = prunableParams(spec);
  const { masks } = prepareFromWeights(unitPruning, model, prunable, 0).masks(50);
  for (const name of ["layers.0.weight", "layers.1.weight", "layers.2.weight"]) {
    const { shape, data } = model.params.get(name)!;
    const mask = masks.get(name)!;
    const size = data.length / shape[0];
    const kept: number[] = [];
    const pruned: number[] = [];
    for (let f = 0; f < shape[0]; f++) {
      const block = mask.subarray(f * size, (f + 1) * size);
      assert(
        block.every((m) => m === block[0]),
        `${name} filter ${f} is pruned whole or kept whole`,
      );
      let sq = 0;
      for (let i = f * size; i < (f + 1) * size; i++) sq += data[i] * data[i];
      (block[0] === 1 ? kept : pruned).push(Math.sqrt(sq));
    }
    assertEquals(pruned.length, Math.round(shape[0] / 2), `${name}: half the filters pruned`);
    assert(Math.min(...kept) >= Math.max(...pruned), `${name}: the smallest filters go`);
  }
});

Deno.test("a CNN written by PyTorch loads as it is and gives PyTorch's logits (CPU and GPU)", async () => {
  // tests/fixtures/torch_cnn.safetensors: written by src/reference/pytorch_conv_fixture.py from
  // torch.nn.Conv2d(2, 3, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(3, 4, 3, stride=2) → ReLU
  // → Flatten → Linear(16, 5), with torch's own logits for 3 samples of 2×11×11 pixels.
  const path = new URL("./fixtures/torch_cnn.safetensors", import.meta.url).pathname;
  const { tensors } = decodeSafetensors(await Deno.readFile(path), path);
  const spec: ModelSpec = {
    input: [2, 11, 11],
    layers: [
      { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias: true },
      { kind: "relu" },
      { kind: "maxpool2d", kernel: 2, stride: 2 },
      { kind: "conv2d", filters: 4, kernel: 3, stride: 2, padding: 0, bias: true },
      { kind: "relu" },
      { kind: "flatten" },
      { kind: "dense", units: 5, bias: true },
    ],
  };
  const model: Model = {
    spec,
    params: checkParams(
      spec,
      new Map([...tensors].filter(([name]) => name.startsWith("layers."))),
      path,
    ),
  };
  const pixels = tensors.get("pixels")!.data as Uint8Array;
  const want = tensors.get("logits")!.data as Float32Array;
  const rows = 3;
  const x = Float32Array.from(pixels, (p) => p / 255);
  assertClose("CPU reference vs torch", referenceLogits(model, x, rows), want, 1e-5, 1e-5);
  const gpu = await getGpu({ quiet: true });
  const split = uploadSplit(gpu, {
    count: rows,
    features: 2 * 11 * 11,
    pixels,
    labels: new Uint8Array(rows),
  }, "torch-fixture");
  const net = await GpuNetwork.create(gpu, model, { batch: 1, evalBatch: rows, adam: { lr: 0 } });
  try {
    await net.evaluate(split);
    assertClose("GPU vs torch", await net.lastLogits(rows), want, 1e-5, 1e-4);
  } finally {
    net.destroy();
    destroySplit(split);
  }
});
