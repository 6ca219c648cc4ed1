/**
 * The `workgroup` matmul variant (shaders/matmul_workgroup.wgsl): 64 × 64 tiles of C, operands
 * staged through workgroup memory 16 steps of K at a time, 256 invocations per workgroup. The
 * classic shape for discrete GPUs; on llvmpipe every barrier splits the shader into coroutines.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import type { MatmulBuffers, MatmulShape } from "./matmul_types.ts";
import { MATMUL_SPEC } from "./matmul_tiled.ts";

/** Bindings of shaders/matmul_workgroup.wgsl: those of shaders/matmul.wgsl; params m, n, k. */
export const MATMUL_WORKGROUP_SPEC: KernelSpec = {
  ...MATMUL_SPEC,
  file: "matmul_workgroup.wgsl",
  params: [["m", "u32"], ["n", "u32"], ["k", "u32"]],
};

/** Builds the one dispatch of the workgroup-tiled kernel; shapes are checked by `createMatmul`. */
export function createWorkgroupMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  buffers: MatmulBuffers,
): Promise<Op> {
  const { m, n, k } = shape;
  return createOp(
    gpu,
    MATMUL_WORKGROUP_SPEC,
    {
      TRANS_A: shape.transA ?? false,
      TRANS_B: shape.transB ?? false,
      HAS_BIAS: buffers.bias !== undefined,
      ACCUMULATE: shape.accumulate ?? false,
      RELU: shape.relu ?? false,
    },
    { a: buffers.a, b: buffers.b, c: buffers.c, bias: buffers.bias ?? placeholderBuffer(gpu) },
    { m, n, k },
    [Math.ceil(n / 64), Math.ceil(m / 64), 1],
  );
}
