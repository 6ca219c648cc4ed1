/**
 * File helpers. Writes are atomic: a temp file beside the target is renamed over it, so an
 * interrupted run never leaves a half-written file and the previous good file survives; a failed
 * write removes its temp file and becomes an `EnvironmentError` naming the path. Reads turn a
 * missing file into a one-line `UsageError`. Advisory locks (flock) make read-modify-write of a
 * shared file safe between processes.
 *
 * @module
 */

import { EnvironmentError, osReason, UsageError, writeFailure } from "./errors.ts";

let tempCounter = 0;

/**
 * Writes `data` to `path` atomically.
 *
 * @example
 * ```ts
 * await writeFileAtomic("results/x/metrics.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${tempCounter++}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw writeFailure(path, err);
  }
}

/** Writes `value` as pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Creates a folder and its parents; failure is an `EnvironmentError` naming the folder. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new EnvironmentError(`cannot create folder ${dir}: ${osReason(err)}`);
  }
}

/**
 * Creates `dir` and proves a file can be written there (a small probe, removed again), so a
 * read-only or full file system is reported before hours of work rather than after.
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  await ensureDir(dir);
  await writeFileAtomic(`${dir}/.write-probe-${Deno.pid}`, "ok\n");
  await Deno.remove(`${dir}/.write-probe-${Deno.pid}`).catch(() => {});
}

/** Reads a whole file; a missing or unreadable file is a one-line `UsageError` naming it. */
export async function readFileOrFail(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${osReason(err)})`);
  }
}

/** Reads a whole text file; a missing or unreadable file is a one-line `UsageError` naming it. */
export async function readTextOrFail(path: string): Promise<string> {
  return new TextDecoder().decode(await readFileOrFail(path));
}

/** The folder holding `path`: `.` for a bare file name, `/` for a file at the root. */
export function folderOf(path: string): string {
  return path.includes("/") ? path.replace(/\/[^/]*$/, "") || "/" : ".";
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

/** True when `path` exists (synchronous). */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `body` holding an exclusive advisory lock on `lockPath` (created if missing, never
 * deleted: deleting a lock file races with a process about to lock it). When another process
 * holds the lock, `onWait` is called once and the call blocks until it is released. The
 * operating system releases the lock if the holder dies.
 *
 * @example
 * ```ts
 * await withFileLock("results/x/sweep.csv.lock", async () => {
 *   // read sweep.csv, merge, write it back
 * });
 * ```
 */
export async function withFileLock<T>(
  lockPath: string,
  body: () => Promise<T>,
  onWait?: () => void,
): Promise<T> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(lockPath, { read: true, write: true, create: true });
  } catch (err) {
    throw writeFailure(lockPath, err);
  }
  try {
    if (!(await file.tryLock(true))) {
      onWait?.();
      await file.lock(true);
    }
    return await body();
  } finally {
    file.close(); // closing releases the lock
  }
}
