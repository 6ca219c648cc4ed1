/**
 * The ONNX reader: a user's sequential ONNX graph (PyTorch's `torch.onnx.export`, Keras through
 * tf2onnx) as a wgprune model, its initializers as the weights in wgprune's layouts.
 *
 * Supported: `Gemm` (`transB`, `alpha`, `beta`; `transA` 0), `MatMul` (an `Add` of a constant after
 * it is its bias), `Conv` (square kernel, equal strides and pads, dilations 1, `group` 1), `Relu`,
 * `LeakyRelu`, `MaxPool` (square, no padding), `Flatten` and `Reshape` to one vector per sample,
 * `Identity` and `Dropout` (dropped), `BatchNormalization` after a `Conv` or `Gemm` (folded into it),
 * `Constant` (its value an initializer) and a final `Softmax` / `LogSoftmax` (dropped: wgprune
 * trains on logits). The graph must be a chain: every node reads the previous node's output and
 * constants. Anything else is a `UsageError` naming the node.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { LayerSpec } from "../model/layers/layer.ts";
import { layerKind } from "../model/layers/registry.ts";
import { activationShapes, type Model, type ModelSpec, paramInfos } from "../model/network.ts";
import type { Params, Tensor } from "../model/tensor.ts";
import { onnx, ONNX_FLOAT, type OnnxProto } from "./onnx_proto.ts";

/** The operators the reader takes. */
export const ONNX_OPS = [
  "Gemm",
  "MatMul",
  "Add",
  "Conv",
  "Relu",
  "LeakyRelu",
  "MaxPool",
  "Flatten",
  "Reshape",
  "Identity",
  "Dropout",
  "BatchNormalization",
  "Constant",
  "DequantizeLinear",
  "Softmax",
  "LogSoftmax",
] as const;

/** An imported model and what the import changed on the way (folded, dropped nodes). */
export interface ImportedOnnx {
  /** The model: spec and weights. */
  model: Model;
  /** One line per node dropped or folded. */
  notes: string[];
}

/** A layer being built: its spec and parameters (weight, then bias). */
interface Built {
  spec: LayerSpec;
  params: Tensor[];
}

/** The values of a FLOAT (or INT64, for shapes) tensor; `where` names it in errors. */
function tensorValues(t: OnnxProto.ITensorProto, where: string): Float64Array {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length) {
    throw new UsageError(
      `${where}: tensor "${t.name}" keeps its data in an external file; export it with the weights inside`,
    );
  }
  const count = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  // A copy of the bytes into a buffer of their own: protobufjs may hand out a view into the file
  // (a Node Buffer's slice is one too), whose buffer starts elsewhere.
  const raw = t.rawData && t.rawData.length > 0 ? new Uint8Array(t.rawData) : undefined;
  let values: Float64Array;
  if (t.dataType === ONNX_FLOAT) {
    values = raw
      ? Float64Array.from(new Float32Array(raw.buffer, 0, Math.floor(raw.length / 4)))
      : Float64Array.from(t.floatData ?? []);
  } else if (t.dataType === onnx.TensorProto.DataType.INT64) {
    values = raw
      ? Float64Array.from(
        new BigInt64Array(raw.buffer, 0, Math.floor(raw.length / 8)),
        Number,
      )
      : Float64Array.from(t.int64Data ?? [], Number);
  } else if (
    t.dataType === onnx.TensorProto.DataType.INT8 || t.dataType === onnx.TensorProto.DataType.UINT8
  ) {
    const signed = t.dataType === onnx.TensorProto.DataType.INT8;
    values = raw
      ? Float64Array.from(signed ? new Int8Array(raw.buffer) : raw)
      : Float64Array.from(t.int32Data ?? []);
  } else {
    throw new UsageError(
      `${where}: tensor "${t.name}" has element type ${t.dataType}; FLOAT weights are expected`,
    );
  }
  if (values.length !== count) {
    throw new UsageError(
      `${where}: tensor "${t.name}" holds ${values.length} values for its ${count}`,
    );
  }
  return values;
}

