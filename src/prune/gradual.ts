/**
 * Gradual pruning during training (Zhu & Gupta 2017): every `frequency` steps the method's masks
 * are recomputed from the current weights at the schedule's sparsity, never reviving an entry
 * pruned earlier in the run; the masked Adam kernel keeps pruned weights at exactly 0 between
 * updates.
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import { keepPruned, type Masks } from "../model/masks.ts";
import type { PruneMethod } from "./method.ts";
import { prepareMethod, type PrepareOptions } from "./prepare.ts";
import { type ScheduleConfig, sparsityAt } from "./schedule.ts";

/** A mask schedule for `trainModel`, plus access to the latest masks. */
export interface GradualPruner {
  /** Steps between mask updates. */
  everySteps: number;
  /**
   * Called by the training loop at every `everySteps`-th global step, with the model and the
   * scores the run accumulates (movement pruning's).
   */
  update: (
    step: number,
    model: () => Promise<Model>,
    scores?: () => Promise<Map<string, Float32Array>>,
  ) => Promise<Masks | undefined>;
  /** The method's training scores, when it needs them (`movement`). */
  scored?: { names: readonly string[]; mode: "movement" };
  /** The masks in force (undefined before the first update). */
  current(): Masks | undefined;
  /** Sparsity (fraction) of the last update. */
  lastSparsity(): number;
}

/**
 * Builds a gradual pruner for `method` following `schedule`, pruning the `prunable` parameters.
 *
 * @example
 * ```ts
 * const pruner = gradualPruner(weightPruning, { kind: "polynomial", initial: 0, target: 0.95,
 *   begin: 0, end: 3000, frequency: 100 }, 0, ["layers.0.weight"]);
 * ```
 */
export function gradualPruner(
  method: PruneMethod,
  schedule: ScheduleConfig,
  seed: number,
  prunable: readonly string[],
  options: PrepareOptions = {},
): GradualPruner {
  let masks: Masks | undefined;
  let last = 0;
  return {
    everySteps: schedule.frequency,
    async update(step, model, scores) {
      const s = sparsityAt(schedule, step);
      if (s === undefined || (masks && s <= last)) return undefined;
      const current = await model();
      const trainingScores = method.kind === "training" && scores ? await scores() : undefined;
      const prepared = await prepareMethod(method, current, prunable, seed, {
        ...options,
        trainingScores,
      });
      masks = keepPruned(prepared.masks(s * 100).masks, masks);
      last = s;
      return masks;
    },
    scored: method.kind === "training" ? { names: prunable, mode: "movement" } : undefined,
    current: () => masks,
    lastSparsity: () => last,
  };
}
