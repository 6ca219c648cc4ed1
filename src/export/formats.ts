/**
 * Exported pruned models, usable outside wgprune: one folder per point with
 *
 * - `model.safetensors`: the dense tensors with exact zeros, no masks (TF-MOT's strip_pruning),
 *   same names and layouts as the checkpoint (`layers.{p}.weight` [in, out], `.bias` [out]);
 * - `model_compact.safetensors`: dead units removed (src/model/compact.ts), new hidden sizes in
 *   the metadata;
 * - `model_csr.safetensors`: every pruned weight as CSR of its `[out, in]` matrix, a
 *   convolution's `[out, in, kh, kw]` as `[out, in·kh·kw]` (`layers.{p}.indptr` I32, `.indices`
 *   I32, `.values` F32; `layers.{p}.shape` = "[out, in]" in the metadata); the other parameters
 *   dense as in the checkpoint;
 * - `masks.safetensors`: the masks as U8, `<name>.mask`;
 * - `model.dcz`: the Deep Compression file (src/quant/dc_file.ts): relative indices and values,
 *   Huffman-coded; the smallest file, decoded by `deno task eval`;
 * - `model_q.safetensors` (with weight sharing): each shared weight as `<name>.indices` U8
 *   (cluster per weight, the weight's own shape), `<name>.codebook` F32 [2^bits] and
 *   `<name>.mask` U8, so `w = where(mask, codebook[indices], 0)`; other parameters F32. The dense
 *   reconstruction is `model.safetensors`;
 * - `model_int8.safetensors` or `model_f16.safetensors` (with post-training quantisation): each
 *   dense and convolution weight as I8 levels in its own layout with `<name>.scale` F32 per output
 *   channel (`w = q · scale`, the scale broadcast over the output axis), or as F16;
 * - `model.onnx` and `model_compact.onnx` (src/export/onnx.ts): the pruned model with exact zeros,
 *   and compacted, as ONNX graphs (opset 13) that onnxruntime runs; with int8 PTQ also
 *   `model_int8.onnx`, its weights int8 with per-output-channel scales (`DequantizeLinear`);
 * - `meta.json` (src/export/meta.ts): method, k, strategy, allocation and its file's sha256,
 *   accuracy, sparsity, and bytes raw and gzipped per file.
 *
 * Every safetensors file carries the model spec (`spec`, JSON) in its metadata, so
 * `loadExported` rebuilds the model from any of the three.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { UsageError } from "../util/errors.ts";
import { ensureDir, readFileOrFail, writeFileAtomic, writeJsonAtomic } from "../util/files.ts";
import { compactUnits } from "../model/compact.ts";
import {
  checkParams,
  hiddenWidths,
  type Model,
  type ModelSpec,
  paramInfos,
} from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { decodeSafetensors, encodeSafetensors, type StoredTensor } from "../model/safetensors.ts";
import { type Csr, csrOfRows, rowsOfCsr } from "../model/csr.ts";
import { layerKind } from "../model/layers/registry.ts";
import type { UnitStructure } from "../model/layers/layer.ts";
import { fromOutputMajor, outputMajor, sizeOf, type Tensor } from "../model/tensor.ts";
import { decodeDeepCompressed, encodeDeepCompressed, type StoredValues } from "../quant/dc_file.ts";
import type { SharedWeights } from "../quant/weight_sharing.ts";
import { f16Weight, int8Weight, type PtqFormat, type PtqWeight } from "../quant/ptq_model.ts";
import { f16Bits, f16Value } from "../quant/ptq.ts";
import { encodeOnnx } from "./onnx.ts";
import { decodeOnnx } from "./onnx_import.ts";
import { type ExportInfo, type ExportMeta, type FileSize, META_FILE } from "./meta.ts";

/** The `format` of a training checkpoint's metadata (its spec is `layers`). */
export const CHECKPOINT_FORMAT = "wgprune-mlp";

/** The exported files, by format. */
export const EXPORT_FILES = {
  dense: "model.safetensors",
  compact: "model_compact.safetensors",
  csr: "model_csr.safetensors",
  masks: "masks.safetensors",
  dcz: "model.dcz",
  onnx: "model.onnx",
  onnxCompact: "model_compact.onnx",
} as const;