/** An attribute's integer(s) or float, by name. */
function attr(node: OnnxProto.INodeProto, name: string) {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  return {
    i: a.i === undefined || a.i === null ? undefined : Number(a.i),
    ints: (a.ints ?? []).map(Number),
    f: a.f ?? undefined,
    s: a.s ? new TextDecoder().decode(a.s) : undefined,
  };
}

/** A node's name for messages. */
function nodeName(node: OnnxProto.INodeProto, index: number): string {
  return `node ${index} "${node.name || node.opType}" (${node.opType})`;
}

/**
 * The output shape per sample of `spec`; a layer that does not fit its input (a kernel larger
 * than the image, a convolution after a flatten) is a `UsageError` naming the file.
 */
function shapeOf(path: string, spec: ModelSpec): number[] {
  try {
    return activationShapes(spec).at(-1)!;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** The reader's state as it walks the chain. */
class Chain {
  readonly layers: Built[] = [];
  readonly notes: string[] = [];
  readonly constants = new Map<string, { dims: number[]; values: Float64Array }>();
  current: string;
  readonly input: number[];
  readonly path: string;

  constructor(path: string, inputName: string, input: number[]) {
    this.path = path;
    this.current = inputName;
    this.input = input;
  }

  /** The activation shape per sample after the layers so far. */
  shape(): number[] {
    return shapeOf(this.path, { input: this.input, layers: this.layers.map((l) => l.spec) });
  }

  /** A constant input of a node, as a tensor, or a usage error naming the node. */
  constant(name: string | undefined, where: string): { dims: number[]; values: Float64Array } {
    const c = name === undefined ? undefined : this.constants.get(name);
    if (!c) {
      throw new UsageError(
        `${this.path}: ${where} reads "${name}", which is neither the previous node's output nor a constant (branching graphs are not supported)`,
      );
    }
    return c;
  }

  /** Appends a layer. */
  push(spec: LayerSpec, params: Tensor[] = []): void {
    this.layers.push({ spec, params });
  }

  /** The last layer, when it is a dense or convolution layer (for Add and BatchNormalization). */
  lastWithUnits(): Built | undefined {
    const last = this.layers.at(-1);
    return last && layerKind(last.spec).units ? last : undefined;
  }
}

const f32 = (values: ArrayLike<number>) => Float32Array.from(values);

/** The shortest decimal that is the same f32 as `f` (an attribute's 0.1 is f32's 0.1000000015). */
function shortestF32(f: number): number {
  for (let digits = 1; digits < 17; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === Math.fround(f)) return d;
  }
  return f;
}

/** `Gemm`: y = alpha · x · op(B) + beta · C, as a dense layer with W = alpha · op(B) [in, out]. */
function gemm(chain: Chain, node: OnnxProto.INodeProto, where: string): void {
  if ((attr(node, "transA")?.i ?? 0) !== 0) {
    throw new UsageError(`${chain.path}: ${where}: transA = 1 is not supported`);
  }
  const b = chain.constant(node.input?.[1], where);
  const transB = (attr(node, "transB")?.i ?? 0) === 1;
  const alpha = attr(node, "alpha")?.f ?? 1;
  const beta = attr(node, "beta")?.f ?? 1;
  const [rows, cols] = b.dims;
  const inputs = transB ? cols : rows;
  const units = transB ? rows : cols;
  const w = new Float32Array(inputs * units);
  for (let i = 0; i < inputs; i++) {
    for (let o = 0; o < units; o++) {
      w[i * units + o] = alpha * (transB ? b.values[o * cols + i] : b.values[i * cols + o]);
    }
  }
  const params: Tensor[] = [{ shape: [inputs, units], data: w }];
  const cName = node.input?.[2];
  if (cName) {
    const c = chain.constant(cName, where);
    if (c.values.length !== units) {
      throw new UsageError(`${chain.path}: ${where}: C must hold one bias per output (${units})`);
    }
    params.push({ shape: [units], data: f32(c.values.map((v) => beta * v)) });
  }
  chain.push({ kind: "dense", units, bias: params.length > 1 }, params);
}

/** `Conv` with wgprune's geometry: square kernel, one stride and one padding, dilations 1. */
function conv(chain: Chain, node: OnnxProto.INodeProto, where: string): void {
  const w = chain.constant(node.input?.[1], where);
  const [filters, , kh, kw] = w.dims;
  const strides = attr(node, "strides")?.ints ?? [1, 1];
  const pads = attr(node, "pads")?.ints ?? [0, 0, 0, 0];
  const dilations = attr(node, "dilations")?.ints ?? [1, 1];
  const group = attr(node, "group")?.i ?? 1;
  const autoPad = attr(node, "auto_pad")?.s ?? "NOTSET";
  const ok = w.dims.length === 4 && kh === kw && strides.every((s) => s === strides[0]) &&
    pads.every((p) => p === pads[0]) && dilations.every((d) => d === 1) && group === 1 &&
    autoPad === "NOTSET";
  if (!ok) {
    throw new UsageError(
      `${chain.path}: ${where}: only square kernels with equal strides and pads, dilations 1, group 1 and no auto_pad are supported`,
    );
  }
  const params: Tensor[] = [{ shape: [...w.dims], data: f32(w.values) }];
  if (node.input?.[2]) {
    params.push({ shape: [filters], data: f32(chain.constant(node.input[2], where).values) });
  }
  chain.push({
    kind: "conv2d",
    filters,
    kernel: kh,
    stride: strides[0],
    padding: pads[0],
    bias: params.length > 1,
  }, params);
}

/** `BatchNormalization` folded into the dense or convolution layer before it. */
function foldBatchNorm(chain: Chain, node: OnnxProto.INodeProto, where: string): void {
  const layer = chain.lastWithUnits();
  if (!layer) {
    throw new UsageError(`${chain.path}: ${where}: BatchNormalization must follow a Conv or Gemm`);
  }
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) =>
    chain.constant(node.input?.[i], where).values
  );
  const eps = attr(node, "epsilon")?.f ?? 1e-5;
  const units = layerKind(layer.spec).units!;
  const [w, b] = layer.params;
  const n = units.outputs(w.shape);
  const scale = gamma.map((g, o) => g / Math.sqrt(variance[o] + eps));
  const folded = w.data.map((v, i) => v * scale[units.unitOf(w.shape, i)]);
  const bias = f32(
    Array.from({ length: n }, (_, o) => ((b ? b.data[o] : 0) - mean[o]) * scale[o] + beta[o]),
  );
  layer.params = [{ shape: w.shape, data: folded }, { shape: [n], data: bias }];
  layer.spec = { ...layer.spec, bias: true } as LayerSpec;
  chain.notes.push(`${where}: folded into the layer before it`);
}

