/**
 * Which inference path each dense layer takes: the dense matmul, the sparse kernel on its CSR
 * (shaders/sparse_matmul_t.wgsl), or the N:M kernel on its N:M packing (shaders/matmul_nm.wgsl)
 * when the weight is N:M-sparse. `auto` picks sparse where the layer's weight density is at most
 * the crossover measured on this adapter by `deno task bench --sparse` (the density at which both
 * kernels take the same time for the layer's shape), or below a default when nothing was
 * measured; for a weight that is N:M (`detectNm`) and whose pattern `deno task bench --nm`
 * measured on this adapter, it takes instead the path that was fastest there at the nearest
 * shape. The N:M kernel is never chosen for an adapter where it was not measured.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { existsSync, readTextSync } from "../util/files.ts";
import { countNonzeros } from "../model/masks.ts";
import { type Model, paramInfos } from "../model/network.ts";
import { layerKind } from "../model/layers/registry.ts";
import { detectNm, type NmPattern } from "../kernels/nm_pack.ts";

/** `--infer`: the path of every dense layer, or the fastest per layer. */
export type InferMode = "dense" | "sparse" | "nm" | "auto";

/** Every `--infer` mode. */
export const INFER_MODES: readonly InferMode[] = ["dense", "sparse", "auto", "nm"];

/** The kernel one dense layer runs for inference. */
export type InferPath = "dense" | "sparse" | "nm";

/** Crossover densities measured on one adapter. */
export interface CrossoverTable {
  /** Adapter they were measured on (`gpu.adapter`). */
  adapter: string;
  /** Per layer shape: up to `density`, the sparse kernel is faster (0: never). */
  layers: { inputs: number; outputs: number; density: number }[];
}

/** Where `deno task bench --sparse` writes the table and the sweep looks for it. */
export const CROSSOVER_FILE = "results/sparse_crossover.json";

/**
 * Crossover assumed when the adapter was never measured: below 20% density on the software
 * adapter (the CSR kernel needs 6 loads per 16 multiply-adds against the dense kernel's 16 per
 * 64), 5% on a GPU, where dense products run near peak.
 */
export function defaultCrossover(software: boolean): number {
  return software ? 0.2 : 0.05;
}

/** Checks `--infer`. */
export function parseInferMode(raw: string): InferMode {
  if (!(INFER_MODES as readonly string[]).includes(raw)) {
    throw new UsageError(`--infer must be dense, sparse, auto or nm, got "${raw}"`);
  }
  return raw as InferMode;
}

/**
 * The table of `adapter` in a JSON file of per-adapter tables (undefined when the file is
 * missing or has none for it); an unreadable file is a one-line `UsageError` naming the file, the
 * kind of table (`what`) and the bench that rewrites it.
 */
function readAdapterTable<T extends { adapter: string }>(
  path: string,
  adapter: string,
  what: string,
  bench: string,
): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const tables = JSON.parse(readTextSync(path)) as T[];
    return tables.find((t) => t.adapter === adapter);
  } catch {
    throw new UsageError(`${path}: not ${what}; run deno task bench ${bench} again, or delete it`);
  }
}

/** Reads the crossover table of `adapter` (undefined when none was measured for it). */
export function readCrossovers(adapter: string, path = CROSSOVER_FILE): CrossoverTable | undefined {
  return readAdapterTable(path, adapter, "a crossover table", "--sparse");
}

/** Per layer shape and N:M pattern, the three kernels' times on one adapter. */
export interface NmSpeedTable {
  /** Adapter they were measured on (`gpu.adapter`). */
  adapter: string;
  /** One row per layer shape and pattern. */
  layers: {
    /** Layer inputs. */
    inputs: number;
    /** Layer outputs. */
    outputs: number;
    /** The pattern's N. */
    n: number;
    /** The pattern's M. */
    m: number;
    /** Dense matmul, median ms per batch. */
    dense_ms: number;
    /** Sparse CSR kernel, median ms per batch. */
    sparse_ms: number;
    /** N:M kernel, median ms per batch. */
    nm_ms: number;
    /**
     * The path `auto` takes: the fastest, but one other than dense only where it beat dense by
     * the bench's margin.
     */
    path: InferPath;
  }[];
}

/**
 * Where `deno task bench --nm` writes its table (in the folder of `--out`, `results/` by
 * default) and `eval` looks for it.
 */