/** The weight-shared file, written beside the others when the point was weight-shared. */
export const QUANTIZED_FILE = "model_q.safetensors";

/** Every file that holds the model, in the order `deno task eval FOLDER` reads them. */
export const MODEL_FILES = [
  EXPORT_FILES.dense,
  EXPORT_FILES.compact,
  EXPORT_FILES.csr,
  QUANTIZED_FILE,
  "model_int8.safetensors",
  "model_f16.safetensors",
  EXPORT_FILES.dcz,
  EXPORT_FILES.onnx,
  EXPORT_FILES.onnxCompact,
  "model_int8.onnx",
] as const;

/**
 * Writes the exported folder of a pruned model: `model` with `masks` applied already (pruned
 * entries exactly 0). Returns meta.json's content.
 */
export async function writeExport(
  dir: string,
  model: Model,
  masks: Masks,
  info: ExportInfo,
  stored: StoredValues = {},
): Promise<ExportMeta> {
  await ensureDir(dir);
  const files = encodeExport(model, masks, info, stored);
  const sizes: Record<string, FileSize> = {};
  for (const [name, bytes] of files) {
    await writeFileAtomic(`${dir}/${name}`, bytes);
    sizes[name] = { bytes: bytes.length, gzip_bytes: gzipSync(bytes, { level: 9 }).length };
  }
  const compact = hiddenWidths(compactUnits(model).spec);
  const out = { ...info, hidden_compact: compact, files: sizes };
  await writeJsonAtomic(`${dir}/${META_FILE}`, out);
  return out;
}

/**
 * The model files of an export folder (every one `writeExport` writes but `meta.json`), encoded:
 * `model` with `masks` applied already; `info` names the point in each file's metadata.
 */
export function encodeExport(
  model: Model,
  masks: Masks,
  info: Pick<ExportInfo, "method" | "k" | "strategy">,
  stored: StoredValues = {},
): [string, Uint8Array][] {
  const meta = { spec: JSON.stringify(model.spec), method: info.method, k: String(info.k) };
  const compact = compactUnits(model);
  const files: [string, Uint8Array][] = [
    [EXPORT_FILES.dense, encodeSafetensors(model.params, { ...meta, format: "dense" })],
    [
      EXPORT_FILES.compact,
      encodeSafetensors(compact.params, {
        ...meta,
        spec: JSON.stringify(compact.spec),
        format: "compact",
        hidden: JSON.stringify(hiddenWidths(compact.spec)),
      }),
    ],
    [EXPORT_FILES.csr, encodeCsrModel(model, new Set(masks.keys()), meta)],
    [
      EXPORT_FILES.masks,
      encodeSafetensors(
        new Map([...masks].map(([name, m]) => [
          `${name}.mask`,
          {
            shape: [...model.params.get(name)!.shape],
            data: Uint8Array.from(m, (x) => x !== 0 ? 1 : 0),
          },
        ])),
        { ...meta, format: "masks" },
      ),
    ],
    [EXPORT_FILES.dcz, encodeDeepCompressed(model, stored, "huffman")],
    [EXPORT_FILES.onnx, encodeOnnx(model, `${info.method} k=${info.k} ${info.strategy}`)],
    [
      EXPORT_FILES.onnxCompact,
      encodeOnnx(compact, `${info.method} k=${info.k} ${info.strategy}, compacted`),
    ],
  ];
  if (stored.shared) {
    files.push([QUANTIZED_FILE, encodeQuantizedModel(model, stored.shared, meta)]);
  }
  if (stored.ptq) {
    const format = [...stored.ptq.values()][0]?.format ?? "int8";
    files.push([`model_${format}.safetensors`, encodePtqModel(model, stored.ptq, format, meta)]);
    if (format === "int8") {
      const doc = `${info.method} k=${info.k} ${info.strategy}, int8 weights`;
      files.push(["model_int8.onnx", encodeOnnx(model, doc, stored.ptq)]);
    }
  }
  return files;
}

