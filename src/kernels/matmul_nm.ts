/**
 * The forward product of a dense layer whose weight is N:M-sparse, read in its compressed form
 * (shaders/matmul_nm.wgsl; N:M sparsity after Mishra et al. 2021, arXiv 2104.08378):
 * `Y[rows, outputs] = X[rows, inputs] · W[inputs, outputs]` (+ bias, ReLU), X and Y row-major f32
 * as the dense matmul has them, W packed by `packNm` (src/kernels/nm_pack.ts) into N values and N
 * in-group offsets per group of M inputs of each output unit.
 *
 * X is read through 64 KiB uniform windows, one dispatch per chunk of rows (the one path to memory
 * llvmpipe turns into vector gathers, shaders/README.md): its buffer must carry
 * `GPUBufferUsage.UNIFORM` (`NM_INPUT_USAGE`) and one window of slack past the rows
 * (`nmInputBytes`).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { composeOps, createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer, STORAGE_USAGE } from "../gpu/buffers.ts";
import { nmLayout, type NmPattern, NmPatternError } from "./nm_pack.ts";
import { checkBuffer, checkDim, ShapeError } from "./shapes.ts";

/** Rows of Y each invocation computes. */
export const NM_TILE_ROWS = 16;
/** Output units of Y each invocation computes (four quads of 4). */
export const NM_TILE_UNITS = 16;
/** Invocations per workgroup, side by side along the output units. */
const WG = 8;
/** vec4f elements of the uniform window onto X (64 KiB, WebGPU's guaranteed binding size). */
const WINDOW_VEC4 = 4096;
/** Bytes of the uniform window onto X. */
export const NM_WINDOW_BYTES = WINDOW_VEC4 * 16;

/** Usage an X buffer of the N:M kernel needs: storage as usual, plus uniform for the windows. */
export const NM_INPUT_USAGE = STORAGE_USAGE | GPUBufferUsage.UNIFORM;

/**
 * Bytes an X buffer of `rows` × `inputs` f32 needs for the N:M kernel: its data plus one window,
 * so the 64 KiB window of the last chunk of rows stays inside the buffer.
 */
export function nmInputBytes(rows: number, inputs: number): number {
  return rows * inputs * 4 + NM_WINDOW_BYTES;
}

