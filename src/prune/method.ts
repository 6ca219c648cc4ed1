/**
 * The pruning-method interface and the helpers methods share. A method is prepared once per
 * network (scores computed and sorted), then asked for masks at each sparsity level k.
 *
 * @module
 */

import type { MlpParams } from "../model/mlp.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/** Masks for every layer ([in, out] 0/1, the output layer all ones) plus method details. */
export interface PruneResult {
  /** One keep-mask per layer. */
  masks: Float32Array[];
  /** Extra figure the method reports (e.g. the `std` method's s). */
  detail?: Record<string, number>;
}

/** A pruning method prepared for one network. */
export interface PreparedMethod {
  /** Masks that prune k percent (0 ≤ k < 100). */
  masks(k: number): PruneResult;
}

/** A pruning method: name, one-line description and preparation. */
export interface PruneMethod {
  /** Registry name, used by `--method`. */
  name: string;
  /** What the method zeroes. */
  description: string;
  /** Computes and sorts scores for `params`; `seed` drives random methods. */
  prepare(params: MlpParams, seed: number): PreparedMethod;
}

/** Indices of the prunable layers: every layer but the output layer. */
export function prunableLayers(params: MlpParams): number[] {
  return params.weights.slice(0, -1).map((_, l) => l);
}

/** Keep-all masks for every layer. */
export function onesMasks(params: MlpParams): Float32Array[] {
  return params.weights.map((w) => new Float32Array(w.length).fill(1));
}

/**
 * A method that scores every weight of each prunable layer and prunes exactly round(k%·n) of
 * them per layer, smallest scores first (shared by `weight` and `random`).
 */
export function prepareLayerwise(
  params: MlpParams,
  scoreOf: (w: Float32Array, layer: number) => Float32Array,
): PreparedMethod {
  const layers = prunableLayers(params).map((l) => {
    const scores = scoreOf(params.weights[l], l);
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
}
