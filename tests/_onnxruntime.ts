/**
 * Test helper: the logits onnxruntime (an independent runtime) computes for an ONNX model, run in
 * a child process by tests/ort_runner.ts.
 *
 * @module
 */

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
