/**
 * `deno task web`: builds the browser app (src/web/) into results/web/ and serves it on
 * http://127.0.0.1:8000/ until interrupted. The page trains, prunes and runs models on the
 * visitor's own GPU through WebGPU; once loaded it works offline.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { checkFolder, numberFlag, parseFlags } from "./flags.ts";
import { buildWebApp, serveFolder, WEB_OUT } from "./web_build.ts";

const USAGE = `Usage: deno task web [--out DIR] [--port 8000] [--host 127.0.0.1] [--build-only]

Builds the browser app into DIR (default ${WEB_OUT}) and serves it on http://HOST:PORT/.
Open it in Chrome or Edge (or any browser with WebGPU): train an MLP on MNIST, prune it with
weight or unit magnitude, open an exported model (model_csr.safetensors, model.dcz, model.onnx)
by drag and drop and time its dense and sparse paths, and draw digits for both models to read.
--build-only writes the folder and exits (any static file server can serve it).`;

if (import.meta.main) {
  await runMain("web", async () => {
    const flags = parseFlags(Deno.args, {
      out: { type: "string", default: WEB_OUT },
      port: { type: "string", default: "8000" },
      host: { type: "string", default: "127.0.0.1" },
      "build-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const dir = checkFolder("--out", String(flags.out));
    const port = numberFlag("port", String(flags.port), { integer: true, min: 0, max: 65535 });
    await buildWebApp(dir, (line) => console.error(line));
    if (flags["build-only"]) return;
    const server = serveFolder(dir, port, String(flags.host));
    console.log(`web: serving ${dir}/ on http://${flags.host}:${server.addr.port}/ (Ctrl-C stops)`);
    await server.finished;
  });
}
