/**
 * The networks `--model` names. Parameter counts are those of the papers they come from.
 *
 * - `mlp`: the pruning challenge's MLP, hidden widths from `--hidden` (default 1000-1000-500-200).
 * - `lenet-300-100`: LeCun et al. 1998's fully connected LeNet-300-100, as pruned by Han et al.
 *   2015 (266,610 parameters with biases).
 * - `lenet5`: the Deep Compression walkthrough's LeNet-5 (Han et al. 2016): conv1 6@5×5 → ReLU →
 *   max-pool 2, conv2 16@5×5 → ReLU → max-pool 2, conv3 120@4×4 → ReLU, flatten, fc1 1024 → ReLU,
 *   fc2 logits (167,566 parameters).
 * - `lenet5-caffe`: Caffe's LeNet as in Han et al. 2015's table: conv 20@5×5 → max-pool 2 →
 *   conv 50@5×5 → max-pool 2 → fc 500 → ReLU → fc logits (431,080 parameters; no ReLU after the
 *   convolutions, as in Caffe's model).
 * - `cnn-small`: the TF-MOT pruning example's CNN: conv 12@3×3 → ReLU → max-pool 2 → flatten →
 *   dense logits (20,410 parameters).
 *
 * The paper networks always have biases; `--bias` and `--hidden` apply to `mlp` only.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { LayerSpec } from "./layers/layer.ts";
import type { InitScheme } from "./layers/init.ts";
import { mlpSpec, type ModelSpec } from "./network.ts";

/** Every `--model` name. */
export const MODEL_NAMES = ["mlp", "lenet-300-100", "lenet5", "lenet5-caffe", "cnn-small"] as const;

/** A `--model` name. */
export type ModelName = typeof MODEL_NAMES[number];

/**
 * The initialisation a network trains from unless `--init` says otherwise: PyTorch's default
 * for `mlp`, which a study of three schemes over three seeds found the most robust to pruning
 * with the best dense accuracy (results/README.md, "Initialisation"); He-normal for the paper
 * networks, whose measured results were trained from it.
 */
export function defaultInit(model: ModelName): InitScheme {
  return model === "mlp" ? "torch" : "he";
}

/** Checks `--model`. */
export function parseModelName(raw: string): ModelName {
  if (!(MODEL_NAMES as readonly string[]).includes(raw)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(", ")}, got "${raw}"`);
  }
  return raw as ModelName;
}

/** Square single-channel image shape [1, side, side] of `features` pixels, for the CNNs. */
function imageOf(model: string, features: number): [number, number, number] {
  const side = Math.round(Math.sqrt(features));
  if (side * side !== features) {
    throw new UsageError(
      `--model ${model} needs square one-channel images; the data has ${features} pixels per sample`,
    );
  }
  return [1, side, side];
}

const conv = (filters: number, kernel: number): LayerSpec => ({
  kind: "conv2d",
  filters,
  kernel,
  stride: 1,
  padding: 0,
  bias: true,
});
const pool: LayerSpec = { kind: "maxpool2d", kernel: 2, stride: 2 };
const relu: LayerSpec = { kind: "relu" };
const dense = (units: number): LayerSpec => ({ kind: "dense", units, bias: true });

/**
 * The spec of network `name` over `features` inputs and `classes` logits (`hidden` and `bias`
 * for `mlp`).
 *
 * @example
 * ```ts
 * const spec = modelSpec("lenet5", { features: 784, classes: 10, hidden: [], bias: false });
 * ```
 */
export function modelSpec(
  name: ModelName,
  { features, classes, hidden, bias }: {
    features: number;
    classes: number;
    hidden: number[];
    bias: boolean;
  },
): ModelSpec {
  switch (name) {
    case "mlp":
      return mlpSpec(features, hidden, classes, bias);
    case "lenet-300-100":
      return mlpSpec(features, [300, 100], classes, true);
    case "lenet5":
      return {
        input: imageOf(name, features),
        layers: [
          conv(6, 5),
          relu,
          pool,
          conv(16, 5),
          relu,
          pool,
          conv(120, 4),
          relu,
          { kind: "flatten" },
          dense(1024),
          relu,
          dense(classes),
        ],
      };
    case "lenet5-caffe":
      return {
        input: imageOf(name, features),
        layers: [
          conv(20, 5),
          pool,
          conv(50, 5),
          pool,
          { kind: "flatten" },
          dense(500),
          relu,
          dense(classes),
        ],
      };
    case "cnn-small":
      return {
        input: imageOf(name, features),
        layers: [conv(12, 3), relu, pool, { kind: "flatten" }, dense(classes)],
      };
  }
}
