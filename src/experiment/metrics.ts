/**
 * metrics.json: the trained model's figures, written atomically and parsed strictly (every field
 * checked; a damaged file is a one-line `UsageError` naming it and what to do).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Metrics written to metrics.json. */
export interface TrainMetrics {
  /** Test-set accuracy of the kept parameters. */
  test_accuracy: number;
  /** Test-set mean cross-entropy. */
  test_loss: number;
  /** Epochs trained. */
  epochs: number;
  /** Epoch whose parameters were kept. */
  best_epoch: number;
  /** Mean seconds per epoch of training steps. */
  seconds_per_epoch: number;
  /** Training samples per epoch. */
  train_samples: number;
  /** Adapter that ran the training. */
  adapter: string;
  /** The model's identity: the configuration without output paths (see `modelIdentity`). */
  config: Record<string, unknown>;
  /** The checkpoint these figures belong to (its data_sha256). */
  checkpoint_sha256: string;
  /** Sparsity of the prunable layers reached by gradual pruning (absent without it). */
  sparsity?: number;
}

/**
 * Parses metrics.json text, checking every field's type and range; `advice` ends the error line.
 */
export function parseMetricsJson(text: string, path: string, advice: string): TrainMetrics {
  const fail = (what: string): never => {
    throw new UsageError(`${path}: ${what}; ${advice}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON (${(err as Error).message.split("\n")[0]})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("not a JSON object");
  }
  const m = value as Record<string, unknown>;
  const number = (key: string, ok: (n: number) => boolean) => {
    const n = m[key];
    if (typeof n !== "number" || !ok(n)) fail(`"${key}" is missing or out of range`);
  };
  number("test_accuracy", (n) => n >= 0 && n <= 1);
  number("test_loss", (n) => n >= 0);
  number("epochs", (n) => Number.isInteger(n) && n >= 1);
  number("best_epoch", (n) => Number.isInteger(n) && n >= 0);
  number("seconds_per_epoch", (n) => n >= 0);
  number("train_samples", (n) => Number.isInteger(n) && n >= 1);
  if (m.sparsity !== undefined) number("sparsity", (n) => n >= 0 && n <= 1);
  for (const key of ["adapter", "checkpoint_sha256"]) {
    if (typeof m[key] !== "string") fail(`"${key}" is missing or not a string`);
  }
  if (typeof m.config !== "object" || m.config === null || Array.isArray(m.config)) {
    fail(`"config" is missing or not an object`);
  }
  return m as unknown as TrainMetrics;
}
