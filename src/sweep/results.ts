/**
 * sweep.csv: one row per sweep point, written with a CSV library and rewritten atomically after
 * every point under a file lock, so an interrupted sweep loses nothing finished, a rerun
 * resumes, and concurrent sweeps of one experiment merge their rows.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import { UsageError, writeFailure } from "../util/errors.ts";
import { pointKey } from "./point_id.ts";
import type { CompressedSizes } from "./measure.ts";
import {
  exists,
  readTextOrFail,
  renameFile,
  withFileLock,
  writeFileAtomic,
} from "../util/files.ts";

/**
 * One sweep point. Numbers are stored as numbers; per-layer counts as `nonzeros_<l>`; its sizes
 * through Deep Compression's stages are the `CompressedSizes` columns.
 */
export interface SweepRow extends CompressedSizes {
  /** The trained model pruned: the first 16 hex digits of its checkpoint's data_sha256. */
  model: string;
  /** Pruning method name. */
  method: string;
  /** How accuracy was recovered: `oneshot`, `finetune`, `iterative`, `rewind`, ... */
  strategy: string;
  /** Target sparsity in percent. */
  k: number;
  /** Achieved zeros / weights over prunable layers. */
  sparsity: number;
  /** Achieved zeros / parameters over the whole model. */
  sparsity_total: number;
  /** Test accuracy. */
  accuracy: number;
  /** Test loss. */
  loss: number;
  /** Non-zero parameters. */
  nonzeros: number;
  /** Median forward time over the test set, masked dense network (ms). */
  infer_ms: number;
  /** Hidden sizes after removing dead units, e.g. `500-500-250-100`. */
  compact_hidden: string;
  /** Median forward time of the compacted network (ms). */
  infer_compact_ms: number;
  /** Median forward time on the fastest exact path: compacted, sparse layers where they win. */
  infer_sparse_ms: number;
  /** infer_ms / infer_sparse_ms. */
  speedup: number;
  /** Path of each dense layer in that pass: `s` sparse CSR, `n` N:M kernel, `d` dense. */
  infer_path: string;
  /** gzip bytes of all parameters. */
  gzip_bytes: number;
  /** Dense gzip bytes / this point's gzip bytes. */
  compression: number;
  /** Fine-tuning epochs after pruning (0 for one-shot). */
  finetune_epochs: number;
  /** Learning rate of the recovery training (0 for one-shot). */
  recovery_lr: number;
  /** Rounds of the iterative schedule (0 for other strategies). */
  steps: number;
  /** Which parameters were pruned (`default`, `all` or name patterns). */
  prune_params: string;
  /** Rewind target (`none`, `init`, `epoch:E`, `random`). */
  rewind: string;
  /** Method-specific figure (the std method's s), or empty. */
  detail: string;
  /** How the method's sparsity was spread over the layers (`--allocation`). */
  allocation: string;
  /**
   * The first 16 hex digits of the sha256 of the allocation's file (`sensitivity:PATH`), or ""
   * for an allocation without one: a rescanned file is another point.
   */
  allocation_sha256: string;
  /** Bits per stored weight value: `32` (f32), or the weight-sharing bits (`5`, `8,5`). */
  bits: string;
  /** Epochs of centroid fine-tuning after weight sharing (0 without). */
  quantize_epochs: number;
  /** Learning rate of that fine-tuning (0 without). */
  quantize_lr: number;
  /** Test accuracy of the point before weight sharing (equal to `accuracy` without it). */
  accuracy_f32: number;
  /** Extra columns, e.g. `nonzeros_0`. */
  [extra: string]: string | number;
}

/** The fixed leading columns of sweep.csv. */
export const SWEEP_COLUMNS = [
  "model",
  "method",
  "strategy",
  "k",
  "sparsity",
  "sparsity_total",
  "accuracy",
  "loss",
  "nonzeros",
  "infer_ms",
  "compact_hidden",
  "infer_compact_ms",
  "infer_sparse_ms",
  "speedup",
  "infer_path",
  "gzip_bytes",
  "compression",
  "finetune_epochs",
  "recovery_lr",
  "steps",
  "prune_params",
  "rewind",
  "detail",
  "allocation",
  "allocation_sha256",
  "bits",
  "quantize_epochs",
  "quantize_lr",
  "accuracy_f32",
  "bytes_dense",
  "bytes_csr",
  "bytes_q",
  "bytes_huffman",
  "gzip_csr",
  "gzip_q",
  "gzip_huffman",
  "compression_dc",
];

/** Columns holding text; every other column must hold a finite number. */
export const TEXT_COLUMNS = new Set([
  "model",
  "method",
  "strategy",
  "prune_params",
  "rewind",
  "compact_hidden",
  "infer_path",
  "detail",
  "allocation",
  "allocation_sha256",
  "bits",
]);

