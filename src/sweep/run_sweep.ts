/**
 * The sweep: every (method, k) point pruned from the trained model by the chosen recovery
 * strategy (src/recover/), then measured — test accuracy and loss on the GPU, sparsity,
 * inference time of the masked and of the compacted model, compressed size. Each finished point
 * is merged into sweep.csv at once under its lock; a rerun skips finished points.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { ensureDir, existsSync } from "../util/files.ts";
import { UsageError } from "../util/errors.ts";
import { writeExport } from "../export/formats.ts";
import { median } from "../util/stats.ts";
import { type ProgressFactory, SILENT_PROGRESS } from "../util/progress.ts";
import { hiddenWidths, type Model } from "../model/network.ts";
import { applyMasks, sparsityOf } from "../model/masks.ts";
import { getPruneMethod } from "../prune/registry.ts";
import type { GradientScorer, PreparedMethod } from "../prune/method.ts";
import { prepareMethod } from "../prune/prepare.ts";
import { nmPatternOf, nmSparsity } from "../prune/nm.ts";
import type { Allocation } from "../prune/allocation.ts";
import type { LoadedSensitivity } from "../prune/sensitivity.ts";
import { type EvalResult, GpuNetwork } from "../train/gpu_network.ts";
import {
  dequantizedModel,
  type PtqFormat,
  type PtqWeight,
  quantizeModelWeights,
} from "../quant/ptq_model.ts";
import { evaluateModel } from "../train/trainer.ts";
import {
  choosePaths,
  type CrossoverTable,
  type InferMode,
  type InferPath,
  type NmSpeedTable,
} from "../train/infer_paths.ts";
import type { DataSplits } from "../train/splits.ts";
import { writeHistory } from "../train/history.ts";
import { getStrategy } from "../recover/registry.ts";
import type { RecoveryOptions, TrainingSettings } from "../recover/strategy.ts";
import {
  encodeStages,
  formatLayerReport,
  formatSizeReport,
  gzipBytes,
  sizesOf,
  timeForward,
} from "./measure.ts";
import { type QuantizeOptions, shareAndRetrain } from "../recover/weight_sharing.ts";
import { formatQuantizeBits, type SharedWeights } from "../quant/weight_sharing.ts";
import { compactUnits } from "../model/compact.ts";
import { openSweep, readModelRows, type SweepRow, updateSweep } from "./results.ts";
import { PointId, pointKey } from "./point_id.ts";
import { EPOCH_COST, pointCost } from "./shard.ts";
import { SMALL_DENSE, smallDenseFields } from "./baseline.ts";

/** Everything a sweep needs. */
export interface SweepJob {
  /** The trained model. */
  trained: Model;
  /** Id of the trained model (first 16 hex digits of its checkpoint's data_sha256). */
  model: string;
  /** Loaders of the initial and epoch snapshots (for rewinding). */
  snapshot: (which: "init" | number) => Promise<Model>;
  /** Data on the GPU. */
  data: DataSplits;
  /** Method names. */
  methods: string[];
  /** Sparsity levels in percent. */
  ks: number[];
  /** Names of the parameters pruned. */
  prunable: readonly string[];
  /** The `--prune-params` value they came from (written to sweep.csv). */
  pruneParams: string;
  /** Recovery settings. */
  recovery: RecoveryOptions;
  /** Training settings of the experiment (batch size, lr, epochs, seed). */
  training: TrainingSettings;
  /** sweep.csv path. */
  csvPath: string;
  /** Folder for fine-tuning histories. */
  historyDir: string;
  /** Recompute finished points. */
  force: boolean;
  /** Print the per-layer report of each point and every training epoch. */
  verbose: boolean;
  /** Forward passes timed per point (median reported). */
  inferRepeats: number;
  /** Progress display (default: none). */
  progress?: ProgressFactory;
  /** Receives notes (default: none). */
  log?: (line: string) => void;
  /**
   * Folder under which every point's pruned model is exported (`<method>_k<k>_<strategy>/`, see
   * src/export/formats.ts); a point whose export is missing is computed again.
   */
  exportDir?: string;
  /** `--infer`: inference path of the measured passes (default auto). */
  infer?: InferMode;
  /** Crossover densities of this adapter for `auto` (defaults when undefined). */
  crossovers?: CrossoverTable;
  /** This adapter's N:M kernel timings (`deno task bench --nm`), for `auto`; none: never N:M. */
  nmSpeeds?: NmSpeedTable;
  /** Experiment id and dataset name, recorded in exported meta.json. */
  source?: { experiment: string; dataset: string };
  /** Trained weight sharing after each point's recovery (`--quantize-bits`), or none. */
  quantize?: QuantizeOptions;
  /** How each method's sparsity is spread over the layers (default `uniform`). */
  allocation?: Allocation;
  /** Gradient scores on the GPU, for the methods that need them. */
  scorer?: GradientScorer;
  /** The scan behind a `sensitivity:PATH` allocation (its checksum names the points). */
  sensitivity?: LoadedSensitivity;
  /**
   * Post-training quantisation of each point after its recovery (`--ptq`): its accuracy is
   * measured by the kernels that read the quantised weights; not with `quantize`.
   */
  ptq?: PtqFormat;
  /**
   * A sharded sweep's share (src/sweep/shard.ts): only the points `select` accepts are computed,
   * into `csvPath` (the shard's own file); rows of `mergedCsvPath` (sweep.csv) count as done.
   */
  shard?: { select: (method: string, k: number) => boolean; mergedCsvPath: string };
}

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