export const NM_SPEED_FILE = "results/nm_speed.json";

/** Reads the N:M table of `adapter` (undefined when none was measured for it). */
export function readNmSpeeds(adapter: string, path = NM_SPEED_FILE): NmSpeedTable | undefined {
  return readAdapterTable(path, adapter, "an N:M speed table", "--nm");
}

/**
 * Speedup over the dense matmul a sparse kernel needs to be chosen (as `deno task bench
 * --sparse`): one command's timings vary by a few percent, and `auto` must never be slower than
 * dense.
 */
export const MARGIN = 1.1;

/**
 * The path `auto` takes given the three kernels' times: the fastest, unless it is not dense and
 * beats dense by less than `MARGIN`.
 */
export function fastestPath(ms: Record<InferPath, number>): InferPath {
  const [best] = (Object.entries(ms) as [InferPath, number][]).sort((a, b) => a[1] - b[1])[0];
  return best !== "dense" && ms[best] * MARGIN <= ms.dense ? best : "dense";
}

/** One dense layer's choice. */
export interface LayerPath {
  /** Weight name. */
  name: string;
  /** Non-zeros / entries. */
  density: number;
  /** The crossover it was compared with. */
  crossover: number;
  /** Whether it runs the sparse CSR kernel (`path === "sparse"`). */
  sparse: boolean;
  /** The kernel it runs. */
  path: InferPath;
  /**
   * The N:M pattern the weight follows, when it follows one (looked for under `nm`, and under
   * `auto` when there is a table to compare the N:M kernel with).
   */
  nm?: NmPattern;
}

/** The row of `rows` whose shape is nearest in size (log of the entry count) to inputs × outputs. */
function nearestShape<T extends { inputs: number; outputs: number }>(
  rows: readonly T[],
  inputs: number,
  outputs: number,
): T | undefined {
  const distance = (x: T) => Math.abs(Math.log((x.inputs * x.outputs) / (inputs * outputs)));
  return rows.length === 0
    ? undefined
    : rows.reduce((best, x) => (distance(x) < distance(best) ? x : best));
}

/**
 * The path of every dense layer under `mode`, with its density and crossover (for the
 * explanation `bench` and `eval` print): `dense` and `sparse` force one kernel everywhere; `nm`
 * runs the N:M kernel wherever the weight is N:M and the dense matmul elsewhere; `auto` is
 * described in the module comment (`nmTable` is this adapter's `deno task bench --nm` table;
 * without it, the N:M kernel is never chosen).
 */
export function choosePaths(
  model: Model,
  mode: InferMode,
  table: CrossoverTable | undefined,
  software: boolean,
  nmTable?: NmSpeedTable,
): LayerPath[] {
  return paramInfos(model.spec).filter((p) =>
    p.suffix === "weight" &&
    (layerKind(model.spec.layers[p.layer]).compressedForwards ?? []).includes("csr")
  ).map((p) => {
    const data = model.params.get(p.name)!.data;
    const density = countNonzeros(data) / data.length;
    const [inputs, outputs] = p.shape;
    // The measured shape nearest in size stands for this one.
    const crossover = nearestShape(table?.layers ?? [], inputs, outputs)?.density ??
      defaultCrossover(software);
    const nm = mode === "nm" || (mode === "auto" && nmTable)
      ? detectNm(data, inputs, outputs)
      : undefined;
    let path: InferPath = mode === "sparse" || (mode === "auto" && density <= crossover)
      ? "sparse"
      : "dense";
    if (mode === "nm" && nm) path = "nm";
    const row = mode === "auto" && nm
      ? nearestShape(
        nmTable?.layers.filter((x) => x.n === nm.n && x.m === nm.m) ?? [],
        inputs,
        outputs,
      )
      : undefined;
    if (row && nm) {
      // The CSR kernel's time scales with the non-zeros: a weight far sparser than its pattern
      // (unstructured pruning that happens to fit one) runs sparse faster than the table's row.
      const sparseMs = row.sparse_ms * density / (nm.n / nm.m);
      path = fastestPath({ dense: row.dense_ms, sparse: sparseMs, nm: row.nm_ms });
    }
    return { name: p.name, density, crossover, sparse: path === "sparse", path, nm };
  });
}
