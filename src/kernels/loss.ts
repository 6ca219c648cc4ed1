/**
 * Softmax cross-entropy with its gradient (shaders/softmax_xent.wgsl) and the count of correct
 * predictions (shaders/accuracy.wgsl), both accumulated on the GPU so they are read back rarely.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createOp, type KernelSpec, type Op } from "../gpu/kernel.ts";
import { placeholderBuffer } from "../gpu/buffers.ts";
import { checkBuffer, checkDim } from "./shapes.ts";

/** Bindings of shaders/softmax_xent.wgsl. */
export const SOFTMAX_XENT_SPEC: KernelSpec = {
  workgroupSize: 64,
  file: "softmax_xent.wgsl",
  params: [["rows", "u32"], ["classes", "u32"], ["write_grad", "u32"]],
  bindings: [
    { name: "logits", type: "array<f32>", access: "read" },
    { name: "labels", type: "array<u32>", access: "read" },
    { name: "grad", type: "array<f32>", access: "read_write" },
    { name: "stats", type: "array<f32>", access: "read_write" },
  ],
};

/** Bindings of shaders/accuracy.wgsl. */
export const ACCURACY_SPEC: KernelSpec = {
  workgroupSize: 64,
  file: "accuracy.wgsl",
  params: [["rows", "u32"], ["classes", "u32"]],
  bindings: [
    { name: "logits", type: "array<f32>", access: "read" },
    { name: "labels", type: "array<u32>", access: "read" },
    { name: "correct", type: "array<atomic<u32>>", access: "read_write" },
  ],
};

/**
 * Mean softmax cross-entropy of `logits[rows, classes]` against `labels[rows]`; writes the
 * gradient to `grad` (omit it for evaluation), the batch mean to `stats[0]` and adds the summed
 * loss to `stats[1]`.
 *
 * @example
 * ```ts
 * const op = await createSoftmaxXent(gpu, 128, 10, { logits, labels, grad, stats });
 * ```
 */
export function createSoftmaxXent(
  gpu: GpuContext,
  rows: number,
  classes: number,
  buffers: { logits: GPUBuffer; labels: GPUBuffer; stats: GPUBuffer; grad?: GPUBuffer },
): Promise<Op> {
  const name = "softmax_xent";
  checkDim(name, "rows", rows);
  checkDim(name, "classes", classes);
  checkBuffer(name, "logits", buffers.logits, rows * classes, `[${rows}, ${classes}]`);
  checkBuffer(name, "labels", buffers.labels, rows, `[${rows}]`);
  checkBuffer(name, "stats", buffers.stats, 2, "[2]");
  if (buffers.grad) {
    checkBuffer(name, "grad", buffers.grad, rows * classes, `[${rows}, ${classes}]`);
  }
  return createOp(
    gpu,
    SOFTMAX_XENT_SPEC,
    {},
    {
      logits: buffers.logits,
      labels: buffers.labels,
      stats: buffers.stats,
      grad: buffers.grad ?? placeholderBuffer(gpu),
    },
    { rows, classes, write_grad: buffers.grad ? 1 : 0 },
    [1, 1, 1],
  );
}

/**
 * Adds the number of rows whose argmax matches the label to `correct[0]`.
 *
 * @example
 * ```ts
 * const op = await createAccuracy(gpu, 128, 10, { logits, labels, correct });
 * ```
 */
export function createAccuracy(
  gpu: GpuContext,
  rows: number,
  classes: number,
  buffers: { logits: GPUBuffer; labels: GPUBuffer; correct: GPUBuffer },
): Promise<Op> {
  const name = "accuracy";
  checkDim(name, "rows", rows);
  checkDim(name, "classes", classes);
  checkBuffer(name, "logits", buffers.logits, rows * classes, `[${rows}, ${classes}]`);
  checkBuffer(name, "labels", buffers.labels, rows, `[${rows}]`);
  checkBuffer(name, "correct", buffers.correct, 1, "[1] u32");
  return createOp(gpu, ACCURACY_SPEC, {}, buffers, { rows, classes }, [
    Math.ceil(rows / ACCURACY_SPEC.workgroupSize!),
    1,
    1,
  ]);
}
