/**
 * 2-D convolution on the GPU as im2col + the dense matrix product (Chellapilla et al. 2006):
 * shaders/im2col.wgsl lays each output position's receptive field out as a row, one matmul with
 * the bias/ReLU epilogue does the arithmetic, and shaders/batch_transpose.wgsl brings the result to
 * NCHW. The backward pass reuses the same pieces plus shaders/col2im.wgsl. Activations are NCHW,
 * weights PyTorch's `[out, in, kh, kw]`. shaders/README.md compares it with a direct kernel
 * (as fast on single-channel first layers, 4–40× faster on the rest and on every gradient).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { composeOps, createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { createStorage } from "../gpu/buffers.ts";
import { createBiasGrad } from "./batch.ts";
import { createBatchTranspose } from "./elementwise.ts";
import { createMatmul } from "./matmul.ts";
import { createQuantizedMatmul, type PtqFormat } from "./matmul_quantized.ts";
import { checkBuffer, checkDim, ShapeError } from "./shapes.ts";

/** Geometry of one convolution. */
export interface ConvShape {
  /** Samples. */
  rows: number;
  /** Input channels. */
  channels: number;
  /** Input height. */
  height: number;
  /** Input width. */
  width: number;
  /** Output channels (filters). */
  outputs: number;
  /** Kernel height and width. */
  kernel: [number, number];
  /** Stride (both directions). */
  stride: number;
  /** Zero padding (both directions). */
  padding: number;
}

