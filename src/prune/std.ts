/**
 * `std`: Deep Compression's rule (Han et al. 2016, "Deep Compression"; the threshold of
 * `prune_by_std`): in every layer, zero |w| < s·std(W_layer), with one sensitivity s shared by all
 * prunable layers. The sweep maps each k to the s at which k% of the prunable weights fall below
 * the threshold, and reports that s.
 *
 * @module
 */

import type { PruneMethod } from "./method.ts";
import { prepareGlobal } from "./global.ts";

/** Standard deviation of a layer's weights. */
export function stdOf(w: Float32Array): number {
  let mean = 0;
  for (const x of w) mean += x;
  mean /= w.length;
  let v = 0;
  for (const x of w) v += (x - mean) ** 2;
  return Math.sqrt(v / w.length);
}

/** Deep Compression's s·std threshold pruning. */
export const stdPruning: PruneMethod = {
  name: "std",
  description: "|w| < s·std(W) per parameter, one s for all chosen to reach k%",
  prepare(model, prunable) {
    const global = prepareGlobal(model, prunable, (w) => {
      const std = stdOf(w) || 1;
      return w.map((x) => Math.abs(x) / std);
    });
    return {
      masks(k) {
        return { ...global.masks(k), detail: { s: global.threshold(k) } };
      },
    };
  },
};
