/**
 * Minimal assertions for the test suite (JSR's @std/assert cannot be reached from our machines);
 * deep equality is fast-deep-equal's.
 *
 * @module
 */

import equal from "fast-deep-equal/es6";

/**
 * Throws unless `actual` deep-equals `expected` structurally (fast-deep-equal's ES6 comparison:
 * Maps and Sets by content, typed arrays element by element, NaN equal to NaN, key sets exact).
 */
export function assertEquals<T>(actual: T, expected: T, message = ""): void {
  if (!equal(actual, expected)) {
    throw new Error(
      `${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** A value for a failure message: JSON, with Maps, Sets and typed arrays spelled out. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v instanceof Map) return { Map: [...v] };
    if (v instanceof Set) return { Set: [...v] };
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      return { [v.constructor.name]: Array.from(v as unknown as ArrayLike<number>) };
    }
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return v === undefined ? "undefined" : v;
  });
}

/** Throws unless `condition` is true. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/** Awaits `fn` and returns the error it rejects with; throws if it resolves or the type differs. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${err}`);
    if (includes && !err.message.includes(includes)) {
      throw new Error(`expected message containing "${includes}", got "${err.message}"`);
    }
    return err;
  }
  throw new Error(`expected ${type.name}, but the promise resolved`);
}

/** Calls `fn` and returns the error it throws; throws if it returns or the type differs. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${err}`);
    if (includes && !err.message.includes(includes)) {
      throw new Error(`expected message containing "${includes}", got "${err.message}"`);
    }
    return err;
  }
  throw new Error(`expected ${type.name}, but it returned`);
}
