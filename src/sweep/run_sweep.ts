/**
 * The sweep: a resumable loop over points. Each pruned point (method × k) passes through the
 * stages of src/sweep/stages/ — select → prune → recover → compress → deploy → measure → record —
 * and each small-dense baseline point is trained, measured and recorded the same way. Every
 * finished point is merged into sweep.csv at once under its lock; a rerun skips finished points.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { SILENT_PROGRESS } from "../util/progress.ts";
import { getStrategy } from "../recover/registry.ts";
import type { SweepRow } from "./results.ts";
import type { SweepJob, SweepPoint } from "./job.ts";
import { prunedPoints } from "./pruned_point.ts";
import { smallDensePoints } from "./baseline.ts";
import { finishedMeanwhile, modelRows, selectPending } from "./stages/select.ts";
import { Preparations } from "./stages/prune.ts";
import { measureDense } from "./stages/measure.ts";
import { recordPoint } from "./stages/record.ts";

/**
 * Runs the sweep and returns every row of sweep.csv of this trained model (earlier rows and rows
 * written by concurrent sweeps included).
 */
export async function runSweep(gpu: GpuContext, job: SweepJob): Promise<SweepRow[]> {
  const log = job.log ?? (() => {});
  let todo: SweepPoint[] = [];
  const levels = (method: string) => todo.filter((p) => p.method === method).map((p) => p.k);
  const preparations = new Preparations(job, levels);
  const points = [
    ...prunedPoints(job, preparations),
    ...(job.baseline ? smallDensePoints(job) : []),
  ];
  const selection = await selectPending(job, points);
  todo = selection.todo;
  if (todo.length === 0) {
    log(`sweep: all ${selection.mine.length} points already in ${job.csvPath}; --force recomputes`);
    return modelRows(job);
  }
  const dense = await measureDense(gpu, job);
  const strategy = getStrategy(job.recovery.strategy).name;
  const progress = (job.progress ?? SILENT_PROGRESS)(`sweep ${strategy}`, todo.length);
  try {
    let finished = 0;
    for (const point of todo) {
      const t0 = performance.now();
      if (await finishedMeanwhile(job, point)) {
        progress.update(++finished);
        continue;
      }
      const outcome = await point.compute(gpu, dense);
      await recordPoint(job, point, outcome);
      const { accuracy, loss } = outcome.row;
      progress.update(++finished, {
        loss: loss.toFixed(4),
        rate: `${point.method}@${point.k}% ${(accuracy * 100).toFixed(2)}%`,
      });
      if (job.verbose && outcome.report) {
        const seconds = ((performance.now() - t0) / 1000).toFixed(1);
        log(
          `\n${point.method} k=${point.k}% (${strategy}): accuracy ${
            (accuracy * 100).toFixed(2)
          }%, ` +
            `${seconds} s\n${outcome.report}`,
        );
      }
    }
  } finally {
    progress.stop();
  }
  return modelRows(job);
}
