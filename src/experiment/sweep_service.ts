/**
 * The sweep as an application service: from a checked request (src/cli/sweep.ts parses one; a
 * grid builds many) to trained model, computed points and report. It trains or reuses the
 * experiment's model, turns `--std-sensitivity` values into levels, prepares gradient scoring and
 * the sensitivity scan, runs src/sweep/run_sweep.ts on this process's share of the points, and
 * writes the report unless a shard or an export asked for none. It prints nothing; it reports
 * through `out`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { exists, readTextOrFail } from "../util/files.ts";
import { getGpu, type GpuContext } from "../gpu/device.ts";
import { prunableParams } from "../model/masks.ts";
import type { Model } from "../model/network.ts";
import { getPruneMethod } from "../prune/registry.ts";
import { parseSensitivityFile } from "../prune/sensitivity.ts";
import { kForSensitivity } from "../prune/std.ts";
import { plannedPoints, planPointId, selectPoints, type SweepPlan } from "../sweep/plan.ts";
import type { SweepJob } from "../sweep/job.ts";
import { runSweep } from "../sweep/run_sweep.ts";
import type { SweepRow } from "../sweep/results.ts";
import { keysOfShard, type Shard, shardFileName } from "../sweep/shard.ts";
import { gpuScorer } from "../train/gradient_scores.ts";
import { type InferMode, readCrossovers, readNmSpeeds } from "../train/infer_paths.ts";
import { reportSummary, writeSweepReport } from "../report/sweep_report.ts";
import { readSnapshot } from "./checkpoints.ts";
import type { TrainConfig } from "./config.ts";
import { setupKernels } from "./kernels.ts";
import { experimentPaths } from "./paths.ts";
import { ensureTrained, loadData, type LoadedData, type RunOutput } from "./run.ts";

/** A sweep, parsed and checked before any GPU work. */
export interface SweepRequest {
  /** The experiment's training configuration. */
  config: TrainConfig;
  /** What the sweep computes (methods, levels, recovery, quantisation, baseline). */
  plan: SweepPlan;
  /** `--std-sensitivity` values, which become levels once the model is trained. */
  sensitivities?: number[];
  /** `--rewind epoch:E`'s E. */
  rewindEpoch?: number;
  /** `--score-batches`. */
  scoreBatches: number;
  /** `--infer`. */
  infer: InferMode;
  /** `--infer-repeats`. */
  inferRepeats: number;
  /** `--kernel`. */
  kernel: string;
  /** `--force`: recompute finished points. */
  force: boolean;
  /** `--verbose`: per-point reports and every epoch. */
  verbose: boolean;
  /** Export every point's model (`--save`, and always for `deno task export`). */
  save: boolean;
  /** Write sweep.md, the plots and report.html (not for an export). */
  report: boolean;
  /** This process's shard, from `--shard`, `--shards` and the scheduler's variables. */
  shard?: { shard: Shard; from: string };
}

/** A shard's points chosen from outside (a grid assigns points of many sweeps at once). */
export interface ShardSelection {
  /** The shard whose file the rows go to. */
  shard: Shard;
  /** The points of this sweep the shard computes. */
  select: (method: string, k: number) => boolean;
}

/** What a sweep left behind. */
export interface SweepOutcome {
  /** The experiment folder. */
  dir: string;
  /** The file the rows went to (sweep.csv, or the shard's own). */
  csvPath: string;
  /** Every row of that file of the trained model. */
  rows: SweepRow[];
  /** The shard computed, when sharded. */
  shard?: Shard;
  /** sweep.md's text, when the report was written. */
  markdown?: string;
  /** The export folder of the sweep's first point (what `deno task export` wrote). */
  firstExport: string;
}

/** The shard and point selection of a request: from a grid, the request's shard, or none. */
function selectionOf(request: SweepRequest, given: ShardSelection | undefined, out: RunOutput) {
  if (given) return given;
  if (!request.shard) return undefined;
  const points = plannedPoints(request.plan);
  const mine = keysOfShard(points, request.shard.shard);
  const { index, count } = request.shard.shard;
  out.log(
    `sweep: shard ${index}/${count} (${request.shard.from}): ${mine.size} of ${points.length} points`,
  );
  return { shard: request.shard.shard, select: selectPoints(points, (p) => mine.has(p.key)) };
}

/** Refuses `--rewind epoch:E` early when an existing checkpoint kept no snapshot of E. */
async function checkRewindSnapshot(request: SweepRequest): Promise<void> {
  const { config, rewindEpoch } = request;
  const paths = experimentPaths(config);
  if (
    rewindEpoch !== undefined && !(await exists(paths.snapshot(rewindEpoch))) &&
    (await exists(paths.checkpoint)) && !config.forceTrain
  ) {
    throw new UsageError(
      `--rewind ${request.plan.recovery.rewind} needs ${
        paths.snapshot(rewindEpoch)
      }, which training did not save (snapshots are kept for epochs 1 and 2)`,
    );
  }
}

