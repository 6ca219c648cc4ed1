/**
 * Test helper: the logits onnxruntime (an independent runtime) computes for an ONNX model, run in
 * a child process by tests/ort_runner.ts.
 *
 * @module
 */

import { loadDataset } from "../src/data/datasets.ts";

/** onnxruntime's first output of the model `bytes` on `x` of `shape` (f32, row-major). */
export async function onnxruntimeLogits(
  bytes: Uint8Array,
  x: Float32Array,
  shape: number[],
): Promise<Float32Array> {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-ort-" });
  try {
    await Deno.writeFile(`${dir}/model.onnx`, bytes);
    await Deno.writeFile(`${dir}/x.f32`, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    const runner = new URL("./ort_runner.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", runner, `${dir}/model.onnx`, `${dir}/x.f32`, shape.join(",")],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      throw new Error(`onnxruntime failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    return Float32Array.from(JSON.parse(new TextDecoder().decode(out.stdout)) as number[]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * onnxruntime's test accuracy for the ONNX model at `path` on the test images of the IDX or
 * numpy folder `dataDir` (pixels / 255), each sample of shape `sample`.
 */
export async function onnxruntimeAccuracy(
  path: string,
  dataDir: string,
  sample: number[],
): Promise<number> {
  const { test } = await loadDataset({ dataset: "mnist", dataDir, numValid: 0, seed: 0 });
  const x = Float32Array.from(test.pixels, (p) => p / 255);
  const logits = await onnxruntimeLogits(await Deno.readFile(path), x, [test.count, ...sample]);
  const classes = logits.length / test.count;
  let correct = 0;
  for (let r = 0; r < test.count; r++) {
    const row = [...logits.subarray(r * classes, (r + 1) * classes)];
    if (row.indexOf(Math.max(...row)) === test.labels[r]) correct++;
  }
  return correct / test.count;
}
