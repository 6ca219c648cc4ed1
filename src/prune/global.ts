/**
 * `global`: one magnitude threshold across all prunable parameters together, so layers lose
 * different fractions (global magnitude pruning, as compared in Blalock et al. 2020, "What is the
 * State of Neural Network Pruning?").
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { type PreparedMethod, prunableData, type PruneMethod } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";

/**
 * Prunes the smallest scores over every part jointly: one threshold for all (ties break by part
 * order, then index); `threshold(k)` is that score at k.
 */
export function prepareJoint(
  parts: { name: string; scores: Float32Array }[],
): PreparedMethod & { threshold(k: number): number } {
  const total = parts.reduce((n, p) => n + p.scores.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p.scores, at);
    at += p.scores.length;
  }
  const sorted = sortedScores(all);
  return {
    threshold(k) {
      const count = pruneCount(k, total);
      return count > 0 ? sorted[count - 1] : 0;
    },
    masks(k) {
      const keep = pruneSmallest(all, sorted, pruneCount(k, total));
      const masks: Masks = new Map();
      let offset = 0;
      for (const p of parts) {
        masks.set(p.name, keep.slice(offset, offset + p.scores.length));
        offset += p.scores.length;
      }
      return { masks };
    },
  };
}

/**
 * Prunes the smallest `scoreOf` values over all prunable parameters jointly; shared by `global`
 * (|w|) and `std` (|w| / std of the parameter).
 */
export function prepareGlobal(
  model: Model,
  prunable: readonly string[],
  scoreOf: (w: Float32Array, name: string) => Float32Array,
): PreparedMethod & { threshold(k: number): number } {
  return prepareJoint(
    prunableData(model, prunable).map(([name, w]) => ({ name, scores: scoreOf(w, name) })),
  );
}

/** Global magnitude pruning. */
export const globalPruning: PruneMethod = {
  name: "global",
  kind: "weights",
  description: "the k% smallest |w| over all prunable parameters together",
  prepare: (model, prunable) => prepareGlobal(model, prunable, (w) => w.map(Math.abs)),
};
