/**
 * `snip`: single-shot network pruning at initialisation (Lee et al. 2019, "SNIP: Single-shot
 * Network Pruning based on Connection Sensitivity"): per parameter, the k% of connections whose
 * sensitivity |w · ∂L/∂w| at the *initial* weights is smallest, summed over training batches.
 * The mask is computed before training; `--rewind init` then trains the initial weights with it,
 * which is SNIP's recipe (other strategies apply the mask to the trained weights).
 *
 * @module
 */

import type { PruneMethod } from "./method.ts";
import { requireScorer } from "./taylor.ts";

/** Connection sensitivity at initialisation. */
export const snipPruning: PruneMethod = {
  name: "snip",
  description: "per parameter, the k% smallest |w·∂L/∂w| at initialisation (use --rewind init)",
  kind: "gradients",
  scoringCost: { passes: 1 },
  async scores(_model, prunable, _seed, context) {
    const s = requireScorer("snip", context?.scorer);
    return await s.taylor(await s.init(), prunable);
  },
};
