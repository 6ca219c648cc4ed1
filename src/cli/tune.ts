/**
 * `deno task tune`: times every matmul variant on the products a network's training and
 * evaluation run (forward, weight gradient, input gradient at the training batch; forward at the
 * 1000-row evaluation chunk), and caches the fastest correct one per shape for this adapter in
 * `<output-dir>/kernel_tuning.json`. Training and sweeps otherwise tune missing shapes on first
 * use; this does it up front and prints the table.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { numberFlag, parseFlags } from "./flags.ts";
import { checkOutputDir, parseHidden } from "./train_options.ts";
import { getGpu } from "../gpu/device.ts";
import { shapeKey } from "../kernels/matmul.ts";
import {
  adapterKey,
  describeEntry,
  installMatmulTuning,
  networkProducts,
  saveTuning,
  tuneShape,
  type TuningEntry,
} from "../kernels/matmul_tuner.ts";
import { ensureWritableDir } from "../util/files.ts";
import { TUNING_FILE } from "../experiment/kernels.ts";

const USAGE = `Usage: deno task tune [--hidden 1000,1000,500,200] [--inputs 784] [--classes 10]
                      [--batch-size 128] [--output-dir results] [--force]

Chooses the fastest correct matmul variant for every product the network's training and
evaluation run on this adapter, and caches the choices in <output-dir>/kernel_tuning.json
(shapes already cached are kept unless --force).`;

if (import.meta.main) {
  await runMain("tune", async () => {
    const flags = parseFlags(Deno.args, {
      hidden: { type: "string", default: "1000,1000,500,200" },
      inputs: { type: "string", default: "784" },
      classes: { type: "string", default: "10" },
      "batch-size": { type: "string", default: "128" },
      "output-dir": { type: "string", default: "results" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const hidden = parseHidden(flags.hidden);
    const inputs = numberFlag("inputs", flags.inputs, { integer: true, min: 1, max: 100000 });
    const classes = numberFlag("classes", flags.classes, { integer: true, min: 2, max: 100000 });
    const batch = numberFlag("batch-size", flags["batch-size"], {
      integer: true,
      min: 1,
      max: 100000,
    });
    const outputDir = checkOutputDir(flags["output-dir"]);
    await ensureWritableDir(outputDir);
    const path = `${outputDir}/${TUNING_FILE}`;
    const gpu = await getGpu();
    const cached = await installMatmulTuning(gpu, {
      kernel: "auto",
      path,
      retune: flags.force,
      log: (line) => console.error(line),
    });
    const fresh = new Map<string, TuningEntry>();
    console.log(`adapter: ${adapterKey(gpu)}`);
    for (const shape of networkProducts([inputs, ...hidden, classes], batch)) {
      const key = shapeKey(shape);
      const hit = cached.get(key);
      const entry = hit ?? await tuneShape(gpu, shape);
      if (!hit) fresh.set(key, entry);
      console.log(`${key.padEnd(22)} ${describeEntry(entry)}${hit ? " (cached)" : ""}`);
    }
    await saveTuning(gpu, path, fresh);
    console.log(`wrote ${path} (${fresh.size} shapes tuned, ${cached.size} already cached)`);
  });
}
