/**
 * Deno's host (src/util/host.ts): its file system, environment and WebGPU set-up, the host taken
 * under Deno when none was installed. It is the one module below the command line that calls
 * Deno's file and process API.
 *
 * @module
 */

import type { FileAccess, FileInfo, Host } from "./host.ts";
import { UsageError } from "./errors.ts";

/** Backend names wgpu accepts in `DENO_WEBGPU_BACKEND` (a comma list of them). */
export const WGPU_BACKENDS = [
  "vulkan",
  "vk",
  "gl",
  "gles",
  "opengl",
  "metal",
  "mtl",
  "dx12",
  "d3d12",
] as const;

/** Checks a `DENO_WEBGPU_BACKEND` value; an unknown name is a `UsageError` naming it. */
export function checkBackend(value: string): string {
  const names = value.toLowerCase().split(",").map((s) => s.trim());
  const unknown = names.find((n) => !(WGPU_BACKENDS as readonly string[]).includes(n));
  if (unknown !== undefined) {
    throw new UsageError(
      `DENO_WEBGPU_BACKEND="${value}" names an unknown wgpu backend "${unknown}"; ` +
        "expected vulkan, gl, metal or dx12 (or a comma list of them)",
    );
  }
  return value;
}

/** `Deno.FileInfo` as the seam's `FileInfo`. */
function infoOf(info: Deno.FileInfo): FileInfo {
  return { isFile: info.isFile, isDirectory: info.isDirectory, size: info.size };
}

const denoFiles: FileAccess = {
  readFile: (path) => Deno.readFile(path),
  readTextFileSync: (path) => Deno.readTextFileSync(path),
  writeFile: (path, data) =>
    typeof data === "string" ? Deno.writeTextFile(path, data) : Deno.writeFile(path, data),
  rename: (from, to) => Deno.rename(from, to),
  remove: (path) => Deno.remove(path),
  mkdir: (path) => Deno.mkdir(path, { recursive: true }),
  stat: async (path) => infoOf(await Deno.stat(path)),
  statSync: (path) => infoOf(Deno.statSync(path)),
  async readDir(path) {
    const entries = [];
    for await (const entry of Deno.readDir(path)) {
      let { isFile, isDirectory } = entry;
      if (entry.isSymlink) {
        const target = await Deno.stat(`${path}/${entry.name}`).catch(() => undefined);
        isFile = target?.isFile ?? false;
        isDirectory = target?.isDirectory ?? false;
      }
      entries.push({ name: entry.name, isFile, isDirectory });
    }
    return entries;
  },
  async withLock(lockPath, body, onWait) {
    const file = await Deno.open(lockPath, { read: true, write: true, create: true });
    try {
      if (!(await file.tryLock(true))) {
        onWait?.();
        await file.lock(true);
      }
      return await body();
    } finally {
      file.close(); // closing releases the lock (flock)
    }
  },
};

/**
 * Chooses Deno's wgpu backend: Vulkan unless `DENO_WEBGPU_BACKEND` says otherwise (on Mesa's
 * lavapipe it submits work much faster than the GL path).
 */
function denoBackend(): string {
  if (!Deno.env.get("DENO_WEBGPU_BACKEND")) Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
  // wgpu's GL probe complains without XDG_RUNTIME_DIR; give it one private folder per user
  // (not a new temp folder per run).
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    const dir = `/tmp/wgprune-runtime-${Deno.uid() ?? "user"}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  }
  return checkBackend(Deno.env.get("DENO_WEBGPU_BACKEND") ?? "vulkan");
}

/** True inside Deno (not in a page that merely defines a `Deno` global). */
function inDeno(): boolean {
  return typeof Deno !== "undefined" && typeof Deno.version?.deno === "string";
}

/** Deno's host; undefined outside Deno. */
export function denoHost(): Host | undefined {
  if (!inDeno()) return undefined;
  return {
    name: "deno",
    files: denoFiles,
    env: (name) => Deno.env.get(name),
    processId: Deno.pid,
    webgpuBackend: denoBackend,
  };
}
