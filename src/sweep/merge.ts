/**
 * Merging a sharded sweep: the `sweep.shard-I-of-N.csv` files of an experiment folder folded into
 * its sweep.csv. A point found in two files must agree on what was measured (accuracy, loss,
 * non-zeros); timings may differ, and the row already in sweep.csv (or the first shard's) is kept.
 * Shard files are left in place, so merging again is harmless and a shard still running merges
 * on the next call. A shard file's last line cut off without its line break is the only damage
 * that is dropped rather than refused, and the result names the file.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { SHARD_FILE } from "./shard.ts";
import { MEASURED_COLUMNS, pointName, readSweep, type SweepRow, writeSweep } from "./results.ts";
import { readFolder, withFileLock } from "../util/files.ts";
import { pointKey } from "./point_id.ts";

/** What a merge did. */
export interface MergeResult {
  /** Every row of sweep.csv after the merge. */
  rows: SweepRow[];
  /** Shard files read, by name. */
  shardFiles: string[];
  /** Rows new to sweep.csv. */
  added: number;
  /** Shard files whose last line was cut off (no line break): that row was not merged. */
  cutFiles: string[];
}

/**
 * Shard files in `dir`, ordered by shard count then index. A link is followed; a name of the
 * shard files' pattern that is not a file (a folder, a broken link) is a `UsageError`, so no
 * shard is ever skipped in silence.
 */
export async function shardFilesIn(dir: string): Promise<string[]> {
  const names: { name: string; index: number; count: number }[] = [];
  try {
    for (const entry of await readFolder(dir)) {
      const m = entry.name.match(SHARD_FILE);
      if (!m) continue;
      if (!entry.isFile) {
        throw new UsageError(
          `${dir}/${entry.name}: named as a shard file but not a file (a folder or a broken link); ` +
            "make it the shard's file or remove it",
        );
      }
      names.push({ name: entry.name, index: Number(m[1]), count: Number(m[2]) });
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${dir}: cannot read the folder (${(err as Error).message})`);
  }
  return names.sort((a, b) => a.count - b.count || a.index - b.index).map((n) => n.name);
}

/**
 * Folds the shard files of `dir` into `dir/sweep.csv` for the trained model `model` (the first
 * 16 hex digits of its checkpoint's data_sha256). Refuses, with a one-line `UsageError` and
 * nothing written, rows of another model and a point whose copies disagree on a measured
 * column. Holds sweep.csv's lock throughout and each shard file's lock while reading it.
 */
export function mergeShards(dir: string, model: string): Promise<MergeResult> {
  const csvPath = `${dir}/sweep.csv`;
  return withFileLock(`${csvPath}.lock`, async () => {
    const shardFiles = await shardFilesIn(dir);
    const merged = await readSweep(csvPath);
    if (merged.cutTail) {
      throw new UsageError(
        `${csvPath}: ends inside a row; run the sweep once to repair it, then merge again`,
      );
    }
    const byKey = new Map<string, { row: SweepRow; from: string }>();
    for (const row of merged.rows.filter((r) => r.model === model)) {
      byKey.set(pointKey(row), { row, from: "sweep.csv" });
    }
    const others = merged.rows.filter((r) => r.model !== model);
    let added = 0;
    const cutFiles: string[] = [];
    for (const name of shardFiles) {
      const path = `${dir}/${name}`;
      const file = await withFileLock(`${path}.lock`, () => readSweep(path));
      if (file.cutTail) cutFiles.push(name);
      for (const row of file.rows) {
        if (row.model !== model) {
          throw new UsageError(
            `${path}: holds rows of the trained model ${row.model}, but ${dir} now holds model ${model} (retrained?); delete the file or rerun its shard`,
          );
        }
        const key = pointKey(row);
        const earlier = byKey.get(key);
        if (!earlier) {
          byKey.set(key, { row, from: name });
          added++;
          continue;
        }
        const differs = MEASURED_COLUMNS.find((c) => Number(earlier.row[c]) !== Number(row[c]));
        if (differs !== undefined) {
          throw new UsageError(
            `${dir}: point ${pointName(row)} has ${differs} ${
              earlier.row[differs]
            } in ${earlier.from} ` +
              `but ${row[differs]} in ${name}; delete the row you do not trust and merge again`,
          );
        }
      }
    }
    const rows = [...others, ...[...byKey.values()].map((e) => e.row)];
    if (added > 0) await writeSweep(csvPath, rows);
    return { rows: rows.filter((r) => r.model === model), shardFiles, added, cutFiles };
  });
}
