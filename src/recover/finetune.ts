/**
 * `finetune`: prune once, then train with the mask for `--finetune-epochs` at `--finetune-lr`
 * (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural Networks").
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { applyMasks } from "../model/masks.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryContext, RecoveryResult, RecoveryStrategy } from "./strategy.ts";

/** Prunes and fine-tunes; `freezePruned` trains only the layers without pruned parameters. */
export async function pruneAndFinetune(
  ctx: RecoveryContext,
  freezePruned: boolean,
): Promise<RecoveryResult> {
  const { masks, detail } = ctx.prepared.masks(ctx.k);
  const history: EpochRecord[] = [];
  const model = await trainMasked(ctx, history, {
    start: applyMasks(ctx.trained, masks),
    masks,
    epochs: ctx.options.finetuneEpochs,
    lr: ctx.options.finetuneLr,
    label: `${ctx.method.name}@${ctx.k}% finetune`,
    freezePruned,
  });
  return { model, masks, detail, history };
}

/** Masked fine-tuning. */
export const finetuneStrategy: RecoveryStrategy = {
  name: "finetune",
  description: "prune once, then train with the mask (--finetune-epochs, --finetune-lr)",
  flags: ["finetune-epochs", "finetune-lr"],
  rowSettings: (o) => ({
    finetuneEpochs: o.finetuneEpochs,
    recoveryLr: o.finetuneLr,
    steps: 0,
    rewind: "none",
  }),
  recover: (ctx) => pruneAndFinetune(ctx, false),
};
