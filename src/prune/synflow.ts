/**
 * `synflow`: data-free pruning at initialisation by iterative synaptic flow (Tanaka et al. 2020,
 * "Pruning neural networks without any data by iteratively conserving synaptic flow"). Each round
 * scores every prunable weight |θ ⊙ ∂R/∂θ|, R = 1ᵀ(Π_l |W_l|)1 — the network with every
 * parameter replaced by its magnitude, on one all-ones input, computed on the GPU
 * (src/train/gradient_scores.ts) — and prunes globally to the round's density; over 100 rounds
 * the density falls exponentially, d_r = d^(r/100), to the target d = 1 − k. Re-scoring after
 * each round is what keeps a layer from being cut off entirely (layer collapse), which
 * single-shot scores at initialisation suffer. The mask comes from the initial weights;
 * `--rewind init` then trains them with it.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Masks } from "../model/masks.ts";
import type { Model } from "../model/network.ts";
import type { GradientScorer, PreparedMethod, PruneMethod } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";
import { requireScorer } from "./taylor.ts";

/** Rounds of the exponential schedule (the paper's 100). */
export const SYNFLOW_ROUNDS = 100;

/**
 * SynFlow's masks of `model` at sparsity `k` (percent), global over the `prunable` parameters,
 * after `rounds` rounds.
 */
export async function synflowMasks(
  scorer: GradientScorer,
  model: Model,
  prunable: readonly string[],
  k: number,
  rounds = SYNFLOW_ROUNDS,
): Promise<Masks> {
  let masks: Masks = new Map(
    prunable.map((name) => [name, new Float32Array(model.params.get(name)!.data.length).fill(1)]),
  );
  if (k <= 0) return masks;
  const total = prunable.reduce((n, name) => n + model.params.get(name)!.data.length, 0);
  try {
    for (let r = 1; r <= rounds; r++) {
      masks = await synflowRound(
        scorer,
        model,
        prunable,
        masks,
        total,
        Math.pow(1 - k / 100, r / rounds),
      );
    }
  } finally {
    scorer.release?.();
  }
  return masks;
}

/** One round: scores with `masks`, then the global smallest pruned to `density`. */
async function synflowRound(
  scorer: GradientScorer,
  model: Model,
  prunable: readonly string[],
  masks: Masks,
  total: number,
  density: number,
): Promise<Masks> {
  const scores = await scorer.synflow(model, prunable, masks);
  const all = new Float32Array(total);
  let at = 0;
  for (const name of prunable) {
    // Pruned weights score 0 (their |θ| is masked), so they stay pruned.
    all.set(scores.get(name)!, at);
    at += scores.get(name)!.length;
  }
  const keep = pruneSmallest(all, sortedScores(all), pruneCount(100 * (1 - density), total));
  const next: Masks = new Map();
  at = 0;
  for (const name of prunable) {
    const n = model.params.get(name)!.data.length;
    next.set(name, keep.slice(at, at + n));
    at += n;
  }
  return next;
}

/** SynFlow at initialisation. */
export const synflowPruning: PruneMethod = {
  name: "synflow",
  description: "data-free, at initialisation: 100 rounds of global |θ·∂R/∂θ| (use --rewind init)",
  kind: "gradients",
  // 100 rounds of one data-free forward and backward pass each, measured at about 20 points.
  scoringCost: { passes: 20 },
  async prepareFor(_model, prunable, _seed, options): Promise<PreparedMethod> {
    const scorer = requireScorer("synflow", options.scorer);
    const init = await scorer.init();
    const byLevel = new Map<number, Masks>();
    for (const k of options.levels ?? []) {
      byLevel.set(k, await synflowMasks(scorer, init, prunable, k));
    }
    return {
      masks(k) {
        const masks = byLevel.get(k);
        if (!masks) {
          throw new UsageError(
            `synflow prepares the sweep's levels only (not ${k}%); use a strategy that prunes once`,
          );
        }
        return { masks };
      },
    };
  },
};