/** Output height and width of a convolution (or pooling) over `size` with these settings. */
export function convOutputSize(size: number, kernel: number, stride: number, padding: number) {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

const PARAMS: KernelSpec["params"] = [
  ["channels", "u32"],
  ["height", "u32"],
  ["width", "u32"],
  ["outputs", "u32"],
  ["out_height", "u32"],
  ["out_width", "u32"],
  ["kernel_h", "u32"],
  ["kernel_w", "u32"],
  ["stride", "u32"],
  ["padding", "u32"],
];

/** Bindings of shaders/im2col.wgsl. */
export const IM2COL_SPEC: KernelSpec = {
  file: "im2col.wgsl",
  workgroupSize: 8,
  params: PARAMS,
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "col", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/col2im.wgsl. */
export const COL2IM_SPEC: KernelSpec = {
  file: "col2im.wgsl",
  workgroupSize: 8,
  params: PARAMS,
  bindings: [
    { name: "dcol", type: "array<f32>", access: "read" },
    { name: "dx", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * Checks a shape; returns the uniform parameters and, for the buffer checks, the element count
 * and shape text of x, y (dy), the weight and the columns.
 */
function checkConv(name: string, s: ConvShape) {
  const [kh, kw] = s.kernel;
  const dims = { rows: s.rows, channels: s.channels, height: s.height, width: s.width };
  for (
    const [what, v] of Object.entries({ ...dims, outputs: s.outputs, kh, kw, stride: s.stride })
  ) {
    checkDim(name, what, v);
  }
  if (!Number.isInteger(s.padding) || s.padding < 0) {
    throw new ShapeError(`${name}: padding must be a non-negative integer, got ${s.padding}`);
  }
  const outHeight = convOutputSize(s.height, kh, s.stride, s.padding);
  const outWidth = convOutputSize(s.width, kw, s.stride, s.padding);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${name}: a ${kh}×${kw} kernel does not fit a ${s.height}×${s.width} input with padding ` +
        `${s.padding}`,
    );
  }
  if (s.rows > MAX_GRID || s.height > MAX_GRID) {
    throw new ShapeError(`${name}: at most ${MAX_GRID} samples and rows of pixels per dispatch`);
  }
  const { rows, channels: c, height: h, width: w, outputs: o } = s;
  const sizes = {
    x: [rows * c * h * w, `[${rows}, ${c}, ${h}, ${w}]`],
    y: [rows * o * outHeight * outWidth, `[${rows}, ${o}, ${outHeight}, ${outWidth}]`],
    weight: [o * c * kh * kw, `[${o}, ${c}, ${kh}, ${kw}]`],
    col: [
      rows * outHeight * outWidth * c * kh * kw,
      `[${rows * outHeight * outWidth}, ${c * kh * kw}]`,
    ],
  } as const;
  const params = {
    channels: c,
    height: h,
    width: w,
    outputs: o,
    out_height: outHeight,
    out_width: outWidth,
    kernel_h: kh,
    kernel_w: kw,
    stride: s.stride,
    padding: s.padding,
  };
  return { outHeight, outWidth, sizes, params };
}

/** Positions of the output per sample and taps per filter: the product's rows per sample and k. */
function productDims(shape: ConvShape, outHeight: number, outWidth: number) {
  const positions = outHeight * outWidth;
  return { positions, taps: shape.channels * shape.kernel[0] * shape.kernel[1] };
}

/** A scratch buffer for the columns, checked against the adapter's largest storage binding. */
function columnBuffer(gpu: GpuContext, name: string, elements: number, shape: string): GPUBuffer {
  const bytes = elements * 4;
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  if (bytes > limit) {
    throw new ShapeError(
      `${name}: the columns ${shape} need ${bytes} bytes, over this adapter's ${limit}-byte ` +
        `storage binding; use fewer samples per batch`,
    );
  }
  return createStorage(gpu, bytes, `${name}.col`);
}

/**
 * `col = im2col(x)`: x [rows, C, H, W] into col [rows·OH·OW, C·KH·KW] (see shaders/im2col.wgsl).
 *
 * @example
 * ```ts
 * const op = await createIm2col(gpu, shape, { x, col });
 * ```
 */
export function createIm2col(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { x: GPUBuffer; col: GPUBuffer },
): Promise<Op> {
  const name = "im2col";
  const { outHeight, outWidth, sizes, params } = checkConv(name, shape);
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "col", buffers.col, ...sizes.col);
  const wg = IM2COL_SPEC.workgroupSize!;
  return createOp(gpu, IM2COL_SPEC, {}, buffers, params, [
    Math.ceil(outWidth / wg),
    outHeight,
    shape.rows,
  ]);
}

/**
 * `dx = col2im(dcol)`, the adjoint of im2col: dcol [rows·OH·OW, C·KH·KW] into dx [rows, C, H, W],
 * overwritten (see shaders/col2im.wgsl).
 *
 * @example
 * ```ts
 * const op = await createCol2im(gpu, shape, { dcol, dx });
 * ```
 */
export function createCol2im(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { dcol: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "col2im";
  const { sizes, params } = checkConv(name, shape);
  checkBuffer(name, "dcol", buffers.dcol, ...sizes.col);
  checkBuffer(name, "dx", buffers.dx, ...sizes.x);
  const wg = COL2IM_SPEC.workgroupSize!;
  return createOp(gpu, COL2IM_SPEC, { STRIDE: shape.stride }, buffers, params, [
    Math.ceil(shape.width / wg),
    shape.height,
    shape.rows,
  ]);
}

/**
 * What a conv2d forward op leaves behind for the backward pass of the same step: the columns of
 * x ([rows·OH·OW, C·KH·KW]) and the position-major product buffer ([rows·OH·OW, O]).
 */
export interface ConvSaved {
  /** im2col of the forward pass's x. */
  col: GPUBuffer;
  /** Scratch of the output's size, free once the forward pass has transposed it to NCHW. */
  product: GPUBuffer;
}

/**
 * `y = conv2d(x, w) (+ bias, ReLU)`: x [rows, C, H, W], w [O, C, KH, KW], y [rows, O, OH, OW].
 * Three dispatches: im2col, one matrix product `Y[rows·OH·OW, O] = col · Wᵀ` with the bias/ReLU
 * epilogue, and a per-sample transpose of Y to NCHW. The op owns its two scratch buffers and
 * exposes them as `saved`, for a backward op that runs after it in the same step.
 *
 * @example
 * ```ts
 * const op = await createConv2d(gpu, { rows: 128, channels: 1, height: 28, width: 28, outputs: 6,
 *   kernel: [5, 5], stride: 1, padding: 0 }, { x, weight, y }, true);
 * ```
 */
export async function createConv2d(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { x: GPUBuffer; weight: GPUBuffer; y: GPUBuffer; bias?: GPUBuffer },
  relu = false,
  quantized?: { format: PtqFormat; q: GPUBuffer; scale?: GPUBuffer },
): Promise<Op & { saved: ConvSaved }> {
  const name = "conv2d";
  const { outHeight, outWidth, sizes } = checkConv(name, shape);
  const { rows, outputs: o } = shape;
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "weight", buffers.weight, ...sizes.weight);
  checkBuffer(name, "y", buffers.y, ...sizes.y);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, o, `[${o}]`);
  const { positions, taps } = productDims(shape, outHeight, outWidth);
  const col = columnBuffer(gpu, name, ...sizes.col);
  const product = createStorage(gpu, sizes.y[0] * 4, `${name}.product`);
  const ops = [
    await createIm2col(gpu, shape, { x: buffers.x, col }),
    // Y[rows·OH·OW, O] = col[rows·OH·OW, C·KH·KW] · W[O, C·KH·KW]ᵀ (+ bias, ReLU); with a
    // post-training-quantised weight, W is read packed (src/kernels/matmul_quantized.ts).
    quantized
      ? await createQuantizedMatmul(
        gpu,
        { m: rows * positions, n: o, k: taps, format: quantized.format, relu },
        { a: col, q: quantized.q, scale: quantized.scale, c: product, bias: buffers.bias },
      )
      : await createMatmul(gpu, { m: rows * positions, n: o, k: taps, transB: true, relu }, {
        a: col,
        b: buffers.weight,
        c: product,
        bias: buffers.bias,
      }),
    await createBatchTranspose(gpu, rows, positions, o, { x: product, y: buffers.y }),
  ];
  return { ...composeOps(name, ops, [col, product]), saved: { col, product } };
}

/**
 * The backward pass of conv2d from dy [rows, O, OH, OW]: `∂L/∂w` [O, C, KH, KW] and `∂L/∂b` [O]
 * (when `db` is given) and, when `dx` is given, `∂L/∂x` [rows, C, H, W], all overwritten.
 * Dispatches: dy to position-major `dY[rows·OH·OW, O]`; im2col of x; `dW = dYᵀ · col`; `db` as
 * column sums of dY; `dcol = dY · W` into the same scratch; col2im. With `saved` (the forward
 * op's buffers, its pass run earlier in the same step on the same x) the columns are taken from
 * there instead of built again, and both buffers serve as scratch; otherwise the op owns its own.
 *
 * @example
 * ```ts
 * const op = await createConv2dBackward(gpu, shape, { x, dy, weight, dw, db, dx });
 * ```
 */
export async function createConv2dBackward(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: {
    x: GPUBuffer;
    dy: GPUBuffer;
    weight: GPUBuffer;
    dw: GPUBuffer;
    db?: GPUBuffer;
    dx?: GPUBuffer;
    saved?: ConvSaved;
  },
): Promise<Op> {
  const name = "conv2d_backward";
  const { outHeight, outWidth, sizes } = checkConv(name, shape);
  const { rows, outputs: o } = shape;
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "dy", buffers.dy, ...sizes.y);
  checkBuffer(name, "weight", buffers.weight, ...sizes.weight);
  checkBuffer(name, "dw", buffers.dw, ...sizes.weight);
  if (buffers.db) checkBuffer(name, "db", buffers.db, o, `[${o}]`);
  if (buffers.dx) checkBuffer(name, "dx", buffers.dx, ...sizes.x);
  const { positions, taps } = productDims(shape, outHeight, outWidth);
  const m = rows * positions;
  const { saved } = buffers;
  if (saved) {
    checkBuffer(name, "saved.col", saved.col, ...sizes.col);
    checkBuffer(name, "saved.product", saved.product, ...sizes.y);
  }
  const col = saved?.col ?? columnBuffer(gpu, name, ...sizes.col);
  const dyRows = saved?.product ?? createStorage(gpu, sizes.y[0] * 4, `${name}.dy`);
  const ops = [await createBatchTranspose(gpu, rows, o, positions, { x: buffers.dy, y: dyRows })];
  if (!saved) ops.push(await createIm2col(gpu, shape, { x: buffers.x, col }));
  ops.push(
    // dW[O, C·KH·KW] = dY[rows·OH·OW, O]ᵀ · col[rows·OH·OW, C·KH·KW]
    await createMatmul(gpu, { m: o, n: taps, k: m, transA: true }, {
      a: dyRows,
      b: col,
      c: buffers.dw,
    }),
  );
  if (buffers.db) ops.push(await createBiasGrad(gpu, m, o, { dz: dyRows, db: buffers.db }));
  if (buffers.dx) {
    ops.push(
      // dcol[rows·OH·OW, C·KH·KW] = dY[rows·OH·OW, O] · W[O, C·KH·KW], over the columns
      await createMatmul(gpu, { m, n: taps, k: o }, { a: dyRows, b: buffers.weight, c: col }),
      await createCol2im(gpu, shape, { dcol: col, dx: buffers.dx }),
    );
  }
  return composeOps(name, ops, saved ? [] : [col, dyRows]);
}
