/**
 * A model resident on the GPU, built from its layer list: parameters, masks, Adam moments,
 * activations and gradients as storage buffers, plus ops for one training step and for
 * evaluation, each built once from the layer kinds' declarations. An epoch only replays the same
 * ops, many steps per submit.
 *
 * Buffers: one activation buffer per layer boundary, `[rows, ...shape]` f32 (an in-place layer
 * such as ReLU shares its input's); one gradient buffer per boundary after the input; per
 * parameter its value, its 0/1 mask and, when trained, its gradient and Adam moments. Training
 * and evaluation have separate activations, loss and accuracy accumulators, so an evaluation
 * between training steps never disturbs the training figures.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createStorage, readF32, readU32, uploadStorage, writeStorage } from "../gpu/buffers.ts";
import { type Op, submitOps } from "../gpu/kernel.ts";
import { createMaskApply, createMaskCopy, createTranspose } from "../kernels/elementwise.ts";
import { transposedStride } from "../kernels/sparse_matmul.ts";
import { NM_INPUT_USAGE, NM_WINDOW_BYTES } from "../kernels/matmul_nm.ts";
import { type NmPattern, packNm } from "../kernels/nm_pack.ts";
import { csrOfColumns, uploadCsr } from "../model/csr.ts";
import type { GpuCsr, GpuNmWeight, GpuQuantizedWeight } from "../model/layers/layer.ts";
import { type PtqFormat, type PtqWeight, quantizeModelWeights } from "../quant/ptq_model.ts";
import { createAccuracy, createSoftmaxXent } from "../kernels/loss.ts";
import { type AdamConfig, createAdam } from "../kernels/adam.ts";
import { createAdvance, createGather } from "../kernels/batch.ts";
import { createCentroidGrad, createCodebookDecode } from "../kernels/weight_sharing.ts";
import { createScoreAccumulate, type ScoreMode } from "../kernels/scores.ts";
import { clusterOrder, type SharedWeights } from "../quant/weight_sharing.ts";
import { layerKind } from "../model/layers/registry.ts";
import {
  activationShapes,
  type Model,
  type ModelSpec,
  outputSize,
  type ParamInfo,
  paramInfos,
} from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { sizeOf } from "../model/tensor.ts";
import type { GpuSplit } from "./splits.ts";

/** Loss and accuracy over a split (or over the steps of an epoch). */
export interface EvalResult {
  /** Mean cross-entropy. */
  loss: number;
  /** Fraction of correct predictions. */
  accuracy: number;
}

/**
 * Options of a GPU network. A network built without `batch` evaluates only
 * (src/train/inference_network.ts builds those) and `bindTrain` refuses it; one whose every
 * parameter is `frozen` takes gradients without an optimiser (gradient scores).
 */
export interface GpuNetworkOptions {
  /** Training batch size (rows per step); absent for an inference network. */
  batch?: number;
  /** Rows per evaluation chunk. */
  evalBatch: number;
  /** Adam hyper-parameters; absent when nothing is updated. */
  adam?: AdamConfig;
  /** Parameters that are not updated (layer freezing), by name. */
  frozen?: ReadonlySet<string>;
  /**
   * Weights whose layers evaluate through the sparse kernel (CSR by output unit on transposed
   * activations, shaders/sparse_matmul_t.wgsl) instead of the dense matmul; training is always
   * dense.
   */
  sparse?: ReadonlySet<string>;
  /**
   * Weights whose dense layers evaluate through the N:M kernel (shaders/matmul_nm.wgsl), by name,
   * with the pattern each is packed with (it must follow it: `packNm` refuses it otherwise);
   * packed once on creation (as `sparse`: `setParams` does not repack). Training is always dense.
   * Not combined with `sparse` for the same weight, nor with `ptq`.
   */
  nm?: ReadonlyMap<string, NmPattern>;
  /**
   * Weight-shared tensors (src/quant/weight_sharing.ts), by name: their weights are rebuilt from
   * the codebook on creation, and training updates the codebook (the centroid gradient is the sum
   * of its weights' gradients) instead of the weights, so no weight changes cluster.
   */
  shared?: SharedWeights;
  /**
   * Post-training quantisation for evaluation: every dense and convolution weight is quantised
   * (src/quant/ptq_model.ts), or given quantised by name, and the forward products read the
   * packed weights directly.
   * Evaluation only; not combined with `sparse`.
   */
  ptq?: PtqFormat | ReadonlyMap<string, PtqWeight>;
  /**
   * Parameters whose gradient-based scores each training step accumulates, Σ |w ⊙ ∂L/∂w|
   * (src/kernels/scores.ts), read back by `readScores`.
   */
  scored?: readonly string[];
  /** What the scores sum: |w ⊙ g| (`taylor`, default) or −w ⊙ g (`movement`). */
  scoreMode?: ScoreMode;
  /**
   * What the backward pass differentiates: `xent`, the mean softmax cross-entropy of the labels
   * (default), or `sum`, the sum of every logit (SynFlow's R: the logits' gradient is all ones;
   * no loss or accuracy is counted).
   */
  objective?: "xent" | "sum";
  /**
   * Parameters trained by dynamic network surgery (Guo et al. 2016): a dense copy of each keeps
   * training underneath its mask (Adam updates every entry with the gradient of the masked
   * weights), the forward pass uses the dense copy ⊙ mask, and `getModel` reads the dense copy,
   * so a mask change can splice pruned weights back.
   */
  surgery?: ReadonlySet<string>;
}

