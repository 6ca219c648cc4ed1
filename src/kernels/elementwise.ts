/**
 * Elementwise kernels: ReLU (shaders/relu.wgsl), ReLU backward (shaders/relu_backward.wgsl),
 * leaky ReLU (shaders/leaky_relu.wgsl), leaky ReLU backward (shaders/leaky_relu_backward.wgsl),
 * mask apply (shaders/mask_apply.wgsl), transpose (shaders/transpose.wgsl) and per-sample
 * transpose (shaders/batch_transpose.wgsl).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { checkBuffer, checkDim, elementwiseGrid, planeGrid, ShapeError } from "./shapes.ts";

/** Bindings of shaders/relu.wgsl. */
export const RELU_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "relu.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [{ name: "x", type: "array<f32>", access: "read_write" }],
};

/**
 * `x ← max(0, x)` in place over `count` elements.
 *
 * @example
 * ```ts
 * const op = await createRelu(gpu, 128 * 1000, { x });
 * ```
 */
export function createRelu(gpu: GpuContext, count: number, buffers: { x: GPUBuffer }): Promise<Op> {
  checkDim("relu", "count", count);
  checkBuffer("relu", "x", buffers.x, count, `[${count}]`);
  const { grid, rowStride } = elementwiseGrid(RELU_SPEC, count);
  return createOp(gpu, RELU_SPEC, {}, buffers, { count, row_stride: rowStride }, grid);
}

/** Bindings of shaders/relu_backward.wgsl. */
export const RELU_BACKWARD_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "relu_backward.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "dy", type: "array<f32>", access: "read" },
    { name: "act", type: "array<f32>", access: "read" },
    { name: "dx", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/mask_apply.wgsl. */
export const MASK_APPLY_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "mask_apply.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "w", type: "array<f32>", access: "read_write" },
    { name: "mask", type: "array<f32>", access: "read" },
  ],
};

/**
 * `dx = dy ⊙ [act > 0]` over `count` elements.
 *
 * @example
 * ```ts
 * const op = await createReluBackward(gpu, 128 * 1000, { dy, act, dx });
 * ```
 */
export function createReluBackward(
  gpu: GpuContext,
  count: number,
  buffers: { dy: GPUBuffer; act: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "relu_backward";
  checkDim(name, "count", count);
  for (const key of ["dy", "act", "dx"] as const) {
    checkBuffer(name, key, buffers[key], count, `[${count}]`);
  }
  const { grid, rowStride } = elementwiseGrid(RELU_BACKWARD_SPEC, count);
  return createOp(gpu, RELU_BACKWARD_SPEC, {}, buffers, { count, row_stride: rowStride }, grid);
}

/** Bindings of shaders/leaky_relu.wgsl. */
export const LEAKY_RELU_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "leaky_relu.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"], ["slope", "f32"]],
  bindings: [{ name: "x", type: "array<f32>", access: "read_write" }],
};

/** Throws unless `slope` is a finite number ≥ 0 (the leaky ReLU kernels' negative slope). */
function checkSlope(kernel: string, slope: number): void {
  if (!Number.isFinite(slope) || slope < 0) {
    throw new RangeError(`${kernel}: slope must be a finite number ≥ 0, got ${slope}`);
  }
}

/**
 * `x ← x > 0 ? x : slope·x` in place over `count` elements; `slope` (finite, ≥ 0) reaches the
 * shader as an f32.
 *
 * @example
 * ```ts
 * const op = await createLeakyRelu(gpu, 128 * 1000, 0.01, { x });
 * ```
 */
export function createLeakyRelu(
  gpu: GpuContext,
  count: number,
  slope: number,
  buffers: { x: GPUBuffer },
): Promise<Op> {
  const name = "leaky_relu";
  checkDim(name, "count", count);
  checkSlope(name, slope);
  checkBuffer(name, "x", buffers.x, count, `[${count}]`);
  const { grid, rowStride } = elementwiseGrid(LEAKY_RELU_SPEC, count);
  return createOp(gpu, LEAKY_RELU_SPEC, {}, buffers, { count, row_stride: rowStride, slope }, grid);
}

