/**
 * `meta.json`, the description beside every exported model: the point it holds (method, k,
 * strategy, allocation and the checksum of the allocation's file), its test figures, where it
 * came from, the compacted hidden sizes and every file's size raw and gzipped. Read back by
 * `deno task eval` for the dataset; every problem reading it is a one-line `UsageError`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { readTextOrFail } from "../util/files.ts";

/** The file name beside the exported models. */
export const META_FILE = "meta.json";

/** What meta.json records besides the files' sizes. */
export interface ExportInfo {
  /** Pruning method. */
  method: string;
  /** Target sparsity in percent. */
  k: number;
  /** Recovery strategy. */
  strategy: string;
  /** How the sparsity was spread over the layers (`--allocation`, e.g. `sensitivity:PATH`). */
  allocation: string;
  /** sha256 (hex) of the allocation's file (`sensitivity:PATH`), or "" when it has none. */
  allocation_sha256: string;
  /** Test accuracy of the exported model. */
  accuracy: number;
  /** Test loss. */
  loss: number;
  /** Sparsity over the pruned parameters. */
  sparsity: number;
  /** The experiment the model came from. */
  experiment: string;
  /** Dataset name (`mnist`, `fashion`, or `custom` for --data-dir). */
  dataset: string;
}

/** Sizes of one exported file. */
export interface FileSize {
  /** Bytes on disk. */
  bytes: number;
  /** Bytes after gzip -9. */
  gzip_bytes: number;
}

/** The whole of meta.json. */
export interface ExportMeta extends ExportInfo {
  /** Hidden widths of model_compact.safetensors. */
  hidden_compact: number[];
  /** Sizes of every file written, by name. */
  files: Record<string, FileSize>;
}

/** Fields older exports lack, with the value they stand for. */
const LATER_FIELDS = { allocation: "uniform", allocation_sha256: "" } as const;

const TEXT_FIELDS = ["method", "strategy", "experiment", "dataset"] as const;
const NUMBER_FIELDS = ["k", "accuracy", "loss", "sparsity"] as const;

/** True for a non-negative integer. */
function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

/** Parses meta.json text; `path` names it in errors. */
export function parseExportMeta(text: string, path: string): ExportMeta {
  const bad = (why: string) => new UsageError(`${path}: not the meta.json of an export (${why})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad("not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad("not a JSON object");
  }
  const meta = { ...LATER_FIELDS, ...json } as Record<string, unknown>;
  for (const key of [...TEXT_FIELDS, ...Object.keys(LATER_FIELDS)]) {
    if (typeof meta[key] !== "string") throw bad(`"${key}" must be a string`);
  }
  for (const key of NUMBER_FIELDS) {
    if (typeof meta[key] !== "number" || !Number.isFinite(meta[key])) {
      throw bad(`"${key}" must be a number`);
    }
  }
  if (!/^([0-9a-f]{64})?$/.test(meta.allocation_sha256 as string)) {
    throw bad(`"allocation_sha256" must be 64 hex digits or empty`);
  }
  const hidden = meta.hidden_compact;
  if (!Array.isArray(hidden) || !hidden.every(isCount)) {
    throw bad(`"hidden_compact" must be a list of widths`);
  }
  const files = meta.files;
  if (typeof files !== "object" || files === null || Array.isArray(files)) {
    throw bad(`"files" must be an object of sizes`);
  }
  for (const size of Object.values(files)) {
    if (!isCount(size?.bytes) || !isCount(size?.gzip_bytes)) {
      throw bad(`"files" must give bytes and gzip_bytes of each file`);
    }
  }
  return meta as unknown as ExportMeta;
}

/** Reads and parses a meta.json (see `parseExportMeta`). */
export async function readExportMeta(path: string): Promise<ExportMeta> {
  return parseExportMeta(await readTextOrFail(path), path);
}
