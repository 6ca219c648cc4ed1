/**
 * `unit`: per layer, zero the k% of hidden units (neurons) whose incoming weights — a column of
 * W[in, out] — have the smallest L2 norm (unit/neuron pruning; see e.g. Li et al. 2017, "Pruning
 * Filters for Efficient ConvNets", for the norm criterion applied to whole units).
 *
 * @module
 */

import type { PruneMethod } from "./method.ts";
import { onesMasks, prunableLayers } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/** L2 norm of each column of W [rows, cols] (row-major). */
export function columnNorms(w: Float32Array, rows: number, cols: number): Float32Array {
  const sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) sq[c] += w[base + c] * w[base + c];
  }
  return Float32Array.from(sq, Math.sqrt);
}

/** Unit (neuron) pruning by L2 norm. */
export const unitPruning: PruneMethod = {
  name: "unit",
  description: "per layer, the k% of units (columns of W) with the smallest L2 norm",
  prepare(params) {
    const layers = prunableLayers(params).map((l) => {
      const [rows, cols] = [params.sizes[l], params.sizes[l + 1]];
      const scores = columnNorms(params.weights[l], rows, cols);
      return { l, rows, cols, scores, sorted: sortedScores(scores) };
    });
    return {
      masks(k) {
        const masks = onesMasks(params);
        for (const { l, rows, cols, scores, sorted } of layers) {
          const keepUnit = pruneSmallest(scores, sorted, pruneCount(k, cols));
          const mask = masks[l];
          for (let r = 0; r < rows; r++) {
            mask.set(keepUnit, r * cols);
          }
        }
        return { masks };
      },
    };
  },
};
