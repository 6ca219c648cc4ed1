/**
 * Seeded pseudo-random numbers (mulberry32), used for initialisation, shuffling, random pruning
 * and test inputs so that every run with the same seed is reproducible.
 *
 * @module
 */

/**
 * The largest seed `createRng` tells apart: it keys on the seed's low 32 bits, so 2^32 would
 * repeat seed 0. Seeds are integers in 0..MAX_SEED.
 */
export const MAX_SEED = 4294967295;

/** A seeded generator of uniform floats in [0, 1). */
export type Rng = () => number;

/**
 * Returns a mulberry32 generator for `seed` (an integer in 0..MAX_SEED).
 *
 * @example
 * ```ts
 * const rng = createRng(0);
 * const x = rng(); // in [0, 1)
 * ```
 */
export function createRng(seed: number): Rng {
  let state = (seed >>> 0) ^ 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box–Muller). */
export function normal(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** `n` uniform floats in [lo, hi). */
export function uniformArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** Fisher–Yates shuffle of `0..n-1`. */
export function permutation(rng: Rng, n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
