/**
 * Checkpoints of an experiment read back and verified: checksum required and matching, every
 * parameter present, of its shape and finite, and the configuration (data fingerprint included)
 * the same as this run's. Every problem is a one-line `UsageError` ending in what to do.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { exists } from "../util/files.ts";
import { checkParams, type Model, type ModelSpec } from "../model/network.ts";
import {
  dataChecksum,
  readSafetensors,
  type SafetensorsFile,
  writeSafetensors,
} from "../model/safetensors.ts";
import { modelIdentity, type TrainConfig } from "./config.ts";
import { experimentPaths } from "./paths.ts";

/** A finished checkpoint read back and verified. */
export interface Checkpoint {
  /** The model (parameters finite, of the configured shapes). */
  model: Model;
  /** Its metadata (test accuracy, best epoch, configuration, `data_sha256`, …). */
  metadata: Record<string, string>;
}

/** What to tell a user whose saved file cannot be used. */
const RETRAIN_ADVICE = "pass --force-train to retrain, or delete it";

/**
 * Reads a wgprune safetensors file of a model of `spec` (checksum required and verified, weights
 * finite, shapes as configured); every problem is a one-line `UsageError` ending in what to do.
 */
export async function readVerified(
  spec: ModelSpec,
  path: string,
): Promise<{ file: SafetensorsFile; model: Model }> {
  try {
    const file = await readSafetensors(path, { requireChecksum: true });
    return { file, model: { spec, params: checkParams(spec, file.tensors, path) } };
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}; ${RETRAIN_ADVICE}`);
    throw err;
  }
}

/**
 * Explains why a saved file's configuration differs from this run's: other data (fingerprints
 * differ) or other settings (the first differing one is named).
 */
function identityMismatch(path: string, stored: string | undefined, config: TrainConfig): string {
  let old: Record<string, unknown> = {};
  try {
    old = JSON.parse(stored ?? "{}");
  } catch {
    // unreadable: reported as other settings below
  }
  const now = JSON.parse(modelIdentity(config)) as Record<string, unknown>;
  if (old.dataFingerprint !== now.dataFingerprint) {
    const a = String(old.dataFingerprint ?? "unknown").slice(0, 12);
    return `${path} was trained on other data (sha256 ${a}…; the data loaded now is ` +
      `${config.dataFingerprint.slice(0, 12)}…); ${RETRAIN_ADVICE}, or use another --experiment-id`;
  }
  const key = Object.keys({ ...old, ...now }).find((k) =>
    JSON.stringify(old[k]) !== JSON.stringify(now[k])
  );
  return `${path} was trained with other settings (${key ?? "configuration"}: ` +
    `${JSON.stringify(old[key ?? ""])} then, ${JSON.stringify(now[key ?? ""])} now); ` +
    `${RETRAIN_ADVICE}, or use another --experiment-id`;
}

/**
 * Reads the finished checkpoint of this experiment, or undefined if there is none. A checkpoint
 * that is corrupt, non-finite, or was trained on other data or settings is a `UsageError`.
 */
export async function readCheckpoint(
  config: TrainConfig,
  spec: ModelSpec,
): Promise<Checkpoint | undefined> {
  const path = experimentPaths(config).checkpoint;
  if (!(await exists(path))) return undefined;
  const { file, model } = await readVerified(spec, path);
  if (file.metadata.finished !== "true") return undefined;
  if (file.metadata.config !== modelIdentity(config)) {
    throw new UsageError(identityMismatch(path, file.metadata.config, config));
  }
  return { model, metadata: file.metadata };
}

/** Reads a saved snapshot (`init`, `epoch_E`) of this experiment for rewinding, verified. */
export async function readSnapshot(
  config: TrainConfig,
  path: string,
  spec: ModelSpec,
): Promise<Model> {
  const { file, model } = await readVerified(spec, path);
  if (file.metadata.config !== modelIdentity(config)) {
    throw new UsageError(identityMismatch(path, file.metadata.config, config));
  }
  return model;
}

/** Writes a model's parameters (with metadata) as safetensors; returns their data_sha256. */
export async function saveModel(
  path: string,
  model: Model,
  metadata: Record<string, string>,
): Promise<string> {
  await writeSafetensors(path, model.params, metadata);
  return dataChecksum(model.params);
}
