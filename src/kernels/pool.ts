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

function checkPool(name: string, s: PoolShape) {
  checkDim(name, "planes", s.planes);
  checkDim(name, "height", s.height);
  checkDim(name, "width", s.width);
  checkDim(name, "kernel", s.kernel);
  checkDim(name, "stride", s.stride);
  const outHeight = convOutputSize(s.height, s.kernel, s.stride, 0);
  const outWidth = convOutputSize(s.width, s.kernel, s.stride, 0);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${name}: a ${s.kernel}×${s.kernel} window does not fit ${s.height}×${s.width}`,
    );
  }
  return { outHeight, outWidth };
}

/** `y = maxpool2d(x)`: x [planes, H, W] → y [planes, OH, OW]. */
export function createMaxPool2d(
  gpu: GpuContext,
  shape: PoolShape,
  buffers: { x: GPUBuffer; y: GPUBuffer },
): Promise<Op> {
  const name = "maxpool2d";
  const { outHeight, outWidth } = checkPool(name, shape);
  const { planes, height, width } = shape;
  checkBuffer(name, "x", buffers.x, planes * height * width, `[${planes}, ${height}, ${width}]`);
  checkBuffer(
    name,
    "y",
    buffers.y,
    planes * outHeight * outWidth,
    `[${planes}, ${outHeight}, ${outWidth}]`,
  );
  const { grid, rowStride } = planeGrid(name, Math.ceil((outHeight * outWidth) / 64), planes);
  return createOp(gpu, MAXPOOL_SPEC, {}, buffers, {
    ...shape,
    out_height: outHeight,
    out_width: outWidth,
    row_stride: rowStride,
  }, grid);
}

/** `dx = ∂L/∂x` of maxpool2d from x and dy; dx [planes, H, W] is overwritten. */
export function createMaxPool2dBackward(
  gpu: GpuContext,
  shape: PoolShape,
  buffers: { x: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "maxpool2d_backward";
  const { outHeight, outWidth } = checkPool(name, shape);
  const { planes, height, width } = shape;
  checkBuffer(name, "x", buffers.x, planes * height * width, `[${planes}, ${height}, ${width}]`);
  checkBuffer(
    name,
    "dy",
    buffers.dy,
    planes * outHeight * outWidth,
    `[${planes}, ${outHeight}, ${outWidth}]`,
  );
  checkBuffer(name, "dx", buffers.dx, planes * height * width, `[${planes}, ${height}, ${width}]`);
  const { grid, rowStride } = planeGrid(name, Math.ceil((height * width) / 64), planes);
  return createOp(gpu, MAXPOOL_BACKWARD_SPEC, {}, buffers, {
    ...shape,
    out_height: outHeight,
    out_width: outWidth,
    row_stride: rowStride,
  }, grid);
}
