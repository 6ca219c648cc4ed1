import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { getGpu } from "../src/gpu/device.ts";
import { createStorage } from "../src/gpu/buffers.ts";
import {
  chooseMatmulVariant,
  createMatmul,
  MATMUL_VARIANTS,
  setMatmulPolicy,
} from "../src/kernels/matmul.ts";
import {
  adapterKey,
  installMatmulTuning,
  nearestEntry,
  networkProducts,
} from "../src/kernels/matmul_tuner.ts";

async function withTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-tune-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const SHAPE = { m: 24, n: 70, k: 40 };
const NAMES = MATMUL_VARIANTS.map((v) => v.name);

Deno.test("tuner times every variant, caches the winner per adapter and reuses it", async () => {
  await withTemp(async (dir) => {
    const gpu = await getGpu({ quiet: true });
    const path = `${dir}/kernel_tuning.json`;
    const lines: string[] = [];
    await installMatmulTuning(gpu, { kernel: "auto", path, log: (l) => lines.push(l) });
    const chosen = await chooseMatmulVariant(gpu, SHAPE);
    assertEquals(lines.length, 1, lines.join("\n"));
    assert(lines[0].startsWith("tuned matmul 24x70x40: "), lines[0]);
    const cache = JSON.parse(await Deno.readTextFile(path));
    const entry = cache.adapters[adapterKey(gpu)]["24x70x40"];
    assertEquals(entry.variant, chosen.name);
    assertEquals(Object.keys(entry.ms).sort(), [...NAMES].sort()); // all three took this shape
    for (const ms of Object.values(entry.ms)) assert((ms as number) > 0);
    assertEquals(entry.ms[chosen.name], Math.min(...Object.values(entry.ms) as number[]));

    // A later run reads the cache instead of timing: make the cache name another variant.
    const other = NAMES.find((n) => n !== chosen.name)!;
    entry.variant = other;
    await Deno.writeTextFile(path, JSON.stringify(cache));
    lines.length = 0;
    await installMatmulTuning(gpu, { kernel: "auto", path, log: (l) => lines.push(l) });
    assertEquals((await chooseMatmulVariant(gpu, SHAPE)).name, other);
    assertEquals(lines, []);
    setMatmulPolicy(gpu, {});
  });
});

Deno.test("a damaged tuning cache is replaced with a note, not trusted", async () => {
  await withTemp(async (dir) => {
    const gpu = await getGpu({ quiet: true });
    const path = `${dir}/kernel_tuning.json`;
    await Deno.writeTextFile(path, "{ not json");
    const lines: string[] = [];
    await installMatmulTuning(gpu, { kernel: "auto", path, log: (l) => lines.push(l) });
    await chooseMatmulVariant(gpu, { m: 9, n: 8, k: 7 });
    assert(lines.some((l) => l.includes("not a kernel tuning cache")), lines.join("\n"));
    const cache = JSON.parse(await Deno.readTextFile(path));
    assertEquals(Object.keys(cache.adapters[adapterKey(gpu)]), ["9x8x7"]);
    setMatmulPolicy(gpu, {});
  });
});

Deno.test("--kernel forces a variant where it takes the shape, tiled elsewhere", async () => {
  const gpu = await getGpu({ quiet: true });
  await installMatmulTuning(gpu, { kernel: "uniform", path: "/nonexistent/never-written" });
  assertEquals((await chooseMatmulVariant(gpu, SHAPE)).name, "uniform");
  assertEquals((await chooseMatmulVariant(gpu, { m: 4, n: 4, k: 2000 })).name, "tiled");
  // The forced variant is what createMatmul builds: its op has one dispatch per 64-column panel
  // plus the packing dispatch.
  const a = createStorage(gpu, SHAPE.m * SHAPE.k * 4, "a");
  const b = createStorage(gpu, SHAPE.k * SHAPE.n * 4, "b");
  const c = createStorage(gpu, SHAPE.m * SHAPE.n * 4, "c");
  const op = await createMatmul(gpu, SHAPE, { a, b, c });
  assertEquals(op.dispatches, 1 + Math.ceil(SHAPE.n / 64));
  for (const x of [op, a, b, c]) x.destroy();
  setMatmulPolicy(gpu, {});
});

Deno.test("tune lists each product of training and evaluation once", () => {
  const keys = networkProducts([784, 1000, 10], 128).map((s) =>
    `${s.m}x${s.n}x${s.k}${s.transA ? "A" : ""}${s.transB ? "B" : ""}`
  );
  assertEquals(keys, [
    "128x1000x784",
    "784x1000x128A",
    "1000x1000x784",
    "128x10x1000",
    "1000x10x128A",
    "128x1000x10B",
    "1000x10x1000",
  ]);
});

Deno.test("train --kernel auto tunes into the output folder; a bad --kernel is exit 2", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/data`);
    const out = `${tmp}/out`;
    const args = ["--hidden", "16", "--epochs", "1", "--batch-size", "32", "--num-valid", "200"];
    const bad = await runCli("train", [...args, "--data-dir", `${tmp}/data`, "--kernel", "fast"]);
    assertOneLineError(
      bad,
      2,
      /^train: error: --kernel must be one of auto, tiled, uniform, workgroup, got "fast"$/,
    );
    const ok = await runCli("train", [...args, "--data-dir", `${tmp}/data`, "--output-dir", out], {
      WGPRUNE_KERNEL: "auto",
    });
    assertEquals(ok.code, 0, ok.stderr);
    assert(ok.stderr.includes("tuned matmul 32x16x64:"), ok.stderr);
    const cache = JSON.parse(await Deno.readTextFile(`${out}/kernel_tuning.json`));
    const shapes = Object.values(cache.adapters)[0] as Record<string, { variant: string }>;
    assert(Object.keys(shapes).length >= 4, Object.keys(shapes).join(","));
    for (const e of Object.values(shapes)) assert(NAMES.includes(e.variant));
  });
});

Deno.test("a shape met in passing follows the nearest tuned shape of its form", () => {
  const entry = (variant: string) => ({ variant, ms: { [variant]: 1 } });
  const choices = new Map([
    ["1000x1000x784", entry("uniform")],
    ["1000x10x200", entry("tiled")],
    ["784x1000x128:tA", entry("workgroup")],
  ]);
  assertEquals(nearestEntry(choices, { m: 1000, n: 981, k: 784 })?.variant, "uniform");
  assertEquals(nearestEntry(choices, { m: 1000, n: 5, k: 100 })?.variant, "tiled");
  assertEquals(
    nearestEntry(choices, { m: 700, n: 900, k: 128, transA: true })?.variant,
    "workgroup",
  );
  assertEquals(nearestEntry(choices, { m: 7, n: 9, k: 12, transB: true }), undefined);
});
