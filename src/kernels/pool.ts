/**
 * 2-D max pooling on the GPU, forward (shaders/maxpool2d.wgsl) and backward
 * (shaders/maxpool2d_backward.wgsl, routing each gradient to its window's first maximum).
 * Activations are NCHW.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { convOutputSize } from "./conv2d.ts";
import { checkBuffer, checkDim, planeGrid, ShapeError } from "./shapes.ts";

/** Geometry of one pooling. */
export interface PoolShape {
  /** Samples × channels: the number of [H, W] planes. */
  planes: number;
  /** Input height. */
  height: number;
  /** Input width. */
  width: number;
  /** Window size (square). */
  kernel: number;
  /** Stride (both directions). */
  stride: number;
}

const PARAMS: KernelSpec["params"] = [
  ["planes", "u32"],
  ["height", "u32"],
  ["width", "u32"],
  ["out_height", "u32"],
  ["out_width", "u32"],
  ["kernel", "u32"],
  ["stride", "u32"],
  ["row_stride", "u32"],
];

/** Bindings of shaders/maxpool2d.wgsl. */
export const MAXPOOL_SPEC: KernelSpec = {
  file: "maxpool2d.wgsl",
  includes: ["maxpool_argmax.wgsl"],
  workgroupSize: 64,
  params: PARAMS,
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "y", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/maxpool2d_backward.wgsl. */
export const MAXPOOL_BACKWARD_SPEC: KernelSpec = {
  file: "maxpool2d_backward.wgsl",
  includes: ["maxpool_argmax.wgsl"],
  workgroupSize: 64,
  params: PARAMS,
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "dy", type: "array<f32>", access: "read" },
    { name: "dx", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * Checks a shape; returns the element count and shape text of x and y (dy) for the buffer checks
 * and the uniform parameters.
 */
function checkPool(name: string, s: PoolShape) {
  for (const what of ["planes", "height", "width", "kernel", "stride"] as const) {
    checkDim(name, what, s[what]);
  }
  const outHeight = convOutputSize(s.height, s.kernel, s.stride, 0);
  const outWidth = convOutputSize(s.width, s.kernel, s.stride, 0);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${name}: a ${s.kernel}×${s.kernel} window does not fit ${s.height}×${s.width}`,
    );
  }
  const { planes, height, width } = s;
  const sizes = {
    x: [planes * height * width, `[${planes}, ${height}, ${width}]`],
    y: [planes * outHeight * outWidth, `[${planes}, ${outHeight}, ${outWidth}]`],
  } as const;
  return {
    outHeight,
    outWidth,
    sizes,
    params: { ...s, out_height: outHeight, out_width: outWidth },
  };
}

/** `y = maxpool2d(x)`: x [planes, H, W] → y [planes, OH, OW]. */
export function createMaxPool2d(
  gpu: GpuContext,
  shape: PoolShape,
  buffers: { x: GPUBuffer; y: GPUBuffer },
): Promise<Op> {
  const name = "maxpool2d";
  const { outHeight, outWidth, sizes, params } = checkPool(name, shape);
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "y", buffers.y, ...sizes.y);
  const wg = MAXPOOL_SPEC.workgroupSize!;
  const { grid, rowStride } = planeGrid(name, Math.ceil((outHeight * outWidth) / wg), shape.planes);
  return createOp(gpu, MAXPOOL_SPEC, {}, buffers, { ...params, row_stride: rowStride }, grid);
}

/** `dx = ∂L/∂x` of maxpool2d from x and dy; dx [planes, H, W] is overwritten. */
export function createMaxPool2dBackward(
  gpu: GpuContext,
  shape: PoolShape,
  buffers: { x: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "maxpool2d_backward";
  const { sizes, params } = checkPool(name, shape);
  checkBuffer(name, "x", buffers.x, ...sizes.x);
  checkBuffer(name, "dy", buffers.dy, ...sizes.y);
  checkBuffer(name, "dx", buffers.dx, ...sizes.x);
  const wg = MAXPOOL_BACKWARD_SPEC.workgroupSize!;
  const { grid, rowStride } = planeGrid(
    name,
    Math.ceil((shape.height * shape.width) / wg),
    shape.planes,
  );
  return createOp(
    gpu,
    MAXPOOL_BACKWARD_SPEC,
    {},
    buffers,
    { ...params, row_stride: rowStride },
    grid,
  );
}
