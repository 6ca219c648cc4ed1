/**
 * Record: a computed point's fine-tuning history (`PointId.historyFile`), its export with
 * `--save` (`PointId.folder`, src/export/formats.ts) and its row, merged into sweep.csv under the
 * file's lock so rows written by concurrent sweeps survive. Every kind of point ends here.
 *
 * @module
 */

import { writeExport } from "../../export/formats.ts";
import { writeHistory } from "../../train/history.ts";
import { ensureDir } from "../../util/files.ts";
import type { PointOutcome, SweepJob, SweepPoint } from "../job.ts";
import { pointKey } from "../point_id.ts";
import { updateSweep } from "../results.ts";

/** Writes the point's history and export, then merges its row into the job's sweep file. */
export async function recordPoint(
  job: SweepJob,
  point: SweepPoint,
  outcome: PointOutcome,
): Promise<void> {
  if (outcome.history.length > 0) {
    await ensureDir(job.historyDir);
    await writeHistory(point.id.historyFile(job.historyDir), outcome.history);
  }
  const exported = outcome.exported;
  if (job.exportDir !== undefined && point.exports && exported) {
    await writeExport(
      point.id.folder(job.exportDir),
      exported.model,
      exported.masks,
      exported.info,
      exported.stored,
    );
  }
  const key = point.id.key();
  await updateSweep(job.csvPath, ({ rows }) => [
    ...rows.filter((r) => pointKey(r) !== key),
    outcome.row,
  ]);
}
