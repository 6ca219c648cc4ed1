/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header mapping tensor names to dtype, shape and byte offsets (plus `__metadata__` string
 * pairs), then the raw little-endian tensor bytes. Readable from Python with
 * `safetensors.numpy.load_file`.
 *
 * @module
 */

import { UsageError } from "../cli/errors.ts";
import { readFileOrFail, writeFileAtomic } from "../io/files.ts";

/** A named f32 tensor. */
export interface Tensor {
  /** Dimensions, row-major. */
  shape: number[];
  /** Values, length = product of shape. */
  data: Float32Array;
}

/** Tensors and string metadata of one safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, e.g. `layers.0.weight`. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` string map. */
  metadata: Record<string, string>;
}

/** Serialises tensors (in insertion order) and metadata to safetensors bytes. */
export function encodeSafetensors(
  tensors: Map<string, Tensor>,
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(`safetensors: ${name} has ${t.data.length} values, shape says ${size}`);
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
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

/** Parses safetensors bytes; `path` names the file in errors. Only F32 tensors are accepted. */
export function decodeSafetensors(bytes: Uint8Array, path: string): SafetensorsFile {
  if (bytes.length < 8) throw new UsageError(`${path}: not a safetensors file (too short)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new UsageError(`${path}: truncated safetensors header`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new UsageError(`${path}: safetensors header is not valid JSON`);
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    if (entry.dtype !== "F32") throw new UsageError(`${path}: ${name} is ${entry.dtype}, not F32`);
    const [start, end] = entry.data_offsets;
    if (base + end > bytes.length) throw new UsageError(`${path}: ${name} data truncated`);
    const data = new Float32Array(bytes.slice(base + start, base + end).buffer);
    tensors.set(name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}

/** Writes a safetensors file atomically. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor>,
  metadata: Record<string, string>,
): Promise<void> {
  return writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a safetensors file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFileOrFail(path), path);
}
