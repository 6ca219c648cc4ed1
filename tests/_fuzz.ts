/**
 * Seeded mutation fuzzing of wgprune's file parsers: IDX images and labels (raw and gzipped),
 * safetensors checkpoints (with and without a required checksum, then `tensorsToParams`),
 * sweep.csv, history.csv, metrics.json, Deep Compression files (`.dcz`, half of the cases with
 * their checksum made to match again, so the decoder behind it is reached), ONNX models (wgprune's
 * and a PyTorch-era graph with BatchNormalization) and exports'
 * meta.json. Each target starts from valid files built in memory,
 * applies one to three seeded mutations (bit flips, boundary bytes, truncation, garbage,
 * duplicated or deleted ranges, header fields set to huge values, edited JSON headers, dropped or
 * swapped lines, replaced CSV fields, wrongly typed JSON keys, …) and requires every case to end
 * in a correct parse or a one-line `UsageError`: any other exception, a UsageError whose message
 * is empty or holds a line break (`\n` or `\r`), a parse result that breaks the format's
 * invariants, or a case slower than `HANG_MS` is recorded as a failure. Case `i` of seed `s` is
 * reproducible on its own (`fuzzCase`, `runFuzzCase`). Used by tests/fuzz_test.ts and the
 * standalone tests/fuzz.ts.
 *
 * @module
 */

import { crc32, gunzipSync, gzipSync } from "node:zlib";
import { UsageError } from "../src/util/errors.ts";
import { gunzip, IMAGES_MAGIC, LABELS_MAGIC, parseImages, parseLabels } from "../src/data/idx.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/model/safetensors.ts";
import type { DecodeOptions } from "../src/model/safetensors.ts";
import { checkParams, initModel, mlpSpec, paramInfos } from "../src/model/network.ts";
import { sizeOf } from "../src/model/tensor.ts";
import { decodeDeepCompressed, encodeDeepCompressed } from "../src/quant/dc_file.ts";
import { decodeShared, shareWeights } from "../src/quant/weight_sharing.ts";
import { type ExportMeta, parseExportMeta } from "../src/export/meta.ts";
import { encodeOnnx } from "../src/export/onnx.ts";
import { decodeOnnx } from "../src/export/onnx_import.ts";
import {
  formatSweepCsv,
  parseSweepCsv,
  SWEEP_COLUMNS,
  TEXT_COLUMNS,
} from "../src/sweep/results.ts";
import { NO_COMPRESSION_FIGURES, type SweepRow } from "../src/sweep/results.ts";
import { formatHistoryCsv, parseHistoryCsv } from "../src/train/history.ts";
import { parseMetricsJson } from "../src/experiment/metrics.ts";
import type { TrainMetrics } from "../src/experiment/metrics.ts";
import type { EpochRecord } from "../src/train/trainer.ts";
import { createRng, type Rng } from "../src/util/rng.ts";
import { prunedAtRandom } from "./_pruned.ts";

/** How a case ended: the parser accepted the input, or refused it with a one-line UsageError. */
export type Outcome = "ok" | "rejected";

/** A mutated input and a one-line account of the mutations that made it. */
export interface Mutated<I> {
  /** The input to hand to the parser. */
  input: I;
  /** What was done to the seed, e.g. `flip bits 17.3 + truncate to 40`. */
  mutation: string;
}

/** One parser under fuzzing. */
export interface FuzzTarget<I> {
  /** Short name, used by `--target` and in reports. */
  name: string;
  /** Valid inputs the mutations start from. */
  seeds: I[];
  /** Applies seeded mutations to `seed`. */
  mutate(rng: Rng, seed: I): Mutated<I>;
  /**
   * Runs the parser on `input`: "ok" for a parse that satisfies the format's invariants,
   * "rejected" for a `UsageError` with a non-empty message free of `\n` and `\r`; throws a
   * `FuzzEscape` (naming the error class, its message and the input) for anything else.
   */
  check(input: I): Promise<Outcome>;
}

/** Totals of one `runFuzz`. */
export interface FuzzReport {
  /** Cases run. */
  cases: number;
  /** Cases the parser accepted. */
  ok: number;
  /** Cases refused with a one-line UsageError. */
  rejected: number;
  /** One line per failed case: target, case, mutation, error class and message, input. */
  failures: string[];
  /** Slowest case, in milliseconds. */
  maxMs: number;
}

/** A case slower than this (milliseconds) is a failure ("hang"). */
export const HANG_MS = 2000;

/** The error `check` throws when a case ends in anything but "ok" or a one-line UsageError. */
export class FuzzEscape extends Error {
  /**
   * @param errorClass class of what escaped (`TypeError`, `UsageError (multi-line message)`, …)
   * @param errorMessage its message, as thrown
   * @param input a short description of the input that caused it
   */
  constructor(
    readonly errorClass: string,
    readonly errorMessage: string,
    readonly input: string,
  ) {
    super(`${errorClass}: ${JSON.stringify(errorMessage)}; input ${input}`);
    this.name = "FuzzEscape";
  }
}

// ---------------------------------------------------------------------------------------------
// Random helpers

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[int(rng, items.length)];
}

