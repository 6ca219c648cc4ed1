/**
 * The configuration of an experiment: what defines the trained model, where it is stored, and the
 * id and identity derived from them.
 *
 * @module
 */

import type { DatasetName } from "../data/datasets.ts";
import { DEFAULT_PRUNE_PARAMS } from "../model/masks.ts";
import { type Model, type ModelSpec, outputSize } from "../model/network.ts";
import { sizeOf } from "../model/tensor.ts";
import { UsageError } from "../util/errors.ts";
import { type ModelName, modelSpec } from "../model/zoo.ts";
import type { InitScheme } from "../model/layers/init.ts";
import type { ScheduleConfig } from "../prune/schedule.ts";

/** Everything that defines a training run. */
export interface TrainConfig {
  /** `mnist` or `fashion`. */
  dataset: DatasetName;
  /** Folder of IDX files overriding the dataset's default location. */
  dataDir?: string;
  /** Samples held out of the training set for validation. */
  numValid: number;
  /**
   * The network (`--model`, src/model/zoo.ts), or a user's file: `onnx` (a model with weights,
   * src/export/onnx_import.ts) or `spec` (a JSON layer list, src/model/spec_file.ts).
   */
  model: ModelName | "onnx" | "spec";
  /** `--model FILE.onnx` or `FILE.json`: the file of the user's model. */
  modelFile?: string;
  /** A JSON layer list's network, once read. */
  fileSpec?: ModelSpec;
  /** sha256 (hex) of that file's bytes; empty until read. */
  modelFingerprint: string;
  /** The file's model, once read (its spec is the experiment's network). */
  imported?: Model;
  /** What the import folded or dropped, one line each, said when the model is first used. */
  importNotes: string[];
  /**
   * `--weights`, with an ONNX model: `imported` (the file's weights are the trained model, no
   * training), `scratch` (train its architecture from the seeded initialisation) or `finetune`
   * (train from the file's weights).
   */
  weights: WeightStart;
  /** Hidden layer widths (`mlp`). */
  hidden: number[];
  /** Whether layers have biases (`mlp`; the paper networks always have them). */
  bias: boolean;
  /** Training epochs. */
  epochs: number;
  /** Samples per step. */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** L1 penalty. */
  l1: number;
  /** L2 penalty. */
  l2: number;
  /** Seed for initialisation, split and shuffles. */
  seed: number;
  /** How the parameters start (`--init`, src/model/layers/init.ts). */
  init: InitScheme;
  /** Keep the weights of the epoch with the best validation accuracy. */
  keepBest: boolean;
  /**
   * Results folder name: `--experiment-id`, or derived from the flags and the data by
   * `deriveExperimentId` once the data is loaded (empty until then).
   */
  experimentId: string;
  /** True when `--experiment-id` named the folder. */
  experimentIdGiven: boolean;
  /** sha256 (hex) of the four IDX files' contents actually loaded; empty until loaded. */
  dataFingerprint: string;
  /** Parent folder of experiment folders. */
  outputDir: string;
  /** Retrain even when a finished checkpoint exists. */
  forceTrain: boolean;
  /** Use only the first N training samples (quick runs, tests). */
  limitTrain?: number;
  /** Gradual pruning during training, if asked for (train only). */
  gradual?: GradualConfig;
  /** Which parameters are pruned: `default`, `all` or name patterns (see src/model/masks.ts). */
  pruneParams: string;
}

/** Where an ONNX model's training starts (`--weights`). */
export type WeightStart = "imported" | "scratch" | "finetune";

/** Every `--weights` value. */
export const WEIGHT_STARTS: readonly WeightStart[] = ["imported", "scratch", "finetune"];

