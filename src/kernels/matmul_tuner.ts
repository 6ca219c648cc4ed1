/**
 * Chooses the fastest correct matmul variant for each product shape on the running adapter and
 * keeps the choices in a JSON cache, one section per adapter (description + wgpu backend), so a
 * machine tunes once. A variant is admitted only when its output matches `tiled` (itself checked
 * against the CPU reference by the tests) on seeded random inputs of that very shape.
 *
 * Cache layout (`<output-dir>/kernel_tuning.json`):
 * `{ "version": 1, "adapters": { "<adapter> | <backend>": { "<shape key>": { "variant": "uniform",
 *    "ms": { "tiled": 14.8, "uniform": 12.1, "workgroup": 64.3 } } } } }`
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createStorage, readF32, uploadStorage } from "../gpu/buffers.ts";
import { submitOps } from "../gpu/kernel.ts";
import { medianOpMs, singleRunMs } from "../gpu/timing.ts";
import { createRng, uniformArray } from "../util/rng.ts";
import {
  ensureDir,
  folderOf,
  readTextOrFail,
  withFileLock,
  writeJsonAtomic,
} from "../util/files.ts";
import {
  createMatmul,
  MATMUL_VARIANTS,
  type MatmulShape,
  type MatmulVariant,
  setMatmulPolicy,
  shapeKey,
} from "./matmul.ts";

/** What tuning found for one shape. */
export interface TuningEntry {
  /** Fastest variant whose output matched `tiled`. */
  variant: string;
  /**
   * Median milliseconds per product of each variant timed (variants whose output disagreed are
   * left out; one more than twice as slow as the best has the time of a single run, submit
   * included, instead).
   */
  ms: Record<string, number>;
}

/** The on-disk cache. */
interface TuningCache {
  version: 1;
  adapters: Record<string, Record<string, TuningEntry>>;
}

// Outputs agree with `tiled` to f32 summation-order error: |x − y| ≤ 1e-4 + 1e-4·|y| for the
// unit-range inputs and K ≤ a few thousand used here.
const CHECK_ATOL = 1e-4;
const CHECK_RTOL = 1e-4;

/** Key of the running adapter in the cache: its description and wgpu backend. */
export function adapterKey(gpu: GpuContext): string {
  return `${gpu.adapter} | ${gpu.backend}`;
}

/** Elements of A and B for a shape (either layout holds the same count). */
function operandSizes(shape: MatmulShape): [number, number] {
  return [shape.m * shape.k, shape.k * shape.n];
}

/**
 * Times every variant that takes `shape` (`medianOpMs`), after checking its output against
 * `tiled`'s.
 */
export async function tuneShape(gpu: GpuContext, shape: MatmulShape): Promise<TuningEntry> {
  const rng = createRng(7);
  const [aLen, bLen] = operandSizes(shape);
  const a = uploadStorage(gpu, uniformArray(rng, aLen), "tune.a");
  const b = uploadStorage(gpu, uniformArray(rng, bLen), "tune.b");
  const c = createStorage(gpu, shape.m * shape.n * 4, "tune.c");
  const ms: Record<string, number> = {};
  let expected: Float32Array | undefined;
  let bestProbe = Infinity;
  try {
    for (const variant of MATMUL_VARIANTS) {
      if (!variant.takes(shape)) continue;
      const op = await createMatmul(gpu, shape, { a, b, c }, variant);
      try {
        submitOps(gpu, [op]);
        const got = await readF32(gpu, c, shape.m * shape.n);
        if (expected === undefined) expected = got; // `tiled` comes first
        else if (!agrees(got, expected)) continue;
        // One run in a submit of its own first: a variant whose run takes more than twice the
        // best one's (submit cost included in both) is not timed further (on llvmpipe
        // `workgroup` is 4–5× slower than `tiled`).
        const probe = await singleRunMs(gpu, op);
        if (probe > PROBE_CUTOFF * bestProbe) {
          ms[variant.name] = probe;
          continue;
        }
        ms[variant.name] = await medianOpMs(gpu, op);
        bestProbe = Math.min(bestProbe, probe);
      } finally {
        op.destroy();
      }
    }
  } finally {
    a.destroy();
    b.destroy();
    c.destroy();
  }
  const fastest = Object.entries(ms).sort((x, y) => x[1] - y[1])[0][0];
  return { variant: fastest, ms };
}

/** A variant whose single run exceeds this multiple of the best one's is not timed further. */
const PROBE_CUTOFF = 2;

function agrees(got: Float32Array, want: Float32Array): boolean {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= CHECK_ATOL + CHECK_RTOL * Math.abs(want[i]))) return false;
  }
  return true;
}

async function readCache(path: string, warn: (line: string) => void): Promise<TuningCache> {
  let text: string;
  try {
    text = await readTextOrFail(path);
  } catch {
    return { version: 1, adapters: {} }; // no cache yet (or unreadable: it is rebuilt)
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed?.version === 1 && typeof parsed.adapters === "object" && parsed.adapters) {
      return parsed as TuningCache;
    }
  } catch {
    // fall through
  }
  warn(`${path}: not a kernel tuning cache; tuning again and replacing it`);
  return { version: 1, adapters: {} };
}

/** Options of `installMatmulTuning`. */
export interface TuningOptions {
  /** The cache file, e.g. `results/kernel_tuning.json`. */
  path: string;
  /** `auto` (tune and cache) or a variant name to force wherever it takes the shape. */
  kernel: string;
  /** Re-time shapes already in the cache. */
  retune?: boolean;
  /** Tune every shape not in the cache, instead of following the nearest tuned one. */
  exact?: boolean;
  /** Products to have tuned exactly before returning (the network's own, `networkProducts`). */
  shapes?: MatmulShape[];
  /** Where one-line notes go (a tuned shape, a replaced cache); default stderr. */
  log?: (line: string) => void;
}

