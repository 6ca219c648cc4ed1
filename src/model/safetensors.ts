/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header mapping tensor names to dtype, shape and byte offsets (plus `__metadata__` string
 * pairs), then the raw little-endian tensor bytes. Readable from Python with
 * `safetensors.numpy.load_file`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.ts";
import { readFileOrFail, writeFileAtomic } from "../util/files.ts";

/**
 * Element types wgprune reads and writes, with their safetensors dtype names; an F16 tensor is
 * held as its IEEE binary16 bit patterns.
 */
export type StoredData = Float32Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

/** A named tensor of any stored type (model parameters are F32; CSR indices I32; masks U8). */
export interface StoredTensor {
  /** Dimensions, row-major. */
  shape: number[];
  /** Values, length = product of shape. */
  data: StoredData;
}

/** The safetensors dtype of an array. */
export function dtypeOf(data: StoredData): "F32" | "I32" | "U8" | "I8" | "F16" {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof Uint16Array) return "F16";
  return "U8";
}

const DTYPES: Record<string, { bytes: number; make: (buffer: ArrayBuffer) => StoredData }> = {
  F32: { bytes: 4, make: (b) => new Float32Array(b) },
  I32: { bytes: 4, make: (b) => new Int32Array(b) },
  U8: { bytes: 1, make: (b) => new Uint8Array(b) },
  I8: { bytes: 1, make: (b) => new Int8Array(b) },
  F16: { bytes: 2, make: (b) => new Uint16Array(b) },
};

/** Tensors and string metadata of one safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, e.g. `layers.0.weight`. */
  tensors: Map<string, StoredTensor>;
  /** The `__metadata__` string map. */
  metadata: Record<string, string>;
}

/** Metadata key of the sha256 (hex) of the data section, written and verified by wgprune. */
export const CHECKSUM_KEY = "data_sha256";

/** Largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Serialises tensors (in insertion order) and metadata to safetensors bytes. The metadata gains
 * `data_sha256`, the sha256 of the data section (every byte after the header), which
 * `decodeSafetensors` verifies; Python checks it with `hashlib.sha256(raw[8 + n:])`.
 */
export function encodeSafetensors(
  tensors: Map<string, StoredTensor>,
  metadata: Record<string, string>,
): Uint8Array {
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(`safetensors: ${name} has ${t.data.length} values, shape says ${size}`);
    }
    const bytes = t.data.byteLength;
    entries[name] = {
      dtype: dtypeOf(t.data),
      shape: t.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  const header = {
    __metadata__: { ...metadata, [CHECKSUM_KEY]: dataChecksum(tensors) },
    ...entries,
  };
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    // f32 little-endian: the platform order on every machine we target.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** sha256 (hex) of the tensors' bytes in order: the `data_sha256` of their safetensors file. */
export function dataChecksum(tensors: Map<string, StoredTensor>): string {
  const hash = createHash("sha256");
  for (const t of tensors.values()) {
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest("hex");
}

/** Options of `decodeSafetensors`. */
export interface DecodeOptions {
  /** Refuse a file without a `data_sha256` (every file wgprune writes has one). */
  requireChecksum?: boolean;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parses safetensors bytes; `path` names the file in errors. F32, F16, I32, I8 and U8 tensors are read.
 * Every header field is checked before it is used: the header length against the file, each
 * tensor's dtype, shape and offsets against the data section (which tensors must cover exactly,
 * without gaps or overlaps, as the format requires), and the checksum when present. Any
 * violation is a one-line `UsageError`; nothing is allocated from an unchecked field.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = {},
): SafetensorsFile {
  const fail = (what: string): never => {
    throw new UsageError(`${path}: ${what}`);
  };
  if (bytes.length < 8) fail("not a safetensors file (shorter than its 8-byte header length)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(Math.min(bytes.length - 8, MAX_HEADER_BYTES))) {
    fail(
      `safetensors header length ${declared} exceeds the file (${bytes.length} bytes); truncated?`,
    );
  }
  const headerLength = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch {
    fail("safetensors header is not valid JSON");
  }
  if (!isRecord(header)) fail("safetensors header is not a JSON object");
  const head = header as Record<string, unknown>;
  const base = 8 + headerLength;
  const dataLength = bytes.length - base;
  let metadata: Record<string, string> = {};
  const spans: { name: string; start: number; end: number; shape: number[]; dtype: string }[] = [];
  for (const [name, entry] of Object.entries(head)) {
    if (name === "__metadata__") {
      if (!isRecord(entry) || Object.values(entry).some((v) => typeof v !== "string")) {
        fail("__metadata__ must map names to strings");
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    if (!isRecord(entry)) fail(`${name}: tensor entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in DTYPES)) {
      fail(`${name} is ${JSON.stringify(dtype)}, not F32, F16, I32, I8 or U8`);
    }
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every(isCount)) {
      fail(`${name}: shape must be a list of at most 8 non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`${name}: data_offsets must be two non-negative integers`);
    }
    const [start, end] = offsets as number[];
    if (start > end || end > dataLength) {
      fail(`${name}: data_offsets [${start}, ${end}] lie outside the ${dataLength} data bytes`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = DTYPES[dtype as string].bytes;
    if (count * size !== end - start) {
      fail(
        `${name}: shape [${shape}] needs ${count * size} bytes, data_offsets give ${end - start}`,
      );
    }
    spans.push({ name, start, end, shape: shape as number[], dtype: dtype as string });
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  let covered = 0;
  for (const s of spans) {
    if (s.start !== covered) {
      fail(`${s.name}: data_offsets leave a gap or overlap at byte ${covered}`);
    }
    covered = s.end;
  }
  if (covered !== dataLength) {
    fail(`data section has ${dataLength} bytes, tensors cover ${covered}; truncated or padded`);
  }
  const expected = metadata[CHECKSUM_KEY];
  if (expected === undefined && options.requireChecksum) {
    fail(`has no ${CHECKSUM_KEY} checksum, so it cannot be verified`);
  }
  if (expected !== undefined) {
    const actual = createHash("sha256").update(bytes.subarray(base)).digest("hex");
    if (actual !== expected) fail(`checksum mismatch (${CHECKSUM_KEY}): the file is corrupt`);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const s of spans) {
    const data = DTYPES[s.dtype].make(bytes.slice(base + s.start, base + s.end).buffer);
    tensors.set(s.name, { shape: s.shape, data });
  }
  // Keep the header's order (the order the tensors were written in).
  const ordered = new Map<string, StoredTensor>();
  for (const name of Object.keys(head)) {
    const t = tensors.get(name);
    if (t) ordered.set(name, t);
  }
  return { tensors: ordered, metadata };
}

/** Writes a safetensors file atomically. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, StoredTensor>,
  metadata: Record<string, string>,
): Promise<void> {
  return writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a safetensors file (see `decodeSafetensors` for the checks). */
export async function readSafetensors(
  path: string,
  options: DecodeOptions = {},
): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFileOrFail(path), path, options);
}