/** The levels: `--k`, or the share of weights each `--std-sensitivity` s prunes (prune_by_std). */
function sweepLevels(request: SweepRequest, trained: Model, prunable: string[], out: RunOutput) {
  if (!request.sensitivities) return request.plan.ks;
  const ks = request.sensitivities.map((s) => {
    const k = kForSensitivity(trained, prunable, s);
    if (k >= 100) {
      throw new UsageError(
        `--std-sensitivity ${s} prunes every prunable weight; give a smaller sensitivity`,
      );
    }
    out.log(`std: s = ${s} prunes ${k.toFixed(2)}% of the prunable weights (k = ${k})`);
    return k;
  });
  return [...new Set(ks)];
}

/** Reads a snapshot of the experiment; a missing one is `missing(path)`'s usage error. */
async function snapshotOf(
  config: TrainConfig,
  loaded: LoadedData,
  path: string,
  missing: (path: string) => string,
): Promise<Model> {
  if (!(await exists(path))) throw new UsageError(missing(path));
  return readSnapshot(config, path, loaded.spec);
}

/** Gradient scores on the GPU when a method needs them (taylor, snip, synflow …). */
function scorerOf(gpu: GpuContext, loaded: LoadedData, request: SweepRequest) {
  const { config } = request;
  if (!request.plan.methods.some((m) => getPruneMethod(m).kind === "gradients")) return undefined;
  const paths = experimentPaths(config);
  return gpuScorer(gpu, loaded, {
    batchSize: config.batchSize,
    batches: request.scoreBatches,
    seed: config.seed,
    init: () =>
      snapshotOf(
        config,
        loaded,
        paths.init,
        (path) =>
          `snip scores the initial weights, ${path}, which is missing; retrain with --force-train`,
      ),
  });
}

/** The sweep job of a request on a trained model. */
async function jobOf(
  gpu: GpuContext,
  request: SweepRequest,
  loaded: LoadedData,
  trained: { model: Model; checksum: string },
  out: RunOutput,
  selection: ShardSelection | undefined,
): Promise<SweepJob> {
  const { config, plan } = request;
  const paths = experimentPaths(config);
  const prunable = prunableParams(loaded.spec, config.pruneParams);
  const allocation = plan.allocation ?? "uniform";
  const sensitivityFile = allocation.startsWith("sensitivity:") ? allocation.slice(12) : "";
  return {
    ...plan,
    trained: trained.model,
    model: trained.checksum.slice(0, 16),
    snapshot: (which) =>
      snapshotOf(
        config,
        loaded,
        which === "init" ? paths.init : paths.snapshot(which),
        (path) => `--rewind needs ${path}, which is missing; retrain with --force-train`,
      ),
    data: loaded,
    ks: sweepLevels(request, trained.model, prunable, out),
    prunable,
    allocation,
    csvPath: selection ? `${paths.dir}/${shardFileName(selection.shard)}` : paths.sweep,
    shard: selection ? { select: selection.select, mergedCsvPath: paths.sweep } : undefined,
    historyDir: `${paths.dir}/finetune`,
    force: request.force,
    verbose: request.verbose,
    inferRepeats: request.inferRepeats,
    progress: out.progress,
    log: out.log,
    exportDir: request.save ? `${paths.dir}/export` : undefined,
    infer: request.infer,
    crossovers: readCrossovers(gpu.adapter),
    nmSpeeds: readNmSpeeds(gpu.adapter),
    scorer: scorerOf(gpu, loaded, request),
    sensitivity: sensitivityFile
      ? parseSensitivityFile(await readTextOrFail(sensitivityFile), sensitivityFile)
      : undefined,
    source: {
      experiment: config.experimentId,
      dataset: config.dataDir ? "custom" : config.dataset,
    },
  };
}

/**
 * Runs a checked sweep: trains or reuses the model, computes the points (this shard's share when
 * sharded, or `selection`'s), and writes the report unless the request is sharded or asks for
 * none (a shard writes its own file and leaves the report to `deno task merge`).
 */
export async function runSweepRequest(
  request: SweepRequest,
  out: RunOutput,
  given?: ShardSelection,
): Promise<SweepOutcome> {
  const { config } = request;
  const selection = selectionOf(request, given, out);
  const gpu = await getGpu();
  const loaded = await loadData(gpu, config);
  try {
    await setupKernels(gpu, request.kernel, config, loaded.spec);
    await checkRewindSnapshot(request);
    const trained = await ensureTrained(gpu, config, loaded, out);
    const job = await jobOf(gpu, request, loaded, trained, out, selection);
    const rows = await runSweep(gpu, job);
    const dir = experimentPaths(config).dir;
    const firstExport = planPointId(
      { ...request.plan, sensitivity: job.sensitivity },
      job.methods[0],
      job.ks[0],
    )
      .folder(`${dir}/export`);
    const outcome = { dir, csvPath: job.csvPath, rows, shard: selection?.shard, firstExport };
    if (selection || !request.report) return outcome;
    const markdown = await writeSweepReport(
      dir,
      rows,
      trained.model,
      job.prunable,
      job.methods,
      job.ks,
      config.seed,
      reportSummary({
        experiment: config.experimentId,
        dataset: loaded.data.name,
        denseAccuracy: trained.metrics.test_accuracy,
        adapter: `${gpu.adapter} via ${gpu.backend}`,
        points: rows.length,
      }),
    );
    return { ...outcome, markdown };
  } finally {
    loaded.destroy();
  }
}
