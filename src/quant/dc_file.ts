/**
 * The Deep Compression file (`model.dcz`): a pruned model, optionally weight-shared or
 * post-training-quantised, stored the way Han et al. (2016) count its size — every weight tensor
 * as relative indices of its non-zeros (src/quant/relative_index.ts) plus their values: raw f32,
 * B-bit cluster indices with an f32 codebook, int8 levels with an f32 scale per output channel,
 * or raw f16; biases raw f32. The two streams of each tensor are written with
 * fixed widths (`coding: "fixed"`: the "pruned + quantised" size) or Huffman-coded
 * (`coding: "huffman"`, src/quant/huffman.ts: the final size). The relative-index width is
 * chosen per tensor as the one that makes its stream smallest.
 *
 * Layout, little-endian: the 4 bytes `WGDC`, u32 version (2), u32 header length, the header as
 * UTF-8 JSON compressed with raw DEFLATE (RFC 1951; the file's own metadata, kept small: model
 * spec, and per parameter its name, shape, how it is coded, its counts, code lengths and where
 * its bytes lie), the payload sections, then u32 CRC-32 (ISO-HDLC, as gzip and PNG use it) of
 * every byte before it. The checksum is verified before anything else is read: a flipped bit
 * anywhere is refused, never decoded into other weights. Positions run over the tensor in
 * PyTorch's layout (`[out, in]` for a dense weight, `[out, in, kh, kw]` for a convolution),
 * row-major.
 *
 * @module
 */

import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { UsageError } from "../util/errors.ts";
import { checkParams, type Model, type ModelSpec, paramInfos } from "../model/network.ts";
import { fromOutputMajor, outputMajor, sizeOf } from "../model/tensor.ts";
import { BitReader, BitWriter } from "./bitstream.ts";
import { codeLengths, huffmanDecode, huffmanEncode, symbolCounts } from "./huffman.ts";
import { absoluteIndex, relativeIndex } from "./relative_index.ts";
import type { SharedWeight, SharedWeights } from "./weight_sharing.ts";
import { f16Bits, f16Value } from "./ptq.ts";
import { f16Weight, int8Weight, type PtqFormat, type PtqWeight } from "./ptq_model.ts";

const MAGIC = "WGDC";
const VERSION = 2;
/** Bytes of the trailing checksum. */
const CHECKSUM_BYTES = 4;
/** Relative-index widths tried per tensor. */
const INDEX_BITS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** How the streams are written. */
export type StreamCoding = "fixed" | "huffman";

/** How a parameter is stored (see `TensorEntry.kind`). */
type TensorKind = "raw" | "sparse" | "shared" | PtqFormat;

/** How the weights' values are stored; f32 when neither is given. */
export interface StoredValues {
  /** Weight sharing (cluster indices + codebooks). */
  shared?: SharedWeights;
  /** Post-training quantisation (int8 levels + scales, or f16). */
  ptq?: Map<string, PtqWeight>;
}

/** One parameter in the header. */
interface TensorEntry {
  name: string;
  shape: number[];
  /**
   * `raw`: f32 dense; otherwise relative indices + values: `sparse` f32, `shared` cluster
   * indices and codebook, `int8` levels and per-channel scales, `f16` half floats.
   */
  kind: TensorKind;
  /** Non-zeros (sparse and shared). */
  nnz?: number;
  /** Relative-index codes (non-zeros plus fillers) and their width. */
  codes?: number;
  indexBits?: number;
  /** Cluster-index width (shared). */
  bits?: number;
  /**
   * Huffman code lengths of the index codes and of the value symbols, one base-32 digit per
   * symbol (`lengthsText`); absent where the stream is stored at fixed width because Huffman
   * coding would not make it smaller.
   */
  indexLengths?: string;
  valueLengths?: string;
  /** Payload byte range. */
  offset: number;
  bytes: number;
}

/** Header of a Deep Compression file. */
interface Header {
  spec: ModelSpec;
  coding: StreamCoding;
  tensors: TensorEntry[];
}

/** A copy of an array's own bytes (a view into a larger buffer included). */
function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** A parameter's shape in storage order: a dense `[in, out]` as `[out, in]`. */
function storageShape(shape: number[]): number[] {
  return shape.length === 2 ? [shape[1], shape[0]] : shape;
}

