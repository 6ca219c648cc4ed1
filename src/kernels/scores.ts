/**
 * Gradient-based pruning scores on the GPU (shaders/score_accumulate.wgsl): each training step
 * of a scoring pass adds |w ⊙ ∂L/∂w| (or, for movement pruning, −w ⊙ ∂L/∂w) to a per-weight
 * score buffer, so the scores cost one
 * elementwise dispatch per parameter per step and one readback at the end.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { checkBuffer, checkDim, elementwiseGrid } from "./shapes.ts";

/** Bindings of shaders/score_accumulate.wgsl. */
export const SCORE_ACCUMULATE_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "score_accumulate.wgsl",
  params: [["count", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "w", type: "array<f32>", access: "read" },
    { name: "grad", type: "array<f32>", access: "read" },
    { name: "score", type: "array<f32>", access: "read_write" },
  ],
};

/** What a scoring pass sums: |w ⊙ g| (first-order Taylor) or −w ⊙ g (movement). */
export type ScoreMode = "taylor" | "movement";

/**
 * `score += |w ⊙ grad|` (`taylor`) or `score += −w ⊙ grad` (`movement`) over `count` elements.
 *
 * @example
 * ```ts
 * const op = await createScoreAccumulate(gpu, 784 * 1000, { w, grad, score });
 * ```
 */
export function createScoreAccumulate(
  gpu: GpuContext,
  count: number,
  buffers: { w: GPUBuffer; grad: GPUBuffer; score: GPUBuffer },
  mode: ScoreMode = "taylor",
): Promise<Op> {
  const name = "score_accumulate";
  checkDim(name, "count", count);
  for (const key of ["w", "grad", "score"] as const) {
    checkBuffer(name, key, buffers[key], count, `[${count}]`);
  }
  const { grid, rowStride } = elementwiseGrid(SCORE_ACCUMULATE_SPEC, count);
  return createOp(gpu, SCORE_ACCUMULATE_SPEC, { MOVEMENT: mode === "movement" }, buffers, {
    count,
    row_stride: rowStride,
  }, grid);
}