/** The columns every row of a sweep shares (the point key's settings). */
function rowBase(plan: SweepPlan) {
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

/** The levels a method is swept at: an N:M method has its pattern's one sparsity. */
function levelsOf(method: string, ks: number[]): number[] {
  const pattern = nmPatternOf(method);
  return pattern ? [nmSparsity(pattern)] : ks;
}

/**
 * Every point a sweep of `plan` computes, in the sweep's order, with the baseline's points last:
 * what a sharded sweep divides among its shards.
 */
export function plannedPoints(plan: SweepPlan): PlannedPoint[] {
  const base = rowBase(plan);
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
    for (const k of plan.ks.filter((k) => k > 0)) {
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

/** sweep.csv's `infer_path` letter of each kernel: dense, sparse CSR, N:M. */
const INFER_PATH_LETTER: Record<InferPath, string> = { dense: "d", sparse: "s", nm: "n" };

/** The identity of the point (`method`, `k`) of a sweep of `plan`, without a model id. */
export function planPointId(plan: SweepPlan, method: string, k: number): PointId {
  return new PointId({ ...rowBase(plan), model: "", method, k });
}

/**
 * Runs the sweep and returns every row of sweep.csv of this trained model (earlier rows and rows
 * written by concurrent sweeps included).
 */
export async function runSweep(gpu: GpuContext, job: SweepJob): Promise<SweepRow[]> {
  const strategy = getStrategy(job.recovery.strategy);
  const log = job.log ?? (() => {});
  const progressOf = job.progress ?? SILENT_PROGRESS;
  const base = { model: job.model, ...rowBase(job) };
  const pointOf = (method: string, k: number) => new PointId({ ...base, method, k });
  const keyOf = (method: string, k: number) => pointOf(method, k).key();
  const existing = new Set((await openSweep(job.csvPath, job.model, job.force, log)).map(pointKey));
  if (job.shard) {
    for (const row of await readModelRows(job.shard.mergedCsvPath, job.model)) {
      existing.add(pointKey(row));
    }
  }
  const selected = job.shard?.select ?? (() => true);
  const exported = (method: string, k: number) =>
    job.exportDir === undefined ||
    existsSync(`${pointOf(method, k).folder(job.exportDir)}/meta.json`);
  const done = (method: string, k: number) => existing.has(keyOf(method, k)) && exported(method, k);
  const mine = job.methods.flatMap((method) =>
    levelsOf(method, job.ks).filter((k) => selected(method, k)).map((k) => ({ method, k }))
  );
  const todo = mine.filter(({ method, k }) => job.force || !done(method, k));
  const finalRows = async () =>
    (await updateSweep(job.csvPath, () => undefined)).filter((r) => r.model === job.model);
  if (todo.length === 0) {
    log(`sweep: all ${mine.length} points already in ${job.csvPath}; --force recomputes`);
    return finalRows();
  }
  const denseGzip = gzipBytes(job.trained);
  const evalOptions = { batch: 1, evalBatch: 1000, adam: { lr: 0 } };
  // Masked dense: the dense kernels take the same time whatever the values, so the trained
  // model's dense pass is timed once per run and stands for every point's `infer_ms`.
  const evaluator = await GpuNetwork.create(gpu, job.trained, evalOptions);
  let denseMs: number;
  try {
    denseMs = median(await timeForward(evaluator, job.data.test, job.inferRepeats));
  } finally {
    evaluator.destroy();
  }
  const denseHidden = hiddenWidths(job.trained.spec).join("-");
  const progress = progressOf(`sweep ${strategy.name}`, todo.length);
  const prepared = new Map<string, PreparedMethod>();
  try {
    let finished = 0;
    for (const { method, k } of todo) {
      const t0 = performance.now();
      if (!job.force && exported(method, k) && await pointDone(job.csvPath, keyOf(method, k))) {
        // A sweep running beside this one finished the point meanwhile.
        progress.update(++finished);
        continue;
      }
      const pruneMethod = getPruneMethod(method);
      let prep = prepared.get(method);
      if (!prep) {
        // Movement's scores come from the strategy's own fine-tuning: nothing to prepare here.
        prep = pruneMethod.needsTrainingScores
          ? duringTraining(method)
          : await prepareMethod(pruneMethod, job.trained, job.prunable, job.training.seed, {
            allocation: job.allocation,
            scorer: job.scorer,
            levels: todo.filter((t) => t.method === method).map((t) => t.k),
            sensitivity: job.sensitivity,
          });
        prepared.set(method, prep);
      }
      const result = await strategy.recover({
        gpu,
        trained: job.trained,
        prunable: job.prunable,
        method: pruneMethod,
        prepared: prep,
        prepareOptions: {
          allocation: job.allocation,
          scorer: job.scorer,
          sensitivity: job.sensitivity,
        },
        k,
        data: job.data,
        options: job.recovery,
        training: job.training,
        snapshot: job.snapshot,
        progress: job.verbose ? progressOf : SILENT_PROGRESS,
        log: job.verbose ? log : undefined,
      });
      let pruned = applyMasks(result.model, result.masks);
      let shared: SharedWeights | undefined;
      let accuracyF32: number | undefined;
      if (job.quantize) {
        accuracyF32 = (await evaluateModel(gpu, pruned, job.data.test)).accuracy;
        ({ model: pruned, shared } = await shareAndRetrain(
          {
            gpu,
            data: job.data,
            training: job.training,
            progress: job.verbose ? progressOf : SILENT_PROGRESS,
            log: job.verbose ? log : undefined,
          },
          pruned,
          result.masks,
          job.quantize,
          result.history,
        ));
      }
      let ptq: Map<string, PtqWeight> | undefined;
      let ptqTest: EvalResult | undefined;
      if (job.ptq) {
        accuracyF32 = (await evaluateModel(gpu, pruned, job.data.test)).accuracy;
        ptq = quantizeModelWeights(pruned, job.ptq);
        const quantized = await GpuNetwork.create(gpu, pruned, { ...evalOptions, ptq: job.ptq });
        try {
          ptqTest = await quantized.evaluate(job.data.test);
        } finally {
          quantized.destroy();
        }
        // Sizes, exports and the timed paths use the values the quantised weights stand for.
        pruned = dequantizedModel(pruned, ptq);
      }
      const stored = { shared, ptq };
      // The fastest exact path: dead units removed, then each dense layer sparse (CSR or N:M)
      // where it wins.
      const compact = compactUnits(pruned);
      const compactHidden = hiddenWidths(compact.spec).join("-");
      const paths = choosePaths(
        compact,
        job.infer ?? "auto",
        job.crossovers,
        gpu.software,
        job.nmSpeeds,
      );
      const sparse = new Set(paths.filter((p) => p.path === "sparse").map((p) => p.name));
      const nm = new Map(paths.flatMap((p) => (p.path === "nm" && p.nm ? [[p.name, p.nm]] : [])));
      const fastest = await GpuNetwork.create(gpu, compact, { ...evalOptions, sparse, nm });
      let test;
      let inferSparseMs;
      let inferCompactMs = denseMs;
      try {
        // One pass on the fastest path gives accuracy and loss, and is the first timed pass.
        const t1 = performance.now();
        test = await fastest.evaluate(job.data.test);
        const firstMs = performance.now() - t1;
        if (sparse.size === 0 && nm.size === 0 && compactHidden === denseHidden) {
          inferSparseMs = denseMs; // the dense kernels on the dense shapes: timed above
        } else {
          inferSparseMs = median([
            firstMs,
            ...await timeForward(fastest, job.data.test, job.inferRepeats - 1),
          ]);
        }
        if (compactHidden !== denseHidden) {
          if (sparse.size === 0 && nm.size === 0) inferCompactMs = inferSparseMs;
          else {
            const small = await GpuNetwork.create(gpu, compact, evalOptions);
            try {
              await small.evaluate(job.data.test); // warm-up
              inferCompactMs = median(await timeForward(small, job.data.test, job.inferRepeats));
            } finally {
              small.destroy();
            }
          }
        }
      } finally {
        fastest.destroy();
      }
      const report = sparsityOf(pruned, job.prunable);
      const gz = gzipBytes(pruned);
      const stages = encodeStages(pruned, stored);
      const sizes = sizesOf(stages);
      if (ptqTest) test = ptqTest;
      const row: SweepRow = {
        ...base,
        method,
        k,
        sparsity: report.sparsity,
        sparsity_total: report.sparsityTotal,
        accuracy: test.accuracy,
        loss: test.loss,
        nonzeros: report.nonzeros,
        infer_ms: denseMs,
        compact_hidden: compactHidden,
        infer_compact_ms: inferCompactMs,
        infer_sparse_ms: inferSparseMs,
        speedup: denseMs / inferSparseMs,
        infer_path: paths.map((p) => INFER_PATH_LETTER[p.path]).join(""),
        gzip_bytes: gz,
        compression: denseGzip / gz,
        detail: result.detail
          ? Object.entries(result.detail).map(([n, v]) => `${n}=${v.toPrecision(4)}`).join(";")
          : "",
        accuracy_f32: accuracyF32 ?? test.accuracy,
        ...sizes,
      };
      // Non-zeros of each weight, `nonzeros_<p>` for layers.<p>.weight.
      for (const p of report.params) {
        const m = p.name.match(/^layers\.(\d+)\.weight$/);
        if (m) row[`nonzeros_${m[1]}`] = p.nonzeros;
      }
      if (result.history.length > 0) {
        await ensureDir(job.historyDir);
        await writeHistory(pointOf(method, k).historyFile(job.historyDir), result.history);
      }
      if (job.exportDir !== undefined) {
        await writeExport(
          pointOf(method, k).folder(job.exportDir),
          pruned,
          result.masks,
          {
            method,
            k,
            strategy: strategy.name,
            allocation: base.allocation,
            allocation_sha256: job.sensitivity?.sha256 ?? "",
            accuracy: test.accuracy,
            loss: test.loss,
            sparsity: report.sparsity,
            experiment: job.source?.experiment ?? "",
            dataset: job.source?.dataset ?? "",
          },
          stored,
        );
      }
      // Merge on write under the lock: rows written by concurrent sweeps survive.
      await updateSweep(job.csvPath, ({ rows }) => [
        ...rows.filter((r) => pointKey(r) !== pointKey(row)),
        row,
      ]);
      finished++;
      progress.update(finished, {
        loss: test.loss.toFixed(4),
        rate: `${method}@${k}% ${(test.accuracy * 100).toFixed(2)}%`,
      });
      if (job.verbose) {
        log(
          `\n${method} k=${k}% (${strategy.name}): accuracy ${
            (test.accuracy * 100).toFixed(2)
          }%, ` +
            `${((performance.now() - t0) / 1000).toFixed(1)} s\n${formatLayerReport(report)}\n` +
            formatSizeReport(pruned, stages, sizes),
        );
      }
    }
  } finally {
    progress.stop();
  }
  return finalRows();
}

/** The preparation of a method scored while fine-tuning: the strategy prepares it itself. */
function duringTraining(method: string): PreparedMethod {
  return {
    masks() {
      throw new UsageError(
        `${method} scores are accumulated while fine-tuning; use --strategy finetune or --schedule gradual`,
      );
    },
  };
}

/** True when sweep.csv already holds the point `key`. */
async function pointDone(csvPath: string, key: string): Promise<boolean> {
  const rows = await updateSweep(csvPath, () => undefined);
  return rows.some((r) => pointKey(r) === key);
}
