/**
 * `deno task sweep`: trains if needed, then prunes the model at every sparsity level with every
 * method (optionally recovering accuracy with a strategy of src/recover/), and writes sweep.csv,
 * sweep.md, PNG plots and report.html into the experiment folder. `deno task export` is the same
 * sweep of one point, its model written out. Flags: src/cli/sweep_flags.ts; the work:
 * src/experiment/sweep_service.ts.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { logToStderr, terminalProgress } from "./progress.ts";
import { parseSweepArgs } from "./sweep_flags.ts";
import { runSweepRequest } from "../experiment/sweep_service.ts";
import { META_FILE, readExportMeta } from "../export/meta.ts";

/** The terminal's progress bars and stderr notes. */
const TERMINAL = { progress: terminalProgress, log: logToStderr };

/** The sweep command: prints sweep.md (or, for a shard, where its rows went). */
export async function sweepCommand(args: string[]): Promise<void> {
  const request = parseSweepArgs(args, "sweep");
  if (!request) return;
  const outcome = await runSweepRequest(request, TERMINAL);
  if (outcome.shard) {
    const { index, count } = outcome.shard;
    const n = outcome.rows.length;
    console.error(
      `sweep: shard ${index}/${count} holds ${n} point${
        n === 1 ? "" : "s"
      } in ${outcome.csvPath}; ` +
        `when every shard has finished, run deno task merge ${outcome.dir}`,
    );
    return;
  }
  console.log(outcome.markdown);
  console.error(`sweep: wrote ${outcome.dir}/{sweep.csv,sweep.md,report.html,*.png}`);
}

/** The export command: one point, its model written out; prints the folder and its sizes. */
export async function exportCommand(args: string[]): Promise<void> {
  const request = parseSweepArgs(args, "export");
  if (!request) return;
  const folder = (await runSweepRequest(request, TERMINAL)).firstExport;
  const meta = await readExportMeta(`${folder}/${META_FILE}`);
  console.log(
    `export: ${folder}/ (test accuracy ${(meta.accuracy * 100).toFixed(2)}%, sparsity ${
      (meta.sparsity * 100).toFixed(2)
    }%; CSR ${meta.files["model_csr.safetensors"].bytes} bytes, model.dcz ${
      meta.files["model.dcz"].bytes
    } bytes vs dense ${meta.files["model.safetensors"].bytes})`,
  );
}

if (import.meta.main) {
  await runMain("sweep", () => sweepCommand(Deno.args));
}
