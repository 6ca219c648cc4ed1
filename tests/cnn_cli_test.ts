/**
 * A convolutional network through every command, as a user runs them: train, sweep (with a
 * recovery strategy, `--verbose`'s per-tensor report and `--std-sensitivity`), export with filter
 * compaction, eval of every exported file, and gradual pruning while training. `cnn-small` on the
 * synthetic 8×8 IDX folder, so it runs in seconds.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { EXPORT_FILES } from "../src/export/formats.ts";
import { readSweep } from "../src/sweep/results.ts";

Deno.test("cnn-small trains, sweeps, fine-tunes, exports compacted filters, evaluates and prunes gradually", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-cnn-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const common = [
      "--model",
      "cnn-small",
      "--epochs",
      "4",
      "--learning-rate",
      "0.005",
      "--batch-size",
      "32",
      "--num-valid",
      "200",
      "--data-dir",
      `${tmp}/data`,
      "--output-dir",
      `${tmp}/out`,
    ];
    const trained = await runCli("train", common);
    assertEquals(trained.code, 0, trained.stderr);
    const id = trained.stderr.match(/custom-[0-9a-f]{12}_cnn-small_e4_[^/\s]+/)?.[0];
    assert(id !== undefined, `the experiment id names the model: ${trained.stderr}`);
    const dir = `${tmp}/out/${id}`;
    const metrics = JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`));
    assert(metrics.test_accuracy > 0.5, `four epochs learn the quarters: ${metrics.test_accuracy}`);

    const sweep = await runCli("sweep", [
      ...common,
      "--method",
      "weight,unit,std",
      "--k",
      "50",
      "--strategy",
      "finetune",
      "--finetune-epochs",
      "1",
      "--infer-repeats",
      "1",
      "--verbose",
    ]);
    assertEquals(sweep.code, 0, sweep.stderr);
    // Deep Compression's per-tensor lines, conv kernels included.
    assert(
      /layers\.0\.weight +\| nonzeros = +54 \/ +108 \( 50\.00%\) \| total_pruned = +54 \| shape = \(12, 1, 3, 3\)/
        .test(sweep.stderr),
      `per-tensor report of the conv kernel: ${sweep.stderr}`,
    );
    const rows = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals(rows.map((r) => r.method).sort(), ["std", "unit", "weight"]);
    const unit = rows.find((r) => r.method === "unit")!;
    // Half of the 12 filters gone, and the dense layer's rows that read them: a 6-filter net.
    assertEquals(unit.compact_hidden, "6");

    const std = await runCli("sweep", [
      ...common,
      "--method",
      "std",
      "--std-sensitivity",
      "0.5",
      "--infer-repeats",
      "1",
    ]);
    assertEquals(std.code, 0, std.stderr);
    const s = std.stderr.match(/std: s = 0\.5 prunes ([\d.]+)% of the prunable weights/);
    assert(s !== null, std.stderr);
    // |w| < 0.5·std(W): about 38% of a bell-shaped layer.
    assert(Number(s[1]) > 20 && Number(s[1]) < 60, `s = 0.5 pruned ${s[1]}%`);
    assertOneLineError(
      await runCli("sweep", [...common, "--method", "std", "--std-sensitivity", "1", "--k", "50"]),
      2,
      "sweep: error: --k and --std-sensitivity both set the pruning levels; give one of them",
    );
    assertOneLineError(
      await runCli("sweep", [...common, "--method", "std", "--std-sensitivity", "1e6"]),
      2,
      "sweep: error: --std-sensitivity 1000000 prunes every prunable weight; give a smaller sensitivity",
    );
    assertOneLineError(
      await runCli("sweep", [...common, "--method", "weight", "--std-sensitivity", "1"]),
      2,
      "sweep: error: --std-sensitivity needs --method std, got --method weight",
    );

    const exported = await runCli("export", [
      ...common,
      "--method",
      "unit",
      "--k",
      "50",
      "--infer-repeats",
      "1",
    ]);
    assertEquals(exported.code, 0, exported.stderr);
    const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
    const meta = JSON.parse(await Deno.readTextFile(`${folder}/meta.json`));
    assertEquals(meta.hidden_compact, [6]);
    for (const file of [EXPORT_FILES.dense, EXPORT_FILES.compact, EXPORT_FILES.csr]) {
      const evaluated = await runCli("eval", [`${folder}/${file}`, "--data-dir", `${tmp}/data`]);
      assertEquals(evaluated.code, 0, `${file}: ${evaluated.stderr}`);
      assert(
        evaluated.stdout.includes(`test accuracy ${(meta.accuracy * 100).toFixed(2)}%`),
        `${file}: ${evaluated.stdout} vs ${meta.accuracy}`,
      );
    }

    const gradual = await runCli("train", [
      ...common,
      "--prune",
      "unit",
      "--target-sparsity",
      "0.5",
      "--frequency",
      "5",
    ]);
    assertEquals(gradual.code, 0, gradual.stderr);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
