/**
 * The `tiled` matmul variant (shaders/matmul.wgsl): register tiling, each invocation an 8 × 8 tile
 * of C from scalar storage loads, no workgroup memory. Takes every shape.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import type { MatmulBuffers, MatmulShape } from "./matmul_types.ts";

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

/** How a register-tiled product (8 × 8 per invocation) is laid over the grid. */
export interface TileGrid {
  /** Invocations side by side along N (`WG` constant). */
  wg: number;
  /** Row tiles stacked per workgroup (`ROW_TILES` constant). */
  rowTiles: number;
  /** Row blocks per grid row along x (`row_stride` parameter). */
  rowStride: number;
  /** The dispatch grid. */
  grid: [number, number, number];
}

/**
 * The grid of an `m` × `n` register-tiled product (this kernel and shaders/matmul_quantized.wgsl):
 * narrow products stack row tiles so a workgroup keeps up to WG × ROW_TILES = 32 invocations, as
 * long as at least 64 workgroups remain to spread over the cores; row blocks split over x and z
 * when there are more than one grid axis holds (the im2col products of a convolution have
 * rows·OH·OW rows).
 */
export function tileGrid(m: number, n: number): TileGrid {
  const wg = workgroupWidth(n);
  let rowTiles = 1;
  while (rowTiles * wg < WG && Math.ceil(m / (16 * rowTiles)) >= 64) rowTiles *= 2;
  const rowBlocks = Math.ceil(m / (8 * rowTiles));
  const z = Math.ceil(rowBlocks / MAX_GRID);
  const rowStride = Math.ceil(rowBlocks / z);
  return { wg, rowTiles, rowStride, grid: [rowStride, Math.ceil(n / (8 * wg)), z] };
}

/** Bindings and parameters of shaders/matmul.wgsl. */
export const MATMUL_SPEC: KernelSpec = {
  file: "matmul.wgsl",
  includes: ["matmul_epilogue.wgsl"],
  params: [["m", "u32"], ["n", "u32"], ["k", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "a", type: "array<f32>", access: "read" },
    { name: "b", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "c", type: "array<f32>", access: "read_write" },
  ],
};

/** Builds the one dispatch of the tiled kernel; shapes are checked by `createMatmul`. */
export function createTiledMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  buffers: MatmulBuffers,
): Promise<Op> {
  const { m, n, k } = shape;
  const { wg, rowTiles, rowStride, grid } = tileGrid(m, n);
  const constants = {
    WG: wg,
    ROW_TILES: rowTiles,
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
    { m, n, k, row_stride: rowStride },
    grid,
  );
}
