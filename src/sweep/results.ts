/**
 * sweep.csv: one row per sweep point, written with a CSV library and rewritten atomically after
 * every point, so an interrupted sweep loses nothing finished and a rerun resumes.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import { exists, writeFileAtomic } from "../io/files.ts";

/** One sweep point. Numbers are stored as numbers; per-layer counts as `nonzeros_<l>`. */
export interface SweepRow {
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
  /** gzip bytes of all parameters. */
  gzip_bytes: number;
  /** Dense gzip bytes / this point's gzip bytes. */
  compression: number;
  /** Fine-tuning epochs after pruning (0 for one-shot). */
  finetune_epochs: number;
  /** Rewind target (`none`, `init`, `epoch:E`, `random`). */
  rewind: string;
  /** Method-specific figure (the std method's s), or empty. */
  detail: string;
  /** Extra columns, e.g. `nonzeros_0`. */
  [extra: string]: string | number;
}

/** The fixed leading columns of sweep.csv. */
export const SWEEP_COLUMNS = [
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
  "gzip_bytes",
  "compression",
  "finetune_epochs",
  "rewind",
  "detail",
];

/** Identity of a point for resuming: method, strategy, k and the recovery settings. */
export function pointKey(
  row: Pick<SweepRow, "method" | "strategy" | "k" | "finetune_epochs" | "rewind">,
): string {
  return `${row.method}|${row.strategy}|${Number(row.k)}|${
    Number(row.finetune_epochs)
  }|${row.rewind}`;
}

/** Reads sweep.csv (empty list when absent). */
export async function readSweep(path: string): Promise<SweepRow[]> {
  if (!(await exists(path))) return [];
  const records = parse(await Deno.readTextFile(path), {
    columns: true,
    skip_empty_lines: true,
  }) as Record<
    string,
    string
  >[];
  return records.map((r) => {
    const row: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(r)) {
      const n = Number(value);
      row[key] = value !== "" && Number.isFinite(n) &&
          !["method", "strategy", "rewind", "compact_hidden", "detail"].includes(key)
        ? n
        : value;
    }
    return row as SweepRow;
  });
}

/** Writes all rows atomically, with the fixed columns first then any extra ones. */
export async function writeSweep(path: string, rows: SweepRow[]): Promise<void> {
  const extra = new Set<string>();
  for (const r of rows) {
    for (const key of Object.keys(r)) if (!SWEEP_COLUMNS.includes(key)) extra.add(key);
  }
  const columns = [...SWEEP_COLUMNS, ...[...extra].sort()];
  await writeFileAtomic(path, stringify(rows, { header: true, columns }));
}
