/**
 * An inference network: a model on the GPU that only evaluates, built from one weight
 * representation per layer weight, chosen once: dense f32 (the default), CSR by output unit
 * (shaders/sparse_matmul_t.wgsl), N:M-packed (shaders/matmul_nm.wgsl) or post-training-quantised
 * int8/f16 (shaders/matmul_quantized.wgsl). It has no batch size, optimiser or updater; training
 * networks (`GpuNetwork.create` with `batch` and `adam`) own those.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { NmPattern } from "../kernels/nm_pack.ts";
import type { Model } from "../model/network.ts";
import type { PtqWeight } from "../quant/ptq_model.ts";
import type { LayerPath } from "./infer_paths.ts";
import { GpuNetwork } from "./gpu_network.ts";

/** How one layer weight is stored for inference (dense f32 when a weight has none). */
export type WeightRepresentation =
  | { kind: "csr" }
  | { kind: "nm"; pattern: NmPattern }
  | { kind: "ptq"; weight: PtqWeight };

/** Weight representations by parameter name (`layers.{i}.weight`). */
export type WeightRepresentations = ReadonlyMap<string, WeightRepresentation>;

/** What an inference network can do: evaluate, and take new values on the same buffers. */
export type InferenceNetwork = Pick<
  GpuNetwork,
  "spec" | "infos" | "evaluate" | "predict" | "lastLogits" | "setParams" | "setMasks" | "destroy"
>;

/** Rows per evaluation chunk unless a caller says otherwise. */
export const EVAL_BATCH = 1000;

/** The representations of the paths `choosePaths` chose: CSR or N:M where not dense. */
export function pathRepresentations(paths: readonly LayerPath[]): WeightRepresentations {
  return new Map(
    paths.flatMap((p): [string, WeightRepresentation][] =>
      p.path === "sparse"
        ? [[p.name, { kind: "csr" }]]
        : p.path === "nm" && p.nm
        ? [[p.name, { kind: "nm", pattern: p.nm }]]
        : []
    ),
  );
}

/** Post-training-quantised weights (src/quant/ptq_model.ts) by name, as representations. */
export function ptqRepresentations(
  weights: ReadonlyMap<string, PtqWeight>,
): WeightRepresentations {
  return new Map([...weights].map(([name, weight]) => [name, { kind: "ptq", weight }]));
}

/**
 * Uploads `model` for evaluation with each weight in its representation (dense where
 * `weights` has none), evaluating `evalBatch` rows per chunk.
 *
 * @example
 * ```ts
 * const net = await createInferenceNetwork(gpu, model, new Map([["layers.0.weight", { kind: "csr" }]]));
 * const { accuracy } = await net.evaluate(data.test);
 * net.destroy();
 * ```
 */
export function createInferenceNetwork(
  gpu: GpuContext,
  model: Model,
  weights: WeightRepresentations = new Map(),
  evalBatch = EVAL_BATCH,
): Promise<InferenceNetwork> {
  const sparse = new Set<string>();
  const nm = new Map<string, NmPattern>();
  const ptq = new Map<string, PtqWeight>();
  for (const [name, w] of weights) {
    if (w.kind === "csr") sparse.add(name);
    else if (w.kind === "nm") nm.set(name, w.pattern);
    else ptq.set(name, w.weight);
  }
  return GpuNetwork.create(gpu, model, {
    evalBatch,
    sparse,
    nm,
    ptq: ptq.size > 0 ? ptq : undefined,
  });
}
