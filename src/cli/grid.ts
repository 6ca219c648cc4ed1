/**
 * `deno task grid`: a whole study (models × seeds × sweeps) run in stages, each stage shareable
 * among the tasks of one array job: `train` trains this shard's experiments, `sweep` computes
 * this shard's points of every sweep (writing each experiment's shard file), `merge` folds the
 * shard files into each sweep.csv and summarises the seeds; `plan` prints what the grid holds.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { exists, readTextOrFail } from "../util/files.ts";
import { parseSweepArgs, SWEEP_FLAGS } from "./sweep_flags.ts";
import { logToStderr, terminalProgress } from "./progress.ts";
import { runSweepRequest, type SweepRequest } from "../experiment/sweep_service.ts";
import { trainCommand } from "./train.ts";
import { checkPath, numberFlag } from "./flags.ts";
import { TRAIN_FLAGS } from "./train_options.ts";
import { mergeFolder } from "./merge.ts";
import { reportSeeds } from "./report.ts";
import { expandGrid, type FlagTypes, gridFileOf, parseGrid, pickFlags } from "../cluster/grid.ts";
import { shardFromEnvironment } from "../cluster/shard_env.ts";
import { type PlannedPoint, plannedPoints, selectPoints } from "../sweep/plan.ts";
import {
  assignShards,
  EPOCH_COST,
  parseShard,
  type Shard,
  type ShardItem,
} from "../sweep/shard.ts";
import { readDataOf } from "../experiment/run.ts";
import { deriveExperimentId } from "../experiment/config.ts";
import { experimentPaths } from "../experiment/paths.ts";

const USAGE = `Usage: deno task grid --stage plan|train|sweep|merge [--grid FILE] [--seeds LIST]
                      [--models LIST] [--shard I/N | --shards N] [sweep flags]

Runs a study of models × seeds × sweeps in stages, each shared out among the tasks of an array
job (the shard comes from --shard, or from SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX with
--shards N, as for deno task sweep):
  plan    print the experiments, sweeps, points and each shard's expected load (default)
  train   train this shard's experiments (stage one)
  sweep   compute this shard's points of every sweep (stage two), into each experiment's
          sweep.shard-I-of-N.csv; a shard may work on several experiments
  merge   fold every experiment's shard files into its sweep.csv, rebuild its report, and write
          a mean ± std summary of each configuration's seeds (deno task report)

  --grid FILE     a JSON object of flags: "seeds", "models", any sweep flag, and "sweeps", a list
                  of flag objects, one sweep each, e.g.
                  {"seeds": [0, 1, 2], "models": ["mlp"], "k": "90,95",
                   "sweeps": [{"method": "weight,unit"},
                              {"method": "weight", "finetune-epochs": 2}]}
                  a sweep's object holds sweep flags only; flags that choose the experiment
                  (data, network, training, output-dir) go at the top level
  --seeds LIST    seeds to train each model with (--seed of each experiment)
  --models LIST   models (--model of each experiment)
  --stage NAME    plan, train, sweep or merge
  --point-seconds S  with plan: the measured seconds of one one-shot point on a node; prints
                  the expected wall time of training and of the sweep on --shards N nodes
Every other flag is a sweep flag (deno task sweep --help) shared by all experiments.`;

/** Flag types of the sweep, for splitting command lines. */
const SWEEP_TYPES = SWEEP_FLAGS as unknown as FlagTypes;

/**
 * The training flags that choose an experiment (all of them but what a sweep prunes and the
 * kernel choice): a sweep of the grid may not set them.
 */
const EXPERIMENT_FLAGS: ReadonlySet<string> = new Set(
  Object.keys(TRAIN_FLAGS).filter((f) => !["prune-params", "kernel", "help"].includes(f)),
);

/** The stages. */
const STAGES = ["plan", "train", "sweep", "merge"] as const;

/** A sweep of the grid, parsed, with its points. */
interface PlannedSweep {
  /** Its experiment's index. */
  experiment: number;
  /** The parsed command line. */
  request: SweepRequest;
  /** Its points. */
  points: PlannedPoint[];
  /** A point's item for the assignment: its key made unique in the grid by the command line. */
  itemOf: (point: PlannedPoint) => ShardItem;
}

