/**
 * A model as a list of layers: its spec (input shape and layer specs), the named parameters the
 * layers declare, seeded initialisation, checks of loaded parameters, and the CPU reference of
 * the whole network (forward, mean softmax cross-entropy, backward) built from each layer's own
 * reference.
 *
 * Parameters are named by the index p of their layer among the layers that have parameters:
 * `layers.{p}.weight`, `layers.{p}.bias` — the names of the MLP's checkpoints since the first
 * release, so they stay loadable.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { createRng } from "../util/rng.ts";
import type { LayerSpec } from "./layers/layer.ts";
import { layerKind } from "./layers/registry.ts";
import type { InitScheme } from "./layers/init.ts";
import { type Params, sizeOf, type Tensor } from "./tensor.ts";

/** The architecture: per-sample input shape and the layers in order. */
export interface ModelSpec {
  /** Input shape per sample, e.g. `[784]`. */
  input: number[];
  /** Layers, input to logits. */
  layers: LayerSpec[];
}

/** A model: its spec and its parameters. */
export interface Model {
  /** The architecture. */
  spec: ModelSpec;
  /** Parameters by name, in layer order. */
  params: Params;
}

/** One parameter of a model, as its layer declares it. */
export interface ParamInfo {
  /** Full name, e.g. `layers.0.weight`. */
  name: string;
  /** Shape, row-major. */
  shape: number[];
  /** Index of its layer in `spec.layers`. */
  layer: number;
  /** Index of its layer among the layers that have parameters (the p of `layers.{p}`). */
  group: number;
  /** `weight`, `bias`, … */
  suffix: string;
}

/**
 * The MLP of the pruning challenge: dense layers of `hidden` widths, each followed by a ReLU, then
 * a dense layer of `classes` logits.
 *
 * @example
 * ```ts
 * const spec = mlpSpec(784, [1000, 1000, 500, 200], 10, false);
 * ```
 */
export function mlpSpec(features: number, hidden: number[], classes: number, bias: boolean) {
  const layers: LayerSpec[] = [];
  for (const units of hidden) layers.push({ kind: "dense", units, bias }, { kind: "relu" });
  layers.push({ kind: "dense", units: classes, bias });
  return { input: [features], layers } satisfies ModelSpec;
}

/** Per-sample activation shapes: `[input, after layer 0, after layer 1, …]`. */
export function activationShapes(spec: ModelSpec): number[][] {
  const shapes = [spec.input];
  for (const layer of spec.layers) {
    shapes.push(layerKind(layer).outputShape(layer, shapes[shapes.length - 1]));
  }
  return shapes;
}

/** Every parameter of the model, in layer order. */
export function paramInfos(spec: ModelSpec): ParamInfo[] {
  const shapes = activationShapes(spec);
  const infos: ParamInfo[] = [];
  let group = 0;
  spec.layers.forEach((layer, l) => {
    const decls = layerKind(layer).params(layer, shapes[l]);
    for (const d of decls) {
      infos.push({
        name: `layers.${group}.${d.suffix}`,
        shape: d.shape,
        layer: l,
        group,
        suffix: d.suffix,
      });
    }
    if (decls.length > 0) group++;
  });
  return infos;
}

/** Number of outputs (classes) of the model. */
export function outputSize(spec: ModelSpec): number {
  return sizeOf(activationShapes(spec).at(-1)!);
}

/**
 * Widths of the layers with parameters before the logits: units of dense layers and filters of
 * convolutions, e.g. `[1000, 1000, 500, 200]` for the MLP or `[20, 50, 500]` for lenet5-caffe.
 */
export function hiddenWidths(spec: ModelSpec): number[] {
  const widths = spec.layers.flatMap((l) => {
    const units = layerKind(l).units;
    return units ? [units.count(l)] : [];
  });
  return widths.slice(0, -1);
}

/**
 * The same architecture with every layer before the logits `keep` times as wide (units of dense
 * layers, filters of convolutions; at least 1): the small dense network that unit pruning at
 * k = 100·(1 − keep) should be compared with (Liu et al. 2019, "Rethinking the Value of Network
 * Pruning").
 */
export function scaledSpec(spec: ModelSpec, keep: number): ModelSpec {
  const last = spec.layers.findLastIndex((l) => layerKind(l).units !== undefined);
  return {
    input: [...spec.input],
    layers: spec.layers.map((l, i) => {
      const units = layerKind(l).units;
      if (i === last || !units) return { ...l };
      return units.resized(l, Math.max(1, Math.round(units.count(l) * keep)));
    }),
  };
}

/**
 * Seeded initialisation: one generator walks the layers in order, each drawing its parameters as
 * its kind declares by `scheme` (src/model/layers/init.ts; with `he`, for the MLP, the same
 * numbers as every earlier release).
 */
