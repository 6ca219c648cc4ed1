/**
 * Prune: each method's preparation (scores, thresholds, the allocation over layers) made once per
 * sweep from the trained model and reused for every level; a point's masks come from it in the
 * recover stage, which prunes and recovers together.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import { getPruneMethod } from "../../prune/registry.ts";
import type { PreparedMethod, PruneMethod } from "../../prune/method.ts";
import { prepareMethod, type PrepareOptions } from "../../prune/prepare.ts";
import type { SweepJob } from "../job.ts";

/** The preparation of a method scored while fine-tuning: the strategy prepares it itself. */
function duringTraining(method: string): PreparedMethod {
  return {
    masks() {
      throw new UsageError(
        `${method} scores are accumulated while fine-tuning; use --strategy finetune or --schedule gradual`,
      );
    },
  };
}

/** The allocation, gradient scorer and sensitivity scan a job prepares its methods with. */
export function prepareOptionsOf(job: SweepJob): PrepareOptions {
  return { allocation: job.allocation, scorer: job.scorer, sensitivity: job.sensitivity };
}

/** Prepared methods of one sweep, each made on first use. */
export class Preparations {
  readonly #job: SweepJob;
  readonly #levels: (method: string) => number[];
  readonly #prepared = new Map<string, PreparedMethod>();

  /** `levels(method)`: the levels this run computes with `method` (what a scan needs). */
  constructor(job: SweepJob, levels: (method: string) => number[]) {
    this.#job = job;
    this.#levels = levels;
  }

  /** The method and its preparation. */
  async of(method: string): Promise<{ method: PruneMethod; prepared: PreparedMethod }> {
    const pruneMethod = getPruneMethod(method);
    let prepared = this.#prepared.get(method);
    if (!prepared) {
      const job = this.#job;
      prepared = pruneMethod.kind === "training"
        ? duringTraining(method)
        : await prepareMethod(pruneMethod, job.trained, job.prunable, job.training.seed, {
          ...prepareOptionsOf(job),
          levels: this.#levels(method),
        });
      this.#prepared.set(method, prepared);
    }
    return { method: pruneMethod, prepared };
  }
}
