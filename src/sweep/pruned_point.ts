/**
 * The pruned point: the trained model through prune → recover → compress → deploy → measure
 * (src/sweep/stages/), and the sweep.csv row and export those stages add up to.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { DenseReference, PointOutcome, SweepJob, SweepPoint } from "./job.ts";
import { levelsOf, planSettings } from "./plan.ts";
import { PointId } from "./point_id.ts";
import type { SweepRow } from "./results.ts";
import { formatLayerReport, formatSizeReport } from "./measure.ts";
import type { Preparations } from "./stages/prune.ts";
import { type Recovered, recoverPoint } from "./stages/recover.ts";
import { type Compressed, compressPoint } from "./stages/compress.ts";
import { type Deployed, deployPoint } from "./stages/deploy.ts";
import { type Measured, measurePoint } from "./stages/measure.ts";

/** The identifying fields of a pruned point's row. */
type PrunedFields = ReturnType<typeof planSettings> & { model: string; method: string; k: number };

/** The row of a pruned point from what its stages produced. */
function prunedRow(
  fields: PrunedFields,
  dense: DenseReference,
  recovered: Recovered,
  compressed: Compressed,
  deployed: Deployed,
  m: Measured,
): SweepRow {
  const row: SweepRow = {
    ...fields,
    sparsity: m.report.sparsity,
    sparsity_total: m.report.sparsityTotal,
    accuracy: m.test.accuracy,
    loss: m.test.loss,
    nonzeros: m.report.nonzeros,
    infer_ms: dense.ms,
    compact_hidden: deployed.hidden,
    infer_compact_ms: m.compactMs,
    infer_sparse_ms: m.sparseMs,
    speedup: dense.ms / m.sparseMs,
    infer_path: deployed.pathLetters,
    gzip_bytes: m.gzip,
    compression: dense.gzip / m.gzip,
    detail: recovered.detail
      ? Object.entries(recovered.detail).map(([n, v]) => `${n}=${v.toPrecision(4)}`).join(";")
      : "",
    accuracy_f32: compressed.accuracyF32 ?? m.test.accuracy,
    ...m.sizes,
  };
  // Non-zeros of each weight, `nonzeros_<p>` for layers.<p>.weight.
  for (const p of m.report.params) {
    const layer = p.name.match(/^layers\.(\d+)\.weight$/);
    if (layer) row[`nonzeros_${layer[1]}`] = p.nonzeros;
  }
  return row;
}

/** Computes one pruned point through the stages. */
async function computePruned(
  gpu: GpuContext,
  job: SweepJob,
  preparations: Preparations,
  fields: PrunedFields,
  dense: DenseReference,
): Promise<PointOutcome> {
  const { method, k } = fields;
  const recovered = await recoverPoint(gpu, job, preparations, method, k);
  const compressed = await compressPoint(gpu, job, recovered);
  const deployed = deployPoint(gpu, job, compressed.model);
  const measured = await measurePoint(gpu, job, compressed, deployed, dense);
  const row = prunedRow(fields, dense, recovered, compressed, deployed, measured);
  return {
    row,
    history: recovered.history,
    exported: {
      model: compressed.model,
      masks: recovered.masks,
      info: {
        method,
        k,
        strategy: row.strategy,
        allocation: row.allocation ?? "uniform",
        allocation_sha256: job.sensitivity?.sha256 ?? "",
        accuracy: row.accuracy,
        loss: row.loss,
        sparsity: row.sparsity,
        experiment: job.source?.experiment ?? "",
        dataset: job.source?.dataset ?? "",
      },
      stored: compressed.stored,
    },
    report: `${formatLayerReport(measured.report)}\n` +
      formatSizeReport(compressed.model, measured.stages, measured.sizes),
  };
}

/** The pruned points of a job (method × level), in the sweep's order. */
export function prunedPoints(job: SweepJob, preparations: Preparations): SweepPoint[] {
  const base = { model: job.model, ...planSettings(job) };
  return job.methods.flatMap((method) =>
    levelsOf(method, job.ks).map((k) => {
      const fields = { ...base, method, k };
      return {
        method,
        k,
        id: new PointId(fields),
        exports: true,
        compute: (gpu, dense) => computePruned(gpu, job, preparations, fields, dense),
      };
    })
  );
}
