/**
 * The ONNX writer: a model as an ONNX graph (operator set 13) that onnxruntime, ONNX Runtime Web
 * and TensorRT run. Each layer kind says which nodes it becomes (`LayerKind.toOnnx`): a dense
 * layer `Gemm` (or `MatMul` without a bias) with its `W [in, out]` as B, a convolution `Conv`
 * with its `[out, in, kh, kw]` weight, then `Relu`, `LeakyRelu`, `MaxPool` and `Flatten`.
 *
 * The graph reads `input` `[N, ...spec.input]` f32 — pixels scaled to [0, 1], as wgprune's gather
 * does — and writes `logits` `[N, classes]` (no softmax). Pruned weights are exact zeros.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { layerKind } from "../model/layers/registry.ts";
import type { OnnxAttribute } from "../model/layers/layer.ts";
import { activationShapes, type Model, paramInfos } from "../model/network.ts";
import { onnx, ONNX_FLOAT, ONNX_OPSET, type OnnxProto } from "./onnx_proto.ts";
import { fromOutputMajor } from "../model/tensor.ts";
import type { PtqWeight } from "../quant/ptq_model.ts";

/** Name of the graph's input. */
export const ONNX_INPUT = "input";
/** Name of the graph's output. */
export const ONNX_OUTPUT = "logits";

/** An attribute as ONNX's AttributeProto. */
function attributeProto(name: string, value: OnnxAttribute): OnnxProto.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if ("i" in value) return { name, type: AttributeType.INT, i: value.i };
  if ("ints" in value) return { name, type: AttributeType.INTS, ints: value.ints };
  return { name, type: AttributeType.FLOAT, f: value.f };
}

/** A value's type: f32 with a symbolic batch dimension `N` first. */
function valueInfo(name: string, shape: number[]): OnnxProto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_FLOAT,
        shape: { dim: [{ dimParam: "N" }, ...shape.map((d) => ({ dimValue: d }))] },
      },
    },
  };
}

/**
 * An int8 weight as ONNX's weight-only QDQ form: the levels (INT8, the weight's own layout), the
 * per-output-channel scale and a zero point of 0, and a `DequantizeLinear` node along the output
 * axis that makes the f32 weight the layer's node reads (w = q · scale, as wgprune's int8 kernel).
 */
function quantizedWeight(
  name: string,
  dims: number[],
  weight: PtqWeight,
  axis: number,
): { node: OnnxProto.INodeProto; initializers: OnnxProto.ITensorProto[] } {
  const levels = fromOutputMajor(weight.q!, dims);
  const int8 = onnx.TensorProto.DataType.INT8;
  return {
    node: {
      name: `${name}.dequantize`,
      opType: "DequantizeLinear",
      input: [`${name}.quantized`, `${name}.scale`, `${name}.zero_point`],
      output: [name],
      attribute: [attributeProto("axis", { i: axis })],
    },
    initializers: [
      { name: `${name}.quantized`, dims, dataType: int8, rawData: new Uint8Array(levels.buffer) },
      {
        name: `${name}.scale`,
        dims: [weight.rows],
        dataType: ONNX_FLOAT,
        floatData: [...weight.scale!],
      },
      {
        name: `${name}.zero_point`,
        dims: [weight.rows],
        dataType: int8,
        rawData: new Uint8Array(weight.rows),
      },
    ],
  };
}

/** The graph of `model`: its layers' nodes and initializers, in order (int8 weights as QDQ). */
function graphOf(model: Model, int8: ReadonlyMap<string, PtqWeight>): OnnxProto.IGraphProto {
  const shapes = activationShapes(model.spec);
  const infos = paramInfos(model.spec);
  const nodes: OnnxProto.INodeProto[] = [];
  const initializers: OnnxProto.ITensorProto[] = [];
  let input = ONNX_INPUT;
  const last = model.spec.layers.length - 1;
  model.spec.layers.forEach((layer, l) => {
    const kind = layerKind(layer);
    if (!kind.toOnnx) throw new UsageError(`layer ${l} (${layer.kind}) has no ONNX form`);
    const mine = infos.filter((p) => p.layer === l);
    const output = l === last ? ONNX_OUTPUT : `act${l + 1}`;
    const part = kind.toOnnx(layer, {
      input,
      output,
      prefix: mine[0]?.name.replace(/\.[^.]*$/, "") ?? `layer${l}`,
      params: mine.map((p) => model.params.get(p.name)!),
    });
    part.nodes.forEach((n, i) =>
      nodes.push({
        name: `${layer.kind}_${l}${part.nodes.length > 1 ? `_${i}` : ""}`,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeProto(k, v)),
      })
    );
    for (const t of part.initializers) {
      const q = int8.get(t.name);
      if (q && kind.units) {
        const dq = quantizedWeight(t.name, t.dims, q, kind.units.outputAxis);
        nodes.splice(nodes.length - part.nodes.length, 0, dq.node);
        initializers.push(...dq.initializers);
      } else {
        // raw_data: the f32 values' little-endian bytes, copied as they are.
        const rawData = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
        initializers.push({ name: t.name, dims: t.dims, dataType: ONNX_FLOAT, rawData });
      }
    }
    input = output;
  });
  return {
    name: "wgprune",
    node: nodes,
    initializer: initializers,
    input: [valueInfo(ONNX_INPUT, shapes[0])],
    output: [valueInfo(ONNX_OUTPUT, shapes.at(-1)!)],
  };
}

/**
 * The ONNX file of `model`; `docString` says where it came from (the export's method and k).
 * The int8 weights of `ptq` are stored as int8 with their scales (weight-only QDQ).
 *
 * @example
 * ```ts
 * await Deno.writeFile("model.onnx", encodeOnnx(model, "weight k=90"));
 * ```
 */
export function encodeOnnx(
  model: Model,
  docString = "",
  ptq: ReadonlyMap<string, PtqWeight> = new Map(),
): Uint8Array {
  const int8 = new Map([...ptq].filter(([, w]) => w.format === "int8" && w.q && w.scale));
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: "wgprune",
    docString,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: graphOf(model, int8),
  }).finish();
}
