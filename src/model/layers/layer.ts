/**
 * What a layer kind declares: its output shape, its parameters (names, shapes, initial values),
 * its forward and backward dispatches on the GPU and its CPU reference. The network
 * (src/train/gpu_network.ts), the CPU reference network, checkpoints and pruning are all built
 * from these declarations, so a new layer kind is one file plus one registry line.
 *
 * Activations are `[rows, ...shape]` f32, row-major, one row per sample; images are NCHW
 * (`[rows, channels, height, width]`) as in PyTorch, and convolution weights keep PyTorch's
 * `[out, in, kh, kw]` layout so checkpoints load into `torch.nn.Conv2d` as they are.
 *
 * @module
 */

import type { GpuContext } from "../../gpu/device.ts";
import type { Op } from "../../gpu/kernel.ts";
import type { PtqFormat } from "../../kernels/matmul_quantized.ts";
import type { NmPattern } from "../../kernels/nm_pack.ts";
import type { Rng } from "../../util/rng.ts";
import type { Tensor } from "../tensor.ts";
import type { InitScheme } from "./init.ts";

/** A fully connected layer: y[rows, units] = x[rows, in] · W[in, units] (+ b[units]). */
export interface DenseSpec {
  /** Layer kind. */
  kind: "dense";
  /** Output units. */
  units: number;
  /** Whether the layer has a bias. */
  bias: boolean;
}

/** Rectified linear unit, elementwise: y = max(0, x). */
export interface ReluSpec {
  /** Layer kind. */
  kind: "relu";
}

/**
 * Leaky rectified linear unit, elementwise: y = x for x > 0, else slope · x
 * (torch.nn.LeakyReLU(negative_slope)).
 */
export interface LeakyReluSpec {
  /** Layer kind. */
  kind: "leaky_relu";
  /** Slope for negative inputs (PyTorch's default is 0.01). */
  slope: number;
}

/**
 * A 2-D convolution (cross-correlation, as torch.nn.Conv2d): input [C, H, W] → [filters, OH, OW]
 * with OH = ⌊(H + 2·padding − kernel) / stride⌋ + 1; weight [filters, C, kernel, kernel].
 */
export interface Conv2dSpec {
  /** Layer kind. */
  kind: "conv2d";
  /** Output channels. */
  filters: number;
  /** Square kernel size. */
  kernel: number;
  /** Stride in both directions. */
  stride: number;
  /** Zero padding on every side. */
  padding: number;
  /** Whether the layer has a bias. */
  bias: boolean;
}

/** 2-D max pooling over square windows, no padding (torch.nn.MaxPool2d). */
export interface MaxPool2dSpec {
  /** Layer kind. */
  kind: "maxpool2d";
  /** Window size. */
  kernel: number;
  /** Stride (PyTorch's default is the window size). */
  stride: number;
}

/** [C, H, W] → [C·H·W]: the same memory seen as a vector (torch.nn.Flatten). */
export interface FlattenSpec {
  /** Layer kind. */
  kind: "flatten";
}

/** Any layer of a model. */
export type LayerSpec =
  | DenseSpec
  | ReluSpec
  | LeakyReluSpec
  | Conv2dSpec
  | MaxPool2dSpec
  | FlattenSpec;

/** One parameter a layer declares: its name within the layer and its shape. */
export interface ParamDecl {
  /** Name suffix, e.g. `weight` or `bias`. */
  suffix: string;
  /** Shape, row-major. */
  shape: number[];
}

