/**
 * `deno task web` as a user runs it: the build writes a complete folder (page, bundles, shader
 * files, MNIST, the offline manifest) and the server serves it; bad flags are one-line errors.
 * `deno task eval --predictions` refuses a folder of model files.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { serveFolder } from "../src/cli/web_build.ts";

Deno.test("deno task web --build-only writes the app, which is then served file by file", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-web-cli-" });
  try {
    const out = await runCli("web", ["--build-only", "--out", `${tmp}/site`]);
    assertEquals(out.code, 0, out.stderr);
    assert(/^web: built 10 files \([\d.]+ MB\) in .*\/site\/$/.test(out.stderr), out.stderr);
    const manifest = JSON.parse(await Deno.readTextFile(`${tmp}/site/files.json`));
    assertEquals(manifest.version.length, 16);
    const server = serveFolder(`${tmp}/site`, 0);
    try {
      const base = `http://127.0.0.1:${server.addr.port}/`;
      for (const file of manifest.files as string[]) {
        const response = await fetch(new URL(file, base));
        assertEquals(response.status, 200, file);
        await response.body?.cancel();
      }
      const shaders = await (await fetch(new URL("shaders.json", base))).json();
      assert("matmul.wgsl" in shaders, "shaders.json holds the shader files");
      for (const bad of ["../deno.json", "mnist/../../x", "nothing.js"]) {
        const response = await fetch(new URL(bad, base));
        await response.body?.cancel();
        assertEquals(response.status, 404, bad);
      }
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task web: a bad port is a one-line error, exit code 2", async () => {
  assertOneLineError(
    await runCli("web", ["--port", "70000", "--build-only"]),
    2,
    /^web: error: --port must be .*65535.*70000/,
  );
});

Deno.test("deno task eval --predictions needs one model file, not a folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-eval-pred-" });
  try {
    await Deno.writeFile(`${tmp}/model.safetensors`, new Uint8Array(8));
    assertOneLineError(
      await runCli("eval", [tmp, "--predictions", `${tmp}/p.csv`]),
      2,
      "eval: error: --predictions needs one model file, not a folder of them",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
