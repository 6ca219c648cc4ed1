/**
 * The seam between wgprune and the runtime it runs in: file access, environment variables and the
 * WebGPU runtime's set-up. Under Deno the host is src/util/deno_host.ts (taken on first use);
 * a browser page installs an in-memory one (src/util/memory_host.ts) before it reads anything.
 * Below the command line, every other module reaches files and the environment through it (the
 * machine's set-up, src/experiment/system.ts, aside: apt-get runs only under Deno).
 *
 * @module
 */

import { denoHost } from "./deno_host.ts";

/** What `stat` says about a path (links followed). */
export interface FileInfo {
  /** A regular file. */
  isFile: boolean;
  /** A folder. */
  isDirectory: boolean;
  /** Bytes. */
  size: number;
}

/** One entry of a folder: its name and what it is (links followed; a broken link is neither). */
export interface FolderEntry {
  /** The entry's name inside the folder. */
  name: string;
  /** A regular file. */
  isFile: boolean;
  /** A folder. */
  isDirectory: boolean;
}

/**
 * File access. Paths are strings (or `file:` URLs); failures throw the runtime's own errors, which
 * src/util/files.ts turns into one-line errors naming the path.
 */
export interface FileAccess {
  /** A whole file's bytes. */
  readFile(path: string | URL): Promise<Uint8Array>;
  /** A whole text file, synchronously (shader files, measured tables read while building). */
  readTextFileSync(path: string | URL): string;
  /** Writes a whole file (not atomic: src/util/files.ts renames a temp file over the target). */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Renames `from` over `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  remove(path: string): Promise<void>;
  /** Creates a folder and its parents. */
  mkdir(path: string): Promise<void>;
  /** What `path` is; throws when it does not exist. */
  stat(path: string): Promise<FileInfo>;
  /** What `path` is, synchronously; throws when it does not exist. */
  statSync(path: string): FileInfo;
  /** The entries of a folder. */
  readDir(path: string): Promise<FolderEntry[]>;
  /**
   * Runs `body` holding an exclusive lock on `lockPath` (created if missing); `onWait` is called
   * once when another process holds it.
   */
  withLock<T>(lockPath: string, body: () => Promise<T>, onWait?: () => void): Promise<T>;
}

/** A runtime wgprune runs in. */
export interface Host {
  /** Its name in messages: `deno`, `browser`, `memory`. */
  name: string;
  /** Its files. */
  files: FileAccess;
  /** An environment variable (undefined when unset or when the runtime has none). */
  env(name: string): string | undefined;
  /** A number unique among the processes sharing the files (temp file names). */
  processId: number;
  /**
   * Readies the runtime's WebGPU and names its back end (`vulkan`, `gl` under Deno; `browser` in a
   * page).
   */
  webgpuBackend(): string;
}

let installed: Host | undefined;

/**
 * Installs `host` as the runtime every module reads and writes through (a browser page calls this
 * first with an in-memory host).
 *
 * @example
 * ```ts
 * import { memoryHost } from "./memory_host.ts";
 * useHost(memoryHost({ "data/x.txt": "hello" }));
 * ```
 */
export function useHost(host: Host): void {
  installed = host;
}

/** The installed host; a one-line error when the runtime has none. */
export function host(): Host {
  installed ??= denoHost();
  if (!installed) {
    throw new Error("no file access in this runtime: install a host with useHost() first");
  }
  return installed;
}