/** Buffers of one layer's forward dispatches. */
export interface ForwardContext {
  /** Samples per dispatch. */
  rows: number;
  /** Input shape per sample. */
  input: number[];
  /** Input activations [rows, ...input]. */
  x: GPUBuffer;
  /** Output activations [rows, ...output] (the same buffer as `x` for in-place layers). */
  y: GPUBuffer;
  /** Parameter buffers, in `params` order. */
  params: GPUBuffer[];
  /** Apply a ReLU to the output in the same dispatch (when `fusesRelu`). */
  relu: boolean;
  /**
   * Training only: where the forward ops leave buffers for this layer's backward ops of the same
   * step (as PyTorch's `ctx.save_for_backward`), e.g. a convolution's im2col columns.
   */
  saved?: Record<string, GPUBuffer>;
  /**
   * Inference only: the layer's weight after post-training quantisation, read by the forward
   * product instead of `params[0]` (src/kernels/matmul_quantized.ts).
   */
  quantized?: GpuQuantizedWeight;
  /**
   * Inference only: the layer's weight packed N:M, read by the forward product instead of
   * `params[0]` (src/kernels/matmul_nm.ts); `x` then comes in a buffer the kernel can window.
   */
  nm?: GpuNmWeight;
}

/** An N:M-sparse weight on the GPU in the packing of src/kernels/nm_pack.ts. */
export interface GpuNmWeight {
  /** The pattern it was packed with. */
  pattern: NmPattern;
  /** Values [out, groups, n] f32. */
  values: GPUBuffer;
  /** Offsets [out, words] u32. */
  offsets: GPUBuffer;
}

/** A post-training-quantised weight on the GPU, packed by output channel. */
export interface GpuQuantizedWeight {
  /** Storage format. */
  format: PtqFormat;
  /** Packed rows [out, ceil(in / per-word)] u32. */
  q: GPUBuffer;
  /** int8: per-output-channel scale [out] f32. */
  scale?: GPUBuffer;
}

/** Buffers of one layer's backward dispatches. */
export interface BackwardContext extends Omit<ForwardContext, "relu" | "quantized" | "nm"> {
  /** Gradient of the loss w.r.t. the output [rows, ...output]. */
  dy: GPUBuffer;
  /** Gradient w.r.t. the input to write, or undefined for the first layer (not needed). */
  dx?: GPUBuffer;
  /** Gradient buffers of the parameters, in `params` order (overwritten, not accumulated). */
  grads: GPUBuffer[];
}

/** A layer's weight compressed as CSR by output unit (src/export/csr.ts), on the GPU. */
export interface GpuCsr {
  /** Row pointers [outputs + 1] u32. */
  indptr: GPUBuffer;
  /** Input index of each non-zero [nnz] u32. */
  indices: GPUBuffer;
  /** Value of each non-zero [nnz] f32. */
  values: GPUBuffer;
  /** Non-zeros. */
  nnz: number;
}

/** Buffers of one layer's sparse forward dispatches (inference only). */
export interface SparseForwardContext {
  /** Samples per dispatch. */
  rows: number;
  /** Input shape per sample. */
  input: number[];
  /** Input activations transposed, [inputs, stride] with stride = rows rounded up to 4. */
  xt: GPUBuffer;
  /** Output activations: [outputs, stride] when `outTransposed`, else [rows, outputs]. */
  y: GPUBuffer;
  /** Write the output transposed (for a sparse layer that follows). */
  outTransposed: boolean;
  /** The compressed weight. */
  csr: GpuCsr;
  /** Parameter buffers, in `params` order (the bias, when present, is used from here). */
  params: GPUBuffer[];
  /** Apply a ReLU in the same dispatch. */
  relu: boolean;
}

/**
 * How a layer with output units (dense units, convolution filters) is cut to fewer of them, and
 * how it stops reading a producer's removed units: Torch-Pruning's `prune_out_channels` /
 * `prune_in_channels` split (Fang et al. 2023, "DepGraph"). Compaction (src/model/compact.ts),
 * the small-dense baseline and unit pruning ask these instead of switching on the kind.
 * `params` are the layer's parameters in `params` order: the weight first, then the bias if any.
 */
