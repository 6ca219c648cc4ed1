/**
 * `deno task merge EXPERIMENT_DIR…`: folds each folder's shard files (`sweep.shard-I-of-N.csv`,
 * written by `deno task sweep --shard I/N`) into its sweep.csv, then rebuilds sweep.md, the plots
 * and report.html from the merged rows. Needs no GPU.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { parseCommandLine } from "./flags.ts";
import { UsageError } from "../util/errors.ts";
import { mergeShards } from "../sweep/merge.ts";
import type { SweepRow } from "../sweep/results.ts";
import { prunableParams } from "../model/masks.ts";
import { isMethodName } from "../prune/registry.ts";
import { reportSummary, writeSweepReport } from "../report/sweep_report.ts";
import { type ExperimentFolder, readExperimentFolder } from "../experiment/folder.ts";

const USAGE = `Usage: deno task merge EXPERIMENT_DIR [EXPERIMENT_DIR ...]

Folds the shard files of each experiment folder (sweep.shard-I-of-N.csv, written by
deno task sweep --shard I/N or by a Slurm or Kubernetes array) into its sweep.csv and rebuilds
sweep.md, the PNG plots and report.html. A point computed twice must agree on accuracy, loss
and non-zeros, or nothing is written. Shard files stay; merging again is harmless.`;

/** Writes sweep.md, the plots and report.html of a folder from its rows; returns sweep.md. */
export function writeFolderReport(folder: ExperimentFolder, rows: SweepRow[]): Promise<string> {
  // Methods of the registry (and N:M) get weight histograms; baselines have none.
  const methods = [...new Set(rows.map((r) => r.method))].filter((m) => isMethodName(m));
  const ks = [...new Set(rows.map((r) => Number(r.k)))].sort((a, b) => a - b);
  const pruneParams = rows.find((r) => methods.includes(r.method))?.prune_params ?? "default";
  return writeSweepReport(
    folder.dir,
    rows,
    folder.model,
    prunableParams(folder.model.spec, pruneParams),
    methods,
    ks,
    folder.seed,
    reportSummary({
      experiment: folder.id,
      dataset: folder.dataset,
      denseAccuracy: folder.testAccuracy,
      adapter: folder.adapter,
      points: rows.length,
    }),
  );
}

/** Merges one experiment folder and rebuilds its report; returns a summary line. */
export async function mergeFolder(dir: string): Promise<string> {
  const t0 = performance.now();
  const folder = await readExperimentFolder(dir);
  const result = await mergeShards(folder.dir, folder.modelId);
  for (const name of result.cutFiles) {
    console.error(
      `merge: ${folder.dir}/${name} ends inside a row (no line break); that row is not merged, ` +
        "rerun its shard to compute it",
    );
  }
  if (result.rows.length === 0) {
    throw new UsageError(`${folder.dir}: no sweep rows to merge (no shard files, empty sweep.csv)`);
  }
  await writeFolderReport(folder, result.rows);
  return `merge: ${folder.dir}: ${result.rows.length} points (${result.added} new from ${result.shardFiles.length} shard files) in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s; wrote sweep.csv, sweep.md, report.html, *.png`;
}

if (import.meta.main) {
  await runMain("merge", async () => {
    const { values, positionals } = parseCommandLine(Deno.args, {
      help: { type: "boolean", short: "h", default: false },
    }, true);
    if (values.help) {
      console.log(USAGE);
      return;
    }
    if (positionals.length === 0) {
      throw new UsageError("merge needs at least one experiment folder (see --help)");
    }
    for (const dir of positionals) console.log(await mergeFolder(dir));
  });
}
