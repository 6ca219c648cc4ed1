/**
 * File helpers. Writes are atomic: a temp file beside the target is renamed over it, so an
 * interrupted run never leaves a half-written file and the previous good file survives. Reads
 * turn a missing file into a one-line user error.
 *
 * @module
 */

import { UsageError } from "../cli/errors.ts";

/**
 * Writes `data` to `path` atomically.
 *
 * @example
 * ```ts
 * await writeFileAtomic("results/x/metrics.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Writes `value` as pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Reads a whole file; a missing or unreadable file is a one-line `UsageError` naming it. */
export async function readFileOrFail(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${(err as Error).message})`);
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
