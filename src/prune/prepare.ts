/**
 * Prepares a method for a model with an allocation: the one entry point the sweep and the
 * recovery strategies use. `uniform` keeps a method's own preparation (its own rule for each
 * layer); any other allocation takes the method's per-entry scores and spreads the sparsity by
 * src/prune/allocation.ts.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Model } from "../model/network.ts";
import { type Allocation, prepareAllocated } from "./allocation.ts";
import type { LoadedSensitivity } from "./sensitivity.ts";
import type { GradientScorer, PreparedMethod, PruneMethod } from "./method.ts";

/** Options of `prepareMethod`. */
export interface PrepareOptions {
  /** How sparsity is spread over the prunable tensors (default `uniform`). */
  allocation?: Allocation;
  /** Gradient scores on the GPU, for methods that need them. */
  scorer?: GradientScorer;
  /** The sparsity levels (percent) that will be asked for, for methods that prepare each. */
  levels?: readonly number[];
  /** The scan behind a `sensitivity:PATH` allocation. */
  sensitivity?: LoadedSensitivity;
  /** Scores accumulated by the training run in progress (movement pruning). */
  trainingScores?: Map<string, Float32Array>;
}

/** True when `method` takes `--allocation` (it scores entries one by one). */
export function takesAllocation(method: PruneMethod): boolean {
  return method.scores !== undefined;
}

/**
 * A `weights` or `pattern` method prepared by its own rule at every k, with no GPU; a method
 * scored from gradients or while training is a `UsageError` (it goes through `prepareMethod`).
 */
export function prepareFromWeights(
  method: PruneMethod,
  model: Model,
  prunable: readonly string[],
  seed: number,
): PreparedMethod {
  if (!method.prepare) {
    throw new UsageError(
      `${method.name} is scored from ${method.kind}, which needs the GPU; run it through deno task sweep`,
    );
  }
  return method.prepare(model, prunable, seed);
}

/**
 * The method prepared on `model` for every k. A structured method (no per-entry scores) with an
 * allocation other than `uniform` is a `UsageError`.
 */
export async function prepareMethod(
  method: PruneMethod,
  model: Model,
  prunable: readonly string[],
  seed: number,
  options: PrepareOptions = {},
): Promise<PreparedMethod> {
  const allocation = options.allocation ?? "uniform";
  if (method.prepareFor) {
    if (allocation !== "uniform") {
      throw new UsageError(`--allocation ${allocation}: ${method.name} allocates by its own rule`);
    }
    return method.prepareFor(model, prunable, seed, options);
  }
  if (allocation === "uniform" && method.prepare) {
    return method.prepare(model, prunable, seed);
  }
  if (!method.scores) {
    throw new UsageError(
      `--allocation ${allocation} needs a method that scores single weights; ` +
        `${method.name} allocates by its own rule (use --allocation uniform)`,
    );
  }
  const scores = await method.scores(model, prunable, seed, {
    scorer: options.scorer,
    trainingScores: options.trainingScores,
  });
  return prepareAllocated(
    prunable.map((name) => ({
      name,
      shape: [...model.params.get(name)!.shape],
      scores: scores.get(name)!,
    })),
    allocation,
    options.sensitivity,
  );
}
