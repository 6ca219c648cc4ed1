/**
 * The pruning-method interface and the helpers methods share. A method is prepared once per
 * model (scores of the prunable parameters computed and sorted), then asked for masks at each
 * sparsity level k.
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/** Masks of the prunable parameters (others are kept whole) plus method details. */
export interface PruneResult {
  /** One keep-mask per prunable parameter, by name. */
  masks: Masks;
  /** Extra figure the method reports (e.g. the `std` method's s). */
  detail?: Record<string, number>;
}

/** A pruning method prepared for one model. */
export interface PreparedMethod {
  /** Masks that prune k percent (0 ≤ k < 100). */
  masks(k: number): PruneResult;
}

/**
 * What gradient-based scores need from the layers above (the GPU network lives in src/train/,
 * src/train/gradient_scores.ts): loss gradients over training batches, and the network's
 * initial weights for methods that score at initialisation.
 */
export interface GradientScorer {
  /**
   * Σ |w ⊙ ∂L/∂w| (first-order Taylor) of the prunable parameters of `model`, by name, summed
   * over the scorer's batches of the training split.
   */
  taylor(model: Model, prunable: readonly string[]): Promise<Map<string, Float32Array>>;
  /**
   * SynFlow's scores of one round (Tanaka et al. 2020): |θ ⊙ ∂R/∂θ| of the prunable parameters
   * with R = Σ of the logits of the network with every parameter replaced by |θ| (masked by
   * `masks`), on one all-ones input: no data.
   */
  synflow(
    model: Model,
    prunable: readonly string[],
    masks: Masks,
  ): Promise<Map<string, Float32Array>>;
  /** Frees what repeated `synflow` rounds keep between calls (optional). */
  release?(): void;
  /** The experiment's initial weights (before training). */
  init(): Promise<Model>;
}

/** What scores may draw on besides the weights. */
export interface ScoreContext {
  /** Gradient scores on the GPU. */
  scorer?: GradientScorer;
  /** Scores accumulated by the training run in progress (−w ⊙ g for movement pruning). */
  trainingScores?: Map<string, Float32Array>;
}

/** A pruning method: name, one-line description and preparation. */
export interface PruneMethod {
  /** Registry name, used by `--method`. */
  name: string;
  /** What the method zeroes. */
  description: string;
  /**
   * Computes and sorts scores of the `prunable` parameters of `model` (names, in layer order);
   * `seed` drives random methods. A method whose scores need gradients (`needsGradients`) cannot
   * prepare from the weights alone and throws: it is prepared through `prepareMethod` with a
   * scorer.
   */
  prepare(model: Model, prunable: readonly string[], seed: number): PreparedMethod;
  /** True when its scores come from loss gradients on the GPU (a `GradientScorer`). */
  needsGradients?: boolean;
  /**
   * What scoring costs beyond reading the weights, for balancing sharded sweeps: gradient
   * `passes` over a batch set (each about one one-shot point) and training `epochs`.
   */
  scoringCost?: { passes?: number; epochs?: number };
  /**
   * Preparation that needs the GPU and the sparsity levels up front (a method whose masks at
   * each k come from their own iterative schedule, e.g. SynFlow); `prepareMethod` prefers it.
   */
  prepareFor?(
    model: Model,
    prunable: readonly string[],
    seed: number,
    options: { scorer?: GradientScorer; levels?: readonly number[] },
  ): Promise<PreparedMethod>;
  /**
   * Per-entry scores (higher = keep) of an unstructured method, for `--allocation`: every
   * prunable parameter's, by name. Structured methods (unit, std) have none.
   */
  scores?(
    model: Model,
    prunable: readonly string[],
    seed: number,
    context?: ScoreContext,
  ): Map<string, Float32Array> | Promise<Map<string, Float32Array>>;
  /**
   * True when its scores are accumulated while fine-tuning (movement): only strategies that
   * fine-tune can prune with it, passing `ScoreContext.trainingScores`.
   */
  needsTrainingScores?: boolean;
}

/** The data of each prunable parameter, in order. */
export function prunableData(model: Model, prunable: readonly string[]): [string, Float32Array][] {
  return prunable.map((name) => {
    const t = model.params.get(name);
    if (!t) throw new Error(`prune: the model has no parameter ${name}`);
    return [name, t.data];
  });
}

/**
 * A method that scores every entry of each prunable parameter and prunes exactly round(k%·n) of
 * them per parameter, smallest scores first (shared by `weight` and `random`).
 */
export function prepareLayerwise(
  model: Model,
  prunable: readonly string[],
  scoreOf: (w: Float32Array, name: string) => Float32Array,
): PreparedMethod {
  const parts = prunableData(model, prunable).map(([name, w]) => {
    const scores = scoreOf(w, name);
    return { name, scores, sorted: sortedScores(scores) };
  });
  return {
    masks(k) {
      const masks: Masks = new Map();
      for (const { name, scores, sorted } of parts) {
        masks.set(name, pruneSmallest(scores, sorted, pruneCount(k, scores.length)));
      }
      return { masks };
    },
  };
}