/** A weight-shared tensor on the GPU. */
interface GpuShared {
  /** Cluster per weight [count] i32, −1 pruned. */
  clusters: GPUBuffer;
  /** Codebook [2^bits] f32. */
  codebook: GPUBuffer;
  /** Weight positions grouped by cluster [members] u32. */
  order: GPUBuffer;
  /** Cluster boundaries in `order` [2^bits + 1] u32. */
  offsets: GPUBuffer;
  /** Codebook entries. */
  entries: number;
  /** Weights in some cluster. */
  members: number;
}

/** Loss and accuracy accumulators of one use (training or evaluation). */
interface Accumulators {
  /** [last loss, loss sum] f32. */
  stats: GPUBuffer;
  /** Correct predictions u32. */
  correct: GPUBuffer;
  /** Gather cursor and step counter. */
  state: GPUBuffer;
}

/**
 * The layers' forward dispatches over activation buffers `acts` for `rows` samples, a ReLU after
 * a dense layer fused into its epilogue. For inference, dense layers with a compressed weight
 * (`csr` by weight name) run the sparse kernel: activations flow row-major [rows, …] except into
 * and between sparse layers, which read them transposed ([features, stride], stride = rows
 * rounded up to 4): a sparse layer writes its output transposed when the next layer with
 * parameters is sparse too, and a row-major input is transposed into `scratch` first. The input
 * `acts[0]` arrives transposed when `sparse.inputTransposed` (the batch gather wrote it so for a
 * sparse first layer). Dense layers with an N:M-packed weight (`nm` by weight name) read and
 * write row-major activations, as the dense matmul. The logits always end row-major. For
 * training, `saved[l]` collects what layer l's forward ops leave for its backward ops.
 */
async function forwardOps(
  gpu: GpuContext,
  spec: ModelSpec,
  infos: ParamInfo[],
  params: GPUBuffer[][],
  acts: GPUBuffer[],
  rows: number,
  sparse?: { csr: ReadonlyMap<string, GpuCsr>; scratch: GPUBuffer; inputTransposed: boolean },
  saved?: Record<string, GPUBuffer>[],
  quantized?: ReadonlyMap<string, GpuQuantizedWeight>,
  nm?: ReadonlyMap<string, GpuNmWeight>,
): Promise<Op[]> {
  const csr = sparse?.csr ?? new Map<string, GpuCsr>();
  const shapes = activationShapes(spec);
  const stride = transposedStride(rows);
  const weightOf = (l: number) => infos.find((p) => p.layer === l && p.suffix === "weight")?.name;
  const sparseOf = (l: number) => {
    const weight = weightOf(l);
    return weight ? csr.get(weight) : undefined;
  };
  const ops: Op[] = [];
  let transposed = sparse?.inputTransposed ?? false;
  for (let l = 0; l < spec.layers.length; l++) {
    const layer = spec.layers[l];
    const kind = layerKind(layer);
    const prev = spec.layers[l - 1];
    if (kind.fusable && prev && layerKind(prev).fusesRelu) continue; // done by the layer before
    const next = spec.layers[l + 1];
    const relu = kind.fusesRelu && next !== undefined && layerKind(next).fusable;
    const compressed = sparseOf(l);
    if (compressed && kind.sparseForwardOps) {
      let xt = acts[l];
      if (!transposed) {
        ops.push(
          await createTranspose(gpu, rows, sizeOf(shapes[l]), stride, {
            x: acts[l],
            xt: sparse!.scratch,
          }),
        );
        xt = sparse!.scratch;
      }
      const nextWithParams = infos.find((p) => p.layer > l)?.layer;
      transposed = nextWithParams !== undefined && sparseOf(nextWithParams) !== undefined;
      ops.push(
        ...await kind.sparseForwardOps(gpu, layer, {
          rows,
          input: shapes[l],
          xt,
          y: acts[l + 1],
          outTransposed: transposed,
          csr: compressed,
          params: params[l],
          relu,
        }),
      );
      continue;
    }
    if (transposed && !kind.inPlace) {
      throw new Error(`GpuNetwork: layer ${l} (${layer.kind}) cannot read transposed activations`);
    }
    ops.push(
      ...await kind.forwardOps(gpu, layer, {
        // An elementwise layer on transposed activations covers the padded rows too.
        rows: transposed ? stride : rows,
        input: shapes[l],
        x: acts[l],
        y: acts[l + 1],
        params: params[l],
        relu,
        saved: saved?.[l],
        quantized: weightOf(l) ? quantized?.get(weightOf(l)!) : undefined,
        nm: weightOf(l) ? nm?.get(weightOf(l)!) : undefined,
      }),
    );
  }
  return ops;
}

