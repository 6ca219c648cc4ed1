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

/**
 * Where a method's masks come from — the few kinds of pruning method (jaxpruner keeps score,
 * distribution, structure and schedule apart the same way):
 * - `weights`: scored from the trained weights alone (weight, global, unit, std, random);
 * - `gradients`: scored from loss gradients on the GPU through a `GradientScorer` (taylor, snip,
 *   synflow);
 * - `training`: scored while fine-tuning (movement), so only strategies that fine-tune run it;
 * - `pattern`: a fixed structure (N:M) whose one level is set by its parameter, not by `--k`.
 */
export type MethodKind = "weights" | "gradients" | "training" | "pattern";

/** A pruning method: its kind, what it declares about itself, and how its masks are made. */
export interface PruneMethod {
  /** Registry name, used by `--method` and in sweep.csv. */
  name: string;
  /** What the method zeroes. */
  description: string;
  /** Where its masks come from. */
  kind: MethodKind;
  /** A `pattern` method's one level in percent (its sweep has no `--k`). */
  fixedLevel?: number;
  /**
   * The recovery strategies it can run with, by name, and why (any strategy when absent), e.g.
   * movement's `{ names: ["finetune", "gradual"], because: "scores while fine-tuning" }`.
   */
  strategies?: { names: readonly string[]; because: string };
  /**
   * What scoring costs beyond reading the weights, for balancing sharded sweeps: gradient
   * `passes` over a batch set (each about one one-shot point) and training `epochs`.
   */
  scoringCost?: { passes?: number; epochs?: number };
  /**
   * A `weights` or `pattern` method's own rule at every k (uniform allocation): computes and
   * sorts scores of the `prunable` parameters of `model` (names, in layer order); `seed` drives
   * random methods. Methods without it are prepared from `scores` by `prepareMethod`.
   */
  prepare?(model: Model, prunable: readonly string[], seed: number): PreparedMethod;
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
   * prunable parameter's, by name. Structured methods (unit, std, N:M) have none.
   */
  scores?(
    model: Model,
    prunable: readonly string[],
    seed: number,
    context?: ScoreContext,
  ): Map<string, Float32Array> | Promise<Map<string, Float32Array>>;
}

/** True when the method's scores need the GPU and the data (gradient or training scores). */
export function scoredOnGpu(method: PruneMethod): boolean {
  return method.kind === "gradients" || method.kind === "training";
}

/**
 * A family of methods with one parameter (`--method nm --nm 2:4` is the member `nm2:4`): the
 * registry entry of `--method NAME`, whose flag `--NAME` chooses the member.
 */
export interface MethodFamily {
  /** The `--method` name, and the flag of its parameter. */
  name: string;
  /** What its members zero. */
  description: string;
  /** The parameter when its flag is not given. */
  defaultParameter: string;
  /** How the parameter is written in messages, e.g. `N:M`. */
  parameterForm: string;
  /** The member of a parameter value (a `UsageError` for a bad one). */
  member(parameter: string): PruneMethod;
  /** The member a sweep.csv name stands for, or undefined for names of other methods. */
  memberNamed(name: string): PruneMethod | undefined;
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
