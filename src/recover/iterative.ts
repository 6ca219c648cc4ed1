/**
 * `iterative`: reach k through `--steps` rounds of prune → fine-tune, each round pruning a
 * constant fraction of what survives (sparsity 1 − (1 − k)^(s/S) after round s) and never
 * reviving a pruned weight (Han et al. 2015).
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { applyMasks, keepPruned, type Masks } from "../model/masks.ts";
import { pruneAndFinetune } from "./finetune.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryStrategy } from "./strategy.ts";
import { prepareMethod } from "../prune/prepare.ts";

/** Iterative pruning. */
export const iterativeStrategy: RecoveryStrategy = {
  name: "iterative",
  description: "--steps rounds of prune → fine-tune, a constant fraction of survivors each",
  flags: ["finetune-epochs", "finetune-lr", "steps"],
  rowSettings: (o) => ({
    finetuneEpochs: o.finetuneEpochs,
    recoveryLr: o.finetuneLr,
    steps: o.steps,
    rewind: "none",
  }),
  async recover(ctx) {
    if (ctx.k === 0) return pruneAndFinetune(ctx, false);
    const { steps, finetuneEpochs, finetuneLr } = ctx.options;
    const history: EpochRecord[] = [];
    let model = ctx.trained;
    let masks: Masks | undefined;
    let detail: Record<string, number> | undefined;
    for (let s = 1; s <= steps; s++) {
      const ks = 100 * (1 - Math.pow(1 - ctx.k / 100, s / steps));
      const prepared = s === 1 ? ctx.prepared : await prepareMethod(
        ctx.method,
        model,
        ctx.prunable,
        ctx.training.seed,
        ctx.prepareOptions,
      );
      const step = prepared.masks(ks);
      masks = keepPruned(step.masks, masks);
      detail = step.detail;
      model = await trainMasked(ctx, history, {
        start: applyMasks(model, masks),
        masks,
        epochs: Math.max(1, finetuneEpochs),
        lr: finetuneLr,
        label: `${ctx.method.name}@${ks.toFixed(1)}%`,
      });
    }
    return { model, masks: masks!, detail, history };
  },
};
