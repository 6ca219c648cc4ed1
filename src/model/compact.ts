/**
 * Compaction: turns unit sparsity into a smaller dense model that computes the same function, so
 * pruned neurons cost nothing at inference (real speed, not just zeros).
 *
 * In a chain dense → relu → dense, a unit of the first dense layer whose incoming weights
 * (a column of W[in, out]) are all zero outputs relu(b) — 0 without biases. It is removed with its
 * outgoing row of the next dense layer; with biases, its constant output relu(b_j) is folded into
 * the next layer's bias (b'_{next} = b_{next} + relu(b_j)·W_{next}[j, :]).
 *
 * @module
 */

import type { LayerSpec } from "./layers/layer.ts";
import { type Model, paramInfos } from "./network.ts";
import type { Params } from "./tensor.ts";

/**
 * Removes dead hidden units (all-zero incoming columns) from an already-masked model.
 *
 * @example
 * ```ts
 * const small = compactUnits(applyMasks(model, masks));
 * console.log(hiddenWidths(small.spec)); // e.g. [300, 300, 150, 60]
 * ```
 */
export function compactUnits(model: Model): Model {
  const layers: LayerSpec[] = model.spec.layers.map((l) => ({ ...l }));
  const params: Params = new Map(
    [...model.params].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]),
  );
  const infos = paramInfos(model.spec);
  const nameOf = (layer: number, suffix: string) =>
    infos.find((p) => p.layer === layer && p.suffix === suffix)?.name;
  for (let i = 0; i + 2 < layers.length; i++) {
    const [a, act, b] = [layers[i], layers[i + 1], layers[i + 2]];
    if (a.kind !== "dense" || act.kind !== "relu" || b.kind !== "dense") continue;
    const w = params.get(nameOf(i, "weight")!)!;
    const [rows, cols] = w.shape;
    const alive: number[] = [];
    for (let c = 0; c < cols; c++) {
      let any = false;
      for (let r = 0; r < rows && !any; r++) any = w.data[r * cols + c] !== 0;
      if (any) alive.push(c);
    }
    if (alive.length === cols || alive.length === 0) continue;
    // Layer a: keep alive columns.
    const wa = new Float32Array(rows * alive.length);
    for (let r = 0; r < rows; r++) {
      alive.forEach((c, j) => (wa[r * alive.length + j] = w.data[r * cols + c]));
    }
    // Layer b: keep alive rows; fold dead units' constant outputs into its bias.
    const next = params.get(nameOf(i + 2, "weight")!)!;
    const nextCols = next.shape[1];
    const wb = new Float32Array(alive.length * nextCols);
    alive.forEach((c, j) =>
      wb.set(next.data.subarray(c * nextCols, (c + 1) * nextCols), j * nextCols)
    );
    const biasA = nameOf(i, "bias");
    const biasB = nameOf(i + 2, "bias");
    if (biasA && biasB) {
      const ba = params.get(biasA)!.data;
      const bb = params.get(biasB)!.data;
      const aliveSet = new Set(alive);
      for (let c = 0; c < cols; c++) {
        const out = Math.max(0, ba[c]);
        if (aliveSet.has(c) || out === 0) continue;
        for (let o = 0; o < nextCols; o++) bb[o] += out * next.data[c * nextCols + o];
      }
      params.set(biasA, { shape: [alive.length], data: Float32Array.from(alive, (c) => ba[c]) });
    }
    params.set(nameOf(i, "weight")!, { shape: [rows, alive.length], data: wa });
    params.set(nameOf(i + 2, "weight")!, { shape: [alive.length, nextCols], data: wb });
    layers[i] = { ...a, units: alive.length };
  }
  return { spec: { input: [...model.spec.input], layers }, params };
}