/**
 * The allocation and Deep Compression columns of a row measured before they existed: uniform
 * allocation, f32 weights, no weight sharing, sizes unknown (0).
 */
export const NO_COMPRESSION_FIGURES = {
  allocation: "uniform",
  allocation_sha256: "",
  bits: "32",
  quantize_epochs: 0,
  quantize_lr: 0,
  accuracy_f32: 0,
  bytes_dense: 0,
  bytes_csr: 0,
  bytes_q: 0,
  bytes_huffman: 0,
  gzip_csr: 0,
  gzip_q: 0,
  gzip_huffman: 0,
  compression_dc: 0,
} as const;

/**
 * Columns added after the first release, with the value their rows get when a file lacks them:
 * such rows have no model id, so they are set aside as stale (see `openSweep`).
 */
const LATER_COLUMNS: Record<string, string | number> = {
  model: "",
  infer_sparse_ms: 0,
  speedup: 0,
  infer_path: "",
  recovery_lr: 0,
  steps: 0,
  prune_params: "default",
  ...NO_COMPRESSION_FIGURES,
};

/** Columns a row cannot do without. */
const REQUIRED_COLUMNS = SWEEP_COLUMNS.filter((c) => !(c in LATER_COLUMNS));

/** Columns two copies of a point must agree on: what was measured, not how fast. */
export const MEASURED_COLUMNS = ["accuracy", "loss", "nonzeros"] as const;

/** A point's name for messages: `weight k=90 finetune`. */
export function pointName(row: Pick<SweepRow, "method" | "k" | "strategy">): string {
  return `${row.method} k=${row.k} ${row.strategy}`;
}

/** The rows of a sweep.csv and whether its last row was cut off (and dropped). */
export interface SweepFile {
  /** Complete, well-formed rows, one per key (a later copy that agrees replaces an earlier one). */
  rows: SweepRow[];
  /** True when the last row was cut off; it was dropped and will be recomputed. */
  cutTail: boolean;
}

/**
 * Parses sweep.csv text; `path` names the file in errors. Every row is written whole with its
 * line break, so only a copy or a write interrupted elsewhere (a full disk, a killed `cp`) can
 * leave a last line without one: that line is dropped and reported through `cutTail`. Anything
 * else malformed — the header, any row (the last, complete one included), or two rows of one
 * point that disagree on a measured column — is a one-line `UsageError` naming the file and line.
 */
export function parseSweepCsv(text: string, path: string): SweepFile {
  try {
    return { rows: parseWholeSweep(text, path), cutTail: false };
  } catch (err) {
    if (!(err instanceof UsageError) || text === "" || text.endsWith("\n")) throw err;
    const lastBreak = text.lastIndexOf("\n");
    if (lastBreak < 0) return { rows: [], cutTail: true }; // even the header was cut
    try {
      return { rows: parseWholeSweep(text.slice(0, lastBreak + 1), path), cutTail: true };
    } catch {
      throw err; // the damage is not (only) in the cut line
    }
  }
}

/** A field quoted for an error message, shortened past 40 characters. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** Text for a one-line message: as it is, or JSON-quoted when it holds a line break. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? JSON.stringify(text) : text;
}

/** Parses sweep.csv text that must be whole: every row complete and well-formed. */
function parseWholeSweep(text: string, path: string): SweepRow[] {
  if (text === "") return [];
  const fix = "fix or delete it, or pass --force to set it aside and start over";
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true }) as string[][];
  } catch (err) {
    throw new UsageError(`${path}: not valid CSV (${(err as Error).message}); ${fix}`);
  }
  const [header, ...body] = records;
  const missing = REQUIRED_COLUMNS.find((c) => !header.includes(c));
  if (missing !== undefined) {
    throw new UsageError(`${path}: header lacks the column "${missing}"; ${fix}`);
  }
  if (new Set(header).size !== header.length) {
    throw new UsageError(`${path}: header repeats a column; ${fix}`);
  }
  const byKey = new Map<string, { row: SweepRow; line: number }>();
  body.forEach((record, i) => {
    const line = i + 2;
    if (record.length !== header.length) {
      throw new UsageError(
        `${path}: line ${line} has ${record.length} fields, the header ${header.length}; ${fix}`,
      );
    }
    const row: Record<string, string | number> = {};
    header.forEach((column, c) => {
      const value = record[c];
      if (TEXT_COLUMNS.has(column)) {
        row[column] = value;
        return;
      }
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) {
        throw new UsageError(
          `${path}: line ${line}, column ${column}: ${quote(value)} is not a number; ${fix}`,
        );
      }
      row[column] = n;
    });
    for (const [column, value] of Object.entries(LATER_COLUMNS)) row[column] ??= value;
    const typed = row as SweepRow;
    const key = pointKey(typed);
    const earlier = byKey.get(key);
    const differs = MEASURED_COLUMNS.find((c) => earlier && earlier.row[c] !== typed[c]);
    if (earlier && differs) {
      throw new UsageError(
        `${path}: lines ${earlier.line} and ${line} hold point ${
          oneLine(pointName(typed))
        } with ${differs} ` +
          `${earlier.row[differs]} and ${typed[differs]}; delete the row you do not trust`,
      );
    }
    byKey.delete(key); // a later copy that agrees wins and moves to the end
    byKey.set(key, { row: typed, line });
  });
  if (!text.endsWith("\n")) {
    throw new UsageError(`${path}: cut off inside its last line; ${fix}`);
  }
  return [...byKey.values()].map((e) => e.row);
}

