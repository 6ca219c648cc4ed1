/**
 * Test oracles of the weight-sharing kernels (src/kernels/weight_sharing.ts), written from the
 * definitions with no grouping: the centroid gradient scans every weight for every cluster.
 *
 * @module
 */

/** cgrad[c] = Σ grad[i] over i with clusters[i] = c, summed in f64. */
export function centroidGradRef(
  grad: Float32Array,
  clusters: Int32Array,
  count: number,
): Float64Array {
  const cgrad = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    for (let i = 0; i < grad.length; i++) if (clusters[i] === c) cgrad[c] += grad[i];
  }
  return cgrad;
}

/** w[i] = codebook[clusters[i]], 0 where clusters[i] < 0. */
export function codebookDecodeRef(clusters: Int32Array, codebook: Float32Array): Float32Array {
  return Float32Array.from(clusters, (c) => (c < 0 ? 0 : codebook[c]));
}
