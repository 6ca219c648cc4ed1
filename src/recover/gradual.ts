/**
 * `gradual`: raise sparsity from 0 to k while fine-tuning, along Zhu & Gupta's (2017, "To prune,
 * or not to prune") polynomial schedule over the first 75% of the steps with 20 mask updates,
 * then train the last 25% at k.
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { gradualPruner } from "../prune/gradual.ts";
import { finetuneStrategy, pruneAndFinetune } from "./finetune.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryStrategy } from "./strategy.ts";

/** Gradual pruning during fine-tuning. */
export const gradualStrategy: RecoveryStrategy = {
  name: "gradual",
  description: "raise sparsity to k during fine-tuning (Zhu & Gupta 2017 schedule)",
  flags: finetuneStrategy.flags,
  rowSettings: finetuneStrategy.rowSettings,
  async recover(ctx) {
    if (ctx.k === 0) return pruneAndFinetune(ctx, false);
    const epochs = Math.max(1, ctx.options.finetuneEpochs);
    const steps = epochs * Math.floor(ctx.data.train.count / ctx.training.batchSize);
    const end = Math.max(1, Math.floor(0.75 * steps));
    const pruner = gradualPruner(
      ctx.method,
      {
        kind: "polynomial",
        initial: 0,
        target: ctx.k / 100,
        begin: 0,
        end,
        frequency: Math.max(1, Math.floor(end / 20)),
      },
      ctx.training.seed,
      ctx.prunable,
      ctx.prepareOptions,
    );
    const history: EpochRecord[] = [];
    const model = await trainMasked(ctx, history, {
      start: ctx.trained,
      masks: new Map(),
      epochs,
      lr: ctx.options.finetuneLr,
      label: `${ctx.method.name}@${ctx.k}% gradual`,
      pruner,
    });
    return { model, masks: pruner.current() ?? new Map(), history };
  },
};
