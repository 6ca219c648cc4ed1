/**
 * Minimal assertions for the test suite (JSR's @std/assert cannot be reached from our machines).
 *
 * @module
 */

/** Throws unless `actual` deep-equals `expected` (compared as JSON). */
export function assertEquals<T>(actual: T, expected: T, message = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
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
