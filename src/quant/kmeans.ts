/**
 * One-dimensional k-means for trained weight sharing (Han et al. 2016, "Deep Compression",
 * section 3.1): a layer's surviving weights are clustered into `clusters` shared values. The
 * centroids start linearly spaced over [min, max], which the paper found best because it keeps
 * the few large weights (the important ones) represented; Lloyd iterations then run until no
 * weight changes cluster. Deterministic: no random initialisation, ties go to the lower cluster.
 *
 * @module
 */

/** A clustering: sorted centroids and each value's cluster. */
export interface Clustering {
  /** Centroids [clusters] f32, ascending (an empty cluster keeps its last position). */
  centroids: Float32Array;
  /** Cluster of each value [values.length], in 0..clusters−1. */
  assignment: Uint8Array | Uint16Array;
  /** Lloyd iterations run. */
  iterations: number;
}

/** Index of the centroid nearest to `v` (centroids ascending; ties to the lower one). */
function nearest(v: number, centroids: Float32Array | Float64Array): number {
  // The first centroid whose upper midpoint lies at or above v.
  let lo = 0;
  let hi = centroids.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= (centroids[mid] + centroids[mid + 1]) / 2) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Clusters `values` into `clusters` shared values: linear initialisation over [min, max], then
 * Lloyd iterations (at most `maxIterations`) until the assignment is stable.
 *
 * @example
 * ```ts
 * const { centroids, assignment } = kmeans1d(Float32Array.of(-1, -0.9, 0.5, 0.6), 2);
 * // centroids ≈ [-0.95, 0.55], assignment [0, 0, 1, 1]
 * ```
 */
export function kmeans1d(values: Float32Array, clusters: number, maxIterations = 100): Clustering {
  if (!Number.isInteger(clusters) || clusters < 1 || clusters > 65536) {
    throw new Error(`kmeans1d: clusters must be an integer in 1..65536, got ${clusters}`);
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  // Centroids in f64 while iterating; linear initialisation: min, …, max evenly spaced.
  const c = new Float64Array(clusters);
  for (let j = 0; j < clusters; j++) {
    c[j] = clusters === 1 ? (min + max) / 2 : min + ((max - min) * j) / (clusters - 1);
  }
  const assignment = clusters <= 256
    ? new Uint8Array(values.length)
    : new Uint16Array(values.length);
  const sums = new Float64Array(clusters);
  const counts = new Float64Array(clusters);
  let iterations = 0;
  let changed = true;
  for (let i = 0; i < values.length; i++) assignment[i] = nearest(values[i], c);
  while (changed && iterations < maxIterations) {
    iterations++;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < values.length; i++) {
      sums[assignment[i]] += values[i];
      counts[assignment[i]]++;
    }
    // An empty cluster keeps its centroid; in one dimension the update keeps the order.
    for (let j = 0; j < clusters; j++) if (counts[j] > 0) c[j] = sums[j] / counts[j];
    changed = false;
    for (let i = 0; i < values.length; i++) {
      const a = nearest(values[i], c);
      if (a !== assignment[i]) {
        assignment[i] = a;
        changed = true;
      }
    }
  }
  return { centroids: Float32Array.from(c), assignment, iterations };
}