/**
 * `DequantizeLinear` of a constant (a quantised weight): folded into the f32 constant
 * (x − zero point) · scale, per tensor or along `axis`.
 */
function dequantizeConstant(chain: Chain, node: OnnxProto.INodeProto, where: string): void {
  const x = chain.constant(node.input?.[0], where);
  const scale = chain.constant(node.input?.[1], where).values;
  const zero = node.input?.[2] ? chain.constant(node.input[2], where).values : new Float64Array(1);
  const rank = x.dims.length;
  const axis = ((attr(node, "axis")?.i ?? 1) + rank) % Math.max(rank, 1);
  const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = x.dims[axis] ?? 1;
  if (scale.length !== 1 && scale.length !== channels) {
    throw new UsageError(
      `${chain.path}: ${where}: the scale holds ${scale.length} values for ${channels} channels`,
    );
  }
  const values = x.values.map((q, i) => {
    const c = scale.length === 1 ? 0 : Math.floor(i / inner) % channels;
    return Math.fround((q - (zero[c] ?? zero[0])) * Math.fround(scale[c]));
  });
  chain.constants.set(node.output?.[0] ?? "", { dims: x.dims, values });
}

/** What reads one chain node: the chain, the node, its name for messages, the input shape. */
type NodeReader = (
  chain: Chain,
  node: OnnxProto.INodeProto,
  where: string,
  shape: number[],
) => void;

