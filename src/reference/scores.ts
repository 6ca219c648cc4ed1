/**
 * Test oracle of shaders/score_accumulate.wgsl, from its definition.
 *
 * @module
 */

/** score + |w ⊙ grad|, in f64. */
export function scoreAccumulateRef(
  score: Float32Array,
  w: Float32Array,
  grad: Float32Array,
): Float64Array {
  return Float64Array.from(score, (s, i) => s + Math.abs(w[i] * grad[i]));
}

/** score − w ⊙ grad (movement), in f64. */
export function movementAccumulateRef(
  score: Float32Array,
  w: Float32Array,
  grad: Float32Array,
): Float64Array {
  return Float64Array.from(score, (s, i) => s - w[i] * grad[i]);
}
