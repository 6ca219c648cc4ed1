/**
 * `unit`: per layer, zero the k% of hidden units (neurons) whose incoming weights — a column of
 * W[in, out] — have the smallest L2 norm (unit/neuron pruning; see e.g. Li et al. 2017, "Pruning
 * Filters for Efficient ConvNets", for the norm criterion applied to whole units).
 *
 * @module
 */

import type { Masks } from "../model/masks.ts";
import { prunableData, type PruneMethod } from "./method.ts";
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

/**
 * Unit (neuron) pruning by L2 norm. A unit is an index of a parameter's last axis (a column of a
 * dense W[in, out], an output channel of a convolution); a 1-D parameter (a bias) has one entry
 * per unit.
 */
export const unitPruning: PruneMethod = {
  name: "unit",
  description: "per layer, the k% of units (columns of W) with the smallest L2 norm",
  prepare(model, prunable) {
    const parts = prunableData(model, prunable).map(([name, w]) => {
      const shape = model.params.get(name)!.shape;
      const cols = shape[shape.length - 1];
      const rows = w.length / cols;
      const scores = columnNorms(w, rows, cols);
      return { name, rows, cols, scores, sorted: sortedScores(scores) };
    });
    return {
      masks(k) {
        const masks: Masks = new Map();
        for (const { name, rows, cols, scores, sorted } of parts) {
          const keepUnit = pruneSmallest(scores, sorted, pruneCount(k, cols));
          const mask = new Float32Array(rows * cols);
          for (let r = 0; r < rows; r++) mask.set(keepUnit, r * cols);
          masks.set(name, mask);
        }
        return { masks };
      },
    };
  },
};
