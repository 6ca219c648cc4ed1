/**
 * Batched matrix products for training a dense network (shaders/matmul.wgsl):
 *
 * - forward `C = A·B` (X[batch, in] · W[in, out]),
 * - input gradient `C = A·Bᵀ` (dY[batch, out] · W[in, out]ᵀ),
 * - weight gradient `C = Aᵀ·B` (X[batch, in]ᵀ · dY[batch, out]),
 *
 * all row-major f32, any shapes, with an optional epilogue (+bias, C +=, ReLU).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import { checkBuffer, checkDim } from "./shapes.ts";

/** Invocations per workgroup along N (each computes an 8 × 8 tile of C). */
const WG = 32;

/**
 * Workgroup width for a product with `n` columns: WG, or the smallest power of two covering
 * ceil(n / 8) when that is less (the 10-logit layer would otherwise run 30 idle invocations of 32).
 */
export function workgroupWidth(n: number): number {
  let wg = 1;
  while (wg < WG && wg * 8 < n) wg *= 2;
  return wg;
}

/** Bindings and parameters of shaders/matmul.wgsl. */
export const MATMUL_SPEC: KernelSpec = {
  file: "matmul.wgsl",
  params: [["m", "u32"], ["n", "u32"], ["k", "u32"]],
  bindings: [
    { name: "a", type: "array<f32>", access: "read" },
    { name: "b", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "c", type: "array<f32>", access: "read_write" },
  ],
};

/** Shape and epilogue of one matrix product `C[m, n] = op(A) · op(B)`. */
export interface MatmulShape {
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** Inner dimension. */
  k: number;
  /** A is stored [k, m] and used transposed. */
  transA?: boolean;
  /** B is stored [n, k] and used transposed. */
  transB?: boolean;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
  /** Add C's previous contents to the result. */
  accumulate?: boolean;
}

/** Buffers of one matrix product; `bias` ([n]) enables the bias epilogue. */
export interface MatmulBuffers {
  /** A: [m, k], or [k, m] with transA. */
  a: GPUBuffer;
  /** B: [k, n], or [n, k] with transB. */
  b: GPUBuffer;
  /** C: [m, n], written (or accumulated into). */
  c: GPUBuffer;
  /** Optional bias: [n]. */
  bias?: GPUBuffer;
}

/**
 * Builds a matrix-product op after checking every buffer against the shape.
 *
 * @example
 * ```ts
 * // forward of a dense layer: Y[128, 1000] = relu(X[128, 784] · W[784, 1000])
 * const op = await createMatmul(gpu, { m: 128, n: 1000, k: 784, relu: true }, { a: x, b: w, c: y });
 * ```
 */
export function createMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  buffers: MatmulBuffers,
): Promise<Op> {
  const name = "matmul";
  const { m, n, k } = shape;
  checkDim(name, "m", m);
  checkDim(name, "n", n);
  checkDim(name, "k", k);
  checkBuffer(name, "A", buffers.a, m * k, shape.transA ? `[${k}, ${m}]` : `[${m}, ${k}]`);
  checkBuffer(name, "B", buffers.b, k * n, shape.transB ? `[${n}, ${k}]` : `[${k}, ${n}]`);
  checkBuffer(name, "C", buffers.c, m * n, `[${m}, ${n}]`);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, n, `[${n}]`);
  const wg = workgroupWidth(n);
  const constants = {
    WG: wg,
    TRANS_A: shape.transA ?? false,
    TRANS_B: shape.transB ?? false,
    HAS_BIAS: buffers.bias !== undefined,
    ACCUMULATE: shape.accumulate ?? false,
    RELU: shape.relu ?? false,
  };
  return createOp(
    gpu,
    MATMUL_SPEC,
    constants,
    { a: buffers.a, b: buffers.b, c: buffers.c, bias: buffers.bias ?? placeholderBuffer(gpu) },
    { m, n, k },
    [Math.ceil(m / 8), Math.ceil(n / (8 * wg)), 1],
  );
}
