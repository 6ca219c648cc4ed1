/**
 * A peer's figure: the test accuracy onnxruntime (onnxruntime-node) gives an ONNX model on a
 * dataset's test images (pixels / 255, as wgprune feeds them), for comparing with what wgprune
 * reports for the same file.
 *
 *     deno run -A src/reference/onnxruntime_accuracy.ts MODEL.onnx [IDX_OR_NPY_DIR]
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { loadDataset } from "../data/datasets.ts";
import { decodeOnnx } from "../export/onnx_import.ts";

const [path, dataDir] = Deno.args;
const { test } = await loadDataset({ dataset: "mnist", dataDir, numValid: 0, seed: 0 });
const bytes = await Deno.readFile(path);
// The graph's input shape per sample ([features] or [C, H, W]); the figures are onnxruntime's.
const sample = decodeOnnx(bytes, path).model.spec.input;
const session = await ort.InferenceSession.create(bytes);
const x = Float32Array.from(test.pixels, (p) => p / 255);
const out = await session.run({
  [session.inputNames[0]]: new ort.Tensor("float32", x, [test.count, ...sample]),
});
const logits = out[session.outputNames[0]].data as Float32Array;
const classes = logits.length / test.count;
let correct = 0;
for (let r = 0; r < test.count; r++) {
  const row = [...logits.subarray(r * classes, (r + 1) * classes)];
  if (row.indexOf(Math.max(...row)) === test.labels[r]) correct++;
}
console.log(
  `onnxruntime: ${path}: test accuracy ${(100 * correct / test.count).toFixed(2)}% ` +
    `(${correct}/${test.count})`,
);