export interface UnitStructure {
  /** Output units of the layer. */
  count(spec: LayerSpec): number;
  /** The same layer with `units` output units. */
  resized(spec: LayerSpec, units: number): LayerSpec;
  /** The output unit each weight entry feeds, by flat index into the weight's layout. */
  unitOf(shape: readonly number[], index: number): number;
  /** Output units of a weight of `shape` in this kind's layout. */
  outputs(shape: readonly number[]): number;
  /** The axis of the weight's layout that indexes output units (dense 1, convolution 0). */
  outputAxis: number;
  /**
   * The weight's entries as `[outputs, inputs per output]`, row-major: PyTorch's layout, that of
   * the CSR, int8 and Deep Compression exports (a dense `W[in, out]` transposed; a convolution's
   * `[out, in, kh, kw]` as it is).
   */
  outputMajor(data: Float32Array, shape: readonly number[]): Float32Array;
  /** The inverse of `outputMajor`: entries back in the kind's weight layout. */
  fromOutputMajor(data: Float32Array, shape: readonly number[]): Float32Array;
  /** The parameters keeping only output units `kept` (ascending). */
  pruneOut(params: readonly Tensor[], kept: readonly number[]): Tensor[];
  /**
   * True when this layer can drop inputs that read a producer's units in blocks of `span`
   * consecutive inputs (a dense layer after a flatten reads H·W per channel; a convolution reads
   * one channel per unit, span 1).
   */
  readsUnits(span: number): boolean;
  /** The parameters keeping only the inputs of a producer's units `kept`, `span` inputs each. */
  pruneIn(params: readonly Tensor[], kept: readonly number[], span: number): Tensor[];
  /**
   * True when a removed input unit's constant output can be folded into this layer's bias
   * exactly: it has a bias, and (a padded convolution does not) sees that constant everywhere.
   */
  foldsConstants(spec: LayerSpec, params: readonly Tensor[]): boolean;
  /** Adds to the bias (params[1], in place) what input unit `unit`, constant `c`, contributed. */
  foldConstant(params: readonly Tensor[], unit: number, span: number, c: number): void;
}

/**
 * A layer that maps each channel on its own (ReLU, pooling, flatten): compaction sees through it
 * from a producer to the layer that reads the producer's units.
 */
export interface ChannelMap {
  /** The output where the input channel is the constant `c` everywhere. */
  constant(spec: LayerSpec, c: number): number;
  /**
   * Inputs of the next layer per input channel, for a layer that flattens `input` ([C, ...]);
   * absent: the layer keeps the channel axis.
   */
  span?(input: readonly number[]): number;
}

/**
 * One field of a layer's spec as a JSON layer list (`--model spec.json`) writes it: `count` an
 * integer ≥ 1, `natural` an integer ≥ 0, `number` a finite number ≥ 0, `boolean`; absent fields
 * take `default`, or the value of the field `defaultFrom` names.
 */
export interface SpecField {
  /** What values it takes. */
  type: "count" | "natural" | "number" | "boolean";
  /** Its value when absent (none: required). */
  default?: number | boolean;
  /** When absent, the value of this other field. */
  defaultFrom?: string;
}

/** An ONNX attribute value: an integer, a list of integers or a float. */
export type OnnxAttribute = { i: number } | { ints: number[] } | { f: number };

/** One ONNX node (operator set 13) a layer becomes; src/export/onnx.ts encodes it. */
export interface OnnxNode {
  /** The ONNX operator, e.g. `Gemm`. */
  opType: string;
  /** Input value names: the activation, then the layer's initializers. */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Attributes by name. */
  attributes?: Record<string, OnnxAttribute>;
}

/** What a layer adds to an ONNX graph: its nodes and its parameters as initializers. */
export interface OnnxLayer {
  /** The nodes, in order. */
  nodes: OnnxNode[];
  /** The initializers, each in ONNX's layout for its node. */
  initializers: { name: string; dims: number[]; data: Float32Array }[];
}

