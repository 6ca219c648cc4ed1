/**
 * Trained weight sharing, stage two of Deep Compression (Han et al. 2016, section 3): every
 * weight tensor's surviving (unpruned) weights are clustered into 2^B shared values by k-means
 * (src/quant/kmeans.ts); the model then stores, per weight, the index of its cluster (B bits)
 * and, per tensor, the codebook of 2^B f32 centroids. Fine-tuning afterwards trains only the
 * centroids (src/kernels/weight_sharing.ts): pruned weights stay exactly 0 and no weight ever
 * changes cluster. Biases stay f32, as in the paper.
 *
 * `--quantize-bits B` uses B bits for every weight tensor; `--quantize-bits C,F` uses C bits for
 * convolutions and F for dense layers (the paper's 8 and 5).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Masks } from "../model/masks.ts";
import { cloneModel, type Model, paramInfos } from "../model/network.ts";
import { layerKind } from "../model/layers/registry.ts";
import { kmeans1d } from "./kmeans.ts";

/** Bits of the cluster indices, by layer kind. */
export interface QuantizeBits {
  /** Bits for convolution weights. */
  conv: number;
  /** Bits for dense weights. */
  dense: number;
}

/** One weight tensor after weight sharing. */
export interface SharedWeight {
  /** Bits per cluster index (the codebook has 2^bits entries). */
  bits: number;
  /** Shared values [2^bits] f32, ascending after clustering. */
  codebook: Float32Array;
  /**
   * Cluster of every weight, in the parameter's own layout (dense `[in, out]`, convolution
   * `[out, in, kh, kw]`, row-major); −1 where the weight is pruned (exactly 0).
   */
  clusters: Int32Array;
}

/** Shared weights by parameter name. */
export type SharedWeights = Map<string, SharedWeight>;

/** The most bits a cluster index may take (indices are stored as U8). */
export const MAX_QUANTIZE_BITS = 8;

/** Parses `--quantize-bits B` or `C,F` (convolutions, dense layers), each in 1..8. */
export function parseQuantizeBits(raw: string): QuantizeBits {
  const parts = raw.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const ok = parts.length <= 2 && parts.every((s) => s !== "") &&
    values.every((b) => Number.isInteger(b) && b >= 1 && b <= MAX_QUANTIZE_BITS);
  if (!ok) {
    throw new UsageError(
      `--quantize-bits must be B or C,F (convolution, dense) with integers in 1..${MAX_QUANTIZE_BITS}, got "${raw}"`,
    );
  }
  return values.length === 1
    ? { conv: values[0], dense: values[0] }
    : { conv: values[0], dense: values[1] };
}

/** `--quantize-bits` as written back (one number when both kinds share it). */
export function formatQuantizeBits(bits: QuantizeBits): string {
  return bits.conv === bits.dense ? String(bits.dense) : `${bits.conv},${bits.dense}`;
}

/**
 * Names and bits of the tensors weight sharing applies to: the weight of every layer kind with a
 * sharing group, with that group's bits (convolutions C, dense layers F).
 */
export function sharedTensorBits(model: Model, bits: QuantizeBits): Map<string, number> {
  return new Map(
    paramInfos(model.spec).flatMap((p) => {
      const group = layerKind(model.spec.layers[p.layer]).sharingGroup;
      return p.suffix === "weight" && group ? [[p.name, bits[group]]] : [];
    }),
  );
}

/**
 * Clusters every weight tensor of `model` (masks applied already; a weight with mask 0 is
 * pruned, and a tensor without a mask has none pruned) into shared values.
 */
export function shareWeights(model: Model, masks: Masks, bits: QuantizeBits): SharedWeights {
  const shared: SharedWeights = new Map();
  for (const [name, b] of sharedTensorBits(model, bits)) {
    const w = model.params.get(name)!.data;
    const mask = masks.get(name);
    const alive: number[] = [];
    for (let i = 0; i < w.length; i++) if (!mask || mask[i] !== 0) alive.push(i);
    const values = Float32Array.from(alive, (i) => w[i]);
    const { centroids, assignment } = kmeans1d(values, 2 ** b);
    const clusters = new Int32Array(w.length).fill(-1);
    alive.forEach((i, j) => (clusters[i] = assignment[j]));
    shared.set(name, { bits: b, codebook: centroids, clusters });
  }
  return shared;
}

/** The model with every shared tensor rebuilt from its codebook (pruned weights exactly 0). */
export function decodeShared(model: Model, shared: SharedWeights): Model {
  const out = cloneModel(model);
  for (const [name, s] of shared) {
    const w = out.params.get(name)!.data;
    for (let i = 0; i < w.length; i++) w[i] = s.clusters[i] < 0 ? 0 : s.codebook[s.clusters[i]];
  }
  return out;
}

/**
 * The codebooks read back from a model whose shared tensors were rebuilt from them (after
 * centroid fine-tuning): each centroid is the value of any of its weights; a centroid no weight
 * uses keeps its value from `shared`.
 */
export function codebooksOf(model: Model, shared: SharedWeights): SharedWeights {
  const out: SharedWeights = new Map();
  for (const [name, s] of shared) {
    const w = model.params.get(name)!.data;
    const codebook = Float32Array.from(s.codebook);
    for (let i = 0; i < w.length; i++) if (s.clusters[i] >= 0) codebook[s.clusters[i]] = w[i];
    out.set(name, { bits: s.bits, codebook, clusters: s.clusters });
  }
  return out;
}

/** Masks of the weights weight sharing keeps (cluster ≥ 0), by name. */
export function sharedMasks(shared: SharedWeights): Masks {
  return new Map(
    [...shared].map(([name, s]) => [name, Float32Array.from(s.clusters, (c) => c >= 0 ? 1 : 0)]),
  );
}

/**
 * Weights of each cluster, grouped for the centroid-gradient kernel: `order` lists weight
 * positions cluster by cluster, `offsets[c]..offsets[c+1]` being cluster c's (a counting sort,
 * computed once since clusters never change).
 */
export function clusterOrder(s: SharedWeight): { order: Uint32Array; offsets: Uint32Array } {
  const clusters = s.codebook.length;
  const offsets = new Uint32Array(clusters + 1);
  for (const c of s.clusters) if (c >= 0) offsets[c + 1]++;
  for (let c = 0; c < clusters; c++) offsets[c + 1] += offsets[c];
  const next = offsets.slice(0, clusters);
  const order = new Uint32Array(offsets[clusters]);
  s.clusters.forEach((c, i) => {
    if (c >= 0) order[next[c]++] = i;
  });
  return { order, offsets };
}
