/**
 * What a pruned network costs and keeps: sparsity over the prunable layers and the whole model,
 * non-zeros per layer, and the gzip-compressed size of its weights.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { MlpParams } from "../model/mlp.ts";

/** Parameters with masks applied (pruned entries exactly 0). */
export function applyMasks(params: MlpParams, masks: Float32Array[]): MlpParams {
  return {
    sizes: [...params.sizes],
    weights: params.weights.map((w, l) => w.map((x, i) => (masks[l][i] !== 0 ? x : 0))),
    biases: params.biases ? params.biases.map((b) => b.slice()) : null,
  };
}

/** Non-zero count of one layer's weights. */
export interface LayerCount {
  /** Tensor name, e.g. `layers.0.weight`. */
  name: string;
  /** Shape [in, out]. */
  shape: [number, number];
  /** Non-zero weights. */
  nonzeros: number;
  /** All weights. */
  total: number;
  /** Whether the layer may be pruned (all but the output layer). */
  prunable: boolean;
}

/** Sparsity figures of a (pruned) network. */
export interface SparsityReport {
  /** Zeros / weights over the prunable layers. */
  sparsity: number;
  /** Zeros / parameters over the whole model (output layer and biases included). */
  sparsityTotal: number;
  /** Non-zero parameters in the whole model. */
  nonzeros: number;
  /** All parameters in the whole model. */
  total: number;
  /** Per weight layer. */
  layers: LayerCount[];
}

function countNonzeros(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

/** Counts zeros in a network (prunable = every layer but the last). */
export function sparsityOf(params: MlpParams): SparsityReport {
  const L = params.weights.length;
  const layers: LayerCount[] = params.weights.map((w, l) => ({
    name: `layers.${l}.weight`,
    shape: [params.sizes[l], params.sizes[l + 1]],
    nonzeros: countNonzeros(w),
    total: w.length,
    prunable: l < L - 1,
  }));
  const prunable = layers.filter((x) => x.prunable);
  const pTotal = prunable.reduce((s, x) => s + x.total, 0);
  const pNonzero = prunable.reduce((s, x) => s + x.nonzeros, 0);
  let total = layers.reduce((s, x) => s + x.total, 0);
  let nonzeros = layers.reduce((s, x) => s + x.nonzeros, 0);
  for (const b of params.biases ?? []) {
    total += b.length;
    nonzeros += countNonzeros(b);
  }
  return {
    sparsity: pTotal > 0 ? 1 - pNonzero / pTotal : 0,
    sparsityTotal: 1 - nonzeros / total,
    nonzeros,
    total,
    layers,
  };
}

/** Bytes of all parameters as raw little-endian f32, gzip-compressed (level 9). */
export function gzipBytes(params: MlpParams): number {
  const tensors = [...params.weights, ...(params.biases ?? [])];
  const bytes = tensors.reduce((s, t) => s + t.byteLength, 0);
  const raw = new Uint8Array(bytes);
  let at = 0;
  for (const t of tensors) {
    raw.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at += t.byteLength;
  }
  return gzipSync(raw, { level: 9 }).length;
}

/**
 * The per-layer report Deep Compression's tooling prints: name, nonzeros/total, %, pruned, shape,
 * then alive, pruned, total and the compression rate.
 */
export function formatLayerReport(report: SparsityReport): string {
  const lines = report.layers.map((x) => {
    const pct = (100 * x.nonzeros) / x.total;
    return `${x.name.padEnd(18)} | nonzeros = ${String(x.nonzeros).padStart(8)} / ${
      String(x.total).padStart(8)
    } (${pct.toFixed(2).padStart(6)}%) | total_pruned = ${
      String(x.total - x.nonzeros).padStart(8)
    } | shape = (${x.shape.join(", ")})${x.prunable ? "" : " (not pruned)"}`;
  });
  const pruned = report.total - report.nonzeros;
  lines.push(
    `alive: ${report.nonzeros}, pruned: ${pruned}, total: ${report.total}, compression rate: ${
      (report.total / Math.max(1, report.nonzeros)).toFixed(2)
    }x (${((100 * pruned) / report.total).toFixed(2)}% pruned)`,
  );
  return lines.join("\n");
}
