/**
 * The forward product of a pruned dense layer from its CSR (shaders/sparse_matmul.wgsl):
 * `Y[rows, outputs] = X[rows, inputs] · W[inputs, outputs]` (+ bias, ReLU) where W is held as CSR
 * of Wᵀ — one row of non-zeros per output unit, the layout of src/export/csr.ts.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, grid1d, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import { checkBuffer, checkDim, ShapeError } from "./shapes.ts";

/** Rows each invocation computes (the shader's TILE). */
export const SPARSE_TILE = 8;

/** Bindings and parameters of shaders/sparse_matmul.wgsl. */
export const SPARSE_MATMUL_SPEC: KernelSpec = {
  file: "sparse_matmul.wgsl",
  workgroupSize: 64,
  params: [["rows", "u32"], ["inputs", "u32"], ["outputs", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "x", type: "array<f32>", access: "read" },
    { name: "indptr", type: "array<u32>", access: "read" },
    { name: "indices", type: "array<u32>", access: "read" },
    { name: "values", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "y", type: "array<f32>", access: "read_write" },
  ],
};

/** Shape and epilogue of one sparse product. */
export interface SparseShape {
  /** Rows of X and Y (samples). */
  rows: number;
  /** Inputs (columns of X). */
  inputs: number;
  /** Output units (columns of Y). */
  outputs: number;
  /** Non-zeros of W. */
  nnz: number;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
}

/** Buffers of one sparse product; `bias` ([outputs]) enables the bias epilogue. */
export interface SparseBuffers {
  /** X: [rows, inputs]. */
  x: GPUBuffer;
  /** CSR row pointers: [outputs + 1] u32. */
  indptr: GPUBuffer;
  /** CSR input indices: [nnz] u32. */
  indices: GPUBuffer;
  /** CSR values: [nnz] f32. */
  values: GPUBuffer;
  /** Y: [rows, outputs], written. */
  y: GPUBuffer;
  /** Optional bias: [outputs]. */
  bias?: GPUBuffer;
}

/** Checks the dimensions, the CSR buffers and the bias of a sparse product. */
function checkCsrShape(
  name: string,
  shape: SparseShape,
  buffers: Pick<SparseBuffers, "indptr" | "indices" | "values" | "bias">,
): void {
  const { rows, inputs, outputs, nnz } = shape;
  checkDim(name, "rows", rows);
  checkDim(name, "inputs", inputs);
  checkDim(name, "outputs", outputs);
  if (outputs > MAX_GRID) {
    throw new ShapeError(`${name}: at most ${MAX_GRID} outputs per dispatch, got ${outputs}`);
  }
  checkBuffer(name, "indptr", buffers.indptr, outputs + 1, `[${outputs + 1}]`);
  checkBuffer(name, "indices", buffers.indices, nnz, `[${nnz}]`);
  checkBuffer(name, "values", buffers.values, nnz, `[${nnz}]`);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, outputs, `[${outputs}]`);
}

/**
 * Builds a sparse-product op after checking every buffer against the shape.
 *
 * @example
 * ```ts
 * const op = await createSparseMatmul(gpu, { rows: 1000, inputs: 784, outputs: 1000, nnz, relu: true },
 *   { x, indptr, indices, values, y });
 * ```
 */
export function createSparseMatmul(
  gpu: GpuContext,
  shape: SparseShape,
  buffers: SparseBuffers,
): Promise<Op> {
  const { rows, inputs, outputs } = shape;
  checkCsrShape("sparse_matmul", shape, buffers);
  checkBuffer("sparse_matmul", "X", buffers.x, rows * inputs, `[${rows}, ${inputs}]`);
  checkBuffer("sparse_matmul", "Y", buffers.y, rows * outputs, `[${rows}, ${outputs}]`);
  const tiles = Math.ceil(rows / (SPARSE_TILE * SPARSE_MATMUL_SPEC.workgroupSize!));
  const [ty, tz] = grid1d(tiles);
  return createOp(
    gpu,
    SPARSE_MATMUL_SPEC,
    { HAS_BIAS: buffers.bias !== undefined, RELU: shape.relu ?? false },
    {
      x: buffers.x,
      indptr: buffers.indptr,
      indices: buffers.indices,
      values: buffers.values,
      bias: buffers.bias ?? placeholderBuffer(gpu),
      y: buffers.y,
    },
    { rows, inputs, outputs, row_stride: ty },
    [outputs, ty, tz],
  );
}

/** Bindings and parameters of shaders/sparse_matmul_t.wgsl. */
export const SPARSE_MATMUL_T_SPEC: KernelSpec = {
  file: "sparse_matmul_t.wgsl",
  workgroupSize: 16,
  params: [
    ["rows", "u32"],
    ["inputs", "u32"],
    ["outputs", "u32"],
    ["stride", "u32"],
    ["row_stride", "u32"],
  ],
  bindings: [
    { name: "xt", type: "array<vec4f>", access: "read" },
    { name: "indptr", type: "array<u32>", access: "read" },
    { name: "indices", type: "array<u32>", access: "read" },
    { name: "values", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "yt", type: "array<f32>", access: "read_write" },
  ],
};

/** Rows rounded up to a multiple of 4: the row stride of transposed activations. */
export function transposedStride(rows: number): number {
  return Math.ceil(rows / 4) * 4;
}

/**
 * The sparse product on transposed activations: `xt` is Xᵀ [inputs, stride]; the result is
 * Yᵀ [outputs, stride] when `outTransposed`, else Y [rows, outputs].
 */
export function createSparseMatmulT(
  gpu: GpuContext,
  shape: SparseShape & { outTransposed: boolean },
  buffers: Omit<SparseBuffers, "x"> & { xt: GPUBuffer },
): Promise<Op> {
  const name = "sparse_matmul_t";
  const { rows, inputs, outputs } = shape;
  checkCsrShape(name, shape, buffers);
  const stride = transposedStride(rows);
  checkBuffer(name, "Xt", buffers.xt, inputs * stride, `[${inputs}, ${stride}]`);
  const out = shape.outTransposed ? outputs * stride : rows * outputs;
  const outShape = shape.outTransposed ? `[${outputs}, ${stride}]` : `[${rows}, ${outputs}]`;
  checkBuffer(name, "Y", buffers.y, out, outShape);
  const tiles = Math.ceil(rows / (16 * SPARSE_MATMUL_T_SPEC.workgroupSize!));
  const [ty, tz] = grid1d(tiles);
  return createOp(
    gpu,
    SPARSE_MATMUL_T_SPEC,
    {
      HAS_BIAS: buffers.bias !== undefined,
      RELU: shape.relu ?? false,
      OUT_T: shape.outTransposed,
    },
    {
      xt: buffers.xt,
      indptr: buffers.indptr,
      indices: buffers.indices,
      values: buffers.values,
      bias: buffers.bias ?? placeholderBuffer(gpu),
      yt: buffers.y,
    },
    { rows, inputs, outputs, stride, row_stride: ty },
    [outputs, ty, tz],
  );
}
