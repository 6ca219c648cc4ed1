/**
 * A host (src/util/host.ts) whose files live in memory: what a browser page installs (its files
 * are the ones it fetched or the visitor dropped on it), and what a test uses to prove that a
 * module reads and writes only through the seam. Folders exist implicitly: a path is a folder
 * when some file lies below it. Locks are held within the one page (no other process shares it).
 *
 * @module
 */

import type { FileAccess, FileInfo, Host } from "./host.ts";

/** A path as the store keys it: `file:` URLs become paths; no `./`, no trailing slash. */
function keyOf(path: string | URL): string {
  let p = typeof path === "string" ? path : path.protocol === "file:" ? path.pathname : path.href;
  p = p.replace(/^\.\//, "").replace(/\/+$/, "");
  return p;
}

/** A missing path: the error Deno would give, by its message. */
function notFound(path: string): Error {
  return new Error(`No such file or directory (os error 2): ${path}`);
}

/** The in-memory files of a `memoryHost`, by path. */
export type MemoryFiles = Map<string, Uint8Array>;

/** The file access over `store`. */
function memoryFiles(store: MemoryFiles): FileAccess {
  const isFolder = (key: string) => [...store.keys()].some((k) => k.startsWith(`${key}/`));
  const info = (key: string): FileInfo => {
    const file = store.get(key);
    if (file) return { isFile: true, isDirectory: false, size: file.length };
    if (isFolder(key)) return { isFile: false, isDirectory: true, size: 0 };
    throw notFound(key);
  };
  const locks = new Map<string, Promise<void>>();
  return {
    readFile(path) {
      const file = store.get(keyOf(path));
      return file ? Promise.resolve(file) : Promise.reject(notFound(keyOf(path)));
    },
    readTextFileSync(path) {
      const file = store.get(keyOf(path));
      if (!file) throw notFound(keyOf(path));
      return new TextDecoder().decode(file);
    },
    writeFile(path, data) {
      store.set(keyOf(path), typeof data === "string" ? new TextEncoder().encode(data) : data);
      return Promise.resolve();
    },
    rename(from, to) {
      const file = store.get(keyOf(from));
      if (!file) return Promise.reject(notFound(keyOf(from)));
      store.delete(keyOf(from));
      store.set(keyOf(to), file);
      return Promise.resolve();
    },
    remove(path) {
      return store.delete(keyOf(path)) ? Promise.resolve() : Promise.reject(notFound(keyOf(path)));
    },
    mkdir: () => Promise.resolve(),
    stat: (path) => Promise.resolve().then(() => info(keyOf(path))),
    statSync: (path) => info(keyOf(path)),
    readDir(path) {
      const prefix = `${keyOf(path)}/`;
      const names = new Set<string>();
      for (const k of store.keys()) {
        if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split("/")[0]);
      }
      return Promise.resolve(
        [...names].sort().map((name) => {
          const entry = info(prefix + name);
          return { name, isFile: entry.isFile, isDirectory: entry.isDirectory };
        }),
      );
    },
    async withLock(lockPath, body, onWait) {
      const key = keyOf(lockPath);
      const held = locks.get(key);
      let release = () => {};
      const mine = new Promise<void>((resolve) => (release = resolve));
      locks.set(key, (held ?? Promise.resolve()).then(() => mine));
      if (held) {
        onWait?.();
        await held;
      }
      try {
        return await body();
      } finally {
        release();
      }
    },
  };
}

/**
 * A host over in-memory files (path → bytes or text), with no environment variables and the
 * browser's WebGPU.
 *
 * @example
 * ```ts
 * import { host, useHost } from "./host.ts";
 * const files = new Map([["notes/a.txt", new TextEncoder().encode("hi")]]);
 * useHost(memoryHost(files));
 * console.log(host().files.readTextFileSync("notes/a.txt")); // "hi"
 * ```
 */
export function memoryHost(files: MemoryFiles | Record<string, string> = new Map()): Host {
  const store: MemoryFiles = files instanceof Map ? files : new Map(
    Object.entries(files).map(([k, v]) => [keyOf(k), new TextEncoder().encode(v)]),
  );
  return {
    name: "memory",
    files: memoryFiles(store),
    env: () => undefined,
    processId: 1,
    webgpuBackend: () => "browser",
  };
}
