/**
 * `movement`: movement pruning (Sanh et al. 2020, "Movement Pruning: Adaptive Sparsity by
 * Fine-Tuning"): a weight's score is −Σ_t w_t · ∂L/∂w_t over the steps of fine-tuning, large when
 * training moves it away from zero and small when training pulls it towards zero — first-order
 * information magnitude pruning lacks. The scores exist only while fine-tuning (accumulated on
 * the GPU by shaders/score_accumulate.wgsl), so the method runs with `--strategy finetune`
 * (fine-tune dense while scoring, prune, fine-tune with the mask) or `--schedule gradual` (the
 * paper's recipe: sparsity raised along the schedule from the scores so far).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { PruneMethod } from "./method.ts";

/** Movement pruning. */
export const movementPruning: PruneMethod = {
  name: "movement",
  description:
    "the smallest −Σ w·∂L/∂w accumulated while fine-tuning (--strategy finetune|gradual)",
  kind: "training",
  strategies: { names: ["finetune", "gradual"], because: "scores while fine-tuning" },
  // Its scores come from a dense fine-tuning before the masked one.
  scoringCost: { epochs: 1 },
  scores(_model, _prunable, _seed, context) {
    if (!context?.trainingScores) {
      throw new UsageError(
        "movement scores are accumulated while fine-tuning; use --strategy finetune or --schedule gradual",
      );
    }
    return context.trainingScores;
  },
};
