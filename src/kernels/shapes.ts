/**
 * Shape checks shared by the kernel wrappers: a wrong shape throws before anything is dispatched,
 * naming the kernel, what it expected and what it was given.
 *
 * @module
 */

import { grid1d, type KernelSpec, MAX_GRID } from "../gpu/kernel.ts";

/** Thrown when a kernel wrapper is given buffers or sizes that do not fit its shapes. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShapeError";
  }
}

/** Checks that a dimension is a positive integer. */
export function checkDim(kernel: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ShapeError(`${kernel}: ${name} must be a positive integer, got ${value}`);
  }
}

/** Checks that `buffer` holds at least `elements` 4-byte elements. */
export function checkBuffer(
  kernel: string,
  name: string,
  buffer: GPUBuffer,
  elements: number,
  shape: string,
): void {
  if (buffer.size < elements * 4) {
    throw new ShapeError(
      `${kernel}: ${name} expected ${shape} (${elements} elements, ${elements * 4} bytes), ` +
        `got a buffer of ${buffer.size} bytes (${Math.floor(buffer.size / 4)} elements)`,
    );
  }
}

/** Grid and `row_stride` parameter covering `count` invocations of `spec`'s workgroups. */
export function elementwiseGrid(
  spec: KernelSpec,
  count: number,
): { grid: [number, number, number]; rowStride: number } {
  const grid = grid1d(Math.ceil(count / (spec.workgroupSize ?? 1)));
  return { grid, rowStride: grid[0] };
}

/**
 * A grid of `columns` workgroups across by `rowBlocks` down, the rows split over y and z when
 * they exceed one grid dimension; `rowStride` is the y extent (row block = z·rowStride + y).
 */
export function planeGrid(
  name: string,
  columns: number,
  rowBlocks: number,
): { grid: [number, number, number]; rowStride: number } {
  if (columns > MAX_GRID) {
    throw new ShapeError(`${name}: at most ${MAX_GRID} workgroups across, got ${columns}`);
  }
  const [y, z] = grid1d(rowBlocks);
  return { grid: [Math.max(1, columns), y, z], rowStride: y };
}
