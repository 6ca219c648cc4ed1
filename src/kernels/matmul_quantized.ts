/**
 * Matrix products with post-training-quantised weights read straight from their packed form
 * (shaders/matmul_quantized.wgsl): `C[m, n] = A[m, k] · dequant(Q)[n, k]ᵀ (+ bias[n]) (ReLU)`,
 * A and C row-major f32, Q one packed row per output channel (PyTorch's Linear [out, in] layout).
 * The packing itself is src/quant/ptq.ts.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import { tileGrid } from "./matmul_tiled.ts";
import { checkBuffer, checkDim, ShapeError } from "./shapes.ts";

/**
 * Storage format of post-training-quantised weights:
 *
 * - `int8`: symmetric per-output-channel int8, 4 per u32 word, with an f32 scale per channel;
 * - `f16`: IEEE binary16, 2 per u32 word, no scale.
 *
 * Defined here, not in src/quant/, because kernels sit below quant in the import order.
 */
export type PtqFormat = "int8" | "f16";

/** Weights of one output channel per packed u32 word in each format. */
export const WEIGHTS_PER_WORD: Readonly<Record<PtqFormat, number>> = { int8: 4, f16: 2 };

/** u32 words of one packed row of `k` weights (the row stride of Q): ceil(k / per-word). */
export function packedRowWords(format: PtqFormat, k: number): number {
  return Math.ceil(k / WEIGHTS_PER_WORD[format]);
}

/** Shape and epilogue of one quantised-weight product `C[m, n] = A[m, k] · dequant(Q)[n, k]ᵀ`. */
export interface QuantizedMatmulShape {
  /** Rows of A and C (the batch). */
  m: number;
  /** Output channels: rows of Q, columns of C. */
  n: number;
  /** Inner dimension: columns of A, weights per row of Q. */
  k: number;
  /** How Q is stored. */
  format: PtqFormat;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
}

/** Buffers of one quantised-weight product. */
export interface QuantizedMatmulBuffers {
  /** A: [m, k] f32, row-major. */
  a: GPUBuffer;
  /**
   * Q: [n, ceil(k / 4)] u32 for int8 (byte j of word w = weight 4w + j, two's complement),
   * [n, ceil(k / 2)] u32 for f16 (low half of word w = weight 2w, high half = weight 2w + 1).
   */
  q: GPUBuffer;
  /** int8 only: per-output-channel scale [n] f32 (weight = q · scale[n]). */
  scale?: GPUBuffer;
  /** Optional bias [n] f32. */
  bias?: GPUBuffer;
  /** C: [m, n] f32, row-major, written. */
  c: GPUBuffer;
}

/** Invocations per workgroup along N at most (each computes an 8 × 8 tile of C). */
const WG = 32;

/** Bindings and parameters of shaders/matmul_quantized.wgsl. */
export const QUANTIZED_MATMUL_SPEC: KernelSpec = {
  file: "matmul_quantized.wgsl",
  includes: ["matmul_epilogue.wgsl"],
  params: [["m", "u32"], ["n", "u32"], ["k", "u32"], ["q_stride", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "a", type: "array<f32>", access: "read" },
    { name: "q", type: "array<u32>", access: "read" },
    { name: "scale", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "c", type: "array<f32>", access: "read_write" },
  ],
};

/** Checks every buffer against the shape; throws `ShapeError` naming what was expected. */
export function checkQuantizedMatmul(
  shape: QuantizedMatmulShape,
  buffers: QuantizedMatmulBuffers,
): void {
  const name = "matmul_quantized";
  const { m, n, k, format } = shape;
  checkDim(name, "m", m);
  checkDim(name, "n", n);
  checkDim(name, "k", k);
  if (format !== "int8" && format !== "f16") {
    throw new ShapeError(`${name}: format must be "int8" or "f16", got ${JSON.stringify(format)}`);
  }
  const words = packedRowWords(format, k);
  checkBuffer(name, "A", buffers.a, m * k, `[${m}, ${k}] f32`);
  checkBuffer(name, "Q", buffers.q, n * words, `[${n}, ${words}] u32 (${format}, k = ${k})`);
  checkBuffer(name, "C", buffers.c, m * n, `[${m}, ${n}] f32`);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, n, `[${n}] f32`);
  if (format === "int8") {
    if (!buffers.scale) {
      throw new ShapeError(
        `${name}: int8 expected scale [${n}] f32 (one per output channel), ` +
          `got none`,
      );
    }
    checkBuffer(name, "scale", buffers.scale, n, `[${n}] f32`);
  } else if (buffers.scale) {
    throw new ShapeError(
      `${name}: f16 expected no scale (weights are stored as they are), ` +
        `got a buffer of ${buffers.scale.size} bytes`,
    );
  }
  const panels = Math.ceil(n / 8);
  if (panels > MAX_GRID * WG) {
    throw new ShapeError(`${name}: n expected ≤ ${MAX_GRID * WG * 8}, got ${n}`);
  }
}

/**
 * Builds `C = A · dequant(Q)ᵀ (+ bias) (ReLU)` after checking every buffer against the shape.
 * int8 weights are dequantised as `f32(q) · scale[n]`, the scale applied once per output after
 * the dot product; f16 weights through WGSL's `unpack2x16float` (no `shader-f16` feature needed).
 *
 * @example
 * ```ts
 * // Y[128, 1000] = relu(X[128, 784] · Wᵀ) with W [1000, 784] quantised to int8
 * const { q, scale } = quantizeInt8Rows(w, 1000, 784);
 * const op = await createQuantizedMatmul(gpu, { m: 128, n: 1000, k: 784, format: "int8", relu: true }, {
 *   a: x,
 *   q: uploadStorage(gpu, packInt8Rows(q, 1000, 784), "q"),
 *   scale: uploadStorage(gpu, scale, "scale"),
 *   c: y,
 * });
 * ```
 */
export function createQuantizedMatmul(
  gpu: GpuContext,
  shape: QuantizedMatmulShape,
  buffers: QuantizedMatmulBuffers,
): Promise<Op> {
  checkQuantizedMatmul(shape, buffers);
  const { m, n, k, format } = shape;
  // The tiled f32 kernel's grid: stacked row tiles for narrow products, rows spilled to z.
  const { wg, rowTiles, rowStride, grid } = tileGrid(m, n);
  const constants = {
    WG: wg,
    ROW_TILES: rowTiles,
    FORMAT_INT8: format === "int8",
    HAS_BIAS: buffers.bias !== undefined,
    ACCUMULATE: false,
    RELU: shape.relu ?? false,
  };
  const placeholder = placeholderBuffer(gpu);
  return createOp(
    gpu,
    QUANTIZED_MATMUL_SPEC,
    constants,
    {
      a: buffers.a,
      q: buffers.q,
      scale: buffers.scale ?? placeholder,
      bias: buffers.bias ?? placeholder,
      c: buffers.c,
    },
    { m, n, k, q_stride: packedRowWords(format, k), row_stride: rowStride },
    grid,
  );
}
