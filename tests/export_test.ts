/**
 * Exported models: every format (dense with exact zeros, compacted, CSR of [out, in]) loads back
 * through wgprune's own loader and predicts exactly what the pruned model predicts; the CSR
 * arrays are those scipy expects; `export` and `eval` agree end to end.
 */

import { prepareFromWeights } from "../src/prune/prepare.ts";
import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { initModel, mlpSpec, referenceLogits } from "../src/model/network.ts";
import { applyMasks, prunableParams } from "../src/model/masks.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { columnsOfCsr, csrOfColumns, csrOfRows, rowsOfCsr } from "../src/model/csr.ts";
import { EXPORT_FILES, loadExported, writeExport } from "../src/export/formats.ts";
import { readExportMeta } from "../src/export/meta.ts";
import { decodeSafetensors } from "../src/model/safetensors.ts";
import { createRng } from "../src/util/rng.ts";
import { onnxruntimeAccuracy } from "./_onnxruntime.ts";

function argmaxRows(logits: Float64Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    out.push(row.indexOf(Math.max(...row)));
  }
  return out;
}

Deno.test("CSR of [out, in] round-trips, empty rows and all-zero layers included", () => {
  const rng = createRng(4);
  for (const density of [0, 0.01, 0.3, 1]) {
    const w = Float32Array.from({ length: 7 * 5 }, () => (rng() < density ? rng() - 0.5 : 0));
    const csr = csrOfColumns(w, 7, 5);
    assertEquals([csr.rows, csr.cols, csr.indptr.length], [5, 7, 6]);
    assertEquals(csr.values.length, w.filter((v) => v !== 0).length);
    assertEquals([...columnsOfCsr(csr)], [...w]);
  }
  // W [in=2, out=3] = [[1, 0, 2], [0, 0, 3]] → Wᵀ rows: [1, 0], [0, 0], [2, 3].
  const csr = csrOfColumns(Float32Array.from([1, 0, 2, 0, 0, 3]), 2, 3);
  assertEquals([...csr.indptr], [0, 1, 1, 3]);
  assertEquals([...csr.indices], [0, 0, 1]);
  assertEquals([...csr.values], [1, 2, 3]);
  // A conv weight [out=2, in·kh·kw=3] by rows: [[0, 4, 0], [5, 0, 6]].
  const conv = csrOfRows(Float32Array.from([0, 4, 0, 5, 0, 6]), 2, 3);
  assertEquals([...conv.indptr], [0, 1, 3]);
  assertEquals([...conv.indices], [1, 0, 2]);
  assertEquals([...conv.values], [4, 5, 6]);
  for (const density of [0, 0.2, 1]) {
    const m = Float32Array.from({ length: 6 * 50 }, () => (rng() < density ? rng() - 0.5 : 0));
    assertEquals([...rowsOfCsr(csrOfRows(m, 6, 50))], [...m]);
  }
});

