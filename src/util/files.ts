/**
 * File helpers. Writes are atomic: a temp file beside the target is renamed over it, so an
 * interrupted run never leaves a half-written file and the previous good file survives; a failed
 * write removes its temp file and becomes an `EnvironmentError` naming the path. Reads turn a
 * missing file into a one-line `UsageError`. Advisory locks (flock) make read-modify-write of a
 * shared file safe between processes. Every call goes through the runtime's host
 * (src/util/host.ts).
 *
 * @module
 */

import { EnvironmentError, osReason, UsageError, writeFailure } from "./errors.ts";
import { type FolderEntry, host } from "./host.ts";

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
  const { files, processId } = host();
  const tmp = `${path}.tmp-${processId}-${tempCounter++}`;
  try {
    await files.writeFile(tmp, data);
    await files.rename(tmp, path);
  } catch (err) {
    await files.remove(tmp).catch(() => {});
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
    await host().files.mkdir(dir);
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
  const probe = `${dir}/.write-probe-${host().processId}`;
  await writeFileAtomic(probe, "ok\n");
  await removeIfPresent(probe);
}

/** Reads a whole file; a missing or unreadable file is a one-line `UsageError` naming it. */
export async function readFileOrFail(path: string): Promise<Uint8Array> {
  try {
    return await host().files.readFile(path);
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
    await host().files.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `path` exists (synchronous). */
export function existsSync(path: string): boolean {
  try {
    host().files.statSync(path);
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
  let locked = false;
  try {
    return await host().files.withLock(lockPath, () => {
      locked = true;
      return body();
    }, onWait);
  } catch (err) {
    if (!locked) throw writeFailure(lockPath, err);
    throw err;
  }
}

/** True when `path` is a regular file (links followed); false when missing or anything else. */
export function isFileSync(path: string): boolean {
  try {
    return host().files.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** True when `path` is a folder (links followed); false when missing or anything else. */
export async function isFolder(path: string): Promise<boolean> {
  try {
    return (await host().files.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Bytes of the file at `path`. */
export async function fileSize(path: string): Promise<number> {
  return (await host().files.stat(path)).size;
}

/** Removes a file if it exists (a missing file is no error). */
export async function removeIfPresent(path: string): Promise<void> {
  await host().files.remove(path).catch(() => {});
}

/** A text file read synchronously (shader files, measured tables). */
export function readTextSync(path: string | URL): string {
  return host().files.readTextFileSync(path);
}

/** A folder's entries (links followed). */
export function readFolder(path: string): Promise<FolderEntry[]> {
  return host().files.readDir(path);
}

/** Renames `from` over `to` (the same folder: atomic). */
export function renameFile(from: string, to: string): Promise<void> {
  return host().files.rename(from, to);
}