/** The id part of a model file: `onnx-` or `spec-`, its stem, 12 hex digits of its sha256. */
function filePart(c: TrainConfig): string {
  if (!c.modelFingerprint) throw new Error("deriveExperimentId: the model file must be read first");
  const stem = (c.modelFile ?? "").replace(/^.*\//, "").replace(/\.(onnx|json)$/, "");
  return `${c.model}-${stem.replace(/[^\w.-]/g, "_")}-${c.modelFingerprint.slice(0, 12)}`;
}

/** Gradual pruning settings of `deno task train --prune ...`. */
export interface GradualConfig {
  /** Pruning method name. */
  method: string;
  /** Schedule: sparsities as fractions; `end` resolved to a step count. */
  schedule: ScheduleConfig;
}

/**
 * Derives the experiment id from the flags that change the trained model and, for `--data-dir`,
 * from the data actually loaded (`custom-<first 12 hex digits of its sha256>`), so two folders
 * never share an experiment. Needs `dataFingerprint` when `dataDir` is set.
 */
export function deriveExperimentId(c: TrainConfig): string {
  if (c.dataDir && !c.dataFingerprint) {
    throw new Error("deriveExperimentId: the data must be loaded before a --data-dir id is known");
  }
  const data = c.dataDir ? `custom-${c.dataFingerprint.slice(0, 12)}` : c.dataset;
  // Imported weights are the trained model: the training settings do not apply.
  if (c.model === "onnx" && c.weights === "imported") {
    return [data, filePart(c), "imported", ...(c.limitTrain ? [`n${c.limitTrain}`] : [])].join("_");
  }
  const parts = [
    data,
    c.model === "mlp" ? `h${c.hidden.join("-")}` : c.modelFile ? filePart(c) : c.model,
    `e${c.epochs}`,
    `lr${c.learningRate}`,
    `l1_${c.l1}`,
    `l2_${c.l2}`,
    `b${c.batchSize}`,
    ...(c.model === "mlp" ? [c.bias ? "bias" : "nobias"] : []),
    `s${c.seed}`,
  ];
  if (c.numValid !== 10000) parts.push(`v${c.numValid}`);
  // He-normal, every experiment's initialisation before --init existed, is left unnamed so those
  // folders keep their ids; any other scheme (the MLP's default `torch` too) is named.
  if (c.init !== "he") parts.push(`init-${c.init}`);
  if (!c.keepBest) parts.push("last");
  if (c.gradual) {
    const g = c.gradual.schedule;
    parts.push(
      `prune-${c.gradual.method}-${g.target}-${g.kind}-b${g.begin}-e${g.end}-f${g.frequency}`,
    );
    if (c.pruneParams !== DEFAULT_PRUNE_PARAMS) {
      parts.push(`pp-${c.pruneParams.replace(/[^\w.-]/g, "_")}`);
    }
  }
  if (c.limitTrain) parts.push(`n${c.limitTrain}`);
  if (c.model === "onnx" && c.weights === "finetune") parts.push("finetune");
  return parts.join("_");
}

/**
 * What identifies a trained model for reuse and resume: the configuration without where it is
 * stored (`outputDir`, `experimentId`), how it was asked for (`forceTrain`), the data folder's
 * path (the data's fingerprint stands for it, so a moved folder still resumes) or what a sweep
 * prunes.
 */
export function modelIdentity(c: TrainConfig): string {
  const {
    outputDir: _o,
    experimentId: _e,
    experimentIdGiven: _g,
    forceTrain: _f,
    dataDir: _d,
    pruneParams: _p,
    modelFile: _file,
    imported: _imported,
    fileSpec: _fileSpec,
    importNotes: _notes,
    modelFingerprint,
    weights,
    init,
    model,
    ...mlp
  } = c;
  // The MLP's identity reads as it did before other networks existed (same keys in the same
  // order), so its runs still resume; the paper networks are named instead of their widths.
  const { hidden: _h, bias: _b, ...common } = mlp;
  const rest = model === "mlp"
    ? mlp
    : model === "onnx"
    ? { ...common, model, modelFingerprint, weights }
    : model === "spec"
    ? { ...common, model, modelFingerprint }
    : { ...common, model };
  // Which parameters a sweep prunes does not change the trained model; gradual pruning's does.
  const prune = c.gradual ? { pruneParams: c.pruneParams } : {};
  // He-normal is left out of the identity (see the id above), so He-normal runs keep their ids.
  const scheme = init === "he" ? {} : { init };
  return JSON.stringify({ ...rest, ...prune, ...scheme, customData: Boolean(c.dataDir) });
}

/** The network an experiment trains over `features` inputs (src/model/zoo.ts). */
export function modelSpecOf(config: TrainConfig, features: number, classes = 10): ModelSpec {
  if (config.model !== "onnx" && config.model !== "spec") {
    return modelSpec(config.model, { features, classes, hidden: config.hidden, bias: config.bias });
  }
  const spec = config.fileSpec ?? config.imported!.spec;
  const reads = sizeOf(spec.input);
  if (reads !== features || outputSize(spec) !== classes) {
    throw new UsageError(
      `${config.modelFile} reads [${spec.input}] (${reads} values) and gives ${
        outputSize(spec)
      } classes; the data has ${features} values per sample and ${classes} classes`,
    );
  }
  return spec;
}
