/**
 * A finished experiment folder read back without its command line: the trained model and the
 * facts its checkpoint's metadata records (model id, seed, dataset, dense accuracy, adapter).
 * What `deno task merge` and `deno task report` need to rebuild a folder's report from its files.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { exists } from "../util/files.ts";
import { checkParams, type Model, type ModelSpec, paramInfos } from "../model/network.ts";
import { readSafetensors } from "../model/safetensors.ts";
import { folderPaths } from "./paths.ts";

/** What an experiment folder's checkpoint says. */
export interface ExperimentFolder {
  /** The folder. */
  dir: string;
  /** Its name: the experiment id. */
  id: string;
  /** The trained model. */
  model: Model;
  /** Its id in sweep.csv: the first 16 hex digits of the checkpoint's data_sha256. */
  modelId: string;
  /** The training configuration as recorded (JSON object). */
  config: Record<string, unknown>;
  /** The experiment's seed. */
  seed: number;
  /** Dataset name. */
  dataset: string;
  /** Dense test accuracy (fraction). */
  testAccuracy: number;
  /** Adapter the model was trained on. */
  adapter: string;
}

/**
 * Reads `dir/checkpoint.safetensors` (checksum verified). An empty `dir`, or a folder without a
 * finished checkpoint, is a one-line `UsageError` naming it.
 */
export async function readExperimentFolder(dir: string): Promise<ExperimentFolder> {
  if (dir.trim() === "") {
    throw new UsageError(`an experiment folder must be named, got "${dir}"`);
  }
  const clean = dir.replace(/\/+$/, "") || "/";
  const path = folderPaths(clean).checkpoint;
  if (!(await exists(path))) {
    throw new UsageError(
      `${clean}: no checkpoint.safetensors; expected a trained wgprune experiment folder`,
    );
  }
  const file = await readSafetensors(path, { requireChecksum: true });
  const meta = file.metadata;
  let spec: ModelSpec;
  let config: Record<string, unknown>;
  try {
    spec = JSON.parse(meta.layers ?? "") as ModelSpec;
    paramInfos(spec); // validates the layer list
    config = JSON.parse(meta.config ?? "") as Record<string, unknown>;
  } catch {
    throw new UsageError(`${path}: its metadata lacks the model or its configuration`);
  }
  if (meta.finished !== "true") {
    throw new UsageError(`${path}: training has not finished; resume it with deno task train`);
  }
  return {
    dir: clean,
    id: clean.split("/").pop()!,
    model: { spec, params: checkParams(spec, file.tensors, path) },
    modelId: (meta.data_sha256 ?? "").slice(0, 16),
    config,
    seed: Number(config.seed ?? 0),
    dataset: meta.dataset ?? "",
    testAccuracy: Number(meta.test_accuracy ?? NaN),
    adapter: meta.adapter ?? "",
  };
}