/** Code lengths (each ≤ 24) as one base-32 digit per symbol, for the JSON header. */
function lengthsText(lengths: Uint8Array): string {
  return Array.from(lengths, (l) => l.toString(32)).join("");
}

/** The inverse of `lengthsText`. */
function lengthsOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => parseInt(c, 32));
}

/**
 * How a stream of `symbols` (each < 2^width) is best written: its Huffman code lengths and bits
 * (the header's code table counted), or undefined when fixed width is no larger.
 */
function huffmanPlan(
  symbols: Uint32Array,
  width: number,
): { lengths: Uint8Array; bits: number } | undefined {
  return planOfCounts(symbolCounts(symbols, 2 ** width), symbols.length, width);
}

/** `huffmanPlan` from the symbols' counts. */
function planOfCounts(
  counts: Float64Array,
  total: number,
  width: number,
): { lengths: Uint8Array; bits: number } | undefined {
  const lengths = codeLengths(counts);
  let bits = 8 * (lengthsText(lengths).length + 20); // the table and its JSON key
  counts.forEach((c, s) => (bits += c * lengths[s]));
  return bits < total * width ? { lengths, bits } : undefined;
}

/**
 * Bits of the relative-index stream of non-zeros separated by `gaps` (zeros before each) at
 * `width` bits, counted from the gaps without building the stream: a gap g takes
 * ⌊g / (2^width − 1)⌋ filler codes and one code g mod (2^width − 1).
 */
function indexStreamBits(gaps: Uint32Array, width: number, coding: StreamCoding): number {
  const filler = 2 ** width - 1;
  const counts = new Float64Array(filler + 1);
  let total = 0;
  for (const g of gaps) {
    const fillers = Math.floor(g / filler);
    counts[filler] += fillers;
    counts[g - fillers * filler]++;
    total += fillers + 1;
  }
  const plan = coding === "huffman" ? planOfCounts(counts, total, width) : undefined;
  return plan ? plan.bits : total * width;
}

/** Writes `symbols` at `width` bits or Huffman-coded; returns the code lengths when Huffman. */
function writeStream(
  symbols: Uint32Array,
  width: number,
  coding: StreamCoding,
  out: BitWriter,
): string | undefined {
  const plan = coding === "huffman" ? huffmanPlan(symbols, width) : undefined;
  if (!plan) {
    for (const s of symbols) out.write(s, width);
    return undefined;
  }
  huffmanEncode(symbols, plan.lengths, out);
  return lengthsText(plan.lengths);
}

/**
 * Encodes a pruned model: every dense and convolution weight sparse (its zeros are the pruned
 * weights), weight-shared where `shared` has it; other parameters raw.
 */
