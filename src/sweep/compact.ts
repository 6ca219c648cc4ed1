/**
 * Compaction: turns unit sparsity into a smaller dense network that computes the same function,
 * so pruned neurons cost nothing at inference (real speed, not just zeros).
 *
 * A hidden unit whose incoming weights are all zero outputs relu(b) — 0 without biases. It is
 * removed with its outgoing row of the next layer; with biases, its constant output relu(b_j) is
 * folded into the next layer's bias (b'_{l+1} = b_{l+1} + relu(b_j)·W_{l+1}[j, :]).
 *
 * @module
 */

import type { MlpParams } from "../model/mlp.ts";

/**
 * Removes dead hidden units (all-zero incoming columns) from already-masked parameters.
 *
 * @example
 * ```ts
 * const small = compactUnits(applyMasks(params, masks));
 * console.log(small.sizes); // e.g. [784, 300, 300, 150, 60, 10]
 * ```
 */
export function compactUnits(params: MlpParams): MlpParams {
  const L = params.weights.length;
  let weights = params.weights.map((w) => w.slice());
  let biases = params.biases ? params.biases.map((b) => b.slice()) : null;
  const sizes = [...params.sizes];
  for (let l = 0; l < L - 1; l++) {
    const [rows, cols] = [sizes[l], sizes[l + 1]];
    const w = weights[l];
    const alive: number[] = [];
    for (let c = 0; c < cols; c++) {
      let any = false;
      for (let r = 0; r < rows && !any; r++) any = w[r * cols + c] !== 0;
      if (any) alive.push(c);
    }
    if (alive.length === cols || alive.length === 0) continue;
    // Layer l: keep alive columns.
    const wl = new Float32Array(rows * alive.length);
    for (let r = 0; r < rows; r++) {
      alive.forEach((c, j) => (wl[r * alive.length + j] = w[r * cols + c]));
    }
    // Layer l+1: keep alive rows; fold dead units' constant outputs into its bias.
    const next = weights[l + 1];
    const nextCols = sizes[l + 2];
    const wn = new Float32Array(alive.length * nextCols);
    alive.forEach((c, j) => wn.set(next.subarray(c * nextCols, (c + 1) * nextCols), j * nextCols));
    if (biases) {
      const aliveSet = new Set(alive);
      for (let c = 0; c < cols; c++) {
        const out = Math.max(0, biases[l][c]);
        if (aliveSet.has(c) || out === 0) continue;
        for (let o = 0; o < nextCols; o++) biases[l + 1][o] += out * next[c * nextCols + o];
      }
      biases = biases.map((b, i) => (i === l ? Float32Array.from(alive, (c) => b[c]) : b));
    }
    weights = weights.map((x, i) => (i === l ? wl : i === l + 1 ? wn : x));
    sizes[l + 1] = alive.length;
  }
  return { sizes, weights, biases };
}
