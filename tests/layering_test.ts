/**
 * The imports run one way. Each folder of src/ has a rank; a module may import from its own folder
 * or from a folder of lower rank, never sideways or upward. src/reference/ holds test oracles:
 * nothing under src/ imports it. Below the command line, only the Deno host
 * (src/util/deno_host.ts) and the machine's set-up (src/experiment/system.ts) call Deno's API:
 * everything else reaches files through the host, so the same modules run in a browser page.
 */

import { assertEquals } from "./_assert.ts";

/** Folders of src/, bottom (0) to top. */
const RANK: Record<string, number> = {
  util: 0,
  gpu: 1,
  kernels: 2,
  data: 3,
  model: 3,
  quant: 4,
  prune: 4,
  export: 5,
  train: 5,
  recover: 6,
  sweep: 7,
  report: 8,
  experiment: 9,
  cluster: 9.5,
  cli: 10,
  "mod.ts": 10.5, // the public API: src/mod.ts
  web: 11, // the browser app, built on the public API
};

const SRC = new URL("../src/", import.meta.url);

async function* modules(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* modules(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

/** The src/ folder of a module URL (`model` for src/model/layers/dense.ts). */
function folderOf(url: URL): string {
  return url.pathname.slice(SRC.pathname.length).split("/")[0];
}

Deno.test("imports run one way: cli → experiment → report → sweep → recover → train → prune → model, data → kernels → gpu → util", async () => {
  const wrong: string[] = [];
  for await (const file of modules(SRC)) {
    const from = folderOf(file);
    const text = await Deno.readTextFile(file);
    for (
      const m of text.matchAll(
        /(?:import|export)[^"']*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g,
      )
    ) {
      const target = new URL(m[1] ?? m[2], file);
      const to = folderOf(target);
      if (to === from) continue;
      const where = `${file.pathname.slice(SRC.pathname.length)} imports ${to}/`;
      if (from === "reference") {
        if (RANK[to] === undefined) wrong.push(where);
        continue;
      }
      if (to === "reference") wrong.push(`${where} (test oracles are for tests only)`);
      else if (from === "web" && to !== "mod.ts") wrong.push(`${where} (the app uses src/mod.ts)`);
      else if (RANK[from] === undefined || RANK[to] === undefined) {
        wrong.push(`${where} (unranked)`);
      } else if (RANK[to] >= RANK[from]) wrong.push(`${where} (rank ${RANK[to]} ≥ ${RANK[from]})`);
    }
  }
  assertEquals(wrong, []);
});

/** Folders whose modules may call Deno's API: the command line and the test oracles. */
const DENO_FOLDERS = new Set(["cli", "reference"]);
/**
 * The other modules that may: the Deno host, and the machine's set-up (apt-get, Chromium, the
 * Vulkan driver), which only a Deno process does.
 */
const DENO_MODULES = new Set(["util/deno_host.ts", "experiment/system.ts"]);

Deno.test("below the command line, only the Deno host and the system set-up call Deno's API", async () => {
  const wrong: string[] = [];
  for await (const file of modules(SRC)) {
    const name = file.pathname.slice(SRC.pathname.length);
    if (DENO_FOLDERS.has(folderOf(file)) || DENO_MODULES.has(name)) continue;
    const code = (await Deno.readTextFile(file)).split("\n")
      .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)); // comments and JSDoc examples
    code.forEach((line) => {
      if (/\bDeno\.\w/.test(line)) wrong.push(`${name}: ${line.trim()}`);
    });
  }
  assertEquals(wrong, []);
});