export function encodeDeepCompressed(
  model: Model,
  values: StoredValues,
  coding: StreamCoding,
): Uint8Array {
  const entries: TensorEntry[] = [];
  const sections: Uint8Array[] = [];
  let offset = 0;
  for (const info of paramInfos(model.spec)) {
    const t = model.params.get(info.name)!;
    const sparse = info.suffix === "weight" && (t.shape.length === 2 || t.shape.length === 4);
    let entry: TensorEntry;
    let section: Uint8Array;
    if (!sparse) {
      section = new Uint8Array(
        t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength),
      );
      entry = { name: info.name, shape: [...t.shape], kind: "raw", offset, bytes: 0 };
    } else {
      ({ entry, section } = encodeSparse(
        info.name,
        t.shape,
        t.data,
        {
          shared: values.shared?.get(info.name),
          ptq: values.ptq?.get(info.name),
        },
        coding,
        offset,
      ));
    }
    entry.bytes = section.length;
    entries.push(entry);
    sections.push(section);
    offset += section.length;
  }
  const header = deflateRawSync(
    new TextEncoder().encode(
      JSON.stringify({ spec: model.spec, coding, tensors: entries } satisfies Header),
    ),
    { level: 9 },
  );
  const out = new Uint8Array(12 + header.length + offset + CHECKSUM_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  let at = 12 + header.length;
  for (const s of sections) {
    out.set(s, at);
    at += s.length;
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** One weight tensor's section: index stream, value stream, then the codebook (shared). */
function encodeSparse(
  name: string,
  shape: number[],
  data: Float32Array,
  stored: { shared?: SharedWeight; ptq?: PtqWeight },
  coding: StreamCoding,
  offset: number,
): { entry: TensorEntry; section: Uint8Array } {
  const s = stored.shared;
  const ptq = stored.ptq;
  // A quantised tensor's values are its dequantised ones, already in storage order.
  const values = ptq ? ptq.dequantized : outputMajor(data, shape);
  const clusters = s ? outputMajor(s.clusters, shape) : undefined;
  const alive = (i: number) => (clusters ? clusters[i] >= 0 : values[i] !== 0);
  const positions: number[] = [];
  for (let i = 0; i < values.length; i++) if (alive(i)) positions.push(i);
  const pos = Uint32Array.from(positions);
  const gaps = pos.map((p, j) => p - (j === 0 ? 0 : pos[j - 1] + 1));
  let bestBits = INDEX_BITS[0];
  let bestSize = Infinity;
  for (const bits of INDEX_BITS) {
    const size = indexStreamBits(gaps, bits, coding);
    if (size < bestSize) [bestBits, bestSize] = [bits, size];
  }
  const best = { bits: bestBits, codes: relativeIndex(pos, bestBits) };
  const out = new BitWriter();
  const indexLengths = writeStream(best.codes, best.bits, coding, out);
  const entry: TensorEntry = {
    name,
    shape: [...shape],
    kind: s ? "shared" : ptq ? ptq.format : "sparse",
    nnz: pos.length,
    codes: best.codes.length,
    indexBits: best.bits,
    offset,
    bytes: 0,
  };
  if (indexLengths) entry.indexLengths = indexLengths;
  let valueBytes: Uint8Array;
  if (s && clusters) {
    entry.bits = s.bits;
    const symbols = Uint32Array.from(pos, (p) => clusters[p]);
    const valueLengths = writeStream(symbols, s.bits, coding, out);
    if (valueLengths) entry.valueLengths = valueLengths;
    valueBytes = bytesOf(s.codebook);
  } else if (ptq?.format === "int8") {
    // Levels −127..127 as symbols 1..255; the scales [out] after the streams.
    entry.bits = 8;
    const symbols = Uint32Array.from(pos, (p) => ptq.q![p] + 128);
    const valueLengths = writeStream(symbols, 8, coding, out);
    if (valueLengths) entry.valueLengths = valueLengths;
    valueBytes = bytesOf(ptq.scale!);
  } else if (ptq?.format === "f16") {
    valueBytes = new Uint8Array(Uint16Array.from(pos, (p) => f16Bits(values[p])).buffer);
  } else {
    valueBytes = new Uint8Array(Float32Array.from(pos, (p) => values[p]).buffer);
  }
  const bits = out.finish();
  const section = new Uint8Array(bits.length + valueBytes.length);
  section.set(bits, 0);
  section.set(valueBytes, bits.length);
  return { entry, section };
}

/** What a Deep Compression file holds per parameter: how it is coded and its bytes. */
export interface SectionInfo {
  /** Parameter name. */
  name: string;
  /** How it is stored (see the module's description). */
  kind: TensorKind;
  /** Bytes of its section (streams, values, codebook). */
  bytes: number;
  /** Non-zeros (sparse and shared). */
  nnz?: number;
  /** Relative-index width chosen. */
  indexBits?: number;
  /** Cluster-index width (shared). */
  bits?: number;
}

/** The per-parameter sections of an encoded file, and its header bytes. */
export function describeDeepCompressed(bytes: Uint8Array): {
  headerBytes: number;
  sections: SectionInfo[];
} {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(
    new TextDecoder().decode(inflateRawSync(bytes.subarray(12, 12 + headerLength))),
  ) as Header;
  return {
    headerBytes: 12 + headerLength,
    sections: header.tensors.map((e) => ({
      name: e.name,
      kind: e.kind,
      bytes: e.bytes,
      nnz: e.nnz,
      indexBits: e.indexBits,
      bits: e.bits,
    })),
  };
}

/** Reads `count` symbols of `width` bits, fixed or Huffman-coded. */
function readStream(
  input: BitReader,
  count: number,
  width: number,
  lengths: string | undefined,
): Uint32Array {
  if (lengths !== undefined) return huffmanDecode(lengthsOf(lengths), count, input);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = input.read(width);
  return out;
}

/**
 * Decodes a Deep Compression file into the dense model it stores (pruned weights exactly 0,
 * shared weights rebuilt from their codebooks) and its weight sharing; every problem is a
 * one-line `UsageError` naming `path`.
 */
export function decodeDeepCompressed(
  bytes: Uint8Array,
  path: string,
): {
  model: Model;
  shared: SharedWeights;
  coding: StreamCoding;
  ptq?: Map<string, PtqWeight>;
} {
  const bad = (why: string) =>
    new UsageError(`${path}: not a valid Deep Compression file (${why})`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw bad("it does not start with WGDC");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) {
    throw bad(
      version === 1
        ? "version 1 carries no checksum; export the model again"
        : `version ${version}, expected ${VERSION}`,
    );
  }
  const body = bytes.length - CHECKSUM_BYTES;
  if (body < 12) throw bad("shorter than its header and checksum");
  if (crc32(bytes.subarray(0, body)) !== view.getUint32(body, true)) {
    throw bad("its CRC-32 does not match: the file is damaged");
  }
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > body) throw bad("the header runs past the end");
  let header: Header;
  try {
    header = JSON.parse(
      new TextDecoder().decode(inflateRawSync(bytes.subarray(12, 12 + headerLength))),
    );
    paramInfos(header.spec);
  } catch {
    throw bad("its header is not a model description");
  }
  const payload = bytes.subarray(12 + headerLength, body);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  const shared: SharedWeights = new Map();
  const ptq = new Map<string, PtqWeight>();
  try {
    for (const e of header.tensors) {
      if (e.offset + e.bytes > payload.length) throw new RangeError(`${e.name} runs past the end`);
      const section = payload.slice(e.offset, e.offset + e.bytes);
      const n = sizeOf(e.shape);
      if (e.kind === "raw") {
        params.set(e.name, { shape: e.shape, data: new Float32Array(section.buffer, 0, n) });
        continue;
      }
      const input = new BitReader(section);
      const codes = readStream(input, e.codes!, e.indexBits!, e.indexLengths);
      const positions = absoluteIndex(codes, e.indexBits!);
      if (positions.length !== e.nnz || positions.some((p) => p >= n)) {
        throw new RangeError(`${e.name}: positions do not fit its shape`);
      }
      const values = new Float32Array(n);
      const tail = (bytes: number) => {
        if (bytes > e.bytes) throw new RangeError(`${e.name} is shorter than its values`);
        return new Float32Array(section.slice(e.bytes - bytes).buffer);
      };
      if (e.kind === "shared") {
        const clusterSymbols = readStream(input, e.nnz!, e.bits!, e.valueLengths);
        const codebook = tail(4 * 2 ** e.bits!);
        const clusters = new Int32Array(n).fill(-1);
        positions.forEach((p, j) => {
          clusters[p] = clusterSymbols[j];
          values[p] = codebook[clusterSymbols[j]];
        });
        shared.set(e.name, {
          bits: e.bits!,
          codebook,
          clusters: fromOutputMajor(clusters, e.shape),
        });
      } else if (e.kind === "int8") {
        const levels = readStream(input, e.nnz!, 8, e.valueLengths);
        const outputs = storageShape(e.shape)[0];
        const scale = tail(4 * outputs);
        const perChannel = n / outputs;
        const q = new Int8Array(n); // [out, in·…], storage order = by output channel
        positions.forEach((p, j) => (q[p] = levels[j] - 128));
        const weight = int8Weight(q, scale, outputs, perChannel);
        values.set(weight.dequantized);
        ptq.set(e.name, weight);
      } else if (e.kind === "f16") {
        if (2 * e.nnz! > e.bytes) throw new RangeError(`${e.name} is shorter than its values`);
        const halves = new Uint16Array(section.slice(e.bytes - 2 * e.nnz!).buffer);
        positions.forEach((p, j) => (values[p] = f16Value(halves[j])));
        const outputs = storageShape(e.shape)[0];
        ptq.set(e.name, f16Weight(Float32Array.from(values), outputs, n / outputs));
      } else {
        const nonzero = tail(4 * e.nnz!);
        positions.forEach((p, j) => (values[p] = nonzero[j]));
      }
      params.set(e.name, { shape: e.shape, data: fromOutputMajor(values, e.shape) });
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw bad((err as Error).message);
  }
  return {
    model: { spec: header.spec, params: checkParams(header.spec, params, path) },
    shared,
    coding: header.coding,
    ptq: ptq.size > 0 ? ptq : undefined,
  };
}