/**
 * Installs the device's matmul policy: a forced variant, or cached choices. A shape not cached
 * takes the choice of the nearest cached shape of the same form, or, when there is none (or with
 * `exact`), is tuned on first use and merged into the cache under a lock (concurrent runs are
 * safe).
 * Returns the choices made so far by shape key (filled in as shapes are tuned).
 */
export async function installMatmulTuning(
  gpu: GpuContext,
  options: TuningOptions,
): Promise<Map<string, TuningEntry>> {
  const log = options.log ?? ((line: string) => console.error(line));
  const choices = new Map<string, TuningEntry>();
  if (options.kernel !== "auto") {
    setMatmulPolicy(gpu, { forced: options.kernel });
    return choices;
  }
  const key = adapterKey(gpu);
  if (!options.retune) {
    const cache = await readCache(options.path, log);
    for (const [shape, entry] of Object.entries(cache.adapters[key] ?? {})) {
      if (MATMUL_VARIANTS.some((v) => v.name === entry?.variant)) choices.set(shape, entry);
    }
  }
  const tuneAndSave = async (shape: MatmulShape): Promise<TuningEntry> => {
    const id = shapeKey(shape);
    const entry = await tuneShape(gpu, shape);
    choices.set(id, entry);
    await saveEntry(options.path, key, id, entry, log);
    log(`tuned matmul ${id}: ${describeEntry(entry)}`);
    return entry;
  };
  setMatmulPolicy(gpu, {
    async choose(shape) {
      const entry = choices.get(shapeKey(shape)) ??
        // Shapes met in passing (a sweep's compacted networks) take the choice of the nearest
        // tuned shape of the same form rather than a tuning run each.
        (options.exact ? undefined : nearestEntry(choices, shape)) ??
        await tuneAndSave(shape);
      return entry.variant;
    },
  });
  // The network's own products are tuned exactly, before anything follows a nearest shape.
  for (const shape of options.shapes ?? []) {
    if (!choices.has(shapeKey(shape))) await tuneAndSave(shape);
  }
  return choices;
}

/**
 * The products a dense network's training (batch rows: forward, weight gradient, and input
 * gradient past the first layer) and evaluation (`evalRows` rows: forward) run, each once.
 * `widths`: inputs, hidden widths, outputs.
 */
export function networkProducts(widths: number[], batch: number, evalRows = 1000): MatmulShape[] {
  const shapes: MatmulShape[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [inp, out] = [widths[l], widths[l + 1]];
    shapes.push({ m: batch, n: out, k: inp });
    shapes.push({ m: inp, n: out, k: batch, transA: true });
    if (l > 0) shapes.push({ m: batch, n: inp, k: out, transB: true });
    shapes.push({ m: evalRows, n: out, k: inp });
  }
  const seen = new Set<string>();
  return shapes.filter((s) => !seen.has(shapeKey(s)) && seen.add(shapeKey(s)));
}

/**
 * The cached entry nearest to `shape` among those of the same form (same transposes): smallest
 * sum of |log ratio| over m, n and k. Undefined when none has that form.
 */
export function nearestEntry(
  choices: Map<string, TuningEntry>,
  shape: MatmulShape,
): TuningEntry | undefined {
  const form = shapeKey(shape).replace(/^[0-9x]+/, "");
  let best: TuningEntry | undefined;
  let bestDistance = Infinity;
  for (const [key, entry] of choices) {
    const match = key.match(/^(\d+)x(\d+)x(\d+)(.*)$/);
    if (!match || match[4] !== form) continue;
    const distance = Math.abs(Math.log(Number(match[1]) / shape.m)) +
      Math.abs(Math.log(Number(match[2]) / shape.n)) +
      Math.abs(Math.log(Number(match[3]) / shape.k));
    if (distance < bestDistance) [best, bestDistance] = [entry, distance];
  }
  return best;
}

/** `uniform (12.1 ms; tiled 14.8, workgroup 64.3)`. */
export function describeEntry(entry: TuningEntry): string {
  const others = Object.entries(entry.ms)
    .filter(([name]) => name !== entry.variant)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`);
  return `${entry.variant} (${entry.ms[entry.variant].toFixed(2)} ms${
    others.length ? `; ${others.join(", ")}` : ""
  })`;
}

async function saveEntry(
  path: string,
  adapter: string,
  shape: string,
  entry: TuningEntry,
  log: (line: string) => void,
): Promise<void> {
  await ensureDir(folderOf(path));
  await withFileLock(`${path}.lock`, async () => {
    const cache = await readCache(path, log);
    cache.adapters[adapter] = { ...cache.adapters[adapter], [shape]: entry };
    await writeJsonAtomic(path, cache);
  });
}

/** Merges `entries` (by shape key) into the cache's section for the running adapter. */
export async function saveTuning(
  gpu: GpuContext,
  path: string,
  entries: Map<string, TuningEntry>,
  log: (line: string) => void = (line) => console.error(line),
): Promise<void> {
  await ensureDir(folderOf(path));
  await withFileLock(`${path}.lock`, async () => {
    const cache = await readCache(path, log);
    const key = adapterKey(gpu);
    cache.adapters[key] = { ...cache.adapters[key], ...Object.fromEntries(entries) };
    await writeJsonAtomic(path, cache);
  });
}

/** The variants `--kernel` accepts: `auto` and every variant name. */
export function kernelChoices(): string[] {
  return ["auto", ...MATMUL_VARIANTS.map((v: MatmulVariant) => v.name)];
}
