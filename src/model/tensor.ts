/**
 * Named parameter tensors: what a model holds, what checkpoints store, what masks are keyed by.
 *
 * @module
 */

/** A named f32 tensor. */
export interface Tensor {
  /** Dimensions, row-major (a dense weight is `[in, out]`). */
  shape: number[];
  /** Values, length = product of shape. */
  data: Float32Array;
}

/** Parameter tensors by name (`layers.0.weight`, …), in the model's layer order. */
export type Params = Map<string, Tensor>;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
