/**
 * What a pruned model costs: the gzip-compressed size of its parameters, and the per-parameter
 * report Deep Compression's tooling prints. (Sparsity itself is counted in src/model/masks.ts.)
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { Model } from "../model/network.ts";
import type { SparsityReport } from "../model/masks.ts";

/** Bytes of all parameters as raw little-endian f32 in layer order, gzip-compressed (level 9). */
export function gzipBytes(model: Model): number {
  const tensors = [...model.params.values()].map((t) => t.data);
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
 * The per-parameter report of Deep Compression's tooling (Han et al. 2016): name,
 * nonzeros/total, %, pruned, shape, then alive, pruned, total and the compression rate.
 */
export function formatLayerReport(report: SparsityReport): string {
  const lines = report.params.map((x) => {
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