/** Bindings and parameters of shaders/matmul_nm.wgsl. */
export const NM_MATMUL_SPEC: KernelSpec = {
  file: "matmul_nm.wgsl",
  params: [
    ["chunk_rows", "u32"],
    ["row_base", "u32"],
    ["delta", "u32"],
    ["inputs", "u32"],
    ["outputs", "u32"],
    ["groups", "u32"],
    ["words", "u32"],
  ],
  bindings: [
    { name: "values", type: "array<f32>", access: "read" },
    { name: "value_pairs", type: "array<vec2f>", access: "read" },
    { name: "offsets", type: "array<u32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "y", type: "array<f32>", access: "read_write" },
    { name: "xw", type: `array<vec4f, ${WINDOW_VEC4}>`, access: "uniform" },
  ],
};

/** Shape and epilogue of one N:M product. */
export interface NmMatmulShape {
  /** Rows of X and Y (samples). */
  rows: number;
  /** Inputs per output unit (columns of X). */
  inputs: number;
  /** Output units (columns of Y). */
  outputs: number;
  /** The pattern W was packed with. */
  pattern: NmPattern;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
}

/** Buffers of one N:M product. */
export interface NmMatmulBuffers {
  /**
   * X: [rows, inputs] f32 row-major, in a buffer of at least `nmInputBytes(rows, inputs)` bytes
   * with `NM_INPUT_USAGE`.
   */
  x: GPUBuffer;
  /** Packed values: [outputs, groups, n] f32 (`NmPacked.values`). */
  values: GPUBuffer;
  /** Packed offsets: [outputs, words] u32 (`NmPacked.offsets`). */
  offsets: GPUBuffer;
  /** Y: [rows, outputs] f32 row-major, written. */
  y: GPUBuffer;
  /** Optional bias: [outputs] f32. */
  bias?: GPUBuffer;
}

/**
 * Rows per dispatch for `inputs` inputs: as many as one window holds after its alignment slack,
 * in whole 16-row tiles when at least one fits; 0 when not even one row fits.
 */
export function nmChunkRows(inputs: number, uniformAlignment: number): number {
  const fit = Math.floor((WINDOW_VEC4 * 4 - (uniformAlignment / 4 - 1)) / inputs);
  return fit >= NM_TILE_ROWS ? Math.floor(fit / NM_TILE_ROWS) * NM_TILE_ROWS : fit;
}

/** Checks every buffer against the shape; throws `ShapeError` naming what was expected. */
export function checkNmMatmul(
  gpu: GpuContext,
  shape: NmMatmulShape,
  buffers: NmMatmulBuffers,
): void {
  const name = "matmul_nm";
  const { rows, inputs, outputs, pattern } = shape;
  checkDim(name, "rows", rows);
  checkDim(name, "inputs", inputs);
  checkDim(name, "outputs", outputs);
  let layout;
  try {
    layout = nmLayout(inputs, pattern);
  } catch (err) {
    if (!(err instanceof NmPatternError)) throw err;
    throw new ShapeError(`${name}: ${err.message}`);
  }
  const align = gpu.device.limits.minUniformBufferOffsetAlignment;
  if (nmChunkRows(inputs, align) < 1) {
    throw new ShapeError(
      `${name}: inputs expected at most ${WINDOW_VEC4 * 4 - (align / 4 - 1)} ` +
        `(one row in a 64 KiB window), got ${inputs}`,
    );
  }
  if (Math.ceil(outputs / (NM_TILE_UNITS * WG)) > MAX_GRID) {
    throw new ShapeError(`${name}: outputs expected ≤ ${MAX_GRID * NM_TILE_UNITS * WG}`);
  }
  const { n } = pattern;
  const { groups, words } = layout;
  const xElements = nmInputBytes(rows, inputs) / 4;
  checkBuffer(
    name,
    "X",
    buffers.x,
    xElements,
    `[${rows}, ${inputs}] f32 and a 64 KiB window of slack (nmInputBytes)`,
  );
  if ((buffers.x.usage & GPUBufferUsage.UNIFORM) === 0) {
    throw new ShapeError(
      `${name}: X must be readable as a uniform buffer (created with NM_INPUT_USAGE)`,
    );
  }
  checkBuffer(
    name,
    "values",
    buffers.values,
    outputs * groups * n,
    `[${outputs}, ${groups}, ${n}]`,
  );
  checkBuffer(name, "offsets", buffers.offsets, outputs * words, `[${outputs}, ${words}] u32`);
  checkBuffer(name, "Y", buffers.y, rows * outputs, `[${rows}, ${outputs}]`);
  if (buffers.bias) checkBuffer(name, "bias", buffers.bias, outputs, `[${outputs}]`);
}

/**
 * Builds `Y = X · W (+ bias) (ReLU)` from W's N:M packing after checking every buffer against the
 * shape: one dispatch per chunk of rows, each binding the 64 KiB window of X that holds its rows.
 *
 * @example
 * ```ts
 * const packed = packNm(w, 1000, 500, { n: 2, m: 4 });
 * const x = createStorage(gpu, nmInputBytes(1000, 1000), "x", NM_INPUT_USAGE);
 * const op = await createNmMatmul(gpu, { rows: 1000, inputs: 1000, outputs: 500, pattern: packed.pattern, relu: true }, {
 *   x,
 *   values: uploadStorage(gpu, packed.values, "values"),
 *   offsets: uploadStorage(gpu, packed.offsets, "offsets"),
 *   y,
 * });
 * ```
 */
export async function createNmMatmul(
  gpu: GpuContext,
  shape: NmMatmulShape,
  buffers: NmMatmulBuffers,
): Promise<Op> {
  checkNmMatmul(gpu, shape, buffers);
  const { rows, inputs, outputs, pattern } = shape;
  const { groups, words, bits, groupsPerWord } = nmLayout(inputs, pattern);
  const align = gpu.device.limits.minUniformBufferOffsetAlignment;
  const chunk = nmChunkRows(inputs, align);
  const constants = {
    N: pattern.n,
    M: pattern.m,
    BITS: bits,
    GROUPS_PER_WORD: groupsPerWord,
    WG,
    HAS_BIAS: buffers.bias !== undefined,
    RELU: shape.relu ?? false,
  };
  const ops: Op[] = [];
  for (let base = 0; base < rows; base += chunk) {
    const chunkRows = Math.min(chunk, rows - base);
    // The window starts at the aligned offset at or before the chunk's first element.
    const start = base * inputs * 4;
    const offset = Math.floor(start / align) * align;
    ops.push(
      await createOp(
        gpu,
        NM_MATMUL_SPEC,
        constants,
        {
          values: buffers.values,
          value_pairs: buffers.values,
          offsets: buffers.offsets,
          bias: buffers.bias ?? placeholderBuffer(gpu),
          y: buffers.y,
          xw: { buffer: buffers.x, offset, size: NM_WINDOW_BYTES },
        },
        {
          chunk_rows: chunkRows,
          row_base: base,
          delta: (start - offset) / 4,
          inputs,
          outputs,
          groups,
          words,
        },
        [Math.ceil(chunkRows / NM_TILE_ROWS), Math.ceil(outputs / (NM_TILE_UNITS * WG)), 1],
      ),
    );
  }
  return composeOps("matmul_nm.wgsl", ops);
}