/** The names and values a layer's ONNX nodes are built from. */
export interface OnnxContext {
  /** The activation it reads. */
  input: string;
  /** The activation it writes. */
  output: string;
  /** Prefix of its initializer names (`layers.3`). */
  prefix: string;
  /** Its parameters, in `params` order. */
  params: Tensor[];
}

/** The weight representations a kind's forward can read besides dense f32. */
export type CompressedForward = "csr" | "nm" | "ptq";

/** A layer kind: everything the rest of wgprune needs to know about it. */
export interface LayerKind {
  /** The `kind` of its specs. */
  kind: LayerSpec["kind"];
  /** Output shape per sample for an input shape per sample. */
  outputShape(spec: LayerSpec, input: number[]): number[];
  /** The parameters, in order. */
  params(spec: LayerSpec, input: number[]): ParamDecl[];
  /**
   * Initial values of the parameters, drawn from `rng` by `scheme` (default `he`); `next` is the
   * layer that follows.
   */
  init(
    spec: LayerSpec,
    input: number[],
    rng: Rng,
    next: LayerSpec | undefined,
    scheme?: InitScheme,
  ): Float32Array[];
  /** True when the output overwrites the input in place (y and x are one buffer). */
  inPlace: boolean;
  /** The fields of its spec besides `kind` (src/model/spec_file.ts reads them); none if absent. */
  fields?: Readonly<Record<string, SpecField>>;
  /** The ONNX nodes it is exported as (src/export/onnx.ts); a kind without it is not exported. */
  toOnnx?(spec: LayerSpec, ctx: OnnxContext): OnnxLayer;
  /** Present on kinds with output units that structured pruning and compaction can remove. */
  units?: UnitStructure;
  /** Present on kinds that map each channel on its own (compaction sees through them). */
  channelwise?: ChannelMap;
  /**
   * The compressed weights its inference forward reads (`forwardOps` with `ctx.nm` or
   * `ctx.quantized`, `sparseForwardOps` for `csr`); none when absent.
   */
  compressedForwards?: readonly CompressedForward[];
  /**
   * Which `--quantize-bits` share its weight's codebook size: `conv` (the paper's C) or `dense`
   * (F); absent for kinds without a weight.
   */
  sharingGroup?: "conv" | "dense";
  /**
   * True when the output is the input's memory seen in another shape (flatten): no dispatches
   * either way, and the gradients share one buffer too.
   */
  view?: boolean;
  /** True when a ReLU that follows can be applied inside this layer's forward dispatch. */
  fusesRelu: boolean;
  /** True when a ReLU fused into the previous layer makes this layer's forward a no-op. */
  fusable: boolean;
  /** CPU reference forward in f64: y [rows, ...output]. */
  forwardRef(
    spec: LayerSpec,
    input: number[],
    x: Float64Array,
    rows: number,
    params: Float32Array[],
  ): Float64Array;
  /** CPU reference backward in f64: dL/dx and dL/dparams from dL/dy. */
  backwardRef(
    spec: LayerSpec,
    input: number[],
    x: Float64Array,
    y: Float64Array,
    dy: Float64Array,
    rows: number,
    params: Float32Array[],
  ): { dx: Float64Array; grads: Float64Array[] };
  /** Forward dispatches (built once, replayed every step). */
  forwardOps(gpu: GpuContext, spec: LayerSpec, ctx: ForwardContext): Promise<Op[]>;
  /** Backward dispatches (built once, replayed every step). */
  backwardOps(gpu: GpuContext, spec: LayerSpec, ctx: BackwardContext): Promise<Op[]>;
  /**
   * Forward dispatches from the layer's weight compressed as CSR, on transposed activations; only
   * kinds whose first parameter is a [inputs, outputs] weight have it (dense).
   */
  sparseForwardOps?(gpu: GpuContext, spec: LayerSpec, ctx: SparseForwardContext): Promise<Op[]>;
}
