/**
 * A user's ONNX model through the tasks: `sweep --model m.onnx` prunes the file's weights as they
 * are, `train --weights finetune` trains from them, `export` writes model.onnx that onnxruntime
 * runs with the accuracy wgprune reports, and bad models or flags get one line.
 */

import { onnxruntimeAccuracy } from "./_onnxruntime.ts";
import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { encodeOnnx } from "../src/export/onnx.ts";
import { readExportMeta } from "../src/export/meta.ts";
import { readSweep } from "../src/sweep/results.ts";
import { initModel } from "../src/model/network.ts";

Deno.test("an ONNX model is swept as it is, fine-tuned, exported and run by onnxruntime", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-onnx-cli-" });
  try {
    await writeIdxDir(`${tmp}/a`);
    // The user's model: a small CNN over the 8×8 test images, written as ONNX.
    const user = initModel({
      input: [1, 8, 8],
      layers: [
        { kind: "conv2d", filters: 4, kernel: 3, stride: 1, padding: 0, bias: true },
        { kind: "relu" },
        { kind: "flatten" },
        { kind: "dense", units: 10, bias: true },
      ],
    }, 7);
    await Deno.writeFile(`${tmp}/user.onnx`, encodeOnnx(user));
    const common = ["--model", `${tmp}/user.onnx`, "--data-dir", `${tmp}/a`, "--num-valid", "200"];
    const out = ["--output-dir", `${tmp}/out`, "--infer-repeats", "1"];
    const swept = await runCli("sweep", [...common, ...out, "--method", "weight", "--k", "0,50"]);
    assertEquals(swept.code, 0, swept.stderr);
    assert(
      swept.stderr.includes("weights are the trained model (--weights imported)"),
      swept.stderr,
    );
    const dir = swept.stderr.match(/wrote (\S+)\/\{sweep/)![1];
    assert(/_onnx-user-[0-9a-f]{12}_imported$/.test(dir), dir);
    const rows = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals(rows.map((r) => [r.k, r.nonzeros_0]), [[0, 36], [50, 18]]);

    // Fine-tuned from the file's weights: its own experiment, then an export onnxruntime runs.
    const tuned = [...common, "--weights", "finetune", "--epochs", "1", "--batch-size", "32"];
    const trained = await runCli("train", [...tuned, "--output-dir", `${tmp}/out`]);
    assertEquals(trained.code, 0, trained.stderr);
    const exported = await runCli("export", [...tuned, ...out, "--method", "weight", "--k", "50"]);
    assertEquals(exported.code, 0, exported.stderr);
    const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
    assert(folder.includes("_finetune/export/"), folder);
    const meta = await readExportMeta(`${folder}/meta.json`);
    const accuracy = await onnxruntimeAccuracy(`${folder}/model.onnx`, `${tmp}/a`, [1, 8, 8]);
    assertEquals(accuracy, meta.accuracy, "onnxruntime's accuracy is wgprune's");
    // deno task eval reads the exported ONNX files too.
    const evaluated = await runCli("eval", [
      `${folder}/model_compact.onnx`,
      "--data-dir",
      `${tmp}/a`,
    ]);
    assertEquals(evaluated.code, 0, evaluated.stderr);
    assert(
      evaluated.stdout.includes(`test accuracy ${(meta.accuracy * 100).toFixed(2)}%`),
      evaluated.stdout,
    );

    // Bad input: one line each.
    assertOneLineError(
      await runCli("sweep", [
        "--model",
        "tests/fixtures/onnx/mlp.onnx",
        ...common.slice(2),
        ...out,
      ]),
      2,
      `sweep: error: tests/fixtures/onnx/mlp.onnx reads [784] (784 values) and gives 10 classes; the data has 64 values per sample and 10 classes`,
    );
    assertOneLineError(
      await runCli("train", ["--weights", "finetune"]),
      2,
      "train: error: --weights applies to an ONNX --model (FILE.onnx), not --model mlp",
    );
    assertOneLineError(
      await runCli("train", [...common, "--weights", "later"]),
      2,
      'train: error: --weights must be imported, scratch, finetune, got "later"',
    );
    await Deno.writeFile(`${tmp}/bad.onnx`, new Uint8Array([8, 7, 18, 200, 1]));
    assertOneLineError(
      await runCli("sweep", ["--model", `${tmp}/bad.onnx`, ...common.slice(2), ...out]),
      2,
      /^sweep: error: \S+bad\.onnx: not a valid ONNX file/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
