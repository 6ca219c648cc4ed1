/**
 * Sensitivity-based allocation (the layer-by-layer analysis of Han et al. 2015 and of NNI and
 * SparseML): `deno task sensitivity` prunes one layer at a time over k with the others dense and
 * records each layer's accuracy curve; `--allocation sensitivity:PATH` then gives every layer
 * the largest k whose accuracy stays within one shared drop δ of dense, with δ found by
 * bisection so the layers' k, weighted by their sizes, add up to the target sparsity. Sensitive
 * layers keep more weights, robust ones fewer.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.ts";

/** One layer's accuracy with only it pruned, by k. */
export interface SensitivityCurve {
  /** Parameter name. */
  name: string;
  /** Entries in the parameter. */
  size: number;
  /** Test accuracy (fraction) at each k (percent), ascending in k, starting at 0. */
  points: { k: number; accuracy: number }[];
}

/** What `deno task sensitivity` writes (`sensitivity_<method>.json`). */
export interface SensitivityFile {
  /** The pruning method scanned. */
  method: string;
  /** Test accuracy of the dense model. */
  dense_accuracy: number;
  /** One curve per prunable parameter. */
  layers: SensitivityCurve[];
}

/** A sensitivity file as read: its scan, where it was read from, and its content's sha256. */
export interface LoadedSensitivity extends SensitivityFile {
  /** The path it was read from (for messages). */
  path: string;
  /** sha256 (hex) of the file's text: what identifies the allocation in rows and folders. */
  sha256: string;
}

/** Parses a sensitivity file; every problem is a one-line `UsageError` naming `path`. */
export function parseSensitivityFile(text: string, path: string): LoadedSensitivity {
  const bad = (why: string) =>
    new UsageError(`${path}: not a sensitivity file from deno task sensitivity (${why})`);
  let file: SensitivityFile;
  try {
    file = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (
    typeof file !== "object" || file === null || typeof file.method !== "string" ||
    !Number.isFinite(file.dense_accuracy) || !Array.isArray(file.layers) || file.layers.length === 0
  ) {
    throw bad("needs method, dense_accuracy and layers");
  }
  for (const l of file.layers) {
    const ok = typeof l?.name === "string" && Number.isInteger(l.size) && l.size > 0 &&
      Array.isArray(l.points) && l.points.length > 0 &&
      l.points.every((p, i) =>
        Number.isFinite(p?.k) && Number.isFinite(p?.accuracy) && p.k >= 0 && p.k < 100 &&
        (i === 0 ? p.k === 0 : p.k > l.points[i - 1].k)
      );
    if (!ok) throw bad(`layer ${JSON.stringify(l?.name ?? "?")}: points must rise in k from 0`);
  }
  return { ...file, path, sha256: createHash("sha256").update(text).digest("hex") };
}

/**
 * Checks that a scan was made on this network: every pruned tensor (`parts`, name and entries)
 * has a curve of the same size. A mismatch is a `UsageError` naming the layer and both sizes.
 */
export function checkSensitivityFits(
  scan: LoadedSensitivity,
  parts: readonly { name: string; size: number }[],
): void {
  for (const p of parts) {
    const curve = scan.layers.find((l) => l.name === p.name);
    if (!curve) {
      throw new UsageError(`${scan.path} has no curve for ${p.name}; scan the same --prune-params`);
    }
    if (curve.size !== p.size) {
      throw new UsageError(
        `${scan.path} was scanned on another network: its ${p.name} has ${curve.size} weights, ` +
          `this model's ${p.size}; run deno task sensitivity on this experiment`,
      );
    }
  }
}

/**
 * The largest k (percent) of one curve whose accuracy stays at or above `floor` at every point
 * up to it, interpolated linearly between the last point above and the first below.
 */
export function largestSafeK(curve: SensitivityCurve, floor: number): number {
  const pts = curve.points;
  for (let i = 1; i < pts.length; i++) {
    if (pts[i].accuracy < floor) {
      const [a, b] = [pts[i - 1], pts[i]];
      if (a.accuracy < floor) return a.k;
      return a.k + ((b.k - a.k) * (a.accuracy - floor)) / (a.accuracy - b.accuracy);
    }
  }
  return pts[pts.length - 1].k;
}

/**
 * Per-layer k (percent) for a target overall sparsity `k` over the curves' layers: one shared
 * accuracy drop δ, bisected until Σ k_l·n_l / Σ n_l = k. A target beyond what the curves cover
 * (every layer at its last k) is a `UsageError`.
 */
export function sensitivityKs(file: SensitivityFile, k: number): Map<string, number> {
  const total = file.layers.reduce((n, l) => n + l.size, 0);
  const at = (drop: number) => file.layers.map((l) => largestSafeK(l, file.dense_accuracy - drop));
  const overall = (ks: number[]) =>
    ks.reduce((s, kl, i) => s + kl * file.layers[i].size, 0) / total;
  const most = at(Infinity);
  if (overall(most) < k - 1e-9) {
    throw new UsageError(
      `--allocation sensitivity: the scan reaches ${overall(most).toFixed(2)}% overall at most, ` +
        `not ${k}%; scan higher k with deno task sensitivity --k`,
    );
  }
  let [lo, hi] = [0, 1 + Math.max(0, file.dense_accuracy)];
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (overall(at(mid)) < k) lo = mid;
    else hi = mid;
  }
  const ks = at(hi);
  return new Map(file.layers.map((l, i) => [l.name, ks[i]]));
}
