/**
 * Flags shared by `train` and `sweep`: dataset, model, optimiser and output. Parsed with Node's
 * built-in `util.parseArgs` (strict: unknown flags are errors), validated into a `TrainConfig`.
 *
 * @module
 */

import { defaultInit, parseModelName } from "../model/zoo.ts";
import type { ParseArgsConfig } from "node:util";
import { checkFolder, checkPath, numberFlag } from "./flags.ts";
import { UsageError } from "../util/errors.ts";
import { MAX_SEED } from "../util/rng.ts";
import { type DatasetName, DATASETS } from "../data/datasets.ts";
import { PRUNE_METHODS } from "../prune/registry.ts";
import { parseInitScheme } from "../model/layers/init.ts";
import { DEFAULT_PRUNE_PARAMS } from "../model/masks.ts";
import {
  type GradualConfig,
  type TrainConfig,
  WEIGHT_STARTS,
  type WeightStart,
} from "../experiment/config.ts";
import { KERNEL_FLAG, KERNEL_HELP } from "./kernel_option.ts";

/** parseArgs option table of the shared flags. */
export const TRAIN_FLAGS = {
  dataset: { type: "string", default: "mnist" },
  "data-dir": { type: "string" },
  "num-valid": { type: "string", default: "10000" },
  model: { type: "string", default: "mlp" },
  weights: { type: "string" },
  hidden: { type: "string", default: "1000,1000,500,200" },
  bias: { type: "boolean", default: false },
  init: { type: "string" },
  epochs: { type: "string", default: "10" },
  "batch-size": { type: "string", default: "128" },
  "learning-rate": { type: "string", default: "0.001" },
  l1: { type: "string", default: "0" },
  l2: { type: "string", default: "0" },
  seed: { type: "string", default: "0" },
  "keep-best": { type: "boolean", default: true },
  "no-keep-best": { type: "boolean", default: false },
  "experiment-id": { type: "string" },
  "output-dir": { type: "string", default: "results" },
  "force-train": { type: "boolean", default: false },
  "limit-train": { type: "string" },
  "prune-params": { type: "string", default: DEFAULT_PRUNE_PARAMS },
  ...KERNEL_FLAG,
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

/** Help text of the shared flags. */
export const TRAIN_HELP = `Data:
  --dataset mnist|fashion   dataset (default mnist; fashion is Debian's dataset-fashion-mnist,
                            installed when missing as root)
  --data-dir DIR            folder with the four IDX files (raw or .gz), or numpy's x_train.npy,
                            y_train.npy, x_test.npy, y_test.npy (uint8 or float32 images in [0, 1]
                            of any [N, …] shape, integer labels; the classes come from the labels)
  --num-valid N             training samples held out for validation (default 10000)
  --limit-train N           train on the first N training samples only (quick runs)
Model and training:
  --model NAME|FILE         mlp (default), lenet-300-100, lenet5, lenet5-caffe or cnn-small; a
                            sequential ONNX model of your own, FILE.onnx (src/export/README.md
                            lists the operators); or a JSON layer list, FILE.json
                            (src/model/README.md); its input shape must match the data
  --weights W               with an ONNX model: imported (default: the file's weights are the
                            trained model, no training), scratch (train its architecture from the
                            seeded initialisation) or finetune (train from the file's weights)
  --hidden 1000,1000,500,200  mlp: hidden layer widths (ReLU), then 10 logits
  --bias                    mlp: give layers biases (default: none, as in the pruning challenge;
                            the other networks always have them)
  --epochs N                training epochs (default 10)
  --batch-size N            samples per step (default 128)
  --learning-rate X         Adam learning rate (default 0.001)
  --l1 X, --l2 X            weight penalties (default 0)
  --seed N                  seed for init, split and shuffles, 0 to 4294967295 (default 0)
  --init he|glorot|torch    initialisation: He-normal before ReLUs, Glorot-uniform everywhere
                            (Keras), or PyTorch's Linear/Conv2d default (default: torch for
                            mlp, he for the paper networks)
  --no-keep-best            keep the last epoch's weights instead of the best validation epoch's
Pruning scope:
  --prune-params P          parameters pruned: default (every weight but the output layer's),
                            all (output layer and biases too), or name patterns like
                            layers.*.weight,layers.0.bias
Output:
  --experiment-id ID        results folder name (default: derived from the flags above)
  --output-dir DIR          parent folder (default results)
  --force-train             retrain even if a finished checkpoint exists
Kernels:
${KERNEL_HELP}
  -h, --help                show this help`;

/** Parses `--hidden 1000,1000,500,200`. */
export function parseHidden(raw: string): number[] {
  const parts = raw.split(",").map((s) => s.trim());
  const sizes = parts.map(Number);
  if (sizes.some((n, i) => !/^\d+$/.test(parts[i]) || n < 1 || n > 1e6)) {
    throw new UsageError(
      `--hidden must be a comma list of positive integers like 1000,1000,500,200, got "${raw}"`,
    );
  }
  return sizes;
}

/** Checks an `--experiment-id`: one folder name, nothing that walks out of the output folder. */
export function checkExperimentId(id: string): string {
  if (!/^[\w.-]{1,200}$/.test(id) || /^\.+$/.test(id)) {
    throw new UsageError(
      `--experiment-id must be one folder name of letters, digits, '.', '_' and '-' (not . or ..), got "${id}"`,
    );
  }
  return id;
}

/** Checks `--output-dir` (see `checkFolder`). */
export function checkOutputDir(dir: string): string {
  return checkFolder("--output-dir", dir);
}

/**
 * Validates parsed shared flags into a `TrainConfig`. The experiment id stays empty unless
 * `--experiment-id` gives it: a derived id needs the data's fingerprint (see `loadData`).
 */
export function toTrainConfig(v: Record<string, string | boolean | undefined>): TrainConfig {
  const dataset = String(v.dataset);
  if (!(DATASETS as readonly string[]).includes(dataset)) {
    throw new UsageError(`--dataset must be one of ${DATASETS.join(", ")}, got "${dataset}"`);
  }
  const rawDataDir = v["data-dir"] as string | undefined;
  const dataDir = rawDataDir === undefined
    ? undefined
    : checkPath("--data-dir", rawDataDir, "folder");
  const id = v["experiment-id"] as string | undefined;
  const rawModel = String(v.model);
  const onnxFile = rawModel.endsWith(".onnx") ? checkPath("--model", rawModel, "file") : undefined;
  const specFile = rawModel.endsWith(".json") ? checkPath("--model", rawModel, "file") : undefined;
  const model = onnxFile ? "onnx" : specFile ? "spec" : parseModelName(rawModel);
  const weights = String(v.weights ?? "imported");
  if (v.weights !== undefined && !onnxFile) {
    throw new UsageError(
      `--weights applies to an ONNX --model (FILE.onnx), not --model ${rawModel}`,
    );
  }
  if (!(WEIGHT_STARTS as readonly string[]).includes(weights)) {
    throw new UsageError(`--weights must be ${WEIGHT_STARTS.join(", ")}, got "${weights}"`);
  }
  return {
    dataset: dataset as DatasetName,
    dataDir,
    numValid: numberFlag("num-valid", String(v["num-valid"]), { integer: true, min: 0 }),
    model,
    hidden: parseHidden(String(v.hidden)),
    bias: Boolean(v.bias),
    epochs: numberFlag("epochs", String(v.epochs), { integer: true, min: 1 }),
    batchSize: numberFlag("batch-size", String(v["batch-size"]), { integer: true, min: 1 }),
    learningRate: numberFlag("learning-rate", String(v["learning-rate"]), {
      min: 0,
      minExclusive: true,
    }),
    l1: numberFlag("l1", String(v.l1), { min: 0 }),
    l2: numberFlag("l2", String(v.l2), { min: 0 }),
    seed: numberFlag("seed", String(v.seed), { integer: true, min: 0, max: MAX_SEED }),
    init: v.init === undefined
      ? (model === "onnx" || model === "spec" ? "torch" : defaultInit(model))
      : parseInitScheme(String(v.init)),
    modelFile: onnxFile ?? specFile,
    modelFingerprint: "",
    importNotes: [],
    weights: weights as WeightStart,
    keepBest: Boolean(v["keep-best"]) && !v["no-keep-best"],
    outputDir: checkOutputDir(String(v["output-dir"])),
    forceTrain: Boolean(v["force-train"]),
    limitTrain: v["limit-train"] === undefined
      ? undefined
      : numberFlag("limit-train", String(v["limit-train"]), { integer: true, min: 1 }),
    experimentId: id === undefined ? "" : checkExperimentId(id),
    experimentIdGiven: id !== undefined,
    dataFingerprint: "",
    pruneParams: String(v["prune-params"]).trim() || DEFAULT_PRUNE_PARAMS,
  };
}

/** parseArgs option table of the gradual-pruning flags (train only). */
export const GRADUAL_FLAGS = {
  prune: { type: "string" },
  "target-sparsity": { type: "string" },
  "sparsity-schedule": { type: "string" },
  "begin-step": { type: "string" },
  "end-step": { type: "string" },
  frequency: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Help text of the gradual-pruning flags. */
export const GRADUAL_HELP = `Gradual pruning during training (Zhu & Gupta 2017):
  --prune METHOD            prune while training with this method, a --method name of the
                            sweep such as weight, unit or global (default: no pruning)
  --target-sparsity S       final sparsity as a fraction in [0, 1), e.g. 0.95
  --sparsity-schedule polynomial|constant  how sparsity rises to the target (default
                            polynomial)
  --begin-step N            first pruning step (default 0)
  --end-step N              step at which the target is reached (default: 75% of all steps)
  --frequency N             steps between mask updates (default 100)`;

/**
 * Validates the gradual-pruning flags; `totalSteps` is epochs × steps per epoch (known once the
 * data is loaded), used for the default end step and range checks.
 */
export function toGradualConfig(
  v: Record<string, string | boolean | undefined>,
  totalSteps: number,
): GradualConfig | undefined {
  const method = v.prune as string | undefined;
  const given = ["target-sparsity", "sparsity-schedule", "begin-step", "end-step", "frequency"]
    .filter((f) => v[f] !== undefined);
  if (method === undefined) {
    if (given.length > 0) throw new UsageError(`--${given[0]} needs --prune METHOD`);
    return undefined;
  }
  if (!PRUNE_METHODS.has(method)) {
    throw new UsageError(
      `unknown --prune method "${method}"; valid methods: ${[...PRUNE_METHODS.keys()].join(", ")}`,
    );
  }
  if (v["target-sparsity"] === undefined) {
    throw new UsageError("--prune needs --target-sparsity S (a fraction in [0, 1))");
  }
  const target = numberFlag("target-sparsity", String(v["target-sparsity"]), { min: 0 });
  if (target >= 1) {
    throw new UsageError(`--target-sparsity must be a fraction in [0, 1), got ${target}`);
  }
  const kind = String(v["sparsity-schedule"] ?? "polynomial");
  if (kind !== "polynomial" && kind !== "constant") {
    throw new UsageError(`--sparsity-schedule must be polynomial or constant, got "${kind}"`);
  }
  const begin = numberFlag("begin-step", String(v["begin-step"] ?? "0"), { integer: true, min: 0 });
  const end = v["end-step"] === undefined
    ? Math.max(begin + 1, Math.floor(0.75 * totalSteps))
    : numberFlag("end-step", String(v["end-step"]), { integer: true, min: 0 });
  if (begin >= end) {
    throw new UsageError(`--begin-step (${begin}) must come before --end-step (${end})`);
  }
  if (end > totalSteps) {
    throw new UsageError(
      `--end-step (${end}) is after the last training step (${totalSteps} = epochs × steps per epoch)`,
    );
  }
  const frequency = numberFlag("frequency", String(v.frequency ?? "100"), {
    integer: true,
    min: 1,
  });
  return { method, schedule: { kind, initial: 0, target, begin, end, frequency } };
}