/** The generator of case `index` under `seed`: a hash of both, so any case reruns alone. */
function caseRng(seed: number, index: number): Rng {
  let h = (seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return createRng((h ^ (h >>> 16)) >>> 0);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A mutation that may not apply to the current input (then it returns undefined). */
type Mutator<I> = (rng: Rng, input: I) => Mutated<I> | undefined;

/**
 * Applies one to three mutators drawn by weight; one that does not apply to the current input
 * is replaced by `fallback`, which always applies.
 */
function compose<I>(
  rng: Rng,
  seed: I,
  mutators: [number, Mutator<I>][],
  fallback: (rng: Rng, input: I) => Mutated<I>,
): Mutated<I> {
  const steps = 1 + (rng() < 0.25 ? 1 : 0) + (rng() < 0.1 ? 1 : 0);
  const total = mutators.reduce((s, [w]) => s + w, 0);
  let input = seed;
  const done: string[] = [];
  for (let s = 0; s < steps; s++) {
    let r = rng() * total;
    let chosen = mutators[mutators.length - 1][1];
    for (const [w, m] of mutators) {
      if ((r -= w) < 0) {
        chosen = m;
        break;
      }
    }
    const next = chosen(rng, input) ?? fallback(rng, input);
    input = next.input;
    done.push(next.mutation);
  }
  return { input, mutation: done.join(" + ") };
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations

const BOUNDARY_BYTES = [0x00, 0xff, 0x7f, 0x80];

/** A byte mutation: bit flips, a byte set, truncation, garbage, a range copied or cut. */
function mutateBytes(rng: Rng, bytes: Uint8Array): Mutated<Uint8Array> {
  const n = bytes.length;
  const kinds = ["flip", "flip", "overwrite", "truncate", "append", "duplicate", "delete"];
  const kind = n === 0 ? "append" : pick(rng, kinds);
  switch (kind) {
    case "flip": {
      const out = bytes.slice();
      const at: string[] = [];
      for (let k = 1 + int(rng, 8); k > 0; k--) {
        const p = int(rng, n);
        const b = int(rng, 8);
        out[p] ^= 1 << b;
        at.push(`${p}.${b}`);
      }
      return { input: out, mutation: `flip bits ${at.join(",")}` };
    }
    case "overwrite": {
      const out = bytes.slice();
      const p = int(rng, n);
      out[p] = rng() < 0.6 ? pick(rng, BOUNDARY_BYTES) : int(rng, 256);
      return { input: out, mutation: `set byte ${p} = ${hex(out[p])}` };
    }
    case "truncate": {
      const len = pick(rng, [0, 1, Math.min(n - 1, 8 + int(rng, 16)), int(rng, n), n - 1]);
      return { input: bytes.slice(0, len), mutation: `truncate to ${len} of ${n} bytes` };
    }
    case "append": {
      const len = 1 + int(rng, 32);
      const garbage = Uint8Array.from({ length: len }, () => int(rng, 256));
      return { input: concat(bytes, garbage), mutation: `append ${len} random bytes` };
    }
    case "duplicate": {
      const a = int(rng, n);
      const len = 1 + int(rng, Math.min(64, n - a));
      const at = int(rng, n + 1);
      return {
        input: concat(bytes.subarray(0, at), bytes.subarray(a, a + len), bytes.subarray(at)),
        mutation: `copy bytes [${a}, ${a + len}) to ${at}`,
      };
    }
    default: {
      const a = int(rng, n);
      const len = 1 + int(rng, Math.min(64, n - a));
      return {
        input: concat(bytes.subarray(0, a), bytes.subarray(a + len)),
        mutation: `delete bytes [${a}, ${a + len})`,
      };
    }
  }
}

function previewBytes(bytes: Uint8Array): string {
  const shown = [...bytes.subarray(0, 48)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${bytes.length} bytes ${shown}${bytes.length > 48 ? "…" : ""}`;
}

function previewText(text: string): string {
  return `${text.length} chars ${
    JSON.stringify(text.length > 300 ? text.slice(0, 300) + "…" : text)
  }`;
}

/** Something a parse produced that the format forbids (a failure, like an escaped exception). */
class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

function invariant(condition: unknown, message: string): void {
  if (!condition) throw new InvariantError(message);
}

/** Runs `parse`, classifying how it ended (see `FuzzTarget.check`). */
async function outcome(
  preview: () => string,
  parse: () => unknown | Promise<unknown>,
): Promise<Outcome> {
  try {
    await parse();
    return "ok";
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message !== "" && !/[\r\n]/.test(err.message)) return "rejected";
      const what = err.message === "" ? "empty message" : "multi-line message";
      throw new FuzzEscape(`UsageError (${what})`, err.message, preview());
    }
    const name = err instanceof Error ? err.constructor.name || err.name : typeof err;
    const message = err instanceof Error ? err.message : String(err);
    throw new FuzzEscape(name, message, preview());
  }
}

// ---------------------------------------------------------------------------------------------
// IDX

const IMAGES_PATH = "fuzz/train-images-idx3-ubyte";
const LABELS_PATH = "fuzz/train-labels-idx1-ubyte";

function idxImages(count: number, rows: number, cols: number): Uint8Array {
  const rng = createRng(7);
  const out = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(out.buffer);
  view.setUint32(0, IMAGES_MAGIC);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 16; i < out.length; i++) out[i] = int(rng, 256);
  return out;
}

function idxLabels(count: number): Uint8Array {
  const out = new Uint8Array(8 + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, LABELS_MAGIC);
  view.setUint32(4, count);
  for (let i = 0; i < count; i++) out[8 + i] = i % 10;
  return out;
}

/** Sets one u32 header field (magic, count, rows or cols) to a boundary value. */
function idxHeaderMutator(dims: number): Mutator<Uint8Array> {
  const names = ["magic", "count", "rows", "cols"];
  return (rng, bytes) => {
    if (bytes.length < 4 + 4 * dims) return undefined;
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    const field = int(rng, dims + 1);
    const old = view.getUint32(4 * field);
    const values = field === 0
      ? [IMAGES_MAGIC, LABELS_MAGIC, 0, 0x03080000, 0x0903, 0x0d03, 0x0802, 0xffffffff]
      : [0xffffffff, 0x7fffffff, 2 ** 24, 2 ** 16, 0, 1, old + 1, Math.max(0, old - 1), old * 2];
    const value = pick(rng, values) >>> 0;
    view.setUint32(4 * field, value);
    return { input: out, mutation: `set ${names[field]} = ${value}` };
  };
}

function idxMutators(dims: number): [number, Mutator<Uint8Array>][] {
  return [[3, idxHeaderMutator(dims)], [5, mutateBytes]];
}

function checkImages(bytes: Uint8Array): void {
  const images = parseImages(bytes, IMAGES_PATH);
  invariant(
    images.pixels.length === images.count * images.rows * images.cols,
    `${images.pixels.length} pixels for ${images.count} images of ${images.rows}x${images.cols}`,
  );
}

function checkLabels(bytes: Uint8Array): void {
  const labels = parseLabels(bytes, LABELS_PATH);
  invariant(labels.length === bytes.length - 8, `${labels.length} labels in ${bytes.length} bytes`);
  invariant(labels.every((l) => l < 10), "a label is not < 10");
}

/** A gzip target: mutates the compressed stream, or the IDX inside it and compresses again. */
function gzipTarget(
  name: string,
  raw: Uint8Array,
  dims: number,
  path: string,
  parse: (bytes: Uint8Array) => void,
): FuzzTarget<Uint8Array> {
  const inner: Mutator<Uint8Array> = (rng, gz) => {
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(gunzipSync(gz));
    } catch {
      return undefined;
    }
    const m = compose(rng, plain, idxMutators(dims), mutateBytes);
    return { input: new Uint8Array(gzipSync(m.input)), mutation: `gzip(${m.mutation})` };
  };
  const member: Mutator<Uint8Array> = (rng, gz) => {
    const extra = rng() < 0.5 ? raw : Uint8Array.from({ length: 1 + int(rng, 16) }, () => 7);
    return {
      input: concat(gz, new Uint8Array(gzipSync(extra))),
      mutation: `append a gzip member of ${extra.length} bytes`,
    };
  };
  // Bit flips in the deflate data rather than the 10-byte gzip header.
  const streamFlip: Mutator<Uint8Array> = (rng, gz) => {
    if (gz.length <= 18) return undefined;
    const out = gz.slice();
    const p = 10 + int(rng, gz.length - 18);
    const b = int(rng, 8);
    out[p] ^= 1 << b;
    return { input: out, mutation: `flip deflate bit ${p}.${b}` };
  };
  return {
    name,
    seeds: [new Uint8Array(gzipSync(raw))],
    mutate: (rng, seed) =>
      compose(rng, seed, [[4, inner], [3, streamFlip], [4, mutateBytes], [1, member]], mutateBytes),
    check: (bytes) =>
      outcome(() => previewBytes(bytes), async () => parse(await gunzip(bytes, path))),
  };
}

// ---------------------------------------------------------------------------------------------
// safetensors

const MODEL_PATH = "fuzz/model.safetensors";
const SIZES = [7, 5, 3];
const SPEC = mlpSpec(SIZES[0], SIZES.slice(1, -1), SIZES[2], true);

function splitSafetensors(bytes: Uint8Array): { header: string; data: Uint8Array } | undefined {
  if (bytes.length < 8) return undefined;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) return undefined;
  const end = 8 + Number(n);
  return { header: new TextDecoder().decode(bytes.subarray(8, end)), data: bytes.subarray(end) };
}

function joinSafetensors(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat(length, json, data);
}

/** The seed without its `data_sha256`, as a file from another safetensors writer. */
function withoutChecksum(bytes: Uint8Array): Uint8Array {
  const { header, data } = splitSafetensors(bytes)!;
  const head = JSON.parse(header);
  delete head.__metadata__.data_sha256;
  return joinSafetensors(JSON.stringify(head), data);
}

/** Overwrites the u64 header length with a huge, zero or off-by-one value. */
const headerLengthMutator: Mutator<Uint8Array> = (rng, bytes) => {
  if (bytes.length < 8) return undefined;
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const old = view.getBigUint64(0, true);
  const len = BigInt(bytes.length);
  const value = pick(rng, [
    2n ** 63n,
    2n ** 53n,
    2n ** 64n - 1n,
    2n ** 32n,
    len + 1n,
    len - 7n,
    len - 8n,
    0n,
    1n,
    old + 1n,
    old > 0n ? old - 1n : 0n,
    100_000_001n,
  ]);
  view.setBigUint64(0, value, true);
  return { input: out, mutation: `set header length = ${value}` };
};

/** Edits the JSON header as text and writes the header length that fits the edit. */
function headerEdit(edit: (rng: Rng, header: string) => Mutated<string> | undefined) {
  return (rng: Rng, bytes: Uint8Array): Mutated<Uint8Array> | undefined => {
    const parts = splitSafetensors(bytes);
    if (!parts) return undefined;
    const m = edit(rng, parts.header);
    if (!m) return undefined;
    return { input: joinSafetensors(m.input, parts.data), mutation: m.mutation };
  };
}

/** Picks one regex match of `text` and replaces it by `replace(match)`. */
function replaceOne(
  rng: Rng,
  text: string,
  pattern: RegExp,
  replace: (match: RegExpExecArray) => string,
): { text: string; match: string; by: string } | undefined {
  const matches = [...text.matchAll(new RegExp(pattern.source, "g"))];
  if (matches.length === 0) return undefined;
  const m = pick(rng, matches) as RegExpExecArray;
  const by = replace(m);
  return { text: text.slice(0, m.index) + by + text.slice(m.index + m[0].length), match: m[0], by };
}

const HUGE_NUMBERS = [
  "-1",
  "-4",
  "9007199254740992",
  "9007199254740993",
  "18446744073709551616",
  "4294967296",
  "2147483648",
  "1e309",
  "-1e309",
  "1.5",
  "-0",
  "1e2",
  "0",
];

const TENSOR_ENTRY = /"((?:[^"\\]|\\.)*)":\{"dtype"[^}]*\}/;

const safetensorsEdits: [number, (rng: Rng, header: string) => Mutated<string> | undefined][] = [
  [4, (rng, header) => {
    const r = replaceOne(rng, header, /"(shape|data_offsets)":\[([^\]]*)\]/, (m) => {
      const items = m[2] === "" ? [] : m[2].split(",");
      if (items.length === 0) return `"${m[1]}":[${pick(rng, HUGE_NUMBERS)}]`;
      const i = int(rng, items.length);
      const old = Number(items[i]);
      items[i] = pick(rng, [...HUGE_NUMBERS, String(old + 4), String(old - 4), `"${old}"`, "null"]);
      return `"${m[1]}":[${items.join(",")}]`;
    });
    return r && { input: r.text, mutation: `header: ${r.match} -> ${r.by}` };
  }],
  [2, (rng, header) => {
    const dtype = pick(rng, ['"F64"', '"I8"', '"BF16"', '""', '"F16"', '"f32"', "null", "32"]);
    const r = replaceOne(rng, header, /"dtype":"F32"/, () => `"dtype":${dtype}`);
    return r && { input: r.text, mutation: `header: dtype -> ${dtype}` };
  }],
  [1, (rng, header) => {
    const r = replaceOne(rng, header, /"shape":\[([^\]]*)\]/, (m) =>
      pick(rng, [
        `"shape":"${m[1]}"`,
        `"shape":"[${m[1]}]"`,
        `"shape":${m[1].split(",")[0] || 0}`,
        `"shape":{}`,
        `"shape":[[${m[1]}]]`,
        `"shape":[1,1,1,1,1,1,1,1,${m[1]}]`,
      ]));
    return r && { input: r.text, mutation: `header: ${r.match} -> ${r.by}` };
  }],
  [2, (rng, header) => {
    const value = pick(rng, [
      "[]",
      '["a","b"]',
      "7",
      "null",
      '"x"',
      '{"a":1}',
      '{"data_sha256":5}',
      '{"data_sha256":""}',
      "{}",
    ]);
    const r = replaceOne(rng, header, /"__metadata__":\{[^}]*\}/, () => `"__metadata__":${value}`);
    return r && { input: r.text, mutation: `header: __metadata__ -> ${value}` };
  }],
  [2, (rng, header) => {
    const r = replaceOne(rng, header, TENSOR_ENTRY, (m) => {
      const copy = pick(rng, [m[0], m[0].replace(`"${m[1]}"`, `"${m[1]}.copy"`)]);
      return `${m[0]},${copy}`;
    });
    return r && { input: r.text, mutation: `header: duplicate ${r.match.split(":")[0]}` };
  }],
  [2, (rng, header) => {
    const name = pick(rng, [
      "layers.0.weight\\nsecond line",
      "layers.0.weight\\r",
      "",
      "__proto__",
      "layers.9.weight",
      "layers.0.bias",
      "x".repeat(300),
      "layers.0.weight\\u0000",
      "layers.0.wéight",
    ]);
    const r = replaceOne(rng, header, TENSOR_ENTRY, (m) => m[0].replace(`"${m[1]}"`, `"${name}"`));
    return r && { input: r.text, mutation: `header: rename ${r.match.split(":")[0]} -> "${name}"` };
  }],
  [1, (rng, header) => {
    const key = pick(rng, ["dtype", "shape", "data_offsets"]);
    const r = replaceOne(
      rng,
      header,
      TENSOR_ENTRY,
      (m) => m[0].replace(new RegExp(`"${key}":("[^"]*"|\\[[^\\]]*\\]),?`), "").replace(",}", "}"),
    );
    return r && { input: r.text, mutation: `header: drop ${key} of ${r.match.split(":")[0]}` };
  }],
  [1, (rng) => {
    const header = pick(rng, ["[]", "null", "1", '"x"', "{}", '{"__metadata__":{}}', ""]);
    return { input: header, mutation: `header: replace with ${JSON.stringify(header)}` };
  }],
];