/** Parses every sweep of the grid (all checked before any work) and lists their points. */
function planSweeps(sweeps: { experiment: number; args: string[] }[]): PlannedSweep[] {
  return sweeps.map(({ experiment, args }) => {
    // The grid assigns the shards; a sweep must not read the scheduler's variables itself.
    const request = parseSweepArgs(args, "sweep", () => undefined);
    if (!request) throw new UsageError("--help is not a sweep flag of a grid");
    if (request.sensitivities) {
      throw new UsageError(
        "--std-sensitivity levels depend on the trained model, so shards cannot agree on them; give --k",
      );
    }
    const id = args.join(" ");
    return {
      experiment,
      request,
      points: plannedPoints(request.plan),
      itemOf: (p) => ({ key: `${id}#${p.key}`, cost: p.cost }),
    };
  });
}

/** The folder of an experiment: its id needs the fingerprints of --data-dir and a model file. */
async function experimentDir(request: SweepRequest): Promise<string> {
  const config = { ...request.config };
  // A data folder's and a model file's fingerprints are part of the id: read them.
  if (!config.experimentIdGiven && (config.dataDir || config.modelFile)) await readDataOf(config);
  else if (!config.experimentIdGiven) config.experimentId = deriveExperimentId(config);
  return experimentPaths(config).dir;
}

/** Expected load of each shard (in one-shot points). */
function loads(items: ShardItem[], count: number): number[] {
  const assigned = assignShards(items, count);
  const total = new Array<number>(count).fill(0);
  items.forEach((item, i) => total[assigned[i]] += item.cost);
  return total;
}

/** A grid, parsed: its experiments, sweeps and the items its shards share. */
interface GridPlan {
  /** The experiments (model × seed). */
  experiments: ReturnType<typeof expandGrid>["experiments"];
  /** Every sweep, parsed, with its points. */
  planned: PlannedSweep[];
  /** Training one experiment, as a shard item (its epochs in one-shot points). */
  trainItems: ShardItem[];
  /** Every point of every sweep, as a shard item. */
  pointItems: ShardItem[];
}

/** `--stage plan`: the experiments, sweeps, points and each shard's expected load. */
function planStage(grid: GridPlan, count: number, pointSeconds: string | undefined): void {
  const { experiments, planned, pointItems, trainItems } = grid;
  console.log(
    `grid: ${experiments.length} experiments, ${planned.length} sweeps, ${pointItems.length} points ` +
      `(expected cost ${pointItems.reduce((s, i) => s + i.cost, 0)} one-shot points)`,
  );
  experiments.forEach((e, i) => {
    const mine = planned.filter((p) => p.experiment === i);
    console.log(
      `  ${e.model ?? "(model of the flags)"} seed ${
        e.seed ?? "(of the flags)"
      }: ${mine.length} sweeps, ${mine.reduce((s, p) => s + p.points.length, 0)} points`,
    );
  });
  const sweepLoads = loads(pointItems, count);
  console.log(
    `  load per shard of ${count}: ${
      count <= 16
        ? sweepLoads.join(", ")
        : `${Math.min(...sweepLoads)} to ${Math.max(...sweepLoads)}`
    }`,
  );
  if (pointSeconds === undefined) return;
  const seconds = numberFlag("point-seconds", pointSeconds, { min: 0 });
  const train = Math.max(...loads(trainItems, count)) * seconds;
  const sweep = Math.max(...sweepLoads) * seconds;
  const hours = (s: number) => `${(s / 3600).toFixed(2)} h`;
  console.log(
    `  expected wall time on ${count} node${
      count === 1 ? "" : "s"
    } at ${seconds} s per one-shot point: ` +
      `training ${hours(train)} + sweep ${hours(sweep)} = ${hours(train + sweep)}`,
  );
}

/** `--stage merge`: each experiment's shard files into its sweep.csv, then the seed summaries. */
async function mergeStage(grid: GridPlan): Promise<void> {
  const { experiments, planned } = grid;
  // Each experiment's folder (from its first sweep), merged once.
  const dirs: string[] = [];
  for (let i = 0; i < experiments.length; i++) {
    dirs.push(await experimentDir(planned.find((p) => p.experiment === i)!.request));
  }
  for (const dir of new Set(dirs)) console.log(await mergeFolder(dir));
  // Experiments of one model that differ only in their seed: one summary each.
  const bySeedless = new Map<string, string[]>();
  experiments.forEach((e, i) => {
    if (e.seed === undefined) return;
    const group = bySeedless.get(e.model ?? "") ?? [];
    if (!group.includes(dirs[i])) group.push(dirs[i]);
    bySeedless.set(e.model ?? "", group);
  });
  for (const group of bySeedless.values()) {
    if (group.length < 2) continue;
    const { dir } = await reportSeeds(group);
    console.log(`report: ${group.length} seeds summarised in ${dir}`);
  }
}

