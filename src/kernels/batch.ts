/**
 * Batch assembly on the GPU (shaders/gather_batch.wgsl), the per-step counter update
 * (shaders/advance.wgsl) and bias gradients (shaders/bias_grad.wgsl).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { checkBuffer, checkDim, planeGrid, ShapeError } from "./shapes.ts";

/** Bindings of shaders/gather_batch.wgsl. */
export const GATHER_SPEC: KernelSpec = {
  workgroupSize: 64,
  file: "gather_batch.wgsl",
  params: [
    ["rows", "u32"],
    ["features", "u32"],
    ["offset", "u32"],
    ["stride", "u32"],
    ["row_stride", "u32"],
  ],
  bindings: [
    { name: "pixels", type: "array<u32>", access: "read" },
    { name: "labels_all", type: "array<u32>", access: "read" },
    { name: "order", type: "array<u32>", access: "read" },
    { name: "state", type: "array<u32>", access: "read" },
    { name: "x", type: "array<f32>", access: "read_write" },
    { name: "y", type: "array<u32>", access: "read_write" },
  ],
};

/** Bindings of shaders/advance.wgsl. */
export const ADVANCE_SPEC: KernelSpec = {
  workgroupSize: 1,
  file: "advance.wgsl",
  params: [],
  bindings: [{ name: "state", type: "array<u32>", access: "read_write" }],
};

/** Bindings of shaders/bias_grad.wgsl. */
export const BIAS_GRAD_SPEC: KernelSpec = {
  workgroupSize: 64,
  file: "bias_grad.wgsl",
  params: [["rows", "u32"], ["cols", "u32"]],
  bindings: [
    { name: "dz", type: "array<f32>", access: "read" },
    { name: "db", type: "array<f32>", access: "read_write" },
  ],
};

/** Buffers of a batch gather. */
export interface GatherBuffers {
  /** Dataset pixels, u8 packed 4 per u32, sample-major. */
  pixels: GPUBuffer;
  /** Dataset labels [samples] u32. */
  labelsAll: GPUBuffer;
  /** Sample order [≥ (cursor+1)·rows] u32. */
  order: GPUBuffer;
  /** Counters [2] u32; state[1] is the batch cursor. */
  state: GPUBuffer;
  /** Output batch [rows, features] f32, or Xᵀ [features, stride] when gathered transposed. */
  x: GPUBuffer;
  /** Output labels [rows] u32. */
  y: GPUBuffer;
}

/**
 * Gathers rows `order[offset + state[1]·rows + r]` into `x` (scaled to [0, 1]) and `y`; with
 * `transposedStride` (≥ rows) `x` receives Xᵀ [features, stride], the sparse kernels' input.
 *
 * @example
 * ```ts
 * const op = await createGather(gpu, 128, 784, buffers);
 * ```
 */
export function createGather(
  gpu: GpuContext,
  rows: number,
  features: number,
  buffers: GatherBuffers,
  offset = 0,
  transposedStride?: number,
): Promise<Op> {
  const name = "gather_batch";
  checkDim(name, "rows", rows);
  checkDim(name, "features", features);
  if (transposedStride !== undefined) {
    if (transposedStride < rows) {
      throw new ShapeError(`${name}: stride ${transposedStride} is less than rows ${rows}`);
    }
    const stride = transposedStride;
    checkBuffer(name, "x", buffers.x, features * stride, `[${features}, ${stride}]`);
  } else {
    checkBuffer(name, "x", buffers.x, rows * features, `[${rows}, ${features}]`);
  }
  checkBuffer(name, "y", buffers.y, rows, `[${rows}]`);
  checkBuffer(name, "order", buffers.order, rows, `[≥ ${rows}]`);
  const { grid, rowStride } = planeGrid(
    name,
    Math.ceil(features / 4),
    Math.ceil(rows / GATHER_SPEC.workgroupSize!),
  );
  return createOp(
    gpu,
    GATHER_SPEC,
    { ALIGNED: features % 4 === 0, TRANSPOSED: transposedStride !== undefined },
    {
      pixels: buffers.pixels,
      labels_all: buffers.labelsAll,
      order: buffers.order,
      state: buffers.state,
      x: buffers.x,
      y: buffers.y,
    },
    { rows, features, offset, stride: transposedStride ?? rows, row_stride: rowStride },
    grid,
  );
}

/**
 * Increments both counters of `state` (Adam's t and the batch cursor).
 *
 * @example
 * ```ts
 * const op = await createAdvance(gpu, state);
 * ```
 */
export function createAdvance(gpu: GpuContext, state: GPUBuffer): Promise<Op> {
  checkBuffer("advance", "state", state, 2, "[2] u32");
  return createOp(gpu, ADVANCE_SPEC, {}, { state }, {}, [1, 1, 1]);
}

/**
 * `db[cols] = Σ_rows dz[rows, cols]`.
 *
 * @example
 * ```ts
 * const op = await createBiasGrad(gpu, 128, 1000, { dz, db });
 * ```
 */
export function createBiasGrad(
  gpu: GpuContext,
  rows: number,
  cols: number,
  buffers: { dz: GPUBuffer; db: GPUBuffer },
): Promise<Op> {
  const name = "bias_grad";
  checkDim(name, "rows", rows);
  checkDim(name, "cols", cols);
  checkBuffer(name, "dz", buffers.dz, rows * cols, `[${rows}, ${cols}]`);
  checkBuffer(name, "db", buffers.db, cols, `[${cols}]`);
  return createOp(gpu, BIAS_GRAD_SPEC, {}, buffers, { rows, cols }, [
    Math.ceil(cols / BIAS_GRAD_SPEC.workgroupSize!),
    1,
    1,
  ]);
}
