/**
 * `finetune-freeze`: prune once, then retrain only the layers that were not pruned (the output
 * layer by default) — how much a classifier on frozen pruned features recovers.
 *
 * @module
 */

import { finetuneStrategy, pruneAndFinetune } from "./finetune.ts";
import type { RecoveryStrategy } from "./strategy.ts";

/** Fine-tuning of the unpruned layers only. */
export const finetuneFreezeStrategy: RecoveryStrategy = {
  name: "finetune-freeze",
  description: "prune once, then train only the layers that were not pruned",
  flags: finetuneStrategy.flags,
  rowSettings: finetuneStrategy.rowSettings,
  recover: (ctx) => pruneAndFinetune(ctx, true),
};