/** The network on the GPU, with training and evaluation ops. */
export class GpuNetwork {
  /** The architecture. */
  readonly spec: ModelSpec;
  /** Every parameter, in layer order. */
  readonly infos: ParamInfo[];
  /** Parameter buffers by name. */
  readonly params: Map<string, GPUBuffer>;
  /** Mask buffers (0/1, the parameter's shape) by name. */
  readonly masks: Map<string, GPUBuffer>;
  readonly #gpu: GpuContext;
  readonly #options: GpuNetworkOptions;
  readonly #owned: GPUBuffer[] = [];
  readonly #ops: Op[] = [];
  readonly #maskOps: Op[] = [];
  readonly #train: Accumulators;
  readonly #eval: Accumulators;
  /** Evaluation plans by split (its buffers are bound in them), then by chunk rows and offset. */
  readonly #evalPlans = new WeakMap<GpuSplit, Map<string, Op[]>>();
  readonly #evalActs: GPUBuffer[];
  readonly #evalLabels: GPUBuffer;
  readonly #evalScratch: GPUBuffer;
  readonly #csr = new Map<string, GpuCsr>();
  readonly #shared = new Map<string, GpuShared>();
  readonly #quantized = new Map<string, GpuQuantizedWeight>();
  readonly #nm = new Map<string, GpuNmWeight>();
  readonly #dense = new Map<string, GPUBuffer>();
  #trainOps: Op[] = [];
  #trainSplit: GpuSplit | undefined;
  readonly #grads = new Map<string, GPUBuffer>();
  readonly #scores = new Map<string, GPUBuffer>();