/** Bindings of shaders/leaky_relu_backward.wgsl. */
export const LEAKY_RELU_BACKWARD_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "leaky_relu_backward.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"], ["slope", "f32"]],
  bindings: [
    { name: "dy", type: "array<f32>", access: "read" },
    { name: "act", type: "array<f32>", access: "read" },
    { name: "dx", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * `dx = act > 0 ? dy : slope·dy` over `count` elements, from the leaky ReLU's output `act` (for
 * slope ≥ 0, act > 0 exactly where its input was > 0).
 *
 * @example
 * ```ts
 * const op = await createLeakyReluBackward(gpu, 128 * 1000, 0.01, { dy, act, dx });
 * ```
 */
export function createLeakyReluBackward(
  gpu: GpuContext,
  count: number,
  slope: number,
  buffers: { dy: GPUBuffer; act: GPUBuffer; dx: GPUBuffer },
): Promise<Op> {
  const name = "leaky_relu_backward";
  checkDim(name, "count", count);
  checkSlope(name, slope);
  for (const key of ["dy", "act", "dx"] as const) {
    checkBuffer(name, key, buffers[key], count, `[${count}]`);
  }
  const { grid, rowStride } = elementwiseGrid(LEAKY_RELU_BACKWARD_SPEC, count);
  return createOp(gpu, LEAKY_RELU_BACKWARD_SPEC, {}, buffers, {
    count,
    row_stride: rowStride,
    slope,
  }, grid);
}

/**
 * `w ← w ⊙ mask` in place over `count` elements.
 *
 * @example
 * ```ts
 * const op = await createMaskApply(gpu, 784 * 1000, { w, mask });
 * ```
 */
export function createMaskApply(
  gpu: GpuContext,
  count: number,
  buffers: { w: GPUBuffer; mask: GPUBuffer },
): Promise<Op> {
  const name = "mask_apply";
  checkDim(name, "count", count);
  checkBuffer(name, "w", buffers.w, count, `[${count}]`);
  checkBuffer(name, "mask", buffers.mask, count, `[${count}]`);
  const { grid, rowStride } = elementwiseGrid(MASK_APPLY_SPEC, count);
  return createOp(gpu, MASK_APPLY_SPEC, {}, buffers, { count, row_stride: rowStride }, grid);
}

/** Bindings of shaders/mask_copy.wgsl. */
export const MASK_COPY_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "mask_copy.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "dense", type: "array<f32>", access: "read" },
    { name: "mask", type: "array<f32>", access: "read" },
    { name: "w", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * `w ← dense ⊙ mask` over `count` elements (dynamic network surgery's effective weights).
 *
 * @example
 * ```ts
 * const op = await createMaskCopy(gpu, 784 * 1000, { dense, mask, w });
 * ```
 */
export function createMaskCopy(
  gpu: GpuContext,
  count: number,
  buffers: { dense: GPUBuffer; mask: GPUBuffer; w: GPUBuffer },
): Promise<Op> {
  const name = "mask_copy";
  checkDim(name, "count", count);
  for (const key of ["dense", "mask", "w"] as const) {
    checkBuffer(name, key, buffers[key], count, `[${count}]`);
  }
  const { grid, rowStride } = elementwiseGrid(MASK_COPY_SPEC, count);
  return createOp(gpu, MASK_COPY_SPEC, {}, buffers, { count, row_stride: rowStride }, grid);
}

/** Columns each invocation of shaders/transpose.wgsl moves. */
const TRANSPOSE_COLS = 8;

/** Bindings of shaders/transpose.wgsl. */
export const TRANSPOSE_SPEC: KernelSpec = {
  file: "transpose.wgsl",
  workgroupSize: 64,
  params: [["rows", "u32"], ["cols", "u32"], ["stride", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "xt", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * `xt = xᵀ`: x [rows, cols] into xt [cols, stride] (stride ≥ rows; padding left as it was).
 *
 * @example
 * ```ts
 * const op = await createTranspose(gpu, 1000, 784, 1000, { x, xt });
 * ```
 */
export function createTranspose(
  gpu: GpuContext,
  rows: number,
  cols: number,
  stride: number,
  buffers: { x: GPUBuffer; xt: GPUBuffer },
): Promise<Op> {
  const name = "transpose";
  checkDim(name, "rows", rows);
  checkDim(name, "cols", cols);
  if (stride < rows) throw new ShapeError(`${name}: stride ${stride} is less than rows ${rows}`);
  checkBuffer(name, "x", buffers.x, rows * cols, `[${rows}, ${cols}]`);
  checkBuffer(name, "xt", buffers.xt, cols * stride, `[${cols}, ${stride}]`);
  const { grid, rowStride } = planeGrid(
    name,
    Math.ceil(cols / TRANSPOSE_COLS),
    Math.ceil(rows / TRANSPOSE_SPEC.workgroupSize!),
  );
  return createOp(
    gpu,
    TRANSPOSE_SPEC,
    { COLS: TRANSPOSE_COLS },
    buffers,
    { rows, cols, stride, row_stride: rowStride },
    grid,
  );
}

/** Bindings of shaders/batch_transpose.wgsl. */
export const BATCH_TRANSPOSE_SPEC: KernelSpec = {
  file: "batch_transpose.wgsl",
  workgroupSize: 32,
  params: [["a", "u32"], ["b", "u32"]],
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "y", type: "array<f32>", access: "read_write" },
  ],
};

/**
 * `y[n] = x[n]ᵀ` for each of `batch` matrices: x [batch, a, b] into y [batch, b, a].
 *
 * @example
 * ```ts
 * // a convolution's product output [128, 24·24, 20] to NCHW [128, 20, 24·24]
 * const op = await createBatchTranspose(gpu, 128, 576, 20, { x, y });
 * ```
 */
export function createBatchTranspose(
  gpu: GpuContext,
  batch: number,
  a: number,
  b: number,
  buffers: { x: GPUBuffer; y: GPUBuffer },
): Promise<Op> {
  const name = "batch_transpose";
  checkDim(name, "batch", batch);
  checkDim(name, "a", a);
  checkDim(name, "b", b);
  checkBuffer(name, "x", buffers.x, batch * a * b, `[${batch}, ${a}, ${b}]`);
  checkBuffer(name, "y", buffers.y, batch * a * b, `[${batch}, ${b}, ${a}]`);
  const wg = BATCH_TRANSPOSE_SPEC.workgroupSize!;
  const grid: [number, number, number] = [
    Math.ceil(b / TRANSPOSE_COLS),
    Math.ceil(a / wg),
    batch,
  ];
  if (grid.some((g) => g > MAX_GRID)) {
    throw new ShapeError(
      `${name}: [${batch}, ${a}, ${b}] needs more than ${MAX_GRID} workgroups along one axis`,
    );
  }
  return createOp(gpu, BATCH_TRANSPOSE_SPEC, { COLS: TRANSPOSE_COLS }, buffers, { a, b }, grid);
}