/** Reads sweep.csv (no rows when absent). */
export async function readSweep(path: string): Promise<SweepFile> {
  if (!(await exists(path))) return { rows: [], cutTail: false };
  return parseSweepCsv(await readTextOrFail(path), path);
}

/** Serialises rows as CSV text: the fixed columns first, then extra ones (`nonzeros_<l>`). */
export function formatSweepCsv(rows: SweepRow[]): string {
  const extra = new Set<string>();
  for (const r of rows) {
    for (const key of Object.keys(r)) if (!SWEEP_COLUMNS.includes(key)) extra.add(key);
  }
  const columns = [...SWEEP_COLUMNS, ...[...extra].sort()];
  return stringify(rows, { header: true, columns });
}

/** Writes all rows atomically. */
export async function writeSweep(path: string, rows: SweepRow[]): Promise<void> {
  await writeFileAtomic(path, formatSweepCsv(rows));
}

/**
 * Read-modify-write of sweep.csv under its lock (`sweep.csv.lock` beside it), so several sweeps
 * of one experiment (other methods, other strategies) can run at once and every row survives:
 * each update re-reads the file, changes it and writes it back atomically. `change` gets the
 * current rows and returns the rows to write, or undefined to leave the file alone.
 */
export function updateSweep(
  path: string,
  change: (current: SweepFile) => SweepRow[] | undefined | Promise<SweepRow[] | undefined>,
): Promise<SweepRow[]> {
  return withFileLock(`${path}.lock`, async () => {
    const current = await readSweep(path);
    const next = await change(current);
    if (next !== undefined) await writeSweep(path, next);
    return next ?? current.rows;
  });
}

/**
 * Opens sweep.csv for a sweep of the trained model `model`, under its lock, and returns that
 * model's rows. On the way it repairs what it can without losing anything:
 * - a last row cut off mid-write is dropped (and recomputed by the sweep), with a line on stderr;
 * - rows of another trained model (the experiment was retrained with `--force-train`, or the
 *   rows predate the `model` column) move to `sweep.stale-<model>.csv` beside it;
 * - with `force`, a file that cannot be parsed is renamed to `sweep.csv.bad-<time>` and the
 *   sweep starts afresh; without it, that is a `UsageError`.
 */
export function openSweep(
  path: string,
  model: string,
  force: boolean,
  log: (line: string) => void,
): Promise<SweepRow[]> {
  return withFileLock(`${path}.lock`, async () => {
    let file: SweepFile;
    try {
      file = await readSweep(path);
    } catch (err) {
      if (!(err instanceof UsageError) || !force) throw err;
      const aside = `${path}.bad-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      await renameOrFail(path, aside);
      log(`sweep: set the unreadable ${path} aside as ${aside}`);
      file = { rows: [], cutTail: false };
    }
    if (file.cutTail) {
      log(`sweep: ${path} ended inside a row; that row is dropped and will be recomputed`);
    }
    const stale = file.rows.filter((r) => r.model !== model);
    for (const other of new Set(stale.map((r) => r.model))) {
      const archive = path.replace(/[^/]*$/, `sweep.stale-${other || "unknown"}.csv`);
      const moved = stale.filter((r) => r.model === other);
      const earlier = await readSweep(archive).catch(() => ({ rows: [], cutTail: false }));
      const keys = new Set(moved.map(pointKey));
      await writeSweep(archive, [...earlier.rows.filter((r) => !keys.has(pointKey(r))), ...moved]);
      log(
        `sweep: moved ${moved.length} rows of another trained model (${
          other || "without a model id"
        }) to ${archive}`,
      );
    }
    const rows = file.rows.filter((r) => r.model === model);
    if (stale.length > 0 || file.cutTail) await writeSweep(path, rows);
    return rows;
  });
}

async function renameOrFail(from: string, to: string): Promise<void> {
  try {
    await renameFile(from, to);
  } catch (err) {
    throw writeFailure(to, err);
  }
}

/**
 * The rows of the trained model `model` in a sweep file, read under its lock (none when it is
 * missing): a sweep's own rows, or those of the merged sweep.csv a shard need not compute again.
 */
export async function readModelRows(path: string, model: string): Promise<SweepRow[]> {
  if (!(await exists(path))) return [];
  return (await updateSweep(path, () => undefined)).filter((r) => r.model === model);
}
