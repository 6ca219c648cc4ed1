/**
 * `deno task export --method M --k K [sweep flags]`: one pruned model, written out for use
 * outside wgprune (see src/export/formats.ts).
 *
 * @module
 */

import { runMain } from "./main.ts";
import { exportCommand } from "./sweep.ts";

if (import.meta.main) {
  await runMain("export", () => exportCommand(Deno.args));
}
