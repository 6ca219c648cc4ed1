/**
 * 2-D convolution on the GPU: the forward pass with bias / ReLU epilogue (shaders/conv2d.wgsl),
 * the input gradient (shaders/conv2d_input_grad.wgsl) and the weight and bias gradients
 * (shaders/conv2d_weight_grad.wgsl, per-sample parts summed by shaders/bias_grad.wgsl).
 * Activations are NCHW, weights PyTorch's `[out, in, kh, kw]`.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { createStorage, placeholderBuffer } from "../gpu/buffers.ts";
import { createBiasGrad } from "./batch.ts";
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

/** Bindings of shaders/conv2d.wgsl. */
export const CONV2D_SPEC: KernelSpec = {
  file: "conv2d.wgsl",
  workgroupSize: 64,
  params: PARAMS,
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "weight", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "y", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/conv2d_input_grad.wgsl. */
export const CONV2D_INPUT_GRAD_SPEC: KernelSpec = {
  file: "conv2d_input_grad.wgsl",
  workgroupSize: 64,
  params: PARAMS,
  bindings: [
    { name: "dy", type: "array<f32>", access: "read" },
    { name: "weight", type: "array<f32>", access: "read" },
    { name: "dx", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/conv2d_weight_grad.wgsl. */
export const CONV2D_WEIGHT_GRAD_SPEC: KernelSpec = {
  file: "conv2d_weight_grad.wgsl",
  workgroupSize: 64,
  params: PARAMS,
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "dy", type: "array<f32>", access: "read" },
    { name: "part", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * Checks a shape; returns the uniform parameters and, for the buffer checks, the element count
 * and shape text of x, y (dy) and the weight.
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
  if (s.rows > MAX_GRID || s.outputs > MAX_GRID || s.channels > MAX_GRID) {
    throw new ShapeError(`${name}: at most ${MAX_GRID} samples and channels per dispatch`);
  }
  const { rows, channels: c, height: h, width: w, outputs: o } = s;
  const sizes = {
    x: [rows * c * h * w, `[${rows}, ${c}, ${h}, ${w}]`],
    y: [rows * o * outHeight * outWidth, `[${rows}, ${o}, ${outHeight}, ${outWidth}]`],
    weight: [o * c * kh * kw, `[${o}, ${c}, ${kh}, ${kw}]`],
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

/**
 * `y = conv2d(x, w) (+ bias, ReLU)`: x [rows, C, H, W], w [O, C, KH, KW], y [rows, O, OH, OW].
 *
 * @example
 * ```ts
 * const op = await createConv2d(gpu, { rows: 128, channels: 1, height: 28, width: 28, outputs: 6,
 *   kernel: [5, 5], stride: 1, padding: 0 }, { x, weight, y }, true);
 * ```
 */
export function createConv2d(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { x: GPUBuffer; weight: GPUBuffer; y: GPUBuffer; bias?: GPUBuffer },
  relu = false,
): Promise<Op> {
  const name = "conv2d";
  const { outHeight, outWidth, sizes, params } = checkConv(name, shape);
  const { rows, outputs: o } = shape;
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "weight", buffers.weight, ...sizes.weight);
  checkBuffer(name, "y", buffers.y, ...sizes.y);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, o, `[${o}]`);
  return createOp(
    gpu,
    CONV2D_SPEC,
    { HAS_BIAS: buffers.bias !== undefined, RELU: relu },
    {
      x: buffers.x,
      weight: buffers.weight,
      bias: buffers.bias ?? placeholderBuffer(gpu),
      y: buffers.y,
    },
    params,
    [Math.ceil((outHeight * outWidth) / CONV2D_SPEC.workgroupSize!), o, rows],
  );
}

/** `dx = ∂L/∂x` of conv2d from dy [rows, O, OH, OW] and w; dx [rows, C, H, W] is overwritten. */
export function createConv2dInputGrad(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { dy: GPUBuffer; weight: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "conv2d_input_grad";
  const { sizes, params } = checkConv(name, shape);
  const { rows, channels: c, height: h, width: w } = shape;
  checkBuffer(name, "dy", buffers.dy, ...sizes.y);
  checkBuffer(name, "weight", buffers.weight, ...sizes.weight);
  checkBuffer(name, "dx", buffers.dx, ...sizes.x);
  return createOp(
    gpu,
    CONV2D_INPUT_GRAD_SPEC,
    {},
    buffers,
    params,
    [Math.ceil((h * w) / CONV2D_INPUT_GRAD_SPEC.workgroupSize!), c, rows],
  );
}

/**
 * `∂L/∂w` [O, C, KH, KW] (and `∂L/∂b` [O] when `db` is given) of conv2d, overwritten: per-sample
 * parts into a scratch buffer the op owns, then summed over the samples. Two dispatches per
 * gradient.
 */
export async function createConv2dWeightGrad(
  gpu: GpuContext,
  shape: ConvShape,
  buffers: { x: GPUBuffer; dy: GPUBuffer; dw: GPUBuffer; db?: GPUBuffer },
): Promise<Op> {
  const name = "conv2d_weight_grad";
  const { sizes, params } = checkConv(name, shape);
  const { rows, outputs: o } = shape;
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "dy", buffers.dy, ...sizes.y);
  checkBuffer(name, "dw", buffers.dw, ...sizes.weight);
  const count = sizes.weight[0];
  if (buffers.db) checkBuffer(name, "db", buffers.db, o, `[${o}]`);
  const ops: Op[] = [];
  const scratch: GPUBuffer[] = [];
  const gradients: [boolean, number, GPUBuffer][] = [[false, count, buffers.dw]];
  if (buffers.db) gradients.push([true, o, buffers.db]);
  for (const [bias, cols, out] of gradients) {
    const part = createStorage(gpu, rows * cols * 4, `${name}.part`);
    scratch.push(part);
    ops.push(
      await createOp(
        gpu,
        CONV2D_WEIGHT_GRAD_SPEC,
        { BIAS: bias },
        { x: buffers.x, dy: buffers.dy, part },
        params,
        [Math.ceil(cols / CONV2D_WEIGHT_GRAD_SPEC.workgroupSize!), rows, 1],
      ),
      await createBiasGrad(gpu, rows, cols, { dz: part, db: out }),
    );
  }
  return {
    label: name,
    dispatches: ops.length,
    encode: (pass) => ops.forEach((op) => op.encode(pass)),
    destroy() {
      ops.forEach((op) => op.destroy());
      scratch.forEach((b) => b.destroy());
    },
  };
}
