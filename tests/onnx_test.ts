/**
 * ONNX in and out: models written by wgprune run in onnxruntime (onnxruntime-node, an independent
 * runtime) with the logits of wgprune's CPU reference network; models written by PyTorch
 * (`src/reference/onnx_fixture.py`: an MLP with biases, a CNN with BatchNormalization, Dropout and
 * a final LogSoftmax) import with PyTorch's logits; damaged and unsupported graphs get one line.
 * Tolerance of logits: |got − ref| ≤ 1e-5 + 1e-4·|ref|.
 */

import { onnxruntimeLogits } from "./_onnxruntime.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose } from "./_close.ts";
import { encodeOnnx } from "../src/export/onnx.ts";
import { decodeOnnx } from "../src/export/onnx_import.ts";
import { onnx, type OnnxProto } from "../src/export/onnx_proto.ts";
import { initModel, type Model, referenceLogits } from "../src/model/network.ts";
import type { LayerSpec } from "../src/model/layers/layer.ts";
import { createRng } from "../src/util/rng.ts";
import { UsageError } from "../src/util/errors.ts";

const ATOL = 1e-5;
const RTOL = 1e-4;

/** Logits of an ONNX file's bytes on `x` [rows, ...shape] by onnxruntime. */
const ortLogits = onnxruntimeLogits;

/** A seeded model of `layers` over `input`, biases random (so none is all zero), some weights 0. */
function model(input: number[], layers: LayerSpec[], seed: number): Model {
  const m = initModel({ input, layers }, seed);
  const rng = createRng(seed + 1);
  for (const [name, t] of m.params) {
    if (name.endsWith("bias")) t.data.set(t.data.map(() => rng() - 0.5));
    else t.data.set(t.data.map((v) => (rng() < 0.3 ? 0 : v)));
  }
  return m;
}

const CASES: [string, number[], LayerSpec[]][] = [
  ["MLP without biases", [20], [
    { kind: "dense", units: 7, bias: false },
    { kind: "relu" },
    { kind: "dense", units: 3, bias: false },
  ]],
  ["CNN with pooling, flatten and leaky ReLU", [2, 9, 9], [
    { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "maxpool2d", kernel: 2, stride: 2 },
    { kind: "conv2d", filters: 4, kernel: 2, stride: 2, padding: 0, bias: true },
    { kind: "flatten" },
    { kind: "dense", units: 5, bias: true },
    { kind: "leaky_relu", slope: 0.1 },
    { kind: "dense", units: 3, bias: true },
  ]],
];

Deno.test("wgprune's ONNX files run in onnxruntime with the reference network's logits", async () => {
  for (const [what, input, layers] of CASES) {
    const m = model(input, layers, 3);
    const rows = 7;
    const rng = createRng(11);
    const x = Float32Array.from({ length: rows * input.reduce((a, b) => a * b) }, () => rng());
    const got = await ortLogits(encodeOnnx(m, what), x, [rows, ...input]);
    assertClose(what, got, referenceLogits(m, x, rows), ATOL, RTOL);
    // And the reader gives back the same model, weight for weight.
    const back = decodeOnnx(encodeOnnx(m), "model.onnx").model;
    assertEquals(back.spec, m.spec, what);
    for (const [name, t] of m.params) {
      assertEquals([...back.params.get(name)!.data], [...t.data], `${what}: ${name}`);
    }
  }
});

