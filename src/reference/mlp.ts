/**
 * CPU reference of the whole MLP: forward pass, mean softmax cross-entropy and backward pass in
 * f64, the yardstick for the GPU training step (tests/backward_test.ts).
 *
 * @module
 */

import type { MlpParams } from "../model/mlp.ts";

/** Loss and gradients of one batch. */
export interface MlpGradients {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** dL/dW_l, [in, out] row-major. */
  weights: Float64Array[];
  /** dL/db_l, or null without biases. */
  biases: Float64Array[] | null;
}

/**
 * Forward and backward pass of `params` on x [rows, in] with integer labels.
 *
 * @example
 * ```ts
 * const g = mlpGradientsRef(params, x, labels, rows);
 * ```
 */
export function mlpGradientsRef(
  params: MlpParams,
  x: Float32Array,
  labels: ArrayLike<number>,
  rows: number,
): MlpGradients {
  const { sizes, weights, biases } = params;
  const L = weights.length;
  const acts: Float64Array[] = [Float64Array.from(x)];
  for (let l = 0; l < L; l++) {
    const [n, m] = [sizes[l], sizes[l + 1]];
    const out = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let s = biases ? biases[l][j] : 0;
        for (let i = 0; i < n; i++) s += acts[l][r * n + i] * weights[l][i * m + j];
        out[r * m + j] = l < L - 1 ? Math.max(0, s) : s;
      }
    }
    acts.push(out);
  }
  const classes = sizes[L];
  let dz = new Float64Array(rows * classes);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const row = acts[L].subarray(r * classes, (r + 1) * classes);
    const top = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - top);
    loss += Math.log(z) + top - row[labels[r]];
    for (let c = 0; c < classes; c++) {
      dz[r * classes + c] = (Math.exp(row[c] - top) / z - (c === labels[r] ? 1 : 0)) / rows;
    }
  }
  const gw: Float64Array[] = new Array(L);
  const gb: Float64Array[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const [n, m] = [sizes[l], sizes[l + 1]];
    gw[l] = new Float64Array(n * m);
    gb[l] = new Float64Array(m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        const g = dz[r * m + j];
        gb[l][j] += g;
        for (let i = 0; i < n; i++) gw[l][i * m + j] += acts[l][r * n + i] * g;
      }
    }
    if (l > 0) {
      const prev = new Float64Array(rows * n);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < n; i++) {
          if (acts[l][r * n + i] <= 0) continue;
          let s = 0;
          for (let j = 0; j < m; j++) s += dz[r * m + j] * weights[l][i * m + j];
          prev[r * n + i] = s;
        }
      }
      dz = prev;
    }
  }
  return { loss: loss / rows, weights: gw, biases: biases ? gb : null };
}
