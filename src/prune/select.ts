/**
 * Exact "smallest n" selection with deterministic tie-breaking, the core of every mask.
 *
 * Thresholding alone (`score < t` or `score <= t`) misses the target count whenever scores tie,
 * e.g. many weights already exactly 0 (jaxpruner's mask calculator makes the same point). Here
 * the n smallest scores are chosen exactly: all scores below the n-th smallest value, then, among
 * the scores equal to it, the ones with the lowest index.
 *
 * @module
 */

/**
 * Sorted copy of scores (ascending), computed once and reused for every sparsity level.
 * Uses the native typed-array sort (numeric, no boxing).
 */
export function sortedScores(scores: Float32Array): Float32Array {
  return scores.slice().sort();
}

/**
 * Returns a 0/1 keep-mask that prunes exactly `count` entries: those with the smallest scores,
 * ties broken by lowest index. `sorted` is `sortedScores(scores)`.
 *
 * @example
 * ```ts
 * const s = new Float32Array([0, 0, 0, 1]);
 * pruneSmallest(s, sortedScores(s), 2); // [0, 0, 1, 1]
 * ```
 */
export function pruneSmallest(
  scores: Float32Array,
  sorted: Float32Array,
  count: number,
): Float32Array {
  const keep = new Float32Array(scores.length).fill(1);
  if (count <= 0) return keep;
  if (count >= scores.length) return keep.fill(0);
  const threshold = sorted[count - 1];
  // Entries strictly below the threshold are all pruned; this many ties are pruned too.
  let below = 0;
  for (let i = 0; i < count && sorted[i] < threshold; i++) below++;
  let tiesLeft = count - below;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s < threshold) keep[i] = 0;
    else if (s === threshold && tiesLeft > 0) {
      keep[i] = 0;
      tiesLeft--;
    }
  }
  return keep;
}

/** Number of entries to prune for a percentage `k` of `n`: round(k% · n). */
export function pruneCount(k: number, n: number): number {
  return Math.round((k / 100) * n);
}
