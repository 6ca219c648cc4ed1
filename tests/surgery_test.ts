/**
 * Dynamic network surgery: the masked copy kernel, the two-threshold mask revision, pruned
 * weights that keep learning on the GPU, and the strategy through the sweep.
 */

import { assert, assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import { createMaskCopy } from "../src/kernels/elementwise.ts";
import { maskCopyRef } from "../src/reference/kernels.ts";
import { reviseMask } from "../src/recover/surgery.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { GpuNetwork } from "../src/train/gpu_network.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";

Deno.test("mask_copy equals its reference over odd sizes (a copy: exact)", async () => {
  const gpu = await getGpu({ quiet: true });
  let seed = 3;
  for (const count of [1, 5, 257, 70001]) {
    const rng = createRng(seed++);
    const dense = uniformArray(rng, count);
    const mask = Float32Array.from({ length: count }, () => (rng() < 0.5 ? 1 : 0));
    const buffers = {
      dense: uploadStorage(gpu, dense, "dense"),
      mask: uploadStorage(gpu, mask, "mask"),
      w: uploadStorage(gpu, new Float32Array(count).fill(7), "w"),
    };
    const op = await createMaskCopy(gpu, count, buffers);
    submitOps(gpu, [op]);
    assertEquals([...await readF32(gpu, buffers.w, count)], [...maskCopyRef(dense, mask)]);
    op.destroy();
    Object.values(buffers).forEach((b) => b.destroy());
  }
});

Deno.test("surgery's revision: prune below 0.9·t, splice above 1.1·t, keep between", () => {
  // |w| = 0..9: t at k = 50 is 4 (the 5th smallest); a = 3.6, b = 4.4.
  const w = Float32Array.from({ length: 10 }, (_, i) => (i % 2 ? -i : i));
  const mask = Float32Array.of(1, 1, 1, 1, 0, 1, 0, 0, 1, 0);
  assertEquals([...reviseMask(w, mask, 50)], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  // Between the thresholds (|w| = 4): the state stays.
  assertEquals(reviseMask(w, Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 50)[4], 1);
});

Deno.test("under surgery, pruned weights keep learning while their forward value stays 0", async () => {
  const gpu = await getGpu({ quiet: true });
  const model = initModel(mlpSpec(12, [8], 4, true), 2);
  const rows = 16;
  const rng = createRng(4);
  const split = uploadSplit(gpu, {
    count: rows,
    features: 12,
    pixels: new Uint8Array(rows * 12).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(rows).map(() => Math.floor(rng() * 4)),
  }, "surgery");
  const name = "layers.0.weight";
  // Half of each unit's inputs pruned (whole units pruned would get no gradient through ReLU).
  const mask = Float32Array.from({ length: 96 }, (_, i) => (Math.floor(i / 8) % 2 ? 1 : 0));
  const net = await GpuNetwork.create(gpu, model, {
    batch: rows,
    evalBatch: rows,
    adam: { lr: 0.01 },
    surgery: new Set([name]),
  });
  try {
    net.setMasks(new Map([[name, mask]]));
    await net.bindTrain(split);
    net.startEpoch(Uint32Array.from({ length: rows }, (_, i) => i));
    net.trainSteps(3);
    const dense = (await net.getModel()).params.get(name)!.data;
    const effective = await readF32(gpu, net.params.get(name)!, 96);
    const before = model.params.get(name)!.data;
    let moved = 0;
    mask.forEach((m, i) => {
      if (m === 0) {
        assertEquals(effective[i], 0, `effective ${i}`);
        if (dense[i] !== before[i]) moved++;
      } else assertEquals(effective[i], dense[i], `kept ${i}`);
    });
    assert(moved > 40, `pruned weights learned underneath the mask: ${moved} of 48`);
  } finally {
    net.destroy();
    destroySplit(split);
  }
});

Deno.test("--schedule surgery: exact k at the end, revived weights reported", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-surgery-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const sweep = await runCli("sweep", [
      ...smallMlpFlags(tmp, { epochs: 2 }),
      "--infer-repeats",
      "1",
      "--method",
      "weight",
      "--k",
      "80",
      "--schedule",
      "surgery",
      "--finetune-epochs",
      "2",
      "--finetune-lr",
      "0.01",
    ]);
    assertEquals(sweep.code, 0, sweep.stderr);
    const dir = smallMlpDir(tmp, sweep.stderr);
    const [row] = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals(row.strategy, "surgery");
    assert(Math.abs(row.sparsity - 0.8) < 0.001, `exact k per layer: ${row.sparsity}`);
    const revived = Number(String(row.detail).match(/^revived=(\d+)/)?.[1]);
    assert(revived > 0, `some pruned weights came back: ${row.detail}`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
