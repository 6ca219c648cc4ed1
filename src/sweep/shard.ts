/**
 * Sharded sweeps: which points of a study a shard `I/N` computes, and where it writes them.
 * Every point is independent, so a study splits into N shares computed by N processes (a Slurm
 * job array, a Kubernetes Indexed Job, or plain processes); each shard writes its own
 * `sweep.shard-I-of-N.csv` in the experiment folder and `deno task merge` folds them into
 * sweep.csv. The assignment is a pure function of the whole point list, so every shard of one
 * study computes the same assignment without talking to the others.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { getPruneMethod } from "../prune/registry.ts";

/** One shard of N: `index` in [0, count). */
export interface Shard {
  /** This shard's index, from 0. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** A point to assign: a stable key (the same in every shard) and its expected cost. */
export interface ShardItem {
  /** Identity of the point, independent of the process that computes it. */
  key: string;
  /** Expected cost in one-shot points (see `pointCost`). */
  cost: number;
}

/**
 * Parses `I/N` (`--shard 2/4`): 0 ≤ I < N. `source` names where the text came from in the error.
 */
export function parseShard(raw: string, source = "--shard"): Shard {
  const match = raw.trim().match(/^(\d+)\/(\d+)$/);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !(count >= 1 && index < count)) {
    throw new UsageError(`${source} must be I/N with 0 <= I < N, e.g. 0/4; got "${raw}"`);
  }
  return { index, count };
}

/** The file a shard writes in the experiment folder: `sweep.shard-I-of-N.csv`. */
export function shardFileName(shard: Shard): string {
  return `sweep.shard-${shard.index}-of-${shard.count}.csv`;
}

/** Matches shard file names; groups: index, count. */
export const SHARD_FILE = /^sweep\.shard-(\d+)-of-(\d+)\.csv$/;

/**
 * One-shot points (prune, evaluate, time, encode) that cost as much as one training epoch: on the
 * default network on the software adapter a one-shot point took 7.6 s and an epoch 60.6 s.
 */
export const EPOCH_COST = 8;

/**
 * What a point's cost depends on: its method and its row's recovery settings, which each strategy
 * declares (`RecoveryStrategy.rowSettings`: a rewinding strategy's epochs are the retraining's).
 */
export interface PointCostInput {
  /** Method name; the method declares its scoring cost (`PruneMethod.scoringCost`). */
  method: string;
  /** Training epochs per round after pruning (sweep.csv `finetune_epochs`). */
  finetuneEpochs: number;
  /** Rounds (sweep.csv `steps`: iterative's, 0 for a single round). */
  steps: number;
  /** Centroid fine-tuning epochs after weight sharing. */
  quantizeEpochs: number;
}

/**
 * Expected cost of a point in one-shot points: 1 for pruning and measuring, the method's scoring
 * (passes, and epochs at `EPOCH_COST` each), plus `EPOCH_COST` per epoch of training after
 * pruning. Only the ratios matter: they balance the shards and never change a result.
 */
export function pointCost(p: PointCostInput): number {
  const scoring = getPruneMethod(p.method).scoringCost ?? {};
  const rounds = Math.max(1, p.steps);
  const epochs = (scoring.epochs ?? 0) + rounds * p.finetuneEpochs + p.quantizeEpochs;
  return 1 + (scoring.passes ?? 0) + EPOCH_COST * epochs;
}

/**
 * Assigns items to `count` shards, returning each item's shard index: the longest-processing-
 * time rule (most expensive first, each to the least loaded shard, ties to the lower index),
 * with items of equal cost taken in key order. The result depends only on the items' keys and
 * costs, not on their order, so every shard computes the same assignment.
 */
export function assignShards(items: readonly ShardItem[], count: number): number[] {
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new Error(`assignShards: count must be a positive integer, got ${count}`);
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.key)) throw new Error(`assignShards: duplicate key ${item.key}`);
    seen.add(item.key);
  }
  const order = items.map((_, i) => i).sort((a, b) =>
    items[b].cost - items[a].cost ||
    (items[a].key < items[b].key ? -1 : items[a].key > items[b].key ? 1 : 0)
  );
  const load = new Array<number>(count).fill(0);
  const assigned = new Array<number>(items.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    assigned[i] = best;
    load[best] += items[i].cost;
  }
  return assigned;
}

/** The keys of `items` that shard `shard` computes. */
export function keysOfShard(items: readonly ShardItem[], shard: Shard): Set<string> {
  const assigned = assignShards(items, shard.count);
  return new Set(items.filter((_, i) => assigned[i] === shard.index).map((item) => item.key));
}
