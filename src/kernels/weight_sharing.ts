/**
 * The two kernels of trained weight sharing (Han et al. 2016, "Deep Compression", section 3.2):
 * the centroid gradient, a segmented sum of the weight gradients cluster by cluster
 * (shaders/centroid_grad.wgsl), and the rebuild of the weights from the updated codebook
 * (shaders/codebook_decode.wgsl). Between them the masked Adam kernel updates the codebook.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, grid1d, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { checkBuffer, checkDim, elementwiseGrid, ShapeError } from "./shapes.ts";

/** Bindings of shaders/centroid_grad.wgsl. */
export const CENTROID_GRAD_SPEC: KernelSpec = {
  workgroupSize: 64,
  file: "centroid_grad.wgsl",
  params: [["clusters", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "grad", type: "array<f32>", access: "read" },
    { name: "order", type: "array<u32>", access: "read" },
    { name: "offsets", type: "array<u32>", access: "read" },
    { name: "cgrad", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/codebook_decode.wgsl. */
export const CODEBOOK_DECODE_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "codebook_decode.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "clusters", type: "array<i32>", access: "read" },
    { name: "codebook", type: "array<f32>", access: "read" },
    { name: "w", type: "array<f32>", access: "read_write" },
  ],
};

/** Sizes of one weight-shared tensor. */
export interface SharedShape {
  /** Weights in the tensor. */
  count: number;
  /** Entries of its codebook (2^bits). */
  clusters: number;
  /** Weights that belong to a cluster (the unpruned ones). */
  members: number;
}

/**
 * `cgrad[c] = Σ grad[i]` over the weights i of cluster c, with the members grouped by
 * `order`/`offsets` (src/quant/weight_sharing.ts `clusterOrder`).
 *
 * @example
 * ```ts
 * const op = await createCentroidGrad(gpu, { count, clusters: 32, members }, { grad, order, offsets, cgrad });
 * ```
 */
export function createCentroidGrad(
  gpu: GpuContext,
  shape: SharedShape,
  buffers: { grad: GPUBuffer; order: GPUBuffer; offsets: GPUBuffer; cgrad: GPUBuffer },
): Promise<Op> {
  const name = "centroid_grad";
  checkDim(name, "count", shape.count);
  checkDim(name, "clusters", shape.clusters);
  if (!Number.isInteger(shape.members) || shape.members < 0 || shape.members > shape.count) {
    throw new ShapeError(`${name}: members must be in 0..${shape.count}, got ${shape.members}`);
  }
  checkBuffer(name, "grad", buffers.grad, shape.count, `[${shape.count}]`);
  checkBuffer(name, "order", buffers.order, shape.members, `[${shape.members}] u32`);
  checkBuffer(name, "offsets", buffers.offsets, shape.clusters + 1, `[${shape.clusters + 1}] u32`);
  checkBuffer(name, "cgrad", buffers.cgrad, shape.clusters, `[${shape.clusters}]`);
  // One workgroup per cluster: the 1-D grid of `clusters` workgroups.
  const grid = grid1d(shape.clusters);
  return createOp(gpu, CENTROID_GRAD_SPEC, {}, buffers, {
    clusters: shape.clusters,
    row_stride: grid[0],
  }, grid);
}

/**
 * `w[i] = codebook[clusters[i]]`, or 0 where `clusters[i]` is −1.
 *
 * @example
 * ```ts
 * const op = await createCodebookDecode(gpu, { count, clusters: 32 }, { clusters, codebook, w });
 * ```
 */
export function createCodebookDecode(
  gpu: GpuContext,
  shape: Pick<SharedShape, "count" | "clusters">,
  buffers: { clusters: GPUBuffer; codebook: GPUBuffer; w: GPUBuffer },
): Promise<Op> {
  const name = "codebook_decode";
  checkDim(name, "count", shape.count);
  checkDim(name, "clusters", shape.clusters);
  checkBuffer(name, "clusters", buffers.clusters, shape.count, `[${shape.count}] i32`);
  checkBuffer(name, "codebook", buffers.codebook, shape.clusters, `[${shape.clusters}]`);
  checkBuffer(name, "w", buffers.w, shape.count, `[${shape.count}]`);
  const { grid, rowStride } = elementwiseGrid(CODEBOOK_DECODE_SPEC, shape.count);
  return createOp(gpu, CODEBOOK_DECODE_SPEC, {}, buffers, {
    count: shape.count,
    row_stride: rowStride,
  }, grid);
}
