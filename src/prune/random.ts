/**
 * `random`: per layer, k% of the weights chosen uniformly at random (seeded) — the baseline
 * every pruning criterion must beat (Blalock et al. 2020).
 *
 * @module
 */

import type { PruneMethod } from "./method.ts";
import { onesMasks, prunableLayers } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";
import { createRng } from "../reference/random.ts";

/** Random pruning with a fixed per-layer random ranking (nested masks across k). */
export const randomPruning: PruneMethod = {
  name: "random",
  description: "per layer, k% of the weights chosen at random (baseline)",
  prepare(params, seed) {
    const rng = createRng(seed ^ 0x7a11d0);
    const layers = prunableLayers(params).map((l) => {
      const scores = new Float32Array(params.weights[l].length).map(() => rng());
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
