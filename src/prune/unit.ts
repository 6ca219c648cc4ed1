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

/** L2 norm of each of `count` consecutive blocks of `w` (the filters of a conv weight). */
export function blockNorms(w: Float32Array, count: number): Float32Array {
  const size = w.length / count;
  return Float32Array.from({ length: count }, (_, f) => {
    let sq = 0;
    for (let i = f * size; i < (f + 1) * size; i++) sq += w[i] * w[i];
    return Math.sqrt(sq);
  });
}

/**
 * Unit (neuron) pruning by L2 norm. A unit is a column of a dense W [in, out] (one output unit),
 * a filter of a convolution weight [out, in, kh, kw] (its first axis, as PyTorch's
 * `ln_structured(dim=0)`; Li et al. 2017), or an entry of a 1-D parameter (a bias).
 */
export const unitPruning: PruneMethod = {
  name: "unit",
  kind: "weights",
  description: "per layer, the k% of units (columns of W, conv filters) with the smallest L2 norm",
  prepare(model, prunable) {
    const parts = prunableData(model, prunable).map(([name, w]) => {
      const shape = model.params.get(name)!.shape;
      const filters = shape.length === 4;
      // Units along the first axis (conv filters, contiguous blocks) or the last (dense columns).
      const cols = filters ? shape[0] : shape[shape.length - 1];
      const rows = w.length / cols;
      const scores = filters ? blockNorms(w, cols) : columnNorms(w, rows, cols);
      return { name, rows, cols, filters, scores, sorted: sortedScores(scores) };
    });
    return {
      masks(k) {
        const masks: Masks = new Map();
        for (const { name, rows, cols, filters, scores, sorted } of parts) {
          const keepUnit = pruneSmallest(scores, sorted, pruneCount(k, cols));
          const mask = new Float32Array(rows * cols);
          if (filters) keepUnit.forEach((keep, f) => mask.fill(keep, f * rows, (f + 1) * rows));
          else for (let r = 0; r < rows; r++) mask.set(keepUnit, r * cols);
          masks.set(name, mask);
        }
        return { masks };
      },
    };
  },
};