function safetensorsTarget(name: string, options: DecodeOptions): FuzzTarget<Uint8Array> {
  const seed = encodeSafetensors(initModel(SPEC, 1).params, { a: "b" });
  const edits: [number, Mutator<Uint8Array>][] = safetensorsEdits.map((
    [w, e],
  ) => [w, headerEdit(e)]);
  return {
    name,
    seeds: [seed, withoutChecksum(seed)],
    mutate: (rng, input) =>
      compose(rng, input, [[6, mutateBytes], [2, headerLengthMutator], ...edits], mutateBytes),
    check: (bytes) =>
      outcome(() => {
        const parts = splitSafetensors(bytes);
        return parts
          ? `${bytes.length} bytes, header ${previewText(parts.header)}`
          : previewBytes(bytes);
      }, () => {
        const file = decodeSafetensors(bytes, MODEL_PATH, options);
        for (const [key, t] of file.tensors) {
          invariant(
            t.data.length === t.shape.reduce((a, b) => a * b, 1),
            `${key}: ${t.data.length} values for shape [${t.shape}]`,
          );
        }
        for (const v of Object.values(file.metadata)) invariant(typeof v === "string", "metadata");
        if (options.requireChecksum) invariant("data_sha256" in file.metadata, "no checksum");
        const params = checkParams(SPEC, file.tensors, MODEL_PATH);
        for (let l = 0; l < SIZES.length - 1; l++) {
          const w = params.get(`layers.${l}.weight`)!.data;
          invariant(w.length === SIZES[l] * SIZES[l + 1], `layer ${l} weights`);
          invariant(
            params.get(`layers.${l}.bias`)!.data.length === SIZES[l + 1],
            `layer ${l} biases`,
          );
        }
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Text formats

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // non-fatal: invalid bytes become U+FFFD

/** A byte-level mutation of the UTF-8 bytes, decoded back leniently. */
function mutateTextBytes(rng: Rng, text: string): Mutated<string> {
  const m = mutateBytes(rng, encoder.encode(text));
  return { input: decoder.decode(m.input), mutation: m.mutation };
}

/** Splits text into lines, remembering whether it ended in a line break. */
function lines(text: string): { lines: string[]; newline: boolean } {
  const all = text.split("\n");
  const newline = all[all.length - 1] === "";
  return { lines: newline ? all.slice(0, -1) : all, newline };
}

function unlines(ls: string[], newline: boolean): string {
  return ls.join("\n") + (newline && ls.length > 0 ? "\n" : "");
}

const dropLine: Mutator<string> = (rng, text) => {
  const { lines: ls, newline } = lines(text);
  if (ls.length === 0) return undefined;
  const i = int(rng, ls.length);
  ls.splice(i, 1);
  return { input: unlines(ls, newline), mutation: `drop line ${i + 1}` };
};

const duplicateLine: Mutator<string> = (rng, text) => {
  const { lines: ls, newline } = lines(text);
  if (ls.length === 0) return undefined;
  const i = int(rng, ls.length);
  const at = int(rng, ls.length + 1);
  ls.splice(at, 0, ls[i]);
  return { input: unlines(ls, newline), mutation: `copy line ${i + 1} to ${at + 1}` };
};

const swapLines: Mutator<string> = (rng, text) => {
  const { lines: ls, newline } = lines(text);
  if (ls.length < 2) return undefined;
  const i = int(rng, ls.length);
  const j = int(rng, ls.length);
  [ls[i], ls[j]] = [ls[j], ls[i]];
  return { input: unlines(ls, newline), mutation: `swap lines ${i + 1} and ${j + 1}` };
};

const cutText: Mutator<string> = (rng, text) => {
  const lastLine = text.lastIndexOf("\n", text.length - 2) + 1;
  const at = rng() < 0.5 ? int(rng, text.length + 1) : lastLine + int(rng, text.length - lastLine);
  return { input: text.slice(0, at), mutation: `cut at char ${at} of ${text.length}` };
};

const lineEndings: Mutator<string> = (rng, text) => {
  const kind = pick(rng, ["all CRLF", "all CR", "one CRLF", "CRLF header"]);
  const i = text.indexOf("\n");
  const out = kind === "all CRLF"
    ? text.replaceAll("\n", "\r\n")
    : kind === "all CR"
    ? text.replaceAll("\n", "\r")
    : kind === "CRLF header" || i < 0
    ? text.replace("\n", "\r\n")
    : (() => {
      const all = [...text.matchAll(/\n/g)];
      const at = pick(rng, all).index!;
      return text.slice(0, at) + "\r" + text.slice(at);
    })();
  return { input: out, mutation: `line endings: ${kind}` };
};

/** Values a CSV field is replaced with; `old` is the field's current text. */
function fieldValues(old: string): string[] {
  return [
    "",
    "NaN",
    "1e309",
    "-1",
    "0x10",
    "x".repeat(5000),
    '"a\nb"',
    `"\n${old}"`,
    `"${old}\n"`,
    '"\n7"',
    " ",
    "Infinity",
    "-0",
    "1e-400",
    '"',
    '""',
    '"x"y',
    "__proto__",
    `"${old}"`,
    `${old}"`,
  ];
}

const replaceField: Mutator<string> = (rng, text) => {
  const { lines: ls, newline } = lines(text);
  if (ls.length === 0) return undefined;
  const i = ls.length > 1 && rng() < 0.85 ? 1 + int(rng, ls.length - 1) : 0;
  const fields = ls[i].split(",");
  const f = int(rng, fields.length);
  const value = pick(rng, fieldValues(fields[f]));
  fields[f] = value;
  ls[i] = fields.join(",");
  const shown = value.length > 20 ? `${value.length} chars` : JSON.stringify(value);
  return { input: unlines(ls, newline), mutation: `line ${i + 1} field ${f + 1} -> ${shown}` };
};

const extraComma: Mutator<string> = (rng, text) => {
  const { lines: ls, newline } = lines(text);
  if (ls.length === 0) return undefined;
  const i = int(rng, ls.length);
  const commas = [...ls[i].matchAll(/,/g)].map((m) => m.index!);
  const at = rng() < 0.5 && commas.length > 0
    ? pick(rng, commas)
    : pick(rng, [0, ls[i].length, int(rng, ls[i].length + 1)]);
  ls[i] = ls[i].slice(0, at) + "," + ls[i].slice(at);
  return { input: unlines(ls, newline), mutation: `line ${i + 1}: insert comma at ${at}` };
};

const CSV_MUTATORS: [number, Mutator<string>][] = [
  [4, mutateTextBytes],
  [1, dropLine],
  [1, duplicateLine],
  [1, swapLines],
  [2, cutText],
  [5, replaceField],
  [1, extraComma],
  [1, lineEndings],
];

// sweep.csv

const SWEEP_PATH = "fuzz/sweep.csv";

const SWEEP_ROWS: SweepRow[] = [
  {
    ...NO_COMPRESSION_FIGURES,
    model: "0123456789abcdef",
    method: "std",
    strategy: "oneshot",
    k: 50,
    sparsity: 0.5,
    sparsity_total: 0.4987,
    accuracy: 0.9781,
    loss: 0.0712,
    nonzeros: 133_234,
    infer_ms: 1.234,
    compact_hidden: "300-100",
    infer_compact_ms: 0.987,
    infer_sparse_ms: 0.987,
    speedup: 1,
    infer_path: "dd",
    gzip_bytes: 480_123,
    compression: 1.87,
    finetune_epochs: 0,
    recovery_lr: 0,
    steps: 0,
    prune_params: "default",
    rewind: "none",
    detail: "s=1.234",
    nonzeros_0: 117_600,
    nonzeros_1: 15_000,
    nonzeros_2: 634,
  },
  {
    ...NO_COMPRESSION_FIGURES,
    model: "0123456789abcdef",
    method: "weight",
    strategy: "finetune",
    k: 90,
    sparsity: 0.9,
    sparsity_total: 0.8991,
    accuracy: 0.9702,
    loss: 0.1034,
    nonzeros: 26_789,
    infer_ms: 1.201,
    compact_hidden: "287-95",
    infer_compact_ms: 0.811,
    infer_sparse_ms: 0.811,
    speedup: 1,
    infer_path: "dd",
    gzip_bytes: 120_456,
    compression: 7.45,
    finetune_epochs: 2,
    recovery_lr: 0.001,
    steps: 0,
    prune_params: "default",
    rewind: "epoch:2",
    detail: "",
    nonzeros_0: 23_520,
    nonzeros_1: 3_000,
    nonzeros_2: 269,
  },
  {
    ...NO_COMPRESSION_FIGURES,
    model: "0123456789abcdef",
    method: "random",
    strategy: "iterative",
    k: 99,
    sparsity: 0.99,
    sparsity_total: 0.9889,
    accuracy: 0.4123,
    loss: 1.9876,
    nonzeros: 2_987,
    infer_ms: 1.3,
    compact_hidden: "211-64",
    infer_compact_ms: 0.5,
    infer_sparse_ms: 0.5,
    speedup: 1,
    infer_path: "dd",
    gzip_bytes: 15_001,
    compression: 59.9,
    finetune_epochs: 4,
    recovery_lr: 0.0005,
    steps: 3,
    prune_params: "default",
    rewind: "init",
    detail: "s=0.5",
    nonzeros_0: 2_352,
    nonzeros_1: 300,
    nonzeros_2: 335,
  },
];

function checkSweep(text: string): void {
  const file = parseSweepCsv(text, SWEEP_PATH);
  invariant(typeof file.cutTail === "boolean", "cutTail");
  for (const row of file.rows) {
    for (const column of SWEEP_COLUMNS) {
      const v = row[column];
      if (TEXT_COLUMNS.has(column)) invariant(typeof v === "string", `${column} is not text`);
      else invariant(typeof v === "number" && Number.isFinite(v), `${column} = ${v}`);
    }
  }
}

// history.csv

const HISTORY_PATH = "fuzz/history.csv";
const ADVICE = "retrain with --force-train";

function epoch(e: number, validLoss: number): EpochRecord {
  return {
    epoch: e,
    train_loss: 0.5 / e,
    train_accuracy: 0.85 + e / 100,
    valid_loss: validLoss,
    valid_accuracy: 0.9 + e / 200,
    seconds: 1.5 + e / 10,
  };
}

function checkHistory(text: string): void {
  const records = parseHistoryCsv(text, HISTORY_PATH, ADVICE);
  records.forEach((r, i) => {
    invariant(r.epoch === i + 1, `record ${i} is epoch ${r.epoch}`);
    for (const v of Object.values(r)) invariant(typeof v === "number", `a field is ${typeof v}`);
  });
}

// metrics.json

const METRICS_PATH = "fuzz/metrics.json";

const METRICS: TrainMetrics = {
  test_accuracy: 0.9812,
  test_loss: 0.0634,
  epochs: 3,
  best_epoch: 3,
  seconds_per_epoch: 1.25,
  train_samples: 55_000,
  adapter: "NVIDIA H100 80GB HBM3",
  config: { hidden: [1000, 500], bias: true, seed: 0, lr: 0.001, batch: 64 },
  checkpoint_sha256: "ab".repeat(32),
  sparsity: 0.5,
};

const METRIC_KEYS = Object.keys(METRICS);

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const wrongType: Mutator<string> = (rng, text) => {
  const obj = parseObject(text);
  if (!obj) return undefined;
  const key = pick(rng, [...new Set([...Object.keys(obj), ...METRIC_KEYS])]);
  const value = pick<unknown>(rng, [
    "0.9",
    "",
    null,
    [],
    [1],
    { a: { b: 1 } },
    true,
    -1,
    0,
    1.5,
    2,
    1e300,
  ]);
  obj[key] = value;
  return { input: JSON.stringify(obj, null, 2), mutation: `${key} = ${JSON.stringify(value)}` };
};

const deleteKey: Mutator<string> = (rng, text) => {
  const obj = parseObject(text);
  if (!obj || Object.keys(obj).length === 0) return undefined;
  const key = pick(rng, Object.keys(obj));
  delete obj[key];
  return { input: JSON.stringify(obj, null, 2), mutation: `delete ${key}` };
};

const hugeNumber: Mutator<string> = (rng, text) => {
  const r = replaceOne(rng, text, /-?\d[\d.eE+-]*/, () => pick(rng, HUGE_NUMBERS));
  return r && { input: r.text, mutation: `number ${r.match} -> ${r.by}` };
};

const notAnObject: Mutator<string> = (rng) => {
  const text = pick(rng, ["[]", "null", "1", '"x"', "", "{}", "[{}]", "{", '{"a":1}{']);
  return { input: text, mutation: `replace with ${JSON.stringify(text)}` };
};

function checkMetrics(text: string): void {
  const m = parseMetricsJson(text, METRICS_PATH, ADVICE);
  for (const key of ["test_accuracy", "test_loss", "epochs", "best_epoch", "train_samples"]) {
    const v = (m as unknown as Record<string, unknown>)[key];
    invariant(typeof v === "number" && !Number.isNaN(v), `${key} = ${v}`);
  }
  invariant(typeof m.adapter === "string" && typeof m.checkpoint_sha256 === "string", "strings");
  invariant(typeof m.config === "object" && m.config !== null, "config");
}

function textTarget(
  name: string,
  seeds: string[],
  mutators: [number, Mutator<string>][],
  parse: (text: string) => void,
): FuzzTarget<string> {
  return {
    name,
    seeds,
    mutate: (rng, seed) => compose(rng, seed, mutators, mutateTextBytes),
    check: (text) => outcome(() => previewText(text), () => parse(text)),
  };
}

// ---------------------------------------------------------------------------------------------
// model.dcz

const DCZ_PATH = "fuzz/model.dcz";

/** The seed model pruned to about a third of its weights, f32 and 5-bit shared. */
function dczSeeds(): Uint8Array[] {
  const { model, masks } = prunedAtRandom(SPEC, 3, 0.35);
  const shared = shareWeights(model, masks, { conv: 4, dense: 3 });
  return [
    encodeDeepCompressed(model, {}, "huffman"),
    encodeDeepCompressed(decodeShared(model, shared), { shared }, "fixed"),
  ];
}

const DCZ_SEEDS = dczSeeds();

/** The file with its trailing CRC-32 recomputed over what precedes it. */
function resealed(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) return bytes;
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, -4)), true);
  return out;
}