/** The weight-shared file: shared weights as U8 cluster indices, codebook and mask. */
function encodeQuantizedModel(
  model: Model,
  shared: SharedWeights,
  meta: Record<string, string>,
): Uint8Array {
  const tensors = new Map<string, StoredTensor>();
  const bits: Record<string, string> = {};
  for (const [name, t] of model.params) {
    const s = shared.get(name);
    if (!s) {
      tensors.set(name, t);
      continue;
    }
    const shape = [...t.shape];
    tensors.set(`${name}.indices`, {
      shape,
      data: Uint8Array.from(s.clusters, (c) => Math.max(c, 0)),
    });
    tensors.set(`${name}.codebook`, { shape: [s.codebook.length], data: s.codebook });
    tensors.set(`${name}.mask`, {
      shape,
      data: Uint8Array.from(s.clusters, (c) => (c >= 0 ? 1 : 0)),
    });
    bits[`${name}.bits`] = String(s.bits);
  }
  return encodeSafetensors(tensors, { ...meta, ...bits, format: "quantized" });
}

/**
 * The post-training-quantised file: each quantised weight in its own shape and layout as I8
 * levels with `<name>.scale` F32 per output channel (int8), or as F16; other parameters F32.
 */
function encodePtqModel(
  model: Model,
  weights: Map<string, PtqWeight>,
  format: PtqFormat,
  meta: Record<string, string>,
): Uint8Array {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, t] of model.params) {
    const w = weights.get(name);
    if (!w) {
      tensors.set(name, t);
      continue;
    }
    const shape = [...t.shape];
    if (format === "int8") {
      // Levels are held output-major; a dense weight goes back to the checkpoint's [in, out].
      tensors.set(name, { shape, data: fromOutputMajor(w.q!, shape) });
      tensors.set(`${name}.scale`, { shape: [w.rows], data: w.scale! });
    } else {
      tensors.set(name, { shape, data: Uint16Array.from(t.data, (v) => f16Bits(v)) });
    }
  }
  return encodeSafetensors(tensors, { ...meta, format });
}

/**
 * The f32 weights of a post-training-quantised file (see `encodePtqModel`), in place, and the
 * quantised weights as stored, for the kernels that read them.
 */
function decodePtqTensors(
  tensors: Map<string, StoredTensor>,
  spec: ModelSpec,
  format: string,
  path: string,
): Map<string, PtqWeight> {
  const weights = new Map<string, PtqWeight>();
  for (const info of paramInfos(spec)) {
    const t = tensors.get(info.name);
    const units = layerKind(spec.layers[info.layer]).units;
    if (!t || t.data instanceof Float32Array || !units) continue;
    const outputs = units.outputs(info.shape);
    const cols = sizeOf(info.shape) / outputs;
    if (format === "int8") {
      const scale = tensors.get(`${info.name}.scale`)?.data;
      if (
        !(t.data instanceof Int8Array) || !(scale instanceof Float32Array) ||
        scale.length !== outputs
      ) {
        throw new UsageError(
          `${path}: ${info.name} needs I8 levels and a ${info.name}.scale (F32, [${outputs}])`,
        );
      }
      // Levels by output channel, as the kernels read them; f32 values back in the file's layout.
      const weight = int8Weight(outputMajor(t.data, info.shape), scale, outputs, cols);
      tensors.set(info.name, {
        shape: t.shape,
        data: fromOutputMajor(weight.dequantized, info.shape),
      });
      tensors.delete(`${info.name}.scale`);
      weights.set(info.name, weight);
    } else {
      if (!(t.data instanceof Uint16Array)) {
        throw new UsageError(`${path}: ${info.name} is not F16`);
      }
      const data = Float32Array.from(t.data, f16Value);
      tensors.set(info.name, { shape: t.shape, data });
      weights.set(info.name, f16Weight(outputMajor(data, info.shape), outputs, cols));
    }
  }
  return weights;
}

/**
 * The dense weights of a weight-shared file's tensors (see `encodeQuantizedModel`), in place,
 * and the sharing itself.
 */
