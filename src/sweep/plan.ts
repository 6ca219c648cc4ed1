/**
 * What a sweep computes, known before any training: its points (method × level, and the
 * small-dense baseline's), the identity of each and its expected cost, which a sharded sweep
 * divides among its shards.
 *
 * @module
 */

import type { Allocation } from "../prune/allocation.ts";
import type { LoadedSensitivity } from "../prune/sensitivity.ts";
import { getPruneMethod } from "../prune/registry.ts";
import type { PtqFormat } from "../quant/ptq_model.ts";
import { formatQuantizeBits } from "../quant/weight_sharing.ts";
import { getStrategy } from "../recover/registry.ts";
import type { RecoveryOptions, TrainingSettings } from "../recover/strategy.ts";
import type { QuantizeOptions } from "../recover/weight_sharing.ts";
import { PointId, pointKey } from "./point_id.ts";
import { EPOCH_COST, pointCost } from "./shard.ts";
import { baselineLevels, SMALL_DENSE, smallDenseFields } from "./baseline.ts";

/** What a sweep will compute, known before training: the input of `plannedPoints`. */
export interface SweepPlan {
  /** Method names (N:M as `nmN:M`). */
  methods: string[];
  /** Sparsity levels in percent. */
  ks: number[];
  /** Recovery settings. */
  recovery: RecoveryOptions;
  /** The experiment's training settings. */
  training: TrainingSettings;
  /** `--prune-params`. */
  pruneParams: string;
  /** `--allocation` (default `uniform`). */
  allocation?: Allocation;
  /** The scan behind a `sensitivity:PATH` allocation, once read (its checksum names the points). */
  sensitivity?: LoadedSensitivity;
  /** `--quantize-bits` and its fine-tuning, or none. */
  quantize?: QuantizeOptions;
  /** `--ptq`, or none. */
  ptq?: PtqFormat;
  /** True with `--baseline small-dense`: one more point per k > 0. */
  baseline?: boolean;
}

/** One point of a plan: its method, level, identity without the model, and expected cost. */
export interface PlannedPoint {
  /** Method name, or `small-dense` for a baseline point. */
  method: string;
  /** Level in percent. */
  k: number;
  /** `pointKey` of its row with an empty model id: the same in every process. */
  key: string;
  /** Expected cost in one-shot points (src/sweep/shard.ts). */
  cost: number;
}

/** The identifying columns every pruned row of a sweep shares (all but model, method and k). */
export function planSettings(plan: SweepPlan) {
  const strategy = getStrategy(plan.recovery.strategy);
  const settings = strategy.rowSettings(plan.recovery, plan.training);
  return {
    strategy: strategy.name,
    finetune_epochs: settings.finetuneEpochs,
    recovery_lr: settings.recoveryLr,
    steps: settings.steps,
    prune_params: plan.pruneParams,
    rewind: settings.rewind,
    bits: plan.ptq ?? (plan.quantize ? formatQuantizeBits(plan.quantize.bits) : "32"),
    allocation: plan.allocation ?? "uniform",
    allocation_sha256: plan.sensitivity?.sha256.slice(0, 16) ?? "",
    quantize_epochs: plan.quantize?.epochs ?? 0,
    quantize_lr: plan.quantize ? plan.quantize.lr : 0,
  };
}

/** The levels a method is swept at: a pattern method (N:M) has its one fixed level. */
export function levelsOf(method: string, ks: readonly number[]): number[] {
  const fixed = getPruneMethod(method).fixedLevel;
  return fixed === undefined ? [...ks] : [fixed];
}

/**
 * Every point a sweep of `plan` computes, in the sweep's order, with the baseline's points last:
 * what a sharded sweep divides among its shards.
 */
export function plannedPoints(plan: SweepPlan): PlannedPoint[] {
  const base = planSettings(plan);
  const points = plan.methods.flatMap((method) =>
    levelsOf(method, plan.ks).map((k) => ({
      method,
      k,
      key: pointKey({ ...base, model: "", method, k }),
      cost: pointCost({
        method,
        finetuneEpochs: base.finetune_epochs,
        steps: base.steps,
        quantizeEpochs: base.quantize_epochs,
      }),
    }))
  );
  if (plan.baseline) {
    for (const k of baselineLevels(plan.ks)) {
      points.push({
        method: SMALL_DENSE,
        k,
        key: pointKey({ ...smallDenseFields("", plan.training, plan.pruneParams), k }),
        cost: 1 + EPOCH_COST * plan.training.epochs,
      });
    }
  }
  return points;
}

/** The sweep's test of whether it computes (method, k): the planned points `keep` accepts. */
export function selectPoints(
  points: readonly PlannedPoint[],
  keep: (point: PlannedPoint) => boolean,
): (method: string, k: number) => boolean {
  const kept = new Set(points.filter(keep).map((p) => `${p.method}|${p.k}`));
  return (method, k) => kept.has(`${method}|${k}`);
}

/** The identity of the pruned point (`method`, `k`) of a sweep of `plan`, without a model id. */
export function planPointId(plan: SweepPlan, method: string, k: number): PointId {
  return new PointId({ ...planSettings(plan), model: "", method, k });
}
