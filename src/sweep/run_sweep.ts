/**
 * The sweep: every (method, k) point pruned from the trained network, optionally recovered by
 * training with the mask, then measured (test accuracy and loss on the GPU, sparsity, inference
 * time, compressed size). Each finished point is saved at once; a rerun skips finished points.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { MlpParams } from "../model/mlp.ts";
import { initMlp } from "../model/mlp.ts";
import { getPruneMethod } from "../prune/registry.ts";
import type { PreparedMethod } from "../prune/method.ts";
import { GpuMlp } from "../train/gpu_mlp.ts";
import type { LoadedData } from "../train/experiment.ts";
import { writeHistory } from "../train/experiment.ts";
import { type EpochRecord, trainMlp } from "../train/trainer.ts";
import { createProgress } from "../cli/progress.ts";
import { applyMasks, formatLayerReport, gzipBytes, sparsityOf } from "./measure.ts";
import { compactUnits } from "./compact.ts";
import { keepPruned } from "../prune/schedule.ts";
import { type GradualPruner, gradualPruner } from "../prune/gradual.ts";
import { openSweep, pointKey, type SweepRow, updateSweep } from "./results.ts";

/** How each point recovers accuracy after pruning. */
export interface RecoveryOptions {
  /**
   * `oneshot` prunes once; `iterative` reaches k through `steps` prune→fine-tune rounds;
   * `gradual` raises sparsity to k during fine-tuning (Zhu & Gupta's polynomial schedule).
   */
  schedule: "oneshot" | "iterative" | "gradual";
  /** Rounds of the iterative schedule. */
  steps: number;
  /** Masked fine-tuning epochs after pruning (per round when iterative). */
  finetuneEpochs: number;
  /** Fine-tuning learning rate. */
  finetuneLr: number;
  /** `pruned`: update only layers that were not pruned (the output layer); `none`: all. */
  freeze: "none" | "pruned";
  /**
   * Lottery-ticket rewinding: `none`; `init` (Frankle & Carbin 2019); `epoch:E` (Frankle et al.
   * 2020); `random` (the same mask on a fresh random initialisation, the control).
   */
  rewind: string;
  /** Learning-rate rewinding (Renda et al. 2020): keep the weights, retrain at the training rate. */
  rewindLr: boolean;
}

/** Everything a sweep needs. */
export interface SweepJob {
  /** Trained parameters. */
  trained: MlpParams;
  /** Id of the trained model (first 16 hex digits of its checkpoint's data_sha256). */
  model: string;
  /** Loaders of the initial and epoch snapshots (for rewinding). */
  snapshot: (which: "init" | number) => Promise<MlpParams>;
  /** Data on the GPU. */
  data: LoadedData;
  /** Method names. */
  methods: string[];
  /** Sparsity levels in percent. */
  ks: number[];
  /** Recovery settings. */
  recovery: RecoveryOptions;
  /** Training settings of the experiment (batch size, lr, epochs, seed). */
  training: { batchSize: number; learningRate: number; epochs: number; seed: number };
  /** sweep.csv path. */
  csvPath: string;
  /** Folder for fine-tuning histories. */
  historyDir: string;
  /** Recompute finished points. */
  force: boolean;
  /** Print the per-layer report of each point. */
  verbose: boolean;
  /** Forward passes timed per point (median reported). */
  inferRepeats: number;
}

/** The strategy name written to sweep.csv for a recovery setting. */
export function strategyName(r: RecoveryOptions): string {
  const base = baseStrategy(r);
  return r.freeze === "pruned" && base !== "oneshot" ? `${base}-freeze` : base;
}

function baseStrategy(r: RecoveryOptions): string {
  if (r.rewindLr) return "lr-rewind";
  if (r.rewind !== "none") return "rewind";
  if (r.schedule === "iterative") return "iterative";
  if (r.schedule === "gradual") return "gradual";
  return r.finetuneEpochs > 0 ? "finetune" : "oneshot";
}

