/**
 * What a pruned model costs: its forward time, the sizes of its parameters through Deep
 * Compression's stages, and the per-parameter reports Deep Compression's tooling prints. (Sparsity itself is counted in src/model/masks.ts.)
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { GpuNetwork } from "../train/gpu_network.ts";
import type { GpuSplit } from "../train/splits.ts";
import { type Model, paramInfos } from "../model/network.ts";
import { csrOfRows } from "../model/csr.ts";
import { layerKind } from "../model/layers/registry.ts";
import {
  describeDeepCompressed,
  encodeDeepCompressed,
  type StoredValues,
} from "../quant/dc_file.ts";
import type { SparsityReport } from "../model/masks.ts";

/** Times (ms) of `repeats` forward passes over a split with parameters already set on `net`. */
export async function timeForward(
  net: Pick<GpuNetwork, "evaluate">,
  split: GpuSplit,
  repeats: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await net.evaluate(split);
    times.push(performance.now() - t0);
  }
  return times;
}

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

/** Concatenated bytes of typed arrays. */
function concatBytes(arrays: ArrayBufferView[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((s, a) => s + a.byteLength, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

/**
 * Every parameter as raw bytes in CSR form: each dense and convolution weight as i32 row
 * pointers, i32 column indices and f32 values of its `[out, in·kh·kw]` matrix, the rest raw f32.
 */
export function csrBytes(model: Model): Uint8Array {
  const parts: ArrayBufferView[] = [];
  for (const info of paramInfos(model.spec)) {
    const t = model.params.get(info.name)!;
    const units = layerKind(model.spec.layers[info.layer]).units;
    if (info.suffix !== "weight" || !units) {
      parts.push(t.data);
      continue;
    }
    const outs = units.outputs(t.shape);
    const csr = csrOfRows(units.outputMajor(t.data, t.shape), outs, t.data.length / outs);
    parts.push(csr.indptr, csr.indices, csr.values);
  }
  return concatBytes(parts);
}

/** The sizes of one pruned point, stage by stage (bytes, and after gzip -9). */
export interface CompressedSizes {
  /** Dense f32: every parameter, 4 bytes each. */
  bytes_dense: number;
  /** CSR f32 (`csrBytes`). */
  bytes_csr: number;
  /** Relative indices + values at fixed widths (cluster indices when weight-shared). */
  bytes_q: number;
  /** The same streams Huffman-coded: the Deep Compression file. */
  bytes_huffman: number;
  /** gzip -9 of the CSR bytes. */
  gzip_csr: number;
  /** gzip -9 of the fixed-width file. */
  gzip_q: number;
  /** gzip -9 of the Huffman-coded file. */
  gzip_huffman: number;
  /** bytes_dense / bytes_huffman. */
  compression_dc: number;
}

/**
 * Sizes of a pruned (and optionally weight-shared or post-training-quantised) model through Deep Compression's stages
 * (src/quant/dc_file.ts), each an actual encoding whose length is counted.
 */
export function compressedSizes(model: Model, values: StoredValues = {}): CompressedSizes {
  return sizesOf(encodeStages(model, values));
}

/** A model's encodings through Deep Compression's stages (see `compressedSizes`). */
export interface EncodedStages {
  /** Bytes of every parameter as dense f32. */
  dense: number;
  /** The CSR encoding (`csrBytes`). */
  csr: Uint8Array;
  /** The fixed-width Deep Compression file. */
  fixed: Uint8Array;
  /** The Huffman-coded Deep Compression file (`model.dcz`). */
  huffman: Uint8Array;
}

/** Encodes `model` once per stage; `sizesOf` and `formatSizeReport` read the same bytes. */
export function encodeStages(model: Model, values: StoredValues = {}): EncodedStages {
  return {
    dense: [...model.params.values()].reduce((s, t) => s + t.data.byteLength, 0),
    csr: csrBytes(model),
    fixed: encodeDeepCompressed(model, values, "fixed"),
    huffman: encodeDeepCompressed(model, values, "huffman"),
  };
}

/** The sizes of encoded stages, and of each after gzip -9. */
export function sizesOf(stages: EncodedStages): CompressedSizes {
  const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
  return {
    bytes_dense: stages.dense,
    bytes_csr: stages.csr.length,
    bytes_q: stages.fixed.length,
    bytes_huffman: stages.huffman.length,
    gzip_csr: gz(stages.csr),
    gzip_q: gz(stages.fixed),
    gzip_huffman: gz(stages.huffman),
    compression_dc: stages.dense / stages.huffman.length,
  };
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

/**
 * The per-parameter size report of Deep Compression's stages: bytes as dense f32, as CSR f32,
 * with fixed-width relative indices and values (cluster indices when weight-shared), and
 * Huffman-coded, with the widths chosen; then the totals (`sizes`, of the same `stages`) and the
 * compression against dense.
 */
export function formatSizeReport(
  model: Model,
  stages: EncodedStages,
  sizes: CompressedSizes,
): string {
  const fixed = describeDeepCompressed(stages.fixed);
  const huffman = describeDeepCompressed(stages.huffman);
  const layers = new Map(paramInfos(model.spec).map((p) => [p.name, model.spec.layers[p.layer]]));
  const lines = fixed.sections.map((f, i) => {
    const h = huffman.sections[i];
    const t = model.params.get(f.name)!;
    const dense = t.data.byteLength;
    const nnz = f.nnz ?? t.data.length;
    const units = layerKind(layers.get(f.name)!).units;
    const csr = f.kind === "raw" || !units ? dense : 4 * (units.outputs(t.shape) + 1 + 2 * nnz);
    const values: Record<string, string> = {
      sparse: "f32 values",
      shared: `${f.bits}-bit clusters`,
      int8: "int8 values",
      f16: "f16 values",
    };
    const how = f.kind === "raw" ? "raw f32" : `index ${h.indexBits} bits, ${values[f.kind]}`;
    return `${f.name.padEnd(18)} | dense ${String(dense).padStart(8)} | csr ${
      String(csr).padStart(8)
    } | fixed ${String(f.bytes).padStart(8)} | huffman ${String(h.bytes).padStart(8)} | ${
      (dense / Math.max(1, h.bytes)).toFixed(1).padStart(6)
    }x | ${how}`;
  });
  lines.push(
    `bytes: dense ${sizes.bytes_dense}, csr ${sizes.bytes_csr}, fixed ${sizes.bytes_q}, huffman ${sizes.bytes_huffman} ` +
      `(headers ${fixed.headerBytes} / ${huffman.headerBytes}); gzip: csr ${sizes.gzip_csr}, fixed ${sizes.gzip_q}, ` +
      `huffman ${sizes.gzip_huffman}; compression ${sizes.compression_dc.toFixed(1)}x`,
  );
  return lines.join("\n");
}
