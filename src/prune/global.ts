/**
 * `global`: one magnitude threshold across all prunable layers together, so layers lose
 * different fractions (global magnitude pruning, as compared in Blalock et al. 2020, "What is the
 * State of Neural Network Pruning?").
 *
 * @module
 */

import type { MlpParams } from "../model/mlp.ts";
import type { PreparedMethod, PruneMethod } from "./method.ts";
import { onesMasks, prunableLayers } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/**
 * Prunes the smallest `scoreOf` values over all prunable layers jointly; shared by `global`
 * (|w|) and `std` (|w| / std of the layer). Ties break by layer, then index.
 */
export function prepareGlobal(
  params: MlpParams,
  scoreOf: (w: Float32Array, layer: number) => Float32Array,
): PreparedMethod & { threshold(k: number): number } {
  const layers = prunableLayers(params);
  const parts = layers.map((l) => scoreOf(params.weights[l], l));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const sorted = sortedScores(all);
  return {
    threshold(k) {
      const count = pruneCount(k, total);
      return count > 0 ? sorted[count - 1] : 0;
    },
    masks(k) {
      const keep = pruneSmallest(all, sorted, pruneCount(k, total));
      const masks = onesMasks(params);
      let offset = 0;
      layers.forEach((l, i) => {
        masks[l] = keep.slice(offset, offset + parts[i].length);
        offset += parts[i].length;
      });
      return { masks };
    },
  };
}

/** Global magnitude pruning. */
export const globalPruning: PruneMethod = {
  name: "global",
  description: "the k% smallest |w| over all prunable layers together",
  prepare: (params) => prepareGlobal(params, (w) => w.map(Math.abs)),
};