/** A usage error about `where` in the chain's file. */
function refuse(chain: Chain, where: string, why: string): UsageError {
  return new UsageError(`${chain.path}: ${where}: ${why}`);
}

/** `MatMul` by a constant [in, out]: a dense layer without a bias (an `Add` after it gives one). */
const matmul: NodeReader = (chain, node, where, shape) => {
  const b = chain.constant(node.input?.[1], where);
  if (b.dims.length !== 2 || shape.length !== 1) {
    throw refuse(chain, where, "MatMul must multiply [N, features] by a constant [in, out]");
  }
  chain.push({ kind: "dense", units: b.dims[1], bias: false }, [{
    shape: [...b.dims],
    data: f32(b.values),
  }]);
};

/** `Add` of a constant after a `MatMul`: its bias. */
const addBias: NodeReader = (chain, node, where, shape) => {
  const layer = chain.lastWithUnits();
  const c = chain.constant(node.input?.[1], where);
  if (!layer || layer.params.length > 1 || c.values.length !== shape[0] || shape.length !== 1) {
    throw refuse(chain, where, "only the bias Add of a MatMul is supported");
  }
  layer.params.push({ shape: [shape[0]], data: f32(c.values) });
  layer.spec = { ...layer.spec, bias: true } as LayerSpec;
};

/** `MaxPool` over square windows, no padding. */
const maxPool: NodeReader = (chain, node, where) => {
  const k = attr(node, "kernel_shape")?.ints ?? [];
  const strides = attr(node, "strides")?.ints ?? [1, 1];
  const pads = attr(node, "pads")?.ints ?? [0, 0, 0, 0];
  if (
    k.length !== 2 || k[0] !== k[1] || strides[0] !== strides[1] || pads.some((p) => p !== 0) ||
    (attr(node, "ceil_mode")?.i ?? 0) !== 0
  ) {
    throw refuse(
      chain,
      where,
      "only square windows with equal strides, no padding and no ceil_mode are supported",
    );
  }
  chain.push({ kind: "maxpool2d", kernel: k[0], stride: strides[0] });
};

/** `Flatten` (axis 1) or `Reshape` to one vector per sample: a flatten when the input is not flat. */
const flatten: NodeReader = (chain, node, where, shape) => {
  const features = shape.reduce((a, b) => a * b, 1);
  if (node.opType === "Flatten" && (attr(node, "axis")?.i ?? 1) !== 1) {
    throw refuse(chain, where, "only Flatten with axis 1 is supported");
  }
  if (node.opType === "Reshape") {
    const target = chain.constant(node.input?.[1], where).values;
    if (!(target.length === 2 && (target[1] === -1 || target[1] === features))) {
      throw refuse(
        chain,
        where,
        `only a Reshape to one vector per sample ([N, ${features}]) is supported`,
      );
    }
  }
  if (shape.length > 1) chain.push({ kind: "flatten" });
};

/** The readers of the operators in a chain, by operator. */
const READERS: Record<string, NodeReader> = {
  Gemm(chain, node, where, shape) {
    if (shape.length !== 1) {
      throw refuse(chain, where, `Gemm reads [N, features]; flatten the [${shape}] input first`);
    }
    gemm(chain, node, where);
  },
  MatMul: matmul,
  Add: addBias,
  Conv: (chain, node, where) => conv(chain, node, where),
  Relu: (chain) => chain.push({ kind: "relu" }),
  LeakyRelu: (chain, node) =>
    chain.push({ kind: "leaky_relu", slope: shortestF32(attr(node, "alpha")?.f ?? 0.01) }),
  MaxPool: maxPool,
  Flatten: flatten,
  Reshape: flatten,
  Identity: () => {},
  Dropout: (chain, _node, where) => chain.notes.push(`${where}: dropped (inference)`),
  BatchNormalization: (chain, node, where) => foldBatchNorm(chain, node, where),
};

