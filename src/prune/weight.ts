/**
 * `weight`: per layer, zero the k% of weights with the smallest magnitude |w| (magnitude pruning,
 * Han et al. 2015, "Learning both Weights and Connections for Efficient Neural Networks").
 *
 * @module
 */

import type { PruneMethod } from "./method.ts";
import { onesMasks, prunableLayers } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/** Layer-wise magnitude pruning. */
export const weightPruning: PruneMethod = {
  name: "weight",
  description: "per layer, the k% of weights with the smallest |w|",
  prepare(params) {
    const layers = prunableLayers(params).map((l) => {
      const scores = params.weights[l].map(Math.abs);
      return { l, scores, sorted: sortedScores(scores) };
    });
    return {
      masks(k) {
        const masks = onesMasks(params);
        for (const { l, scores, sorted } of layers) {
          masks[l] = pruneSmallest(scores, sorted, pruneCount(k, scores.length));
        }
        return { masks };
      },
    };
  },
};
