/**
 * The public API's `@example`s (src/mod.ts) run as tests: `deno test --doc` type-checks and runs
 * each example, under the project's compiler options except `noUnusedLocals` (an example is
 * given every export of the module, and uses a few).
 */

import { assert, assertEquals } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("src/mod.ts: every @example type-checks and runs", async () => {
  const mod = await Deno.readTextFile(new URL("src/mod.ts", ROOT));
  const examples = mod.match(/^ \* ```ts$/gm)?.length ?? 0;
  assert(examples >= 5, `expected at least 5 examples in src/mod.ts, found ${examples}`);
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  config.compilerOptions.noUnusedLocals = false;
  config.nodeModulesDir = "manual"; // the checkout's node_modules, as the tasks use it
  delete config.tasks;
  // Beside deno.json, so that node_modules and the relative paths resolve as in the project.
  const path = new URL(`.doc-examples-${Deno.pid}.json`, ROOT).pathname;
  await Deno.writeTextFile(path, JSON.stringify(config));
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--doc", "--config", path, "--unstable-webgpu", "--allow-all", "src/mod.ts"],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr))
      // deno-lint-ignore no-control-regex -- the colour codes of deno test's report
      .replace(/\x1b\[[0-9;]*m/g, "");
    assert(out.success, `deno test --doc src/mod.ts failed:\n${text.slice(-4000)}`);
    assertEquals(text.match(/ok \| (\d+) passed \| 0 failed/)?.[1], String(examples), text);
  } finally {
    await Deno.remove(path);
  }
});