Deno.test("every exported format predicts exactly what the pruned model predicts", async () => {
  const spec = mlpSpec(12, [9, 7], 4, true);
  const model = initModel(spec, 2);
  const rng = createRng(5);
  for (const t of model.params.values()) {
    t.data.forEach((_, i) => (t.data[i] += (rng() - 0.5) * 0.1));
  }
  const x = Float32Array.from({ length: 6 * 12 }, () => rng());
  const dir = await Deno.makeTempDir({ prefix: "wgprune-export-" });
  try {
    for (const method of ["weight", "unit"]) {
      const prunable = prunableParams(spec);
      const { masks } = prepareFromWeights(getPruneMethod(method), model, prunable, 0).masks(60);
      const pruned = applyMasks(model, masks);
      const info = {
        method,
        k: 60,
        strategy: "oneshot",
        allocation: "uniform",
        allocation_sha256: "",
        accuracy: 0.5,
        loss: 1,
        sparsity: 0.6,
        experiment: "x",
        dataset: "mnist",
      };
      const meta = await writeExport(`${dir}/${method}`, pruned, masks, info);
      const want = referenceLogits(pruned, x, 6);
      for (const file of [EXPORT_FILES.dense, EXPORT_FILES.compact, EXPORT_FILES.csr]) {
        const { model: loaded } = await loadExported(`${dir}/${method}/${file}`);
        const got = referenceLogits(loaded, x, 6);
        assertEquals(argmaxRows(got, 4), argmaxRows(want, 4), `${method} ${file}`);
        got.forEach((v, i) =>
          assert(Math.abs(v - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${method} ${file}`)
        );
      }
      if (method === "unit") {
        assertEquals(meta.hidden_compact, [Math.round(9 * 0.4), Math.round(7 * 0.4)]);
      }
      const csr = decodeSafetensors(
        await Deno.readFile(`${dir}/${method}/${EXPORT_FILES.csr}`),
        "c",
      );
      assertEquals(csr.metadata["layers.0.shape"], "[9,12]");
      assert(csr.tensors.get("layers.0.indptr")!.data instanceof Int32Array, "indptr I32");
      assert(csr.tensors.has("layers.2.weight"), "the unpruned output layer stays dense");
      const masksFile = decodeSafetensors(
        await Deno.readFile(`${dir}/${method}/${EXPORT_FILES.masks}`),
        "m",
      );
      assert(masksFile.tensors.get("layers.0.weight.mask")!.data instanceof Uint8Array, "masks U8");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task export writes a folder that deno task eval reads back", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-export-cli-" });
  try {
    await writeIdxDir(`${tmp}/a`);
    const small = ["--hidden", "16", "--epochs", "1", "--batch-size", "32", "--num-valid", "200"];
    const common = [...small, "--data-dir", `${tmp}/a`, "--output-dir", `${tmp}/out`];
    // Inside a Slurm array task: the scheduler's variables choose a sweep's shard, nothing else.
    const array = { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4" };
    const trained = await runCli("train", common, array);
    assertEquals(trained.code, 0, trained.stderr);
    const exported = await runCli("export", [...common, "--method", "weight", "--k", "90"], array);
    assertEquals(exported.code, 0, exported.stderr);
    const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
    const meta = await readExportMeta(`${folder}/meta.json`);
    assertEquals([meta.allocation, meta.allocation_sha256], ["uniform", ""]);
    for (const file of Object.values(EXPORT_FILES).filter((f) => f !== EXPORT_FILES.masks)) {
      const evaluated = await runCli(
        "eval",
        [`${folder}/${file}`, "--data-dir", `${tmp}/a`],
        array,
      );
      assertEquals(evaluated.code, 0, evaluated.stderr);
      assert(
        evaluated.stdout.includes(`test accuracy ${(meta.accuracy * 100).toFixed(2)}%`),
        `${file}: ${evaluated.stdout} vs ${meta.accuracy}`,
      );
    }
    // The folder export printed: every model file, one line each with its size on disk.
    const all = await runCli("eval", [folder, "--data-dir", `${tmp}/a`, "--repeats", "1"]);
    assertEquals(all.code, 0, all.stderr);
    const lines = all.stdout.split("\n");
    const listed = [
      EXPORT_FILES.dense,
      EXPORT_FILES.compact,
      EXPORT_FILES.csr,
      EXPORT_FILES.dcz,
      EXPORT_FILES.onnx,
      EXPORT_FILES.onnxCompact,
    ];
    assertEquals(lines.length, listed.length, all.stdout);
    for (const [i, file] of listed.entries()) {
      assert(
        new RegExp(
          `^eval: ${folder}/${file} \\(\\w+\\): test accuracy ${
            (meta.accuracy * 100).toFixed(2)
          }%, loss [\\d.]+, [\\d.]+ ms per pass over \\d+ images, ${meta.files[file].bytes} bytes$`,
        ).test(lines[i]),
        lines[i],
      );
    }
    // onnxruntime, an independent runtime, on the test images: wgprune's test accuracy.
    for (const file of [EXPORT_FILES.onnx, EXPORT_FILES.onnxCompact]) {
      const accuracy = await onnxruntimeAccuracy(`${folder}/${file}`, `${tmp}/a`, [64]);
      assertEquals(accuracy, meta.accuracy, `${file} in onnxruntime`);
    }
    assertOneLineError(
      await runCli("eval", [`${tmp}/a`]),
      2,
      `eval: error: ${tmp}/a: holds none of model.safetensors, model_compact.safetensors, model_csr.safetensors, model_q.safetensors, model_int8.safetensors, model_f16.safetensors, model.dcz, model.onnx, model_compact.onnx, model_int8.onnx; give an export folder or one of its files`,
    );

    // One stored weight's top byte changed: refused by the file's checksum, exit 2.
    const dcz = await Deno.readFile(`${folder}/${EXPORT_FILES.dcz}`);
    dcz[dcz.length - 4 - 4 * 10 - 1] ^= 0x7f; // inside the values, before the output bias
    await Deno.writeFile(`${tmp}/damaged.dcz`, dcz);
    assertOneLineError(
      await runCli("eval", [`${tmp}/damaged.dcz`, "--data-dir", `${tmp}/a`]),
      2,
      `eval: error: ${tmp}/damaged.dcz: not a valid Deep Compression file (its CRC-32 does not match: the file is damaged)`,
    );

    // A meta.json that is not JSON, beside the model evaluated: named, exit 2.
    await Deno.writeTextFile(`${folder}/meta.json`, '{"dataset": "mnist", "accuracy": ');
    assertOneLineError(
      await runCli("eval", [`${folder}/model.safetensors`]),
      2,
      `eval: error: ${folder}/meta.json: not the meta.json of an export (not valid JSON)`,
    );
    assertOneLineError(
      await runCli("export", [...common, "--method", "weight,unit", "--k", "90"]),
      2,
      "export: error: export needs exactly one --method M and one --k K (or one --std-sensitivity S)",
    );
    assertOneLineError(
      await runCli("eval", [`${folder}/meta.json`, "--data-dir", `${tmp}/a`]),
      2,
      /^eval: error: .*meta\.json: safetensors header length \d+ exceeds the file/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
