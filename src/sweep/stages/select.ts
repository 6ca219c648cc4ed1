/**
 * Select: which of a sweep's points this run computes. A point is done when sweep.csv (or, for a
 * shard, its own file or the merged sweep.csv) holds its key and, with `--save`, its export
 * exists; a shard computes only the points its selection accepts; `--force` recomputes.
 *
 * @module
 */

import { existsSync } from "../../util/files.ts";
import type { SweepJob, SweepPoint } from "../job.ts";
import { pointKey } from "../point_id.ts";
import { openSweep, readModelRows, type SweepRow, updateSweep } from "../results.ts";

/** This run's share of `points` and the ones of it still to compute. */
export interface Selection {
  /** The points this run is responsible for. */
  mine: SweepPoint[];
  /** Those not yet done (all of them with `--force`). */
  todo: SweepPoint[];
}

/** True when `point`'s export is there, or the sweep exports nothing. */
function exported(job: SweepJob, point: SweepPoint): boolean {
  return !point.exports || job.exportDir === undefined ||
    existsSync(`${point.id.folder(job.exportDir)}/meta.json`);
}

/** Opens the sweep's file (repairing it, see `openSweep`) and selects this run's points. */
export async function selectPending(job: SweepJob, points: SweepPoint[]): Promise<Selection> {
  const log = job.log ?? (() => {});
  const existing = new Set((await openSweep(job.csvPath, job.model, job.force, log)).map(pointKey));
  if (job.shard) {
    for (const row of await readModelRows(job.shard.mergedCsvPath, job.model)) {
      existing.add(pointKey(row));
    }
  }
  const selected = job.shard?.select ?? (() => true);
  const mine = points.filter((p) => selected(p.method, p.k));
  const done = (p: SweepPoint) => existing.has(p.id.key()) && exported(job, p);
  return { mine, todo: mine.filter((p) => job.force || !done(p)) };
}

/** True when a sweep running beside this one has finished `point` meanwhile. */
export async function finishedMeanwhile(job: SweepJob, point: SweepPoint): Promise<boolean> {
  if (job.force || !exported(job, point)) return false;
  const key = point.id.key();
  return (await updateSweep(job.csvPath, () => undefined)).some((r) => pointKey(r) === key);
}

/** Every row of sweep.csv of the job's trained model (rows of concurrent sweeps included). */
export async function modelRows(job: SweepJob): Promise<SweepRow[]> {
  return (await updateSweep(job.csvPath, () => undefined)).filter((r) => r.model === job.model);
}
