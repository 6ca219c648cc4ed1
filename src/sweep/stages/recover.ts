/**
 * Recover: the point's method prunes the trained model to k and its recovery strategy
 * (src/recover/) brings accuracy back — one shot, fine-tuning, iterative, gradual, surgery,
 * rewinding. Returns the recovered model with its masks applied.
 *
 * @module
 */

import type { GpuContext } from "../../gpu/device.ts";
import { applyMasks } from "../../model/masks.ts";
import type { Model } from "../../model/network.ts";
import { getStrategy } from "../../recover/registry.ts";
import type { RecoveryResult } from "../../recover/strategy.ts";
import { SILENT_PROGRESS } from "../../util/progress.ts";
import type { SweepJob } from "../job.ts";
import { type Preparations, prepareOptionsOf } from "./prune.ts";

/** A recovered point: the strategy's result and its model with the masks applied. */
export interface Recovered extends RecoveryResult {
  /** `model` ⊙ `masks`: pruned entries exactly 0. */
  pruned: Model;
}

/** Prunes with `method` at `k` and recovers by the job's strategy. */
export async function recoverPoint(
  gpu: GpuContext,
  job: SweepJob,
  preparations: Preparations,
  method: string,
  k: number,
): Promise<Recovered> {
  const { method: pruneMethod, prepared } = await preparations.of(method);
  const progressOf = job.progress ?? SILENT_PROGRESS;
  const result = await getStrategy(job.recovery.strategy).recover({
    gpu,
    trained: job.trained,
    prunable: job.prunable,
    method: pruneMethod,
    prepared,
    prepareOptions: prepareOptionsOf(job),
    k,
    data: job.data,
    options: job.recovery,
    training: job.training,
    snapshot: job.snapshot,
    progress: job.verbose ? progressOf : SILENT_PROGRESS,
    log: job.verbose ? job.log : undefined,
  });
  return { ...result, pruned: applyMasks(result.model, result.masks) };
}