function decodeQuantizedTensors(
  tensors: Map<string, StoredTensor>,
  spec: ModelSpec,
  path: string,
): SharedWeights {
  const shared: SharedWeights = new Map();
  for (const info of paramInfos(spec)) {
    const indices = tensors.get(`${info.name}.indices`)?.data;
    if (indices === undefined) continue;
    const codebook = tensors.get(`${info.name}.codebook`)?.data;
    const mask = tensors.get(`${info.name}.mask`)?.data;
    const n = sizeOf(info.shape);
    if (
      !(indices instanceof Uint8Array) || !(codebook instanceof Float32Array) ||
      !(mask instanceof Uint8Array) || indices.length !== n || mask.length !== n ||
      indices.some((c) => c >= codebook.length)
    ) {
      throw new UsageError(
        `${path}: ${info.name} needs indices (U8, shape [${info.shape}]) below its codebook's ` +
          "length, a codebook (F32) and a mask (U8)",
      );
    }
    const data = Float32Array.from(indices, (c, i) => (mask[i] ? codebook[c] : 0));
    tensors.set(info.name, { shape: [...info.shape], data });
    for (const s of ["indices", "codebook", "mask"]) tensors.delete(`${info.name}.${s}`);
    const bits = Math.max(1, Math.ceil(Math.log2(codebook.length)));
    const clusters = Int32Array.from(indices, (c, i) => (mask[i] ? c : -1));
    shared.set(info.name, { bits, codebook, clusters });
  }
  return shared;
}

/**
 * The CSR of a weight in its kind's output-major layout (`UnitStructure.outputMajor`): dense
 * W [in, out] as [out, in], conv w [out, in, kh, kw] as [out, in·kh·kw].
 */
function csrOfWeight(t: Tensor, units: UnitStructure): Csr {
  const outs = units.outputs(t.shape);
  return csrOfRows(units.outputMajor(t.data, t.shape), outs, t.data.length / outs);
}

/** The CSR file: `sparse` weights as CSR (see csrOfWeight), everything else dense. */
function encodeCsrModel(
  model: Model,
  sparse: ReadonlySet<string>,
  meta: Record<string, string>,
): Uint8Array {
  const tensors = new Map<string, StoredTensor>();
  const shapes: Record<string, string> = {};
  const infos = new Map(paramInfos(model.spec).map((p) => [p.name, p]));
  for (const [name, t] of model.params) {
    const prefix = name.replace(/\.weight$/, "");
    const info = infos.get(name);
    const units = info?.suffix === "weight"
      ? layerKind(model.spec.layers[info.layer]).units
      : undefined;
    if (!sparse.has(name) || !units) {
      tensors.set(name, t);
      continue;
    }
    const csr = csrOfWeight(t, units);
    tensors.set(`${prefix}.indptr`, { shape: [csr.rows + 1], data: csr.indptr });
    tensors.set(`${prefix}.indices`, { shape: [csr.indices.length], data: csr.indices });
    tensors.set(`${prefix}.values`, { shape: [csr.values.length], data: csr.values });
    shapes[`${prefix}.shape`] = JSON.stringify([csr.rows, csr.cols]);
  }
  return encodeSafetensors(tensors, { ...meta, ...shapes, format: "csr" });
}

/** Reads a CSR triple of `prefix` from a file, checking it against the layer's [out, in]. */
function readCsr(
  tensors: Map<string, StoredTensor>,
  prefix: string,
  shape: [number, number],
  path: string,
): Csr {
  const [rows, cols] = shape;
  const get = (suffix: string) => tensors.get(`${prefix}.${suffix}`)?.data;
  const indptr = get("indptr");
  const indices = get("indices");
  const values = get("values");
  if (
    !(indptr instanceof Int32Array) || !(indices instanceof Int32Array) ||
    !(values instanceof Float32Array)
  ) {
    throw new UsageError(`${path}: ${prefix} needs indptr (I32), indices (I32) and values (F32)`);
  }
  const nnz = values.length;
  const ok = indptr.length === rows + 1 && indptr[0] === 0 && indptr[rows] === nnz &&
    indices.length === nnz && indptr.every((v, i) => i === 0 || v >= indptr[i - 1]) &&
    indices.every((c) => c >= 0 && c < cols);
  if (!ok) throw new UsageError(`${path}: ${prefix} is not a valid CSR matrix of shape [${shape}]`);
  return { rows, cols, indptr, indices, values };
}

