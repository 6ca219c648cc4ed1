/**
 * The `uniform` matmul variant (shaders/matmul_pack.wgsl + shaders/matmul_uniform.wgsl): op(B) is
 * packed into 64-column panels, and each panel is read through four 64 KiB uniform bindings, one
 * dispatch per panel. Built for Mesa's llvmpipe, where uniform loads become vector gathers and
 * storage loads become per-lane loops (shaders/README.md); any adapter runs it correctly.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { composeOps, createOp, type KernelSpec, MAX_GRID, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer, STORAGE_USAGE } from "../gpu/buffers.ts";
import { elementwiseGrid } from "./shapes.ts";
import type { MatmulBuffers, MatmulShape } from "./matmul_types.ts";

/** Columns of C per panel (8 invocations × 8 columns). */
export const PANEL_COLUMNS = 64;
/** Largest K the variant takes: two 512-row chunks of the panel. */
export const UNIFORM_MAX_K = 1024;
/** vec4f elements in one uniform binding (64 KiB). */
const BINDING_VEC4 = 4096;
const BINDING_BYTES = BINDING_VEC4 * 16;

/** Bindings and parameters of shaders/matmul_uniform.wgsl. */
export const MATMUL_UNIFORM_SPEC: KernelSpec = {
  file: "matmul_uniform.wgsl",
  includes: ["matmul_epilogue.wgsl"],
  params: [["m", "u32"], ["n", "u32"], ["k", "u32"], ["col_base", "u32"]],
  bindings: [
    { name: "a", type: "array<f32>", access: "read" },
    { name: "bias", type: "array<f32>", access: "read" },
    { name: "c", type: "array<f32>", access: "read_write" },
    { name: "b_lo0", type: `array<vec4f, ${BINDING_VEC4}>`, access: "uniform" },
    { name: "b_hi0", type: `array<vec4f, ${BINDING_VEC4}>`, access: "uniform" },
    { name: "b_lo1", type: `array<vec4f, ${BINDING_VEC4}>`, access: "uniform" },
    { name: "b_hi1", type: `array<vec4f, ${BINDING_VEC4}>`, access: "uniform" },
  ],
};

/** Bindings and parameters of shaders/matmul_pack.wgsl. */
export const MATMUL_PACK_SPEC: KernelSpec = {
  file: "matmul_pack.wgsl",
  workgroupSize: 64,
  params: [["n", "u32"], ["k", "u32"], ["total", "u32"], ["row_stride", "u32"]],
  bindings: [
    { name: "b", type: "array<f32>", access: "read" },
    { name: "packed", type: "array<vec4f>", access: "read_write" },
  ],
};

/** Whether the variant takes this shape (K fits the two staged chunks, M/16 one grid axis). */
export function uniformTakes(shape: MatmulShape): boolean {
  return shape.k <= UNIFORM_MAX_K && Math.ceil(shape.m / 16) <= MAX_GRID;
}

/**
 * Builds the packing op and one dispatch per 64-column panel. Shapes are checked by the caller
 * (`createMatmul`). The packed copy of B ([panels, 4, 4096] vec4f) is owned by the op.
 */
export async function createUniformMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  buffers: MatmulBuffers,
): Promise<Op> {
  const { m, n, k } = shape;
  const panels = Math.ceil(n / PANEL_COLUMNS);
  const packed = gpu.device.createBuffer({
    label: "matmul.packed_b",
    size: panels * 4 * BINDING_BYTES,
    usage: STORAGE_USAGE | GPUBufferUsage.UNIFORM,
  });
  const total = panels * k * 8;
  const { grid, rowStride } = elementwiseGrid(MATMUL_PACK_SPEC, total);
  const ops: Op[] = [
    await createOp(
      gpu,
      MATMUL_PACK_SPEC,
      { TRANS_B: shape.transB ?? false },
      { b: buffers.b, packed },
      { n, k, total, row_stride: rowStride },
      grid,
    ),
  ];
  const constants = {
    TRANS_A: shape.transA ?? false,
    HAS_BIAS: buffers.bias !== undefined,
    ACCUMULATE: shape.accumulate ?? false,
    RELU: shape.relu ?? false,
  };
  for (let q = 0; q < panels; q++) {
    const binding = (j: number) => ({
      buffer: packed,
      offset: (q * 4 + j) * BINDING_BYTES,
      size: BINDING_BYTES,
    });
    ops.push(
      await createOp(
        gpu,
        MATMUL_UNIFORM_SPEC,
        constants,
        {
          a: buffers.a,
          bias: buffers.bias ?? placeholderBuffer(gpu),
          c: buffers.c,
          b_lo0: binding(0),
          b_hi0: binding(1),
          b_lo1: binding(2),
          b_hi1: binding(3),
        },
        { m, n, k, col_base: q * PANEL_COLUMNS },
        [Math.ceil(m / 16), 1, 1],
      ),
    );
  }
  return composeOps("matmul_uniform.wgsl", ops, [packed]);
}
