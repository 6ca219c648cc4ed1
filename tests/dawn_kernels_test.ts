/**
 * Every kernel test again on a second WebGPU implementation: Dawn (Chrome's, with Tint compiling
 * the WGSL) on SwiftShader, inside headless Chromium (tests/browser/dawn.ts). Each test of
 * tests/browser/suite.ts runs in the page as `dawn: <name>`, with the same seeded odd shapes and
 * tolerances as under Deno. Chromium comes from `deno task setup --browser`, which the test task
 * runs first; without it this file fails to load rather than skip.
 */

import { assert } from "./_assert.ts";
import { openDawnSuite } from "./browser/dawn.ts";

const suite = await openDawnSuite();
const sanitize = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "dawn: the page's adapter is Dawn on SwiftShader, and every kernel test registered",
  ...sanitize,
  fn() {
    assert(/swiftshader/i.test(suite.adapter), `adapter ${suite.adapter}`);
    assert(suite.names.length >= 50, `${suite.names.length} tests registered in the page`);
  },
});

for (const name of suite.names) {
  Deno.test({
    name: `dawn: ${name}`,
    ...sanitize,
    async fn() {
      const result = await suite.run(name);
      if (result.outcome === "failed") {
        const printed = suite.console.splice(0).slice(-20).join("\n");
        throw new Error(`${result.error}${printed ? `\npage printed:\n${printed}` : ""}`);
      }
      assert(result.outcome === "ok", `${name} is ignored in the page`);
    },
  });
}

Deno.test({ name: "dawn: the browser closes", ...sanitize, fn: () => suite.close() });