/**
 * Loads an exported model from any of its files (dense, compact, CSR, weight-shared, int8, f16,
 * the Deep Compression `.dcz`, or an ONNX file, wgprune's or any other sequential one) as a dense
 * model, with how its weights are stored (the weight
 * sharing, or the post-training-quantised weights for the kernels that read them);
 * every problem is a one-line `UsageError` naming the file.
 */
export async function loadExported(path: string): Promise<ExportedModel> {
  return decodeExported(await readFileOrFail(path), path);
}

/** An exported model read back: dense parameters, the file's format and how weights are stored. */
export interface ExportedModel {
  /** The model, dense (pruned entries exactly 0). */
  model: Model;
  /** `dense`, `compact`, `csr`, `quantized`, `int8`, `f16`, `dcz`, `onnx` or `checkpoint`. */
  format: string;
  /** Weight sharing or post-training-quantised weights, when the file holds them. */
  stored: StoredValues;
}

/**
 * `loadExported` of bytes already read: `path` (or just a file name) picks the reader by its
 * extension (`.onnx`, `.dcz`, else safetensors) and names the file in errors. A training
 * checkpoint (`checkpoint.safetensors`, its spec in `layers`) reads as a dense model too.
 */
export function decodeExported(bytes: Uint8Array, path: string): ExportedModel {
  if (path.endsWith(".onnx")) {
    return { model: decodeOnnx(bytes, path).model, format: "onnx", stored: {} };
  }
  if (path.endsWith(".dcz")) {
    const decoded = decodeDeepCompressed(bytes, path);
    return {
      model: decoded.model,
      format: "dcz",
      stored: { shared: decoded.shared, ptq: decoded.ptq },
    };
  }
  const file = decodeSafetensors(bytes, path, { requireChecksum: true });
  const checkpoint = file.metadata.format === CHECKPOINT_FORMAT;
  const format = checkpoint ? "checkpoint" : file.metadata.format;
  const specText = checkpoint ? file.metadata.layers : file.metadata.spec;
  let spec: ModelSpec;
  try {
    spec = JSON.parse(specText ?? "") as ModelSpec;
    paramInfos(spec); // validates the layer list
  } catch {
    throw new UsageError(`${path}: has no valid model spec in its metadata; not a wgprune export`);
  }
  const tensors = new Map(file.tensors);
  if (format === "csr") {
    for (const info of paramInfos(spec)) {
      const prefix = info.name.replace(/\.weight$/, "");
      const shapeText = file.metadata[`${prefix}.shape`];
      const units = layerKind(spec.layers[info.layer]).units;
      if (info.suffix !== "weight" || shapeText === undefined || !units) continue;
      const outs = units.outputs(info.shape);
      const csr = readCsr(tensors, prefix, [outs, sizeOf(info.shape) / outs], path);
      tensors.set(info.name, {
        shape: [...info.shape],
        data: units.fromOutputMajor(rowsOfCsr(csr), info.shape),
      });
      for (const s of ["indptr", "indices", "values"]) tensors.delete(`${prefix}.${s}`);
    }
  } else if (format === "quantized") {
    const shared = decodeQuantizedTensors(tensors, spec, path);
    return {
      model: { spec, params: checkParams(spec, tensors, path) },
      format,
      stored: { shared },
    };
  } else if (format === "int8" || format === "f16") {
    const ptq = decodePtqTensors(tensors, spec, format, path);
    return { model: { spec, params: checkParams(spec, tensors, path) }, format, stored: { ptq } };
  } else if (format !== "dense" && format !== "compact" && format !== "checkpoint") {
    throw new UsageError(
      `${path}: format "${format}" is not dense, compact, csr, quantized, int8 or f16`,
    );
  }
  return { model: { spec, params: checkParams(spec, tensors, path) }, format, stored: {} };
}
