/**
 * Batched matrix products for training a dense network:
 *
 * - forward `C = A·B` (X[batch, in] · W[in, out]),
 * - input gradient `C = A·Bᵀ` (dY[batch, out] · W[in, out]ᵀ),
 * - weight gradient `C = Aᵀ·B` (X[batch, in]ᵀ · dY[batch, out]),
 *
 * all row-major f32, any shapes, with an optional epilogue (+bias, C +=, ReLU). Several kernel
 * variants compute the same products; `createMatmul` builds the one chosen for the shape on the
 * running adapter (src/kernels/matmul_tuner.ts), or `tiled` when nothing was chosen.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { MAX_GRID, type Op } from "../gpu/kernel.ts";
import { checkMatmul, type MatmulBuffers, type MatmulShape } from "./matmul_types.ts";
import { createTiledMatmul } from "./matmul_tiled.ts";
import { createUniformMatmul, uniformTakes } from "./matmul_uniform.ts";
import { createWorkgroupMatmul } from "./matmul_workgroup.ts";

export type { MatmulBuffers, MatmulShape } from "./matmul_types.ts";

/** One way of computing a matrix product. */
export interface MatmulVariant {
  /** Name used by `--kernel`, the tuning cache and bench output. */
  name: string;
  /** One line on what it does and where it is meant to win. */
  summary: string;
  /** Whether the variant can compute this shape. */
  takes(shape: MatmulShape): boolean;
  /** Builds the op (buffers already checked). */
  create(gpu: GpuContext, shape: MatmulShape, buffers: MatmulBuffers): Promise<Op>;
}

/** Every matmul variant; the first (`tiled`) takes every shape and is the default. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = [
  {
    name: "tiled",
    summary: "8×8 register tile per invocation, scalar storage loads (shaders/matmul.wgsl)",
    takes: () => true,
    create: createTiledMatmul,
  },
  {
    name: "uniform",
    summary: "B packed into 64-column panels read through uniform buffers, 16×8 tile; K ≤ 1024 " +
      "(shaders/matmul_uniform.wgsl)",
    takes: uniformTakes,
    create: createUniformMatmul,
  },
  {
    name: "workgroup",
    summary:
      "64×64 tiles through workgroup memory, 256 invocations (shaders/matmul_workgroup.wgsl)",
    takes: (shape) => Math.max(shape.m, shape.n) <= 64 * MAX_GRID,
    create: createWorkgroupMatmul,
  },
];

/** The variant named `name`, or undefined. */
export function matmulVariant(name: string): MatmulVariant | undefined {
  return MATMUL_VARIANTS.find((v) => v.name === name);
}

/** Key of a product shape in the tuning cache, e.g. `128x1000x784` or `784x1000x128:tA`. */
export function shapeKey(shape: MatmulShape): string {
  const flags = [shape.transA ? "tA" : "", shape.transB ? "tB" : ""].filter((s) => s).join(",");
  return `${shape.m}x${shape.n}x${shape.k}${flags ? `:${flags}` : ""}`;
}

/** How `createMatmul` picks a variant on one device. */
export interface MatmulPolicy {
  /** Use this variant wherever it takes the shape (`--kernel NAME`). */
  forced?: string;
  /** Chosen variant for a shape key, or undefined to use `tiled` (or tune, see `choose`). */
  choose?(shape: MatmulShape): Promise<string | undefined>;
}

const policies = new WeakMap<GPUDevice, MatmulPolicy>();

/** Installs how matmul variants are chosen on `gpu` (replacing any earlier policy). */
export function setMatmulPolicy(gpu: GpuContext, policy: MatmulPolicy): void {
  policies.set(gpu.device, policy);
}

/** The variant `createMatmul` uses for `shape` on `gpu`. */
export async function chooseMatmulVariant(
  gpu: GpuContext,
  shape: MatmulShape,
): Promise<MatmulVariant> {
  const policy = policies.get(gpu.device);
  const named = policy?.forced ?? await policy?.choose?.(shape);
  const variant = named === undefined ? undefined : matmulVariant(named);
  return variant && variant.takes(shape) ? variant : MATMUL_VARIANTS[0];
}

/**
 * Builds a matrix-product op after checking every buffer against the shape; `variant` overrides
 * the device's policy (tests and the tuner use it).
 *
 * @example
 * ```ts
 * // forward of a dense layer: Y[128, 1000] = relu(X[128, 784] · W[784, 1000])
 * const op = await createMatmul(gpu, { m: 128, n: 1000, k: 784, relu: true }, { a: x, b: w, c: y });
 * ```
 */
export async function createMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  buffers: MatmulBuffers,
  variant?: MatmulVariant,
): Promise<Op> {
  checkMatmul(shape, buffers);
  const chosen = variant ?? await chooseMatmulVariant(gpu, shape);
  if (!chosen.takes(shape)) {
    throw new Error(`matmul variant ${chosen.name} does not take ${shapeKey(shape)}`);
  }
  return chosen.create(gpu, shape, buffers);
}
