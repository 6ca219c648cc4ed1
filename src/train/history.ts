/**
 * history.csv: one row per training epoch, written atomically and parsed strictly (a file cut
 * mid-line or edited into nonsense is a one-line `UsageError` naming the file and what to do,
 * never a parser's exception).
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import { UsageError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/files.ts";
import type { EpochRecord } from "./trainer.ts";

/** Column order of history.csv. */
export const HISTORY_COLUMNS: (keyof EpochRecord)[] = [
  "epoch",
  "train_loss",
  "train_accuracy",
  "valid_loss",
  "valid_accuracy",
  "seconds",
];

/** Serialises a training history as CSV text. */
export function formatHistoryCsv(history: EpochRecord[]): string {
  return stringify(history, { header: true, columns: HISTORY_COLUMNS });
}

/** Writes a training history as CSV (atomically). */
export function writeHistory(path: string, history: EpochRecord[]): Promise<void> {
  return writeFileAtomic(path, formatHistoryCsv(history));
}

/**
 * Parses history.csv text: the header must be exactly `HISTORY_COLUMNS`, every field a number
 * (the loss may be NaN, as a diverged epoch records it), epochs 1, 2, 3, … in order. `advice`
 * ends the error line (what the user should do).
 */
export function parseHistoryCsv(text: string, path: string, advice: string): EpochRecord[] {
  const fail = (what: string): never => {
    throw new UsageError(`${path}: ${what}; ${advice}`);
  };
  if (!text.endsWith("\n")) fail("cut off inside its last line");
  let records: string[][] = [];
  try {
    records = parse(text, { relax_column_count: true }) as string[][];
  } catch (err) {
    fail(`not valid CSV (${(err as Error).message})`);
  }
  const [header, ...body] = records;
  if (!header || header.join() !== HISTORY_COLUMNS.join()) {
    fail(`header is not ${HISTORY_COLUMNS.join(",")}`);
  }
  return body.map((record, i) => {
    const line = i + 2;
    if (record.length !== HISTORY_COLUMNS.length) {
      fail(`line ${line} has ${record.length} fields, expected ${HISTORY_COLUMNS.length}`);
    }
    const values = record.map((v) => (v.trim() === "" ? NaN : Number(v)));
    if (values.some((v, c) => Number.isNaN(v) && record[c] !== "NaN")) {
      fail(`line ${line} holds a field that is not a number`);
    }
    if (values[0] !== i + 1) {
      fail(`line ${line} is epoch ${JSON.stringify(record[0].slice(0, 20))}, expected ${i + 1}`);
    }
    return Object.fromEntries(
      HISTORY_COLUMNS.map((c, j) => [c, values[j]]),
    ) as unknown as EpochRecord;
  });
}
