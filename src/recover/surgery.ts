/**
 * `surgery`: dynamic network surgery (Guo et al. 2016, "Dynamic Network Surgery for Efficient
 * DNNs", the splicing step of the Deep Compression walkthrough): prune once, then fine-tune with
 * every weight — pruned ones too — still learning underneath the mask (the forward pass uses the
 * masked weights; the gradient updates a dense copy). Fifteen times over the first three quarters
 * of fine-tuning each layer's mask is revised from the dense copy with two thresholds around the magnitude t that
 * keeps the layer at k: a weight below 0.9·t is pruned, one above 1.1·t is spliced back, and one
 * between keeps its state. A structured method (unit, std, N:M) is instead prepared again on the
 * dense copy at each revision, so whole units come back. At three quarters the mask becomes the
 * method's own masks at k on the dense copy and the last quarter trains it unchanged, so the row
 * compares with the others at its k; `detail` reports how many entries pruned at the start were
 * revived at the end.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { EpochRecord } from "../train/trainer.ts";
import type { GradualPruner } from "../prune/gradual.ts";
import { prepareMethod } from "../prune/prepare.ts";
import { scoredOnGpu } from "../prune/method.ts";
import { pruneCount, sortedScores } from "../prune/select.ts";
import { finetuneStrategy, pruneAndFinetune } from "./finetune.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryStrategy } from "./strategy.ts";

/** Mask revisions over the run's first `SETTLE` share of steps. */
const REVISIONS = 15;
/** Share of the steps after which the mask is final (exactly k) and trains unchanged. */
const SETTLE = 0.75;

/** The magnitude below which k% of `w`'s entries lie. */
function thresholdAt(w: Float32Array, k: number): number {
  const sorted = sortedScores(w.map(Math.abs));
  const count = pruneCount(k, w.length);
  return count > 0 ? sorted[count - 1] : 0;
}

/** A mask revised by the two thresholds 0.9·t and 1.1·t (Guo et al.'s a_k and b_k). */
export function reviseMask(w: Float32Array, mask: Float32Array, k: number): Float32Array {
  const t = thresholdAt(w, k);
  return mask.map((m, i) => {
    const a = Math.abs(w[i]);
    return a < 0.9 * t ? 0 : a > 1.1 * t ? 1 : m;
  });
}

/** Dynamic network surgery. */
export const surgeryStrategy: RecoveryStrategy = {
  name: "surgery",
  description: "prune once, fine-tune with pruned weights still learning; splice back those that " +
    "grow (Guo et al. 2016)",
  flags: finetuneStrategy.flags,
  rowSettings: finetuneStrategy.rowSettings,
  refuses: (method) =>
    scoredOnGpu(method)
      ? `--schedule surgery revises masks from the weights; ${method.name} scores need gradients`
      : undefined,
  async recover(ctx) {
    if (ctx.k === 0) return pruneAndFinetune(ctx, false);
    const refused = surgeryStrategy.refuses!(ctx.method);
    if (refused) throw new UsageError(`${refused} (use --strategy finetune)`);
    const { masks: start } = ctx.prepared.masks(ctx.k);
    const epochs = Math.max(1, ctx.options.finetuneEpochs);
    const steps = epochs * Math.floor(ctx.data.train.count / ctx.training.batchSize);
    const every = Math.max(1, Math.floor((SETTLE * steps) / REVISIONS));
    let masks = start;
    let settled = false;
    const pruner: GradualPruner = {
      everySteps: every,
      async update(step, model) {
        if (settled) return undefined; // the last quarter trains the final mask
        const dense = await model();
        settled = step >= SETTLE * steps;
        if (settled || !ctx.method.scores) {
          const prepared = await prepareMethod(
            ctx.method,
            dense,
            ctx.prunable,
            ctx.training.seed,
            ctx.prepareOptions,
          );
          masks = prepared.masks(ctx.k).masks;
        } else {
          masks = new Map(ctx.prunable.map((n) => [
            n,
            reviseMask(dense.params.get(n)!.data, masks.get(n)!, ctx.k),
          ]));
        }
        return masks;
      },
      current: () => masks,
      lastSparsity: () => ctx.k / 100,
    };
    const history: EpochRecord[] = [];
    const trained = await trainMasked(ctx, history, {
      start: ctx.trained,
      masks: start,
      epochs,
      lr: ctx.options.finetuneLr,
      label: `${ctx.method.name}@${ctx.k}% surgery`,
      pruner,
      surgery: true,
    });
    let revived = 0;
    for (const [name, m] of masks) {
      const before = start.get(name)!;
      m.forEach((v, i) => (revived += v !== 0 && before[i] === 0 ? 1 : 0));
    }
    return { model: trained, masks, detail: { revived }, history };
  },
};
