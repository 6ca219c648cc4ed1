/**
 * `deno task setup`: makes sure the system pieces wgprune needs are present — a Vulkan driver
 * (a GPU's own, or Mesa's software lavapipe) and, for the tests, Debian's Chromium
 * (src/experiment/system.ts). The tasks run it first, so a fresh Debian machine with only
 * Node.js/npm works with the README's commands.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { parseFlags } from "./flags.ts";
import { ensureSystem } from "../experiment/system.ts";

if (import.meta.main) {
  await runMain("setup", async () => {
    const flags = parseFlags(Deno.args, {
      browser: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(
        "Usage: deno task setup [--browser]\n\nInstalls Mesa's Vulkan driver (and " +
          "Chromium with --browser) when missing, using apt-get as root.",
      );
      return;
    }
    await ensureSystem(flags.browser);
  });
}
