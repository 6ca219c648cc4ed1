/**
 * `taylor`: per parameter, the k% of weights with the smallest first-order Taylor score
 * |w · ∂L/∂w| summed over training batches of the trained model (Molchanov et al. 2019,
 * "Importance Estimation for Neural Network Pruning"): the loss change removing the weight
 * would cause, to first order. Scores come from real gradients on the GPU
 * (src/train/gradient_scores.ts); `--allocation` spreads the sparsity.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { GradientScorer, PruneMethod } from "./method.ts";

/** The scorer, or a one-line error naming the method that needed it. */
export function requireScorer(method: string, scorer: GradientScorer | undefined): GradientScorer {
  if (!scorer) {
    throw new UsageError(`${method} scores need loss gradients; run it through deno task sweep`);
  }
  return scorer;
}

/** First-order Taylor pruning. */
export const taylorPruning: PruneMethod = {
  name: "taylor",
  description: "per parameter, the k% smallest |w·∂L/∂w| summed over --score-batches batches",
  kind: "gradients",
  scoringCost: { passes: 1 },
  scores: (model, prunable, _seed, context) =>
    requireScorer("taylor", context?.scorer).taylor(model, prunable),
};