/** A `Constant` node: its tensor becomes a constant of the chain. */
function readConstant(chain: Chain, node: OnnxProto.INodeProto, where: string): void {
  const value = (node.attribute ?? []).find((a) => a.name === "value")?.t;
  if (!value || !node.output?.[0]) throw refuse(chain, where, "a Constant needs a tensor value");
  chain.constants.set(node.output[0], {
    dims: (value.dims ?? []).map(Number),
    values: tensorValues(value, `${chain.path}: ${where}`),
  });
}

/** Reads one node into the chain. */
function readNode(chain: Chain, node: OnnxProto.INodeProto, index: number, last: boolean): void {
  const where = nodeName(node, index);
  const op = node.opType ?? "";
  if (op === "Constant") return readConstant(chain, node, where);
  if (op === "DequantizeLinear") return dequantizeConstant(chain, node, where);
  if (node.input?.[0] !== chain.current) {
    throw new UsageError(
      `${chain.path}: ${where} reads "${
        node.input?.[0]
      }", not the previous node's output "${chain.current}" (the graph must be a chain; branches are not supported)`,
    );
  }
  if (op === "Softmax" || op === "LogSoftmax") {
    if (!last) throw refuse(chain, where, `${op} is supported as the last node only`);
    chain.notes.push(`${where}: dropped (wgprune trains on logits)`);
    return;
  }
  const reader = Object.hasOwn(READERS, op) ? READERS[op] : undefined;
  if (!reader) {
    throw refuse(chain, where, `unsupported operator ${op}; supported: ${ONNX_OPS.join(", ")}`);
  }
  reader(chain, node, where, chain.shape());
  chain.current = node.output?.[0] ?? "";
}

/** The graph's one data input (the inputs that are not initializers) and its shape per sample. */
function graphInput(graph: OnnxProto.IGraphProto, path: string): { name: string; shape: number[] } {
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw new UsageError(`${path}: the graph has ${inputs.length} data inputs; one is expected`);
  }
  const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  const shape = dims.slice(1).map((d) => Number(d.dimValue ?? 0));
  if (dims.length < 2 || shape.some((d) => !(d > 0))) {
    throw new UsageError(
      `${path}: input "${
        inputs[0].name
      }" has a dynamic or missing shape; [N, features] or [N, C, H, W] with fixed sizes is expected`,
    );
  }
  return { name: inputs[0].name ?? "", shape };
}

/** The model of an ONNX file's bytes; `path` names the file in errors. */
export function decodeOnnx(bytes: Uint8Array, path: string): ImportedOnnx {
  let model: OnnxProto.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new UsageError(
      `${path}: not a valid ONNX file (${(err as Error).message.split("\n")[0]})`,
    );
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) {
    throw new UsageError(`${path}: not a valid ONNX file (no graph)`);
  }
  const { name, shape } = graphInput(graph, path);
  const chain = new Chain(path, name, shape);
  for (const t of graph.initializer ?? []) {
    chain.constants.set(t.name ?? "", {
      dims: (t.dims ?? []).map(Number),
      values: tensorValues(t, path),
    });
  }
  const nodes = graph.node ?? [];
  nodes.forEach((node, i) => readNode(chain, node, i, i === nodes.length - 1));
  const output = graph.output?.[0]?.name;
  if ((graph.output ?? []).length !== 1 || output !== nodes.at(-1)?.output?.[0]) {
    throw new UsageError(`${path}: the graph's output must be its last node's (one output)`);
  }
  if (chain.layers.length === 0) throw new UsageError(`${path}: the graph has no layers`);
  const spec: ModelSpec = { input: shape, layers: chain.layers.map((l) => l.spec) };
  shapeOf(path, spec);
  const params: Params = new Map();
  const infos = paramInfos(spec);
  for (const info of infos) {
    const t = chain.layers[info.layer]
      .params[info.group === undefined ? 0 : ["weight", "bias"].indexOf(info.suffix)];
    if (!t || t.data.length !== info.shape.reduce((a, b) => a * b, 1)) {
      throw new UsageError(`${path}: ${info.name} should have shape [${info.shape}]`);
    }
    params.set(info.name, { shape: [...info.shape], data: t.data });
  }
  return { model: { spec, params }, notes: chain.notes };
}
