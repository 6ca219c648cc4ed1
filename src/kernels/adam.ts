/**
 * Masked Adam update (shaders/adam.wgsl; Kingma & Ba 2015, "Adam: A Method for Stochastic
 * Optimization"), with optional L1/L2 terms. A zero in the mask keeps the weight and its moments
 * at exactly 0.0, which is what masked fine-tuning of a pruned network needs (Han et al. 2015).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { checkBuffer, checkDim, elementwiseGrid } from "./shapes.ts";

/** Bindings of shaders/adam.wgsl. */
export const ADAM_SPEC: KernelSpec = {
  workgroupSize: 256,
  file: "adam.wgsl",
  params: [
    ["count", "u32"],
    ["row_stride", "u32"],
    ["lr", "f32"],
    ["beta1", "f32"],
    ["beta2", "f32"],
    ["eps", "f32"],
    ["l1", "f32"],
    ["l2", "f32"],
  ],
  bindings: [
    { name: "w", type: "array<f32>", access: "read_write" },
    { name: "grad", type: "array<f32>", access: "read" },
    { name: "m", type: "array<f32>", access: "read_write" },
    { name: "v", type: "array<f32>", access: "read_write" },
    { name: "mask", type: "array<f32>", access: "read" },
    { name: "state", type: "array<u32>", access: "read" },
  ],
};

/** Adam's hyper-parameters. */
export interface AdamConfig {
  /** Learning rate. */
  lr: number;
  /** First-moment decay (default 0.9). */
  beta1?: number;
  /** Second-moment decay (default 0.999). */
  beta2?: number;
  /** Denominator epsilon (default 1e-7, as Keras). */
  eps?: number;
  /** L1 penalty weight (adds l1·sign(w) to the gradient). */
  l1?: number;
  /** L2 penalty weight (adds l2·w to the gradient). */
  l2?: number;
}

/** Buffers of one parameter tensor's update; `state[0]` holds Adam's step count t. */
export interface AdamBuffers {
  /** Parameters [count], updated in place. */
  w: GPUBuffer;
  /** Gradient [count]. */
  grad: GPUBuffer;
  /** First moment [count]. */
  m: GPUBuffer;
  /** Second moment [count]. */
  v: GPUBuffer;
  /** Mask [count] of 0/1. */
  mask: GPUBuffer;
  /** Step counter (u32 [2]). */
  state: GPUBuffer;
}

/**
 * Builds one masked Adam update over `count` parameters.
 *
 * @example
 * ```ts
 * const op = await createAdam(gpu, 784 * 1000, { lr: 1e-3 }, { w, grad, m, v, mask, state });
 * ```
 */
export function createAdam(
  gpu: GpuContext,
  count: number,
  config: AdamConfig,
  buffers: AdamBuffers,
): Promise<Op> {
  const name = "adam";
  checkDim(name, "count", count);
  for (const key of ["w", "grad", "m", "v", "mask"] as const) {
    checkBuffer(name, key, buffers[key], count, `[${count}]`);
  }
  checkBuffer(name, "state", buffers.state, 1, "[2] u32");
  const { grid, rowStride } = elementwiseGrid(ADAM_SPEC, count);
  return createOp(gpu, ADAM_SPEC, {}, { ...buffers }, {
    count,
    row_stride: rowStride,
    lr: config.lr,
    beta1: config.beta1 ?? 0.9,
    beta2: config.beta2 ?? 0.999,
    eps: config.eps ?? 1e-7,
    l1: config.l1 ?? 0,
    l2: config.l2 ?? 0,
  }, grid);
}
