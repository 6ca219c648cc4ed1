/**
 * Deep Compression through the commands, as a user runs them: a sweep with trained weight sharing
 * (its sweep.csv sizes and `--verbose` size lines), an export whose Huffman-coded model.dcz and
 * model_q.safetensors evaluate to exactly the accuracy of the dense reconstruction, post-training
 * int8 quantisation in the sweep and in export, and the flag errors. A small MLP on the synthetic
 * 8×8 IDX folder, so it runs in seconds.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";
import { loadExported } from "../src/export/formats.ts";
import { decodeOnnx } from "../src/export/onnx_import.ts";
import { referenceLogits } from "../src/model/network.ts";
import { createRng } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";
import { onnxruntimeLogits } from "./_onnxruntime.ts";

Deno.test("weight sharing, Huffman coding and int8 PTQ from sweep to export to eval", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-compress-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const common = [...smallMlpFlags(tmp, { learningRate: 0.005 }), "--infer-repeats", "1"];
    // One point: weight pruning at k = 80, 1 fine-tune epoch, 3-bit weight sharing.
    const point = [
      "--method",
      "weight",
      "--k",
      "80",
      "--finetune-epochs",
      "1",
      "--quantize-bits",
      "3",
    ];
    const sweep = await runCli("sweep", [...common, ...point, "--verbose"]);
    assertEquals(sweep.code, 0, sweep.stderr);
    assert(
      /layers\.0\.weight +\| dense +\d+ \| csr +\d+ \| fixed +\d+ \| huffman +\d+ \| +[\d.]+x \| index \d+ bits, 3-bit clusters/
        .test(sweep.stderr),
      `per-tensor size lines: ${sweep.stderr}`,
    );
    const dir = smallMlpDir(tmp, sweep.stderr);
    const [row] = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals([row.bits, row.quantize_epochs, row.quantize_lr], ["3", 1, 0.0001]);
    // 64·48 + 48·24 + 24·10 weights, f32.
    assertEquals(row.bytes_dense, 4 * (64 * 48 + 48 * 24 + 24 * 10));
    assert(row.bytes_csr < row.bytes_dense && row.bytes_q < row.bytes_csr, JSON.stringify(row));
    assert(row.bytes_huffman <= row.bytes_q + 64, `Huffman ${row.bytes_huffman} vs ${row.bytes_q}`);
    assertEquals(row.compression_dc, row.bytes_dense / row.bytes_huffman);
    assert(row.accuracy > 0.3 && row.accuracy_f32 > 0.3, JSON.stringify(row));

    const exported = await runCli("export", [...common, ...point]);
    assertEquals(exported.code, 0, exported.stderr);
    const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
    const meta = JSON.parse(await Deno.readTextFile(`${folder}/meta.json`));
    const outputs: string[] = [];
    for (const file of ["model.safetensors", "model_q.safetensors", "model.dcz"]) {
      const evaluated = await runCli("eval", [`${folder}/${file}`, "--data-dir", `${tmp}/data`]);
      assertEquals(evaluated.code, 0, `${file}: ${evaluated.stderr}`);
      assert(
        evaluated.stdout.includes(`test accuracy ${(meta.accuracy * 100).toFixed(2)}%`),
        `${file}: ${evaluated.stdout} vs ${meta.accuracy}`,
      );
      outputs.push(evaluated.stdout.match(/test accuracy [\d.]+%, loss [\d.]+/)![0]);
    }
    assertEquals(new Set(outputs).size, 1, outputs.join(" / "));
    assert(
      meta.files["model.dcz"].bytes < meta.files["model_csr.safetensors"].bytes / 2,
      JSON.stringify(meta.files),
    );

    const ptq = await runCli("export", [
      ...common,
      "--method",
      "weight",
      "--k",
      "80",
      "--ptq",
      "int8",
    ]);
    assertEquals(ptq.code, 0, ptq.stderr);
    const ptqFolder = ptq.stdout.match(/^export: (\S+)\/ /)![1];
    const ptqMeta = JSON.parse(await Deno.readTextFile(`${ptqFolder}/meta.json`));
    const [ptqRow] = (await readSweep(`${dir}/sweep.csv`)).rows.filter((r) => r.bits === "int8");
    assertEquals(ptqRow.accuracy, ptqMeta.accuracy);
    assert(Math.abs(ptqRow.accuracy - ptqRow.accuracy_f32) < 0.05, JSON.stringify(ptqRow));
    // The int8 file runs on the kernels that read int8: the sweep's PTQ accuracy exactly.
    const int8 = await runCli("eval", [
      `${ptqFolder}/model_int8.safetensors`,
      "--data-dir",
      `${tmp}/data`,
    ]);
    assertEquals(int8.code, 0, int8.stderr);
    assert(int8.stderr.includes("int8 weights read by the quantised kernels"), int8.stderr);
    assert(
      int8.stdout.includes(`test accuracy ${(ptqMeta.accuracy * 100).toFixed(2)}%`),
      `${int8.stdout} vs ${ptqMeta.accuracy}`,
    );
    // So does model.dcz holding the same int8 levels, and both report the same sizes.
    const dcz = await runCli("eval", [`${ptqFolder}/model.dcz`, "--data-dir", `${tmp}/data`]);
    assertEquals(dcz.code, 0, dcz.stderr);
    assert(dcz.stderr.includes("int8 weights read by the quantised kernels"), dcz.stderr);
    const figures = (out: string) =>
      out.match(/test accuracy [\d.]+%, loss [\d.]+|eval: bytes .*/g);
    assertEquals(figures(dcz.stdout), figures(int8.stdout));
    assert(
      dcz.stdout.includes(`Huffman (model.dcz) ${ptqMeta.files["model.dcz"].bytes}:`),
      `${dcz.stdout} vs ${JSON.stringify(ptqMeta.files)}`,
    );
    // The int8 ONNX file (int8 levels + DequantizeLinear) runs in onnxruntime with the logits
    // of the weights the levels stand for, and wgprune's reader folds it back to them.
    const qdq = await Deno.readFile(`${ptqFolder}/model_int8.onnx`);
    assert(ptqMeta.files["model_int8.onnx"].bytes === qdq.length, "sized in meta.json");
    const dense = (await loadExported(`${ptqFolder}/model_int8.safetensors`)).model;
    assertEquals(
      [...decodeOnnx(qdq, "q.onnx").model.params.get("layers.0.weight")!.data],
      [...dense.params.get("layers.0.weight")!.data],
    );
    const rng = createRng(2);
    const x = Float32Array.from({ length: 5 * 64 }, () => rng());
    const logits = await onnxruntimeLogits(qdq, x, [5, 64]);
    assertClose("int8 onnx", logits, referenceLogits(dense, x, 5), 1e-5, 1e-4);
    assert(
      qdq.length < ptqMeta.files["model.onnx"].bytes / 2,
      "int8 weights are a quarter the size",
    );

    for (
      const [flags, message] of [
        [["--ptq", "int4"], 'sweep: error: --ptq must be int8 or f16, got "int4"'],
        [
          ["--quantize-bits", "9"],
          'sweep: error: --quantize-bits must be B or C,F (convolution, dense) with integers in 1..8, got "9"',
        ],
        [["--quantize-epochs", "2"], "sweep: error: --quantize-epochs needs --quantize-bits"],
        [
          ["--quantize-bits", "5", "--ptq", "int8"],
          "sweep: error: --ptq and --quantize-bits both quantise the weights; give one of them",
        ],
      ] as const
    ) {
      assertOneLineError(await runCli("sweep", [...common, ...flags]), 2, message);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