/** Times of `repeats` forward passes over the test set with parameters already set on `net`. */
async function timeForward(net: GpuMlp, data: LoadedData, repeats: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await net.evaluate(data.test);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Median of a list of numbers. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs the sweep and returns every row of sweep.csv (earlier rows included).
 */
export async function runSweep(gpu: GpuContext, job: SweepJob): Promise<SweepRow[]> {
  const strategy = strategyName(job.recovery);
  const rec = job.recovery;
  const rewind = rec.rewindLr ? "lr" : rec.rewind;
  const finetuneEpochs = rec.rewindLr || (rec.rewind !== "none" && rec.finetuneEpochs === 0)
    ? job.training.epochs
    : rec.finetuneEpochs;
  const recoveryLr = strategy === "oneshot"
    ? 0
    : rec.rewind !== "none" || rec.rewindLr
    ? job.training.learningRate
    : rec.finetuneLr;
  const steps = strategy.startsWith("iterative") ? rec.steps : 0;
  const settings = {
    model: job.model,
    strategy,
    finetune_epochs: finetuneEpochs,
    recovery_lr: recoveryLr,
    steps,
    rewind,
  };
  const keyOf = (method: string, k: number) => pointKey({ ...settings, method, k });
  const log = (line: string) => console.error(line);
  const existing = new Set(
    (await openSweep(job.csvPath, job.model, job.force, log)).map(pointKey),
  );
  const todo: { method: string; k: number }[] = [];
  for (const method of job.methods) {
    for (const k of job.ks) {
      if (job.force || !existing.has(keyOf(method, k))) todo.push({ method, k });
    }
  }
  const finalRows = async () =>
    (await updateSweep(job.csvPath, () => undefined)).filter((r) => r.model === job.model);
  if (todo.length === 0) {
    console.error(
      `sweep: all ${
        job.methods.length * job.ks.length
      } points already in ${job.csvPath}; --force recomputes`,
    );
    return finalRows();
  }
  const denseGzip = gzipBytes(job.trained);
  const evaluator = await GpuMlp.create(gpu, job.trained, {
    batch: 1,
    evalBatch: 1000,
    adam: { lr: 0 },
  });
  const progress = createProgress(`sweep ${strategy}`, todo.length, false);
  const prepared = new Map<string, PreparedMethod>();
  try {
    let done = 0;
    for (const { method, k } of todo) {
      const t0 = performance.now();
      if (!job.force && await pointDone(job.csvPath, keyOf(method, k))) {
        // A sweep running beside this one finished the point meanwhile.
        progress.update(++done);
        continue;
      }
      let prep = prepared.get(method);
      if (!prep) {
        prep = getPruneMethod(method).prepare(job.trained, job.training.seed);
        prepared.set(method, prep);
      }
      const { params, masks, detail, history } = await recoverPoint(gpu, job, method, k, prep);
      const pruned = applyMasks(params, masks);
      evaluator.setParams(pruned);
      const t1 = performance.now();
      const test = await evaluator.evaluate(job.data.test);
      const firstMs = performance.now() - t1;
      // The accuracy pass counts as the first timed pass.
      const inferMs = median([
        firstMs,
        ...await timeForward(evaluator, job.data, job.inferRepeats - 1),
      ]);
      const compact = compactUnits(pruned);
      let inferCompactMs = inferMs;
      if (compact.sizes.join() !== pruned.sizes.join()) {
        const small = await GpuMlp.create(gpu, compact, {
          batch: 1,
          evalBatch: 1000,
          adam: { lr: 0 },
        });
        try {
          await small.evaluate(job.data.test); // warm-up
          inferCompactMs = median(await timeForward(small, job.data, job.inferRepeats));
        } finally {
          small.destroy();
        }
      }
      const report = sparsityOf(pruned);
      const gz = gzipBytes(pruned);
      const row: SweepRow = {
        model: job.model,
        method,
        strategy,
        k,
        sparsity: report.sparsity,
        sparsity_total: report.sparsityTotal,
        accuracy: test.accuracy,
        loss: test.loss,
        nonzeros: report.nonzeros,
        infer_ms: inferMs,
        compact_hidden: compact.sizes.slice(1, -1).join("-"),
        infer_compact_ms: inferCompactMs,
        gzip_bytes: gz,
        compression: denseGzip / gz,
        finetune_epochs: finetuneEpochs,
        recovery_lr: recoveryLr,
        steps,
        rewind,
        detail: detail
          ? Object.entries(detail).map(([n, v]) => `${n}=${v.toPrecision(4)}`).join(";")
          : "",
      };
      report.layers.forEach((x, l) => (row[`nonzeros_${l}`] = x.nonzeros));
      if (history.length > 0) {
        await Deno.mkdir(job.historyDir, { recursive: true });
        await writeHistory(
          `${job.historyDir}/${method}_${strategy}_${rewind}_ft${finetuneEpochs}_lr${recoveryLr}` +
            `${steps > 0 ? `_steps${steps}` : ""}_k${k}.csv`,
          history,
        );
      }
      // Merge on write under the lock: rows written by concurrent sweeps survive.
      await updateSweep(job.csvPath, ({ rows }) => [
        ...rows.filter((r) => pointKey(r) !== pointKey(row)),
        row,
      ]);
      done++;
      progress.update(done, {
        loss: test.loss.toFixed(4),
        rate: `${method}@${k}% ${(test.accuracy * 100).toFixed(2)}%`,
      });
      if (job.verbose) {
        console.error(
          `\n${method} k=${k}% (${strategy}): accuracy ${(test.accuracy * 100).toFixed(2)}%, ` +
            `${((performance.now() - t0) / 1000).toFixed(1)} s\n${formatLayerReport(report)}`,
        );
      }
    }
  } finally {
    progress.stop();
    evaluator.destroy();
  }
  return finalRows();
}

/** True when sweep.csv already holds the point `key`. */
async function pointDone(csvPath: string, key: string): Promise<boolean> {
  const rows = await updateSweep(csvPath, () => undefined);
  return rows.some((r) => pointKey(r) === key);
}

/** Prunes one point and applies the recovery strategy; returns parameters and masks. */
async function recoverPoint(
  gpu: GpuContext,
  job: SweepJob,
  method: string,
  k: number,
  prep: PreparedMethod,
): Promise<
  {
    params: MlpParams;
    masks: Float32Array[];
    detail?: Record<string, number>;
    history: EpochRecord[];
  }
> {
  const rec = job.recovery;
  const history: EpochRecord[] = [];
  const finetune = async (
    start: MlpParams,
    masks: Float32Array[],
    epochs: number,
    lr: number,
    label: string,
    pruner?: GradualPruner,
  ) => {
    if (epochs <= 0) return start;
    const L = start.weights.length;
    const frozen = rec.freeze === "pruned" ? start.weights.map((_, l) => l < L - 1) : undefined;
    const outcome = await trainMlp(gpu, {
      params: start,
      train: job.data.train,
      valid: job.data.valid,
      epochs,
      batchSize: job.training.batchSize,
      adam: { lr },
      seed: job.training.seed + 1 + history.length,
      keepBest: !pruner,
      masks,
      frozen,
      maskSchedule: pruner,
      label,
      quiet: !job.verbose,
    });
    history.push(...outcome.history.map((r) => ({ ...r, epoch: history.length + r.epoch })));
    return outcome.params;
  };

  if (rec.schedule === "iterative" && k > 0) {
    // Han et al. 2015: reach k through `steps` rounds, each pruning a constant fraction of what
    // survives (sparsity 1 − (1 − k)^(s/S) after round s), then fine-tuning with the mask.
    let params = job.trained;
    let masks: Float32Array[] | undefined;
    let detail: Record<string, number> | undefined;
    for (let s = 1; s <= rec.steps; s++) {
      const ks = 100 * (1 - Math.pow(1 - k / 100, s / rec.steps));
      const step = (s === 1 ? prep : getPruneMethod(method).prepare(params, job.training.seed))
        .masks(ks);
      masks = keepPruned(step.masks, masks);
      detail = step.detail;
      params = await finetune(
        applyMasks(params, masks),
        masks,
        Math.max(1, rec.finetuneEpochs),
        rec.finetuneLr,
        `${method}@${ks.toFixed(1)}%`,
      );
    }
    return { params, masks: masks!, detail, history };
  }

  if (rec.schedule === "gradual" && k > 0) {
    // Zhu & Gupta 2017 during fine-tuning: sparsity rises from 0 to k over the first 75% of the
    // fine-tuning steps, masks recomputed 20 times, then the last 25% trains at k.
    const epochs = Math.max(1, rec.finetuneEpochs);
    const steps = epochs * Math.floor(job.data.train.count / job.training.batchSize);
    const end = Math.max(1, Math.floor(0.75 * steps));
    const pruner = gradualPruner(getPruneMethod(method), {
      kind: "polynomial",
      initial: 0,
      target: k / 100,
      begin: 0,
      end,
      frequency: Math.max(1, Math.floor(end / 20)),
    }, job.training.seed);
    const ones = job.trained.weights.map((w) => new Float32Array(w.length).fill(1));
    const params = await finetune(
      job.trained,
      ones,
      epochs,
      rec.finetuneLr,
      `${method}@${k}% gradual`,
      pruner,
    );
    return { params, masks: pruner.current() ?? ones, history };
  }
  const { masks, detail } = prep.masks(k);
  if (rec.rewindLr) {
    // Renda et al. 2020: keep the trained weights, retrain with the original learning rate for
    // the original number of epochs.
    const params = await finetune(
      applyMasks(job.trained, masks),
      masks,
      job.training.epochs,
      job.training.learningRate,
      `${method}@${k}% lr-rewind`,
    );
    return { params, masks, detail, history };
  }
  if (rec.rewind !== "none") {
    let start: MlpParams;
    if (rec.rewind === "init") start = await job.snapshot("init");
    else if (rec.rewind === "random") {
      start = initMlp(job.trained.sizes, job.trained.biases !== null, job.training.seed + 7919);
    } else start = await job.snapshot(Number(rec.rewind.slice("epoch:".length)));
    const epochs = rec.finetuneEpochs > 0 ? rec.finetuneEpochs : job.training.epochs;
    const params = await finetune(
      applyMasks(start, masks),
      masks,
      epochs,
      job.training.learningRate,
      `${method}@${k}% rewind ${rec.rewind}`,
    );
    return { params, masks, detail, history };
  }
  const params = await finetune(
    applyMasks(job.trained, masks),
    masks,
    rec.finetuneEpochs,
    rec.finetuneLr,
    `${method}@${k}% finetune`,
  );
  return { params, masks, detail, history };
}
