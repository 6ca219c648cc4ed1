/**
 * Runs an ONNX model in onnxruntime (onnxruntime-node) in a process of its own and prints its
 * first output as JSON: `deno run -A tests/ort_runner.ts MODEL.onnx INPUT.f32 D0,D1,…`, the input a
 * raw little-endian f32 file of that shape. The tests call it through tests/_onnxruntime.ts, since
 * the native addon cannot be loaded by several test files of one `deno test` process.
 */

import * as ort from "onnxruntime-node";

const [model, input, dims] = Deno.args;
const session = await ort.InferenceSession.create(await Deno.readFile(model));
const bytes = await Deno.readFile(input);
const x = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const shape = dims.split(",").map(Number);
const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, shape) });
console.log(JSON.stringify([...(out[session.outputNames[0]].data as Float32Array)]));