/**
 * Byte mutations of a .dcz; half of the cases then get a correct checksum again, so the decoder
 * behind the checksum is fuzzed too.
 */
function mutateDcz(rng: Rng, seed: Uint8Array): Mutated<Uint8Array> {
  const m = compose(rng, seed, [[1, mutateBytes]], mutateBytes);
  if (rng() < 0.5) return m;
  return { input: resealed(m.input), mutation: `${m.mutation} + reseal CRC-32` };
}

/**
 * Decodes a mutated .dcz. A file that still ends in a seed's checksum must be that seed (the
 * checksum is verified); any decoded model has every parameter at its spec's size.
 */
function checkDcz(bytes: Uint8Array): void {
  const { model } = decodeDeepCompressed(bytes, DCZ_PATH);
  const tail = (b: Uint8Array) => b.subarray(b.length - 4).join(",");
  for (const seed of DCZ_SEEDS) {
    if (bytes.length >= 4 && tail(bytes) === tail(seed)) {
      invariant(
        bytes.length === seed.length && bytes.every((b, i) => b === seed[i]),
        "a changed file with the seed's checksum was accepted",
      );
    }
  }
  for (const info of paramInfos(model.spec)) {
    const t = model.params.get(info.name);
    invariant(t !== undefined && t.data.length === sizeOf(info.shape), `${info.name} size`);
  }
}