export function initModel(spec: ModelSpec, seed: number, scheme: InitScheme = "he"): Model {
  const rng = createRng(seed);
  const shapes = activationShapes(spec);
  const params: Params = new Map();
  const infos = paramInfos(spec);
  spec.layers.forEach((layer, l) => {
    const values = layerKind(layer).init(layer, shapes[l], rng, spec.layers[l + 1], scheme);
    const mine = infos.filter((p) => p.layer === l);
    mine.forEach((p, i) => params.set(p.name, { shape: p.shape, data: values[i] }));
  });
  return { spec, params };
}

/** Deep copy of a model's parameters (the spec is shared: it is never mutated). */
export function cloneModel(model: Model): Model {
  return {
    spec: model.spec,
    params: new Map(
      [...model.params].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]),
    ),
  };
}

/**
 * Checks loaded tensors against the spec — every parameter present with its shape, nothing extra,
 * every value finite — and returns them as the model's parameters; `path` names the file.
 */
export function checkParams(
  spec: ModelSpec,
  tensors: Map<string, { shape: number[]; data: ArrayLike<number> }>,
  path: string,
): Params {
  const params: Params = new Map();
  for (const info of paramInfos(spec)) {
    const stored = tensors.get(info.name);
    if (!stored) {
      throw new UsageError(`${path}: missing ${info.name} (expected shape [${info.shape}])`);
    }
    if (!(stored.data instanceof Float32Array)) {
      throw new UsageError(`${path}: ${info.name} is not F32`);
    }
    const t: Tensor = { shape: stored.shape, data: stored.data };
    if (t.shape.join() !== info.shape.join()) {
      throw new UsageError(
        `${path}: ${info.name} has shape [${t.shape}], expected [${info.shape}] from the model flags`,
      );
    }
    const at = t.data.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) {
      throw new UsageError(
        `${path}: ${info.name} holds ${t.data[at]} at index ${at}; a usable checkpoint has ` +
          "finite weights (retrain with --force-train)",
      );
    }
    params.set(info.name, t);
  }
  const extra = [...tensors.keys()].find((name) => !params.has(name) && !name.endsWith(".mask"));
  if (extra !== undefined) {
    throw new UsageError(`${path}: holds ${extra}, which the model flags do not describe`);
  }
  return params;
}

/** CPU reference in f64 of the forward pass: logits [rows, classes] of x [rows, ...input]. */
export function referenceLogits(model: Model, x: Float32Array, rows: number): Float64Array {
  const shapes = activationShapes(model.spec);
  const infos = paramInfos(model.spec);
  let act: Float64Array = Float64Array.from(x);
  model.spec.layers.forEach((layer, l) => {
    const params = infos.filter((p) => p.layer === l).map((p) => model.params.get(p.name)!.data);
    act = layerKind(layer).forwardRef(layer, shapes[l], act, rows, params);
  });
  return act;
}

/** Loss and gradients of one batch from the CPU reference. */
export interface ReferenceGradients {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** dL/dparam by parameter name, in f64. */
  grads: Map<string, Float64Array>;
}

/**
 * CPU reference in f64 of one training step's forward and backward pass on x [rows, ...input]
 * with integer labels: the yardstick for the GPU network (tests/backward_test.ts).
 */
export function referenceGradients(
  model: Model,
  x: Float32Array,
  labels: ArrayLike<number>,
  rows: number,
): ReferenceGradients {
  const { spec } = model;
  const shapes = activationShapes(spec);
  const infos = paramInfos(spec);
  const paramsOf = (l: number) =>
    infos.filter((p) => p.layer === l).map((p) => model.params.get(p.name)!.data);
  const acts: Float64Array[] = [Float64Array.from(x)];
  spec.layers.forEach((layer, l) => {
    acts.push(layerKind(layer).forwardRef(layer, shapes[l], acts[l], rows, paramsOf(l)));
  });
  const classes = outputSize(spec);
  const logits = acts[acts.length - 1];
  let dy: Float64Array = new Float64Array(rows * classes);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const top = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - top);
    loss += Math.log(z) + top - row[labels[r]];
    for (let c = 0; c < classes; c++) {
      dy[r * classes + c] = (Math.exp(row[c] - top) / z - (c === labels[r] ? 1 : 0)) / rows;
    }
  }
  const grads = new Map<string, Float64Array>();
  for (let l = spec.layers.length - 1; l >= 0; l--) {
    const layer = spec.layers[l];
    const out = layerKind(layer).backwardRef(
      layer,
      shapes[l],
      acts[l],
      acts[l + 1],
      dy,
      rows,
      paramsOf(l),
    );
    infos.filter((p) => p.layer === l).forEach((p, i) => grads.set(p.name, out.grads[i]));
    dy = out.dx;
  }
  return { loss: loss / rows, grads };
}
