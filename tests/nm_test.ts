import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { prepareFromWeights } from "../src/prune/prepare.ts";
import { nmMask, nmPruning, parseNm } from "../src/prune/nm.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { prunableParams } from "../src/model/masks.ts";
import { UsageError } from "../src/util/errors.ts";
import { assertOneLineError, runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";

Deno.test("N:M masks: the N largest |w| of every M consecutive inputs of each output unit", () => {
  // W [in 5, out 2]: column 0 = 1, -4, 3, 2, 9; column 1 = 0, 0, 0, 0, 1 (ties keep lower index).
  const w = Float32Array.of(1, 0, -4, 0, 3, 0, 2, 0, 9, 1);
  // 2:4 → column 0 keeps -4, 3 of the first group and 9 of the short last group; column 1 keeps
  // inputs 0, 1 (all tied) and 4.
  assertEquals([...nmMask(w, [5, 2], { n: 2, m: 4 })], [0, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
  // A convolution [out 1, in 1, 2, 3] groups its flattened 6 weights: 1:3.
  const conv = Float32Array.of(0.1, -0.5, 0.2, 0.3, 0.3, -0.9);
  assertEquals([...nmMask(conv, [1, 1, 2, 3], { n: 1, m: 3 })], [0, 1, 0, 0, 0, 1]);
  // Exactly N per full group on random weights.
  const rng = createRng(3);
  const big = uniformArray(rng, 64 * 30);
  const mask = nmMask(big, [64, 30], { n: 2, m: 4 });
  for (let j = 0; j < 30; j++) {
    for (let g = 0; g < 16; g++) {
      let kept = 0;
      for (let i = 4 * g; i < 4 * g + 4; i++) kept += mask[i * 30 + j];
      assertEquals(kept, 2, `unit ${j} group ${g}`);
    }
  }
});

Deno.test("nm methods: parsing, registry names, fixed sparsity", () => {
  assertEquals(parseNm("2:4"), { n: 2, m: 4 });
  for (const bad of ["4:4", "0:4", "2-4", "2:", "1:65"]) {
    assertThrows(() => parseNm(bad), UsageError, "--nm must be N:M");
  }
  assertEquals(getPruneMethod("nm1:4").name, "nm1:4");
  const model = initModel(mlpSpec(16, [8], 4, true), 2);
  const prunable = prunableParams(model.spec);
  const masks = prepareFromWeights(nmPruning({ n: 1, m: 4 }), model, prunable, 0).masks(0).masks;
  const m = masks.get("layers.0.weight")!;
  assertEquals(m.filter((v) => v === 1).length, 16 * 8 / 4);
  assertThrows(
    () => prepareFromWeights(nmPruning({ n: 2, m: 4 }), model, ["layers.0.bias"], 0),
    UsageError,
    "nm2:4 prunes dense and convolution weights",
  );
});

Deno.test("sweep --method nm --nm 2:4: 50% in every group, fine-tuned, no --k", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-nm-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const common = [...smallMlpFlags(tmp, { epochs: 2 }), "--infer-repeats", "1"];
    const sweep = await runCli("sweep", [...common, "--method", "nm", "--finetune-epochs", "1"]);
    assertEquals(sweep.code, 0, sweep.stderr);
    const dir = smallMlpDir(tmp, sweep.stderr);
    const [row] = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals([row.method, row.k, row.strategy], ["nm2:4", 50, "finetune"]);
    assertEquals(row.sparsity, 0.5);
    assert(row.accuracy > 0.5, JSON.stringify(row));
    const exported = await runCli("export", [...common, "--method", "nm", "--nm", "1:4"]);
    assertEquals(exported.code, 0, exported.stderr);
    assert(exported.stdout.includes("/nm1-4_k75_oneshot/"), exported.stdout);
    // eval --infer nm runs the pruned layers on the N:M kernel: the dense path's figures.
    const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
    const evalArgs = [`${folder}/model.safetensors`, "--data-dir", `${tmp}/data`];
    const viaNm = await runCli("eval", [...evalArgs, "--infer", "nm", "--repeats", "1"]);
    const viaDense = await runCli("eval", [...evalArgs, "--infer", "dense", "--repeats", "1"]);
    assertEquals(viaNm.code, 0, viaNm.stderr);
    assertEquals(viaDense.code, 0, viaDense.stderr);
    assert(viaNm.stderr.includes("layers.0.weight 25.0% dense, 1:4 → nm kernel"), viaNm.stderr);
    assert(viaNm.stderr.includes("layers.2.weight 100.0% dense → dense kernel"), viaNm.stderr);
    const figures = (out: string) => out.match(/test accuracy [\d.]+%, loss [\d.]+/)?.[0];
    assertEquals(figures(viaNm.stdout), figures(viaDense.stdout));
    assertOneLineError(
      await runCli("sweep", [...common, "--method", "nm", "--k", "50"]),
      2,
      "sweep: error: --k does not apply to --method nm: 2:4 prunes 50% of each weight",
    );
    assertOneLineError(
      await runCli("sweep", [...common, "--nm", "2:4"]),
      2,
      "sweep: error: --nm N:M needs --method nm",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