/** `--stage train`: this shard's experiments. */
async function trainStage(grid: GridPlan, shard: Shard, label: string): Promise<void> {
  const assigned = assignShards(grid.trainItems, shard.count);
  const mine = grid.experiments.filter((_, i) => assigned[i] === shard.index);
  console.error(
    `grid: shard ${label} trains ${mine.length} of ${grid.experiments.length} experiments`,
  );
  for (const e of mine) {
    await trainCommand(pickFlags(e.args, SWEEP_TYPES, TRAIN_FLAGS as unknown as FlagTypes));
  }
}

/** `--stage sweep`: this shard's points of every sweep, through the sweep service. */
async function sweepStage(grid: GridPlan, shard: Shard, label: string): Promise<void> {
  const { pointItems } = grid;
  const assigned = assignShards(pointItems, shard.count);
  const mineKeys = new Set(
    pointItems.filter((_, i) => assigned[i] === shard.index).map((i) => i.key),
  );
  console.error(`grid: shard ${label} computes ${mineKeys.size} of ${pointItems.length} points`);
  for (const p of grid.planned) {
    const select = selectPoints(p.points, (q) => mineKeys.has(p.itemOf(q).key));
    if (!p.points.some((q) => select(q.method, q.k))) continue;
    const dir = await experimentDir(p.request);
    if (!(await exists(`${dir}/checkpoint.safetensors`))) {
      console.error(`grid: ${dir} is not trained yet; this shard trains it first`);
    }
    await runSweepRequest(p.request, { progress: terminalProgress, log: logToStderr }, {
      shard,
      select,
    });
  }
}

/** The grid command. */
export async function gridCommand(args: string[]): Promise<void> {
  const gridPath = gridFileOf(args, SWEEP_TYPES);
  const file = gridPath === undefined
    ? undefined
    : { text: await readTextOrFail(checkPath("--grid", gridPath, "file")), path: gridPath };
  const { spec, own } = parseGrid(args, SWEEP_TYPES, file, EXPERIMENT_FLAGS);
  if (own.help) {
    console.log(USAGE);
    return;
  }
  const stage = String(own.stage ?? "plan");
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage must be ${STAGES.join(", ")}; got "${stage}"`);
  }
  const { experiments, sweeps } = expandGrid(spec);
  const planned = planSweeps(sweeps);
  const shardFlag = typeof own.shard === "string" ? own.shard : undefined;
  const shardsFlag = typeof own.shards === "string" ? own.shards : undefined;
  // The plan shows the loads of --shards N shards without being one of them.
  const source = stage === "plan" && shardFlag === undefined && shardsFlag !== undefined
    ? { shard: parseShard(`0/${shardsFlag}`, "--shards"), from: "--shards" }
    : shardFromEnvironment(shardFlag, shardsFlag);
  const shard: Shard = source?.shard ?? { index: 0, count: 1 };
  const grid: GridPlan = {
    experiments,
    planned,
    // Training costs its epochs (in one-shot points, as the sweep's points do).
    trainItems: experiments.map((e, i) => ({
      key: pickFlags(e.args, SWEEP_TYPES, TRAIN_FLAGS as unknown as FlagTypes).join(" "),
      cost: EPOCH_COST * planned.find((p) => p.experiment === i)!.request.config.epochs,
    })),
    pointItems: planned.flatMap((p) => p.points.map(p.itemOf)),
  };
  if (stage === "plan") {
    const seconds = own["point-seconds"];
    return planStage(grid, shard.count, typeof seconds === "string" ? seconds : undefined);
  }
  if (stage === "merge") {
    if (source) {
      throw new UsageError(
        `the merge stage runs once, not per shard; ${
          source.from === "--shard"
            ? "drop --shard"
            : `run it outside the array (${source.from} is set)`
        }`,
      );
    }
    return await mergeStage(grid);
  }
  const label = `${shard.index}/${shard.count}${source ? ` (${source.from})` : ""}`;
  if (stage === "train") return await trainStage(grid, shard, label);
  await sweepStage(grid, shard, label);
}

if (import.meta.main) {
  await runMain("grid", () => gridCommand(Deno.args));
}