  private constructor(gpu: GpuContext, model: Model, options: GpuNetworkOptions) {
    this.#gpu = gpu;
    this.#options = options;
    this.spec = model.spec;
    this.infos = paramInfos(model.spec);
    const own = (b: GPUBuffer) => (this.#owned.push(b), b);
    this.params = new Map(this.infos.map((p) => {
      const t = model.params.get(p.name);
      if (!t) throw new Error(`GpuNetwork: the model has no parameter ${p.name}`);
      return [p.name, own(uploadStorage(gpu, t.data, p.name))];
    }));
    this.masks = new Map(this.infos.map((p) => [
      p.name,
      own(uploadStorage(gpu, new Float32Array(sizeOf(p.shape)).fill(1), `${p.name}.mask`)),
    ]));
    const accumulators = (label: string): Accumulators => ({
      stats: own(createStorage(gpu, 8, `${label}.stats`)),
      correct: own(createStorage(gpu, 4, `${label}.correct`)),
      state: own(createStorage(gpu, 8, `${label}.state`)),
    });
    this.#train = accumulators("train");
    this.#eval = accumulators("eval");
    // Room for transposed activations too: rows rounded up to a multiple of 4. The N:M kernel
    // reads its input through 64 KiB uniform windows: uniform usage and one window of slack.
    const evalRows = transposedStride(options.evalBatch);
    this.#evalActs = this.#activationBuffers(evalRows, "eval-act", (options.nm?.size ?? 0) > 0);
    this.#evalLabels = own(createStorage(gpu, options.evalBatch * 4, "eval-labels"));
    const widest = Math.max(...activationShapes(model.spec).map(sizeOf));
    this.#evalScratch = own(createStorage(gpu, evalRows * widest * 4, "eval-transposed"));
    this.#uploadCsr(model);
    this.#uploadNm(model);
    for (const name of options.surgery ?? []) {
      this.#dense.set(name, own(uploadStorage(gpu, model.params.get(name)!.data, `${name}.dense`)));
    }
    if (options.ptq) {
      if (options.sparse?.size) throw new Error("GpuNetwork: ptq and sparse do not combine");
      if (options.nm?.size) throw new Error("GpuNetwork: ptq and nm do not combine");
      const weights = typeof options.ptq === "string"
        ? quantizeModelWeights(model, options.ptq)
        : options.ptq;
      for (const [name, w] of weights) {
        this.#quantized.set(name, {
          format: w.format,
          q: own(uploadStorage(gpu, w.words, `${name}.${w.format}`)),
          scale: w.scale ? own(uploadStorage(gpu, w.scale, `${name}.scale`)) : undefined,
        });
      }
    }
    for (const [name, s] of options.shared ?? []) {
      const { order, offsets } = clusterOrder(s);
      this.#shared.set(name, {
        clusters: own(uploadStorage(gpu, s.clusters, `${name}.clusters`)),
        codebook: own(uploadStorage(gpu, s.codebook, `${name}.codebook`)),
        // A binding is never empty: one unused entry when every weight is pruned.
        order: own(uploadStorage(gpu, order.length ? order : new Uint32Array(1), `${name}.order`)),
        offsets: own(uploadStorage(gpu, offsets, `${name}.offsets`)),
        entries: s.codebook.length,
        members: order.length,
      });
    }
  }

  /**
   * Uploads a model's parameters and builds the mask ops. Call `bindTrain` before `trainSteps`.
   *
   * @example
   * ```ts
   * const net = await GpuNetwork.create(gpu, model, { batch: 128, evalBatch: 1000, adam: { lr: 1e-3 } });
   * ```
   */
  static async create(
    gpu: GpuContext,
    model: Model,
    options: GpuNetworkOptions,
  ): Promise<GpuNetwork> {
    const net = new GpuNetwork(gpu, model, options);
    for (const p of net.infos) {
      const dense = net.#dense.get(p.name);
      const w = net.params.get(p.name)!;
      const mask = net.masks.get(p.name)!;
      net.#maskOps.push(
        dense
          ? await createMaskCopy(gpu, sizeOf(p.shape), { dense, mask, w })
          : await createMaskApply(gpu, sizeOf(p.shape), { w, mask }),
      );
    }
    net.#ops.push(...net.#maskOps);
    const decode: Op[] = [];
    for (const [name, s] of net.#shared) decode.push(await net.#decodeOp(name, s));
    net.#ops.push(...decode);
    if (decode.length > 0) submitOps(gpu, decode);
    return net;
  }

  /**
   * One buffer per layer boundary for `rows` samples; in-place layers share their input's.
   * `windowed` buffers can be read by the N:M kernel too (uniform usage, one window of slack).
   */
  #activationBuffers(rows: number, label: string, windowed = false): GPUBuffer[] {
    const shapes = activationShapes(this.spec);
    const create = (i: number) =>
      this.#own(
        windowed
          ? createStorage(
            this.#gpu,
            rows * sizeOf(shapes[i]) * 4 + NM_WINDOW_BYTES,
            `${label}${i}`,
            NM_INPUT_USAGE,
          )
          : createStorage(this.#gpu, rows * sizeOf(shapes[i]) * 4, `${label}${i}`),
      );
    const acts = [create(0)];
    this.spec.layers.forEach((layer, l) => {
      acts.push(layerKind(layer).inPlace ? acts[l] : create(l + 1));
    });
    return acts;
  }

  /** Compresses the sparse-path weights of `model` and uploads them. */
  #uploadCsr(model: Model): void {
    for (const name of this.#options.sparse ?? []) {
      const t = model.params.get(name);
      if (!t || t.shape.length !== 2) throw new Error(`GpuNetwork: no [in, out] weight ${name}`);
      const csr = csrOfColumns(t.data, t.shape[0], t.shape[1]);
      this.#csr.set(name, uploadCsr(this.#gpu, csr, name));
    }
  }

  /** Packs the N:M-path weights of `model` and uploads them. */
  #uploadNm(model: Model): void {
    for (const [name, pattern] of this.#options.nm ?? []) {
      const t = model.params.get(name);
      const info = this.infos.find((p) => p.name === name);
      const forwards = info ? layerKind(this.spec.layers[info.layer]).compressedForwards : [];
      if (!t || !info || t.shape.length !== 2 || !forwards?.includes("nm")) {
        throw new Error(`GpuNetwork: no dense [in, out] weight ${name} for the N:M kernel`);
      }
      if (this.#options.sparse?.has(name)) {
        throw new Error(`GpuNetwork: ${name} cannot run both the sparse and the N:M kernel`);
      }
      const packed = packNm(t.data, t.shape[0], t.shape[1], pattern);
      this.#nm.set(name, {
        pattern: packed.pattern,
        values: this.#own(uploadStorage(this.#gpu, packed.values, `${name}.nm_values`)),
        offsets: this.#own(uploadStorage(this.#gpu, packed.offsets, `${name}.nm_offsets`)),
      });
    }
  }

  /** Rebuilds a weight-shared parameter from its codebook. */
  #decodeOp(name: string, s: GpuShared): Promise<Op> {
    const count = sizeOf(this.infos.find((p) => p.name === name)!.shape);
    return createCodebookDecode(this.#gpu, { count, clusters: s.entries }, {
      clusters: s.clusters,
      codebook: s.codebook,
      w: this.params.get(name)!,
    });
  }

  #own(b: GPUBuffer): GPUBuffer {
    this.#owned.push(b);
    return b;
  }

  /** Parameter buffers of each layer, in its declaration order. */
  #layerParams(source: Map<string, GPUBuffer>): GPUBuffer[][] {
    return this.spec.layers.map((_, l) =>
      this.infos.filter((p) => p.layer === l).map((p) => source.get(p.name)!)
    );
  }

  /** Builds the training-step ops over a split (fresh Adam moments and step counter). */
  async bindTrain(split: GpuSplit): Promise<void> {
    const gpu = this.#gpu;
    const { batch } = this.#options;
    if (batch === undefined) {
      throw new Error("GpuNetwork: built for inference (no batch size); it cannot train");
    }
    // Every parameter frozen (gradient scores only): no optimiser is needed.
    const adam = this.#options.adam ?? { lr: 0 };
    if (!this.#options.adam && this.infos.some((p) => !this.#options.frozen?.has(p.name))) {
      throw new Error("GpuNetwork: training updates parameters, and no optimiser (adam) was given");
    }
    if (this.#options.ptq) {
      throw new Error("GpuNetwork: a post-training-quantised network is for evaluation only");
    }
    const spec = this.spec;
    const shapes = activationShapes(spec);
    const L = spec.layers.length;
    this.#trainSplit = split;
    const acts = this.#activationBuffers(batch, "act");
    const labels = this.#own(createStorage(gpu, batch * 4, "labels"));
    // dL/d(activation at boundary i), i ≥ 1; a view layer's (flatten) is its input's buffer.
    const dActs: (GPUBuffer | undefined)[] = [undefined];
    for (let i = 1; i < shapes.length; i++) {
      const shared = layerKind(spec.layers[i - 1]).view ? dActs[i - 1] : undefined;
      dActs.push(
        shared ?? this.#own(createStorage(gpu, batch * sizeOf(shapes[i]) * 4, `grad${i}`)),
      );
    }
    for (const p of this.infos) {
      this.#grads.set(p.name, this.#own(createStorage(gpu, sizeOf(p.shape) * 4, `${p.name}.grad`)));
    }
    const params = this.#layerParams(this.params);
    const grads = this.#layerParams(this.#grads);
    // What each layer's forward ops leave for its backward ops (owned by the forward ops).
    const saved = spec.layers.map(() => ({}));
    const ops: Op[] = [
      await createGather(gpu, batch, split.features, {
        pixels: split.pixels,
        labelsAll: split.labels,
        order: split.order,
        state: this.#train.state,
        x: acts[0],
        y: labels,
      }),
      ...await forwardOps(gpu, spec, this.infos, params, acts, batch, undefined, saved),
    ];
    if (this.#options.objective === "sum") {
      // ∂(Σ logits)/∂logits = 1: written once, never overwritten (no backward op writes dy).
      writeStorage(gpu, dActs[L]!, new Float32Array(batch * outputSize(spec)).fill(1));
    } else {
      ops.push(
        await createSoftmaxXent(gpu, batch, outputSize(spec), {
          logits: acts[L],
          labels,
          grad: dActs[L],
          stats: this.#train.stats,
        }),
        await createAccuracy(gpu, batch, outputSize(spec), {
          logits: acts[L],
          labels,
          correct: this.#train.correct,
        }),
      );
    }
    for (let l = L - 1; l >= 0; l--) {
      const layer = spec.layers[l];
      // The input gradient is needed only if some earlier layer has parameters.
      const needsDx = this.infos.some((p) => p.layer < l);
      ops.push(
        ...await layerKind(layer).backwardOps(gpu, layer, {
          rows: batch,
          input: shapes[l],
          x: acts[l],
          y: acts[l + 1],
          params: params[l],
          dy: dActs[l + 1]!,
          dx: needsDx ? dActs[l] : undefined,
          grads: grads[l],
          saved: saved[l],
        }),
      );
    }
    for (const name of this.#options.scored ?? []) {
      const count = sizeOf(this.infos.find((p) => p.name === name)!.shape);
      const score = this.#own(createStorage(gpu, count * 4, `${name}.score`));
      this.#scores.set(name, score);
      ops.push(
        await createScoreAccumulate(gpu, count, {
          w: this.params.get(name)!,
          grad: this.#grads.get(name)!,
          score,
        }, this.#options.scoreMode),
      );
    }
    for (const p of this.infos) {
      if (this.#options.frozen?.has(p.name)) continue;
      const shared = this.#shared.get(p.name);
      if (shared) {
        // Trained weight sharing: Σ of the cluster's gradients → Adam on the codebook → rebuild.
        const k = shared.entries;
        const cgrad = this.#own(createStorage(gpu, k * 4, `${p.name}.codebook.grad`));
        ops.push(
          await createCentroidGrad(gpu, {
            count: sizeOf(p.shape),
            clusters: k,
            members: shared.members,
          }, {
            grad: this.#grads.get(p.name)!,
            order: shared.order,
            offsets: shared.offsets,
            cgrad,
          }),
          await createAdam(gpu, k, adam, {
            w: shared.codebook,
            grad: cgrad,
            m: this.#own(createStorage(gpu, k * 4, `${p.name}.codebook.m`)),
            v: this.#own(createStorage(gpu, k * 4, `${p.name}.codebook.v`)),
            mask: this.#own(uploadStorage(gpu, new Float32Array(k).fill(1), `${p.name}.cmask`)),
            state: this.#train.state,
          }),
          await this.#decodeOp(p.name, shared),
        );
        continue;
      }
      const n = sizeOf(p.shape);
      const dense = this.#dense.get(p.name);
      ops.push(
        await createAdam(gpu, n, adam, {
          // Surgery: every entry of the dense copy learns, pruned ones included.
          w: dense ?? this.params.get(p.name)!,
          grad: this.#grads.get(p.name)!,
          m: this.#own(createStorage(gpu, n * 4, `${p.name}.m`)),
          v: this.#own(createStorage(gpu, n * 4, `${p.name}.v`)),
          mask: dense
            ? this.#own(uploadStorage(gpu, new Float32Array(n).fill(1), `${p.name}.all`))
            : this.masks.get(p.name)!,
          state: this.#train.state,
        }),
      );
      if (dense) {
        ops.push(
          await createMaskCopy(gpu, n, {
            dense,
            mask: this.masks.get(p.name)!,
            w: this.params.get(p.name)!,
          }),
        );
      }
    }
    ops.push(await createAdvance(gpu, this.#train.state));
    this.#trainOps = ops;
    this.#ops.push(...ops);
  }

  /** Dispatches encoded per training step (forward, backward, Adam, cursor). */
  get dispatchesPerStep(): number {
    return this.#trainOps.reduce((sum, op) => sum + op.dispatches, 0);
  }

  /** Number of full batches of the bound training split. */
  get stepsPerEpoch(): number {
    return Math.floor((this.#trainSplit?.count ?? 0) / (this.#options.batch ?? 1));
  }

  /** Starts an epoch: uploads the sample order and zeroes cursor, loss and accuracy sums. */
  startEpoch(order: Uint32Array): void {
    const gpu = this.#gpu;
    if (!this.#trainSplit) throw new Error("GpuNetwork.startEpoch: bindTrain was not called");
    writeStorage(gpu, this.#trainSplit.order, order);
    writeStorage(gpu, this.#train.state, new Uint32Array([0]), 4);
    writeStorage(gpu, this.#train.stats, new Float32Array(2));
    writeStorage(gpu, this.#train.correct, new Uint32Array(1));
  }

  /** Encodes `steps` training steps into one submit (no readback). */
  trainSteps(steps: number): void {
    submitOps(this.#gpu, this.#trainOps, steps);
  }

  /** Reads the running loss and accuracy over the `steps` taken since `startEpoch`. */
  async trainMetrics(steps: number): Promise<EvalResult & { lastLoss: number }> {
    const [stats, correct] = await Promise.all([
      readF32(this.#gpu, this.#train.stats, 2),
      readU32(this.#gpu, this.#train.correct, 1),
    ]);
    const samples = Math.max(1, steps * (this.#options.batch ?? 1));
    return { loss: stats[1] / samples, accuracy: correct[0] / samples, lastLoss: stats[0] };
  }

  /** Waits for submitted work (keeps the queue short between chunks of steps). */
  async sync(): Promise<void> {
    await this.#gpu.device.queue.onSubmittedWorkDone();
  }

  async #evalPlan(split: GpuSplit, rows: number, offset: number): Promise<Op[]> {
    const key = `${rows}:${offset}`;
    const plans = this.#evalPlans.get(split) ?? new Map<string, Op[]>();
    this.#evalPlans.set(split, plans);
    let plan = plans.get(key);
    if (plan) return plan;
    const gpu = this.#gpu;
    const acts = this.#evalActs;
    const L = this.spec.layers.length;
    // A sparse first layer reads the batch transposed: the gather writes it so directly.
    const firstWeight = this.infos.find((p) => p.suffix === "weight");
    const inputTransposed = firstWeight?.layer === 0 && this.#csr.has(firstWeight.name) &&
      layerKind(this.spec.layers[firstWeight.layer]).sparseForwardOps !== undefined;
    plan = [
      await createGather(
        gpu,
        rows,
        split.features,
        {
          pixels: split.pixels,
          labelsAll: split.labels,
          order: split.order,
          state: this.#eval.state,
          x: acts[0],
          y: this.#evalLabels,
        },
        offset,
        inputTransposed ? transposedStride(rows) : undefined,
      ),
      ...await forwardOps(
        gpu,
        this.spec,
        this.infos,
        this.#layerParams(this.params),
        acts,
        rows,
        { csr: this.#csr, scratch: this.#evalScratch, inputTransposed },
        undefined,
        this.#quantized,
        this.#nm,
      ),
      await createSoftmaxXent(gpu, rows, outputSize(this.spec), {
        logits: acts[L],
        labels: this.#evalLabels,
        stats: this.#eval.stats,
      }),
      await createAccuracy(gpu, rows, outputSize(this.spec), {
        logits: acts[L],
        labels: this.#evalLabels,
        correct: this.#eval.correct,
      }),
      await createAdvance(gpu, this.#eval.state),
    ];
    plans.set(key, plan);
    this.#ops.push(...plan);
    return plan;
  }

  /**
   * How a split is evaluated: full chunks of the evaluation batch from offset 0, then the tail
   * chunk from offset full·chunk. Each run starts its cursor at 0 (reset by the caller).
   */
  #chunkRuns(split: GpuSplit): { rows: number; offset: number; passes: number }[] {
    const chunk = Math.min(this.#options.evalBatch, split.count);
    const full = Math.floor(split.count / chunk);
    const rest = split.count - full * chunk;
    const runs = [{ rows: chunk, offset: 0, passes: full }];
    if (rest > 0) runs.push({ rows: rest, offset: full * chunk, passes: 1 });
    return runs;
  }

  /**
   * Evaluates loss and accuracy over a whole split (in evaluation chunks; one readback).
   * The split's order must be the identity (as `uploadSplit` leaves it).
   */
  async evaluate(split: GpuSplit): Promise<EvalResult> {
    const gpu = this.#gpu;
    writeStorage(gpu, this.#eval.stats, new Float32Array(2));
    writeStorage(gpu, this.#eval.correct, new Uint32Array(1));
    for (const { rows, offset, passes } of this.#chunkRuns(split)) {
      writeStorage(gpu, this.#eval.state, new Uint32Array(2));
      submitOps(gpu, await this.#evalPlan(split, rows, offset), passes);
    }
    const [stats, correct] = await Promise.all([
      readF32(gpu, this.#eval.stats, 2),
      readU32(gpu, this.#eval.correct, 1),
    ]);
    return { loss: stats[1] / split.count, accuracy: correct[0] / split.count };
  }

  /**
   * Logits [count, classes] of every sample of a split (row-major), evaluated chunk by chunk as
   * `evaluate` does, each chunk's logits copied aside after its pass; one readback. The split's
   * order must be the identity.
   */
  async predict(split: GpuSplit): Promise<Float32Array> {
    const gpu = this.#gpu;
    const classes = outputSize(this.spec);
    const logits = this.#evalActs[this.spec.layers.length];
    const out = createStorage(gpu, split.count * classes * 4, "predict.logits");
    try {
      writeStorage(gpu, this.#eval.stats, new Float32Array(2));
      writeStorage(gpu, this.#eval.correct, new Uint32Array(1));
      for (const { rows, offset, passes } of this.#chunkRuns(split)) {
        writeStorage(gpu, this.#eval.state, new Uint32Array(2));
        const plan = await this.#evalPlan(split, rows, offset);
        const encoder = gpu.device.createCommandEncoder();
        for (let c = 0; c < passes; c++) {
          const pass = encoder.beginComputePass();
          for (const op of plan) op.encode(pass);
          pass.end();
          const at = (offset + c * rows) * classes * 4;
          encoder.copyBufferToBuffer(logits, 0, out, at, rows * classes * 4);
        }
        gpu.device.queue.submit([encoder.finish()]);
      }
      return await readF32(gpu, out, split.count * classes);
    } finally {
      out.destroy();
    }
  }

  /**
   * Logits [rows, classes] of the last evaluation chunk (the whole split when it fits in one
   * evaluation batch); for tests that compare inference paths prediction by prediction.
   */
  async lastLogits(rows: number): Promise<Float32Array> {
    const L = this.spec.layers.length;
    return await readF32(this.#gpu, this.#evalActs[L], rows * outputSize(this.spec));
  }

  /**
   * Uploads new values of every parameter (same spec), e.g. to evaluate another variant on the
   * same buffers and ops; masks already set are not applied again until `setMasks`. A surgery
   * parameter's values go to its dense copy.
   */
  setParams(model: Model): void {
    for (const p of this.infos) {
      const target = this.#dense.get(p.name) ?? this.params.get(p.name)!;
      writeStorage(this.#gpu, target, model.params.get(p.name)!.data);
    }
  }

  /**
   * Uploads masks (by parameter name; parameters without one are kept whole) and applies them to
   * the parameters.
   */
  setMasks(masks: Masks): void {
    for (const p of this.infos) {
      const mask = masks.get(p.name) ?? new Float32Array(sizeOf(p.shape)).fill(1);
      writeStorage(this.#gpu, this.masks.get(p.name)!, mask);
    }
    submitOps(this.#gpu, this.#maskOps);
  }

  /**
   * Reads the parameters back to the CPU (one readback per tensor); a surgery parameter's dense
   * copy.
   */
  async getModel(): Promise<Model> {
    // Surgery's parameters are their dense copies (the mask is applied by whoever reads them).
    const values = await Promise.all(
      this.infos.map((p) =>
        readF32(
          this.#gpu,
          this.#dense.get(p.name) ?? this.params.get(p.name)!,
          sizeOf(p.shape),
        )
      ),
    );
    return {
      spec: this.spec,
      params: new Map(this.infos.map((p, i) => [p.name, { shape: [...p.shape], data: values[i] }])),
    };
  }

  /**
   * Reads the gradients of the last training step back, by parameter name; for tests that check
   * the GPU backward pass against the CPU reference.
   */
  async readGradients(): Promise<Map<string, Float32Array>> {
    const values = await Promise.all(
      this.infos.map((p) => readF32(this.#gpu, this.#grads.get(p.name)!, sizeOf(p.shape))),
    );
    return new Map(this.infos.map((p, i) => [p.name, values[i]]));
  }

  /** Sets every accumulated score back to 0. */
  resetScores(): void {
    for (const [name, buffer] of this.#scores) {
      const count = sizeOf(this.infos.find((p) => p.name === name)!.shape);
      writeStorage(this.#gpu, buffer, new Float32Array(count));
    }
  }

  /** The scores accumulated since `bindTrain` (see `GpuNetworkOptions.scored`), by name. */
  async readScores(): Promise<Map<string, Float32Array>> {
    const names = [...this.#scores.keys()];
    const values = await Promise.all(
      names.map((name) => {
        const count = sizeOf(this.infos.find((p) => p.name === name)!.shape);
        return readF32(this.#gpu, this.#scores.get(name)!, count);
      }),
    );
    return new Map(names.map((name, i) => [name, values[i]]));
  }

  /** Frees every buffer this network created. */
  destroy(): void {
    for (const op of this.#ops) op.destroy();
    for (const b of this.#owned) b.destroy();
    for (const c of this.#csr.values()) [c.indptr, c.indices, c.values].forEach((b) => b.destroy());
  }
}
