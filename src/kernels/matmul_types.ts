/**
 * The shape, buffers and checks every matmul variant shares: `C[m, n] = op(A) · op(B)`, all
 * row-major f32, with an optional epilogue (+bias, C +=, ReLU).
 *
 * @module
 */

import { checkBuffer, checkDim } from "./shapes.ts";

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

/** Checks every buffer against the shape before anything is built or dispatched. */
export function checkMatmul(shape: MatmulShape, buffers: MatmulBuffers): void {
  const name = "matmul";
  const { m, n, k } = shape;
  checkDim(name, "m", m);
  checkDim(name, "n", n);
  checkDim(name, "k", k);
  checkBuffer(name, "A", buffers.a, m * k, shape.transA ? `[${k}, ${m}]` : `[${m}, ${k}]`);
  checkBuffer(name, "B", buffers.b, k * n, shape.transB ? `[${n}, ${k}]` : `[${k}, ${n}]`);
  checkBuffer(name, "C", buffers.c, m * n, `[${m}, ${n}]`);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, n, `[${n}]`);
}
