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

/** The typed arrays a tensor's entries may be held in. */
type Entries = Float32Array | Int32Array | Int8Array;

/**
 * A parameter's entries in output-major order, one row per output unit (PyTorch's layout): a
 * dense weight `[in, out]` transposed to `[out, in]`; a convolution's `[out, in, kh, kw]` and
 * every other shape are that already and come back as they are (not copied).
 */
export function outputMajor<T extends Entries>(data: T, shape: readonly number[]): T {
  if (shape.length !== 2) return data;
  const [inputs, outputs] = shape;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  for (let i = 0; i < inputs; i++) {
    for (let j = 0; j < outputs; j++) out[j * inputs + i] = data[i * outputs + j];
  }
  return out;
}

/** The inverse of `outputMajor`: output-major entries back in the parameter's own layout. */
export function fromOutputMajor<T extends Entries>(data: T, shape: readonly number[]): T {
  return shape.length === 2 ? outputMajor(data, [shape[1], shape[0]]) : data;
}