Deno.test("PyTorch's ONNX export of an MLP and of a CNN with BatchNormalization imports with its logits", async () => {
  const dir = new URL("./fixtures/onnx/", import.meta.url);
  // [file, expected logits, layers imported, notes (folded or dropped nodes)]
  const cases: [string, string, string[], number][] = [
    ["mlp", "mlp", ["dense", "relu", "dense", "relu", "dense"], 0],
    // PyTorch folds the eval-mode normalisation itself; the final LogSoftmax is dropped.
    ["cnn_bn", "cnn_bn", ["conv2d", "relu", "maxpool2d", "flatten", "dense"], 1],
    // The same network with BatchNormalization and Dropout kept as nodes: folded and dropped here.
    ["cnn_bn_nodes", "cnn_bn", ["conv2d", "relu", "maxpool2d", "flatten", "dense"], 3],
  ];
  for (const [name, expected, kinds, noteCount] of cases) {
    const bytes = await Deno.readFile(new URL(`${name}.onnx`, dir));
    const ref = JSON.parse(await Deno.readTextFile(new URL(`${expected}.json`, dir)));
    const { model: m, notes } = decodeOnnx(bytes, `${name}.onnx`);
    assertEquals(m.spec.input, ref.input_shape, name);
    assertEquals(m.spec.layers.map((l) => l.kind), kinds, name);
    assertEquals(notes.length, noteCount, `${name}: ${notes.join("; ")}`);
    const x = Float32Array.from(ref.x as number[]);
    const rows = ref.logits.length / 10;
    assertClose(name, referenceLogits(m, x, rows), ref.logits, ATOL, RTOL);
    // wgprune's export of the imported model runs in onnxruntime with PyTorch's logits.
    const got = await ortLogits(encodeOnnx(m), x, [rows, ...m.spec.input]);
    assertClose(`${name} re-exported`, got, ref.logits, ATOL, RTOL);
  }
});

/** A one-node-per-op chain graph over input x [N, 4] with the given nodes and initializers. */
function graph(
  nodes: OnnxProto.INodeProto[],
  initializer: OnnxProto.ITensorProto[] = [],
  inputDims: OnnxProto.TensorShapeProto.IDimension[] = [{ dimParam: "N" }, { dimValue: 4 }],
): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: nodes,
      initializer,
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: inputDims } } } }],
      output: [{ name: nodes.at(-1)!.output![0], type: { tensorType: { elemType: 1 } } }],
    },
  }).finish();
}

const W = { name: "w", dims: [4, 3], dataType: 1, floatData: Array(12).fill(0.5) };

Deno.test("bad ONNX files get one line naming what is wrong", () => {
  const good = graph([{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }], [W]);
  assertEquals(decodeOnnx(good, "m.onnx").model.spec.layers, [
    { kind: "dense", units: 3, bias: false },
  ]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated", good.slice(0, good.length - 7), /^m\.onnx: not a valid ONNX file/],
    [
      "unsupported operator",
      graph([{ name: "s", opType: "Sigmoid", input: ["x"], output: ["y"] }]),
      /^m\.onnx: node 0 "s" \(Sigmoid\): unsupported operator Sigmoid; supported: Gemm, MatMul/,
    ],
    [
      "branch",
      graph([
        { name: "r", opType: "Relu", input: ["x"], output: ["a"] },
        { name: "sum", opType: "Add", input: ["a", "x"], output: ["y"] },
      ]),
      /^m\.onnx: node 1 "sum" \(Add\) reads "x", which is neither the previous node's output nor a constant/,
    ],
    [
      "external data",
      graph([{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }], [{
        ...W,
        floatData: [],
        dataLocation: 1,
        externalData: [{ key: "location", value: "w.bin" }],
      }]),
      /keeps its data in an external file/,
    ],
    [
      "dynamic shape",
      graph([{ name: "r", opType: "Relu", input: ["x"], output: ["y"] }], [], [
        { dimParam: "N" },
        { dimParam: "F" },
      ]),
      /^m\.onnx: input "x" has a dynamic or missing shape/,
    ],
    [
      "softmax in the middle",
      graph([
        { name: "sm", opType: "Softmax", input: ["x"], output: ["a"] },
        { name: "r", opType: "Relu", input: ["a"], output: ["y"] },
      ]),
      /Softmax is supported as the last node only/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    const err = assertThrows(() => decodeOnnx(bytes, "m.onnx"), UsageError);
    assert(message.test(err.message), `${what}: ${err.message}`);
    assert(!err.message.includes("\n"), `${what}: one line`);
  }
});
