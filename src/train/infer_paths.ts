/**
 * Which inference path each dense layer takes: the dense matmul, or the sparse kernel on its
 * CSR (shaders/sparse_matmul_t.wgsl). `auto` picks sparse where the layer's weight density is
 * at most the crossover measured on this adapter by `deno task bench --sparse` (the density at
 * which both kernels take the same time for the layer's shape), or below a default when nothing
 * was measured.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { existsSync } from "../util/files.ts";
import { countNonzeros } from "../model/masks.ts";
import { type Model, paramInfos } from "../model/network.ts";

/** `--infer`: the path of every dense layer, or the fastest per layer. */
export type InferMode = "dense" | "sparse" | "auto";

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
  if (raw !== "dense" && raw !== "sparse" && raw !== "auto") {
    throw new UsageError(`--infer must be dense, sparse or auto, got "${raw}"`);
  }
  return raw;
}

/** Reads the crossover table of `adapter` (undefined when none was measured for it). */
export function readCrossovers(adapter: string, path = CROSSOVER_FILE): CrossoverTable | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const tables = JSON.parse(Deno.readTextFileSync(path)) as CrossoverTable[];
    return tables.find((t) => t.adapter === adapter);
  } catch {
    throw new UsageError(
      `${path}: not a crossover table; run deno task bench --sparse again, or delete it`,
    );
  }
}

/** One dense layer's choice. */
export interface LayerPath {
  /** Weight name. */
  name: string;
  /** Non-zeros / entries. */
  density: number;
  /** The crossover it was compared with. */
  crossover: number;
  /** Whether it runs sparse. */
  sparse: boolean;
}

/**
 * The weights that run sparse under `mode`, with every dense layer's density and crossover (for
 * the explanation `bench` and `eval` print).
 */
export function choosePaths(
  model: Model,
  mode: InferMode,
  table: CrossoverTable | undefined,
  software: boolean,
): LayerPath[] {
  return paramInfos(model.spec).filter((p) =>
    p.suffix === "weight" && model.spec.layers[p.layer].kind === "dense"
  ).map((p) => {
    const data = model.params.get(p.name)!.data;
    const density = countNonzeros(data) / data.length;
    const [inputs, outputs] = p.shape;
    // The measured shape nearest in size stands for this one.
    const nearest = table?.layers.reduce((best, x) =>
      Math.abs(Math.log((x.inputs * x.outputs) / (inputs * outputs))) <
          Math.abs(Math.log((best.inputs * best.outputs) / (inputs * outputs)))
        ? x
        : best
    );
    const crossover = nearest?.density ?? defaultCrossover(software);
    const sparse = mode === "sparse" || (mode === "auto" && density <= crossover);
    return { name: p.name, density, crossover, sparse };
  });
}