// meta.json of an export

const META_PATH = "fuzz/meta.json";

const EXPORT_META: ExportMeta = {
  method: "weight",
  k: 90,
  strategy: "finetune",
  allocation: "sensitivity:results/x/sensitivity_weight.json",
  allocation_sha256: "cd".repeat(32),
  accuracy: 0.9712,
  loss: 0.0931,
  sparsity: 0.9,
  experiment: "mnist_h300-100_e10_lr0.001_l1_0_l2_0_b128_nobias_s0",
  dataset: "mnist",
  hidden_compact: [290, 97],
  files: {
    "model.safetensors": { bytes: 1_066_536, gzip_bytes: 180_213 },
    "model.dcz": { bytes: 61_020, gzip_bytes: 60_871 },
  },
};

function checkExportMeta(text: string): void {
  const m = parseExportMeta(text, META_PATH);
  for (const key of ["method", "strategy", "allocation", "experiment", "dataset"] as const) {
    invariant(typeof m[key] === "string", `${key} is not text`);
  }
  for (const key of ["k", "accuracy", "loss", "sparsity"] as const) {
    invariant(Number.isFinite(m[key]), `${key} = ${m[key]}`);
  }
  invariant(/^([0-9a-f]{64})?$/.test(m.allocation_sha256), "allocation_sha256");
  invariant(m.hidden_compact.every((w) => Number.isInteger(w) && w >= 0), "hidden_compact");
  for (const size of Object.values(m.files)) {
    invariant(Number.isInteger(size.bytes) && Number.isInteger(size.gzip_bytes), "file sizes");
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX models

const ONNX_PATH = "fuzz/model.onnx";

/** wgprune's ONNX files of the seed MLP and of a small CNN, and PyTorch-era graph nodes. */
function onnxSeeds(): Uint8Array[] {
  const cnn = initModel({
    input: [1, 6, 6],
    layers: [
      { kind: "conv2d", filters: 2, kernel: 3, stride: 1, padding: 1, bias: true },
      { kind: "leaky_relu", slope: 0.1 },
      { kind: "maxpool2d", kernel: 2, stride: 2 },
      { kind: "flatten" },
      { kind: "dense", units: 3, bias: false },
    ],
  }, 2);
  return [
    encodeOnnx(prunedAtRandom(SPEC, 3, 0.35).model),
    encodeOnnx(cnn),
    Deno.readFileSync(new URL("./fixtures/onnx/cnn_bn_nodes.onnx", import.meta.url)),
  ];
}

/** Decodes a mutated ONNX file: any model it accepts has every parameter at its spec's size. */
function checkOnnx(bytes: Uint8Array): void {
  const { model } = decodeOnnx(bytes, ONNX_PATH);
  for (const info of paramInfos(model.spec)) {
    const t = model.params.get(info.name);
    invariant(t !== undefined && t.data.length === sizeOf(info.shape), `${info.name} size`);
  }
}

// ---------------------------------------------------------------------------------------------
// Targets and runner

const IMAGES = idxImages(20, 5, 4);
const LABELS = idxLabels(20);

/** Every parser under fuzzing, in report order. */
export const FUZZ_TARGETS: readonly FuzzTarget<unknown>[] = [
  {
    name: "idx-images",
    seeds: [IMAGES],
    mutate: (rng, seed) => compose(rng, seed, idxMutators(3), mutateBytes),
    check: (bytes) => outcome(() => previewBytes(bytes), () => checkImages(bytes)),
  } satisfies FuzzTarget<Uint8Array>,
  {
    name: "idx-labels",
    seeds: [LABELS],
    mutate: (rng, seed) => compose(rng, seed, idxMutators(1), mutateBytes),
    check: (bytes) => outcome(() => previewBytes(bytes), () => checkLabels(bytes)),
  } satisfies FuzzTarget<Uint8Array>,
  gzipTarget("idx-images-gz", IMAGES, 3, `${IMAGES_PATH}.gz`, checkImages),
  gzipTarget("idx-labels-gz", LABELS, 1, `${LABELS_PATH}.gz`, checkLabels),
  safetensorsTarget("safetensors", {}),
  safetensorsTarget("safetensors-require-checksum", { requireChecksum: true }),
  textTarget("sweep-csv", [formatSweepCsv(SWEEP_ROWS)], CSV_MUTATORS, checkSweep),
  textTarget(
    "history-csv",
    [
      formatHistoryCsv([epoch(1, 0.21), epoch(2, 0.15), epoch(3, 0.12)]),
      formatHistoryCsv([epoch(1, 0.21), epoch(2, NaN), epoch(3, 0.12)]),
    ],
    CSV_MUTATORS,
    checkHistory,
  ),
  textTarget(
    "metrics-json",
    [
      JSON.stringify(METRICS, null, 2),
      JSON.stringify({ ...METRICS, sparsity: undefined }, null, 2),
    ],
    [
      [3, mutateTextBytes],
      [1, dropLine],
      [1, duplicateLine],
      [1, swapLines],
      [2, cutText],
      [4, wrongType],
      [2, deleteKey],
      [3, hugeNumber],
      [1, notAnObject],
    ],
    checkMetrics,
  ),
  {
    name: "onnx",
    seeds: onnxSeeds(),
    mutate: (rng, seed) => compose(rng, seed, [[1, mutateBytes]], mutateBytes),
    check: (bytes) => outcome(() => previewBytes(bytes), () => checkOnnx(bytes)),
  } satisfies FuzzTarget<Uint8Array>,
  {
    name: "dcz",
    seeds: DCZ_SEEDS,
    mutate: mutateDcz,
    check: (bytes) => outcome(() => previewBytes(bytes), () => checkDcz(bytes)),
  } satisfies FuzzTarget<Uint8Array>,
  textTarget(
    "export-meta-json",
    [
      JSON.stringify(EXPORT_META, null, 2),
      // An export written before the allocation was recorded.
      JSON.stringify({ ...EXPORT_META, allocation: undefined, allocation_sha256: undefined }),
    ],
    [
      [3, mutateTextBytes],
      [1, dropLine],
      [1, duplicateLine],
      [2, cutText],
      [4, wrongType],
      [2, deleteKey],
      [3, hugeNumber],
      [1, notAnObject],
    ],
    checkExportMeta,
  ),
];

/** The input and mutation of case `index` of `target` under `seed`, as `runFuzz` makes it. */
export function fuzzCase<I>(target: FuzzTarget<I>, seed: number, index: number): Mutated<I> {
  const rng = caseRng(seed, index);
  return target.mutate(rng, pick(rng, target.seeds));
}

/** How one case ended: its outcome, or the line describing its failure; and its duration. */
export interface CaseResult {
  /** "ok" or "rejected"; undefined when the case failed. */
  outcome?: Outcome;
  /** The failure, one line: target, case, mutation, error class and message, input. */
  failure?: string;
  /** The mutations that made the input (empty when making it failed). */
  mutation: string;
  /** Milliseconds the check took. */
  ms: number;
}

/**
 * Runs case `index` of `target` under `seed` (as `runFuzz` does), catching its failure: an
 * escaped exception, a multi-line or empty UsageError, a broken invariant, or a check slower
 * than `HANG_MS`.
 */
export async function runFuzzCase<I>(
  target: FuzzTarget<I>,
  seed: number,
  index: number,
): Promise<CaseResult> {
  const where = `${target.name} case ${index} (seed ${seed})`;
  let mutated: Mutated<I>;
  try {
    mutated = fuzzCase(target, seed, index);
  } catch (err) {
    const failure = `${where}: the mutation itself threw ${JSON.stringify(String(err))}`;
    return { failure, mutation: "", ms: 0 };
  }
  const { mutation } = mutated;
  const start = performance.now();
  let result: CaseResult;
  try {
    result = { outcome: await target.check(mutated.input), mutation, ms: 0 };
  } catch (err) {
    const detail = err instanceof FuzzEscape
      ? err.message
      : err instanceof Error
      ? `${err.name}: ${JSON.stringify(err.message)}`
      : `${typeof err}: ${JSON.stringify(String(err))}`;
    result = { failure: `${where} [${mutation}]: ${detail}`, mutation, ms: 0 };
  }
  result.ms = performance.now() - start;
  if (result.ms > HANG_MS && result.failure === undefined) {
    result = {
      failure: `${where} [${mutation}]: hang: took ${result.ms.toFixed(0)} ms ` +
        `(limit ${HANG_MS} ms)`,
      mutation,
      ms: result.ms,
    };
  }
  return result;
}

/**
 * Runs `cases` mutated inputs through `target.check`, case `i` drawn from `seed` and `i` alone.
 * Failures (escaped exceptions, multi-line or empty UsageErrors, broken invariants, cases slower
 * than `HANG_MS`) are collected, one line each, rather than stopping the run.
 *
 * @example
 * ```ts
 * const report = await runFuzz(FUZZ_TARGETS[0], 300, 1);
 * if (report.failures.length > 0) console.log(report.failures.join("\n"));
 * ```
 */
export async function runFuzz<I>(
  target: FuzzTarget<I>,
  cases: number,
  seed: number,
): Promise<FuzzReport> {
  const report: FuzzReport = { cases: 0, ok: 0, rejected: 0, failures: [], maxMs: 0 };
  for (let i = 0; i < cases; i++) {
    const r = await runFuzzCase(target, seed, i);
    report.cases++;
    report.maxMs = Math.max(report.maxMs, r.ms);
    if (r.failure !== undefined) report.failures.push(r.failure);
    else if (r.outcome === "ok") report.ok++;
    else report.rejected++;
  }
  return report;
}
