/**
 * `std`: Deep Compression's rule (Han et al. 2016, "Deep Compression"; the threshold of
 * `prune_by_std`): in every layer, zero |w| < s·std(W_layer), with one sensitivity s shared by all
 * prunable layers. The sweep maps each k to the s at which k% of the prunable weights fall below
 * the threshold, and reports that s; `--std-sensitivity s` goes the other way, pruning exactly
 * what `prune_by_std(s)` prunes.
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import { prunableData, type PruneMethod } from "./method.ts";
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

/** |w| / std(W) per entry, in f32 as the method scores it. */
function stdScores(w: Float32Array): Float32Array {
  const std = stdOf(w) || 1;
  return w.map((x) => Math.abs(x) / std);
}

/**
 * The k (percent of the prunable weights) that `prune_by_std(s)` prunes: the share of entries
 * with |w| < s·std(W) of their own parameter. `std`'s masks at this k are exactly that rule's.
 *
 * @example
 * ```ts
 * const k = kForSensitivity(model, prunableParams(model.spec, "layers.3.weight,layers.4.weight"), 1.8);
 * ```
 */
export function kForSensitivity(model: Model, prunable: readonly string[], s: number): number {
  let below = 0;
  let total = 0;
  for (const [, w] of prunableData(model, prunable)) {
    for (const score of stdScores(w)) if (score < s) below++;
    total += w.length;
  }
  return (100 * below) / total;
}

/** Deep Compression's s·std threshold pruning. */
export const stdPruning: PruneMethod = {
  name: "std",
  kind: "weights",
  description: "|w| < s·std(W) per parameter, one s for all chosen to reach k%",
  prepare(model, prunable) {
    const global = prepareGlobal(model, prunable, stdScores);
    return {
      masks(k) {
        return { ...global.masks(k), detail: { s: global.threshold(k) } };
      },
    };
  },
};
