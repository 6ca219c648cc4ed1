/**
 * Training with a mask, shared by the strategies that retrain: the masked Adam keeps pruned
 * weights and their moments at exactly 0, the best validation epoch is kept (unless masks change
 * during the run), and every epoch's record is appended to the point's history.
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { paramInfos } from "../model/network.ts";
import type { GradualPruner } from "../prune/gradual.ts";
import { type EpochRecord, trainModel } from "../train/trainer.ts";
import type { RecoveryContext } from "./strategy.ts";
import type { ScoreMode } from "../kernels/scores.ts";

/** Options of one masked training run. */
export interface MaskedRun {
  /** Starting model. */
  start: Model;
  /** Masks held fixed (or the starting masks of a gradual pruner). */
  masks: Masks;
  /** Epochs (nothing happens for 0). */
  epochs: number;
  /** Adam learning rate. */
  lr: number;
  /** Progress label. */
  label: string;
  /** Changes masks during training (gradual pruning). */
  pruner?: GradualPruner;
  /** Update only the layers without a prunable parameter. */
  freezePruned?: boolean;
  /**
   * Dynamic network surgery: the prunable parameters keep training underneath their masks (see
   * `GpuNetworkOptions.surgery`); the model returned is their dense copy.
   */
  surgery?: boolean;
  /** Scores to accumulate over the run (movement pruning's −w ⊙ g), returned with the model. */
  scored?: { names: readonly string[]; mode: ScoreMode };
}

/**
 * Trains `run.start` with its masks and appends the epochs to `history`; each run draws its own
 * shuffles (seed + 1 + epochs so far), so rounds of one point never repeat an order.
 */
export async function trainMasked(
  ctx: RecoveryContext,
  history: EpochRecord[],
  run: MaskedRun,
): Promise<Model> {
  return (await trainMaskedScored(ctx, history, run)).model;
}

/** `trainMasked`, also returning the scores of `run.scored` (or of the pruner's). */
export async function trainMaskedScored(
  ctx: RecoveryContext,
  history: EpochRecord[],
  run: MaskedRun,
): Promise<{ model: Model; scores?: Map<string, Float32Array> }> {
  if (run.epochs <= 0) return { model: run.start };
  let frozen: Set<string> | undefined;
  if (run.freezePruned) {
    const infos = paramInfos(run.start.spec);
    const prunedGroups = new Set(
      infos.filter((p) => ctx.prunable.includes(p.name)).map((p) => p.group),
    );
    frozen = new Set(infos.filter((p) => prunedGroups.has(p.group)).map((p) => p.name));
  }
  const outcome = await trainModel(ctx.gpu, {
    model: run.start,
    train: ctx.data.train,
    valid: ctx.data.valid,
    epochs: run.epochs,
    batchSize: ctx.training.batchSize,
    adam: { lr: run.lr },
    seed: ctx.training.seed + 1 + history.length,
    keepBest: !run.pruner,
    masks: run.masks,
    frozen,
    maskSchedule: run.pruner,
    scored: run.scored ?? run.pruner?.scored,
    surgery: run.surgery ? new Set(ctx.prunable) : undefined,
    label: run.label,
    progress: ctx.progress,
    log: ctx.log,
  });
  history.push(...outcome.history.map((r) => ({ ...r, epoch: history.length + r.epoch })));
  return { model: outcome.model, scores: outcome.scores };
}
