/**
 * Which shard this process is, from `--shard I/N` or, without it, from the scheduler that started
 * it: a Slurm job array (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_STEP`,
 * `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with
 * `--shards N` = the Job's `completions`, which Kubernetes does not pass to the pod). The
 * examples beside this file (slurm/, k8s/, Containerfile) set these variables.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { host } from "../util/host.ts";
import { parseShard, type Shard } from "../sweep/shard.ts";

/** Reads an environment variable (injectable for tests). */
export type EnvReader = (name: string) => string | undefined;

/** Where a shard came from, for the log line. */
export interface ShardSource {
  /** The shard. */
  shard: Shard;
  /** `--shard`, `SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`. */
  from: string;
}

/** A non-negative integer from the environment, or a one-line error naming the variable. */
function envInteger(env: EnvReader, name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw.trim())) {
    throw new UsageError(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return Number(raw);
}

/** Parses `--shards N` (N ≥ 1). */
function parseShardCount(raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new UsageError(`--shards must be a positive integer, got "${raw}"`);
  }
  return Number(raw);
}

/**
 * The shard of this process: `--shard I/N` when given; else the Slurm array task (its index
 * counted from the array's first id in steps of the array's step, so `--array=1-4` gives shards
 * 0..3 of 4); else the Kubernetes completion index with `--shards N`; else undefined (the whole
 * sweep). `--shards` must agree with a Slurm array's task count.
 */
export function shardFromEnvironment(
  shardFlag: string | undefined,
  shardsFlag: string | undefined,
  env: EnvReader = (name) => host().env(name),
): ShardSource | undefined {
  if (shardFlag !== undefined) {
    if (shardsFlag !== undefined) {
      throw new UsageError("--shard I/N already gives the number of shards; drop --shards");
    }
    return { shard: parseShard(shardFlag), from: "--shard" };
  }
  const shards = shardsFlag === undefined ? undefined : parseShardCount(shardsFlag);
  const slurmId = envInteger(env, "SLURM_ARRAY_TASK_ID");
  if (slurmId !== undefined) {
    const first = envInteger(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const step = Math.max(1, envInteger(env, "SLURM_ARRAY_TASK_STEP") ?? 1);
    const count = envInteger(env, "SLURM_ARRAY_TASK_COUNT");
    if (count !== undefined && shards !== undefined && count !== shards) {
      throw new UsageError(
        `--shards ${shards} disagrees with the Slurm array's ${count} tasks (SLURM_ARRAY_TASK_COUNT)`,
      );
    }
    const n = count ?? shards;
    if (n === undefined) {
      throw new UsageError(
        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shards N",
      );
    }
    const index = (slurmId - first) / step;
    return {
      shard: parseShard(`${index}/${n}`, `SLURM_ARRAY_TASK_ID ${slurmId} (array from ${first})`),
      from: "SLURM_ARRAY_TASK_ID",
    };
  }
  const completion = envInteger(env, "JOB_COMPLETION_INDEX");
  if (completion !== undefined) {
    if (shards === undefined) {
      throw new UsageError(
        "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job); give --shards N, the Job's completions",
      );
    }
    return {
      shard: parseShard(`${completion}/${shards}`, `JOB_COMPLETION_INDEX ${completion}`),
      from: "JOB_COMPLETION_INDEX",
    };
  }
  if (shards !== undefined) {
    throw new UsageError(
      "--shards N needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX to say which shard this is; give --shard I/N",
    );
  }
  return undefined;
}
