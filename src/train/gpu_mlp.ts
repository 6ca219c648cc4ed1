/**
 * The MLP resident on the GPU: parameters, masks, Adam moments, activations and gradients as
 * storage buffers, plus pre-built ops for one training step and for evaluation. Built once per
 * run; an epoch then only encodes the same ops again and again, many steps per submit.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createStorage, readF32, readU32, uploadStorage, writeStorage } from "../gpu/buffers.ts";
import type { Op } from "../gpu/kernel.ts";
import { createMatmul } from "../kernels/matmul.ts";
import { createMaskApply, createReluBackward } from "../kernels/elementwise.ts";
import { createAccuracy, createSoftmaxXent } from "../kernels/loss.ts";
import { type AdamConfig, createAdam } from "../kernels/adam.ts";
import { createAdvance, createBiasGrad, createGather } from "../kernels/batch.ts";
import type { MlpParams } from "../model/mlp.ts";
import type { Split } from "../data/datasets.ts";

/** A dataset split uploaded once: u8 pixels packed 4 per u32, labels as u32. */
export interface GpuSplit {
  /** Samples in the split. */
  count: number;
  /** Pixels per sample. */
  features: number;
  /** Packed pixels. */
  pixels: GPUBuffer;
  /** Labels [count] u32. */
  labels: GPUBuffer;
  /** Sample order [count] u32 (shuffled per epoch for training, identity for evaluation). */
  order: GPUBuffer;
}

/** Uploads a split; the order starts as the identity. */
export function uploadSplit(gpu: GpuContext, split: Split, label: string): GpuSplit {
  return {
    count: split.count,
    features: split.features,
    pixels: uploadStorage(gpu, split.pixels, `${label}.pixels`),
    labels: uploadStorage(gpu, Uint32Array.from(split.labels), `${label}.labels`),
    order: uploadStorage(
      gpu,
      Uint32Array.from({ length: split.count }, (_, i) => i),
      `${label}.order`,
    ),
  };
}

/** Frees a split's buffers. */
export function destroySplit(split: GpuSplit): void {
  split.pixels.destroy();
  split.labels.destroy();
  split.order.destroy();
}

/** Loss and accuracy over a split (or over the steps of an epoch). */
export interface EvalResult {
  /** Mean cross-entropy. */
  loss: number;
  /** Fraction of correct predictions. */
  accuracy: number;
}

/** Options of a GPU network. */
export interface GpuMlpOptions {
  /** Training batch size (rows per step). */
  batch: number;
  /** Rows per evaluation chunk. */
  evalBatch: number;
  /** Adam hyper-parameters. */
  adam: AdamConfig;
  /** Layers whose parameters are not updated (layer freezing). */
  frozen?: boolean[];
}

interface EvalPlan {
  rows: number;
  ops: Op[];
}

/** The network on the GPU, with training and evaluation ops. */
export class GpuMlp {
  /** Layer widths. */
  readonly sizes: number[];
  /** W_l buffers [in, out]. */
  readonly weights: GPUBuffer[];
  /** b_l buffers [out], or empty. */
  readonly biases: GPUBuffer[];
  /** Mask buffers [in, out] of 0/1 per layer. */
  readonly masks: GPUBuffer[];
  readonly #gpu: GpuContext;
  readonly #options: GpuMlpOptions;
  readonly #owned: GPUBuffer[] = [];
  readonly #ops: Op[] = [];
  #trainOps: Op[] = [];
  #maskOps: Op[] = [];
  readonly #state: GPUBuffer;
  readonly #evalState: GPUBuffer;
  readonly #stats: GPUBuffer;
  readonly #correct: GPUBuffer;
  readonly #evalPlans = new Map<string, EvalPlan>();
  readonly #evalActs: GPUBuffer[];
  readonly #evalLabels: GPUBuffer;
  #trainSplit: GpuSplit | undefined;
  #trainActs: GPUBuffer[] = [];
  #trainLabels: GPUBuffer | undefined;
  #gradW: GPUBuffer[] = [];
  #gradB: GPUBuffer[] = [];

  private constructor(gpu: GpuContext, params: MlpParams, options: GpuMlpOptions) {
    this.#gpu = gpu;
    this.#options = options;
    this.sizes = [...params.sizes];
    const own = (b: GPUBuffer) => (this.#owned.push(b), b);
    this.weights = params.weights.map((w, l) => own(uploadStorage(gpu, w, `W${l}`)));
    this.biases = params.biases
      ? params.biases.map((b, l) => own(uploadStorage(gpu, b, `b${l}`)))
      : [];
    this.masks = params.weights.map((w, l) =>
      own(uploadStorage(gpu, new Float32Array(w.length).fill(1), `mask${l}`))
    );
    this.#state = own(createStorage(gpu, 8, "state"));
    this.#evalState = own(createStorage(gpu, 8, "eval-state"));
    this.#stats = own(createStorage(gpu, 8, "stats"));
    this.#correct = own(createStorage(gpu, 4, "correct"));
    this.#evalActs = this.sizes.map((n, l) =>
      own(createStorage(gpu, options.evalBatch * n * 4, `eval-act${l}`))
    );
    this.#evalLabels = own(createStorage(gpu, options.evalBatch * 4, "eval-labels"));
  }

  /**
   * Uploads parameters and builds the ops. Call `bindTrain` before `trainSteps`.
   *
   * @example
   * ```ts
   * const net = await GpuMlp.create(gpu, params, { batch: 128, evalBatch: 1000, adam: { lr: 1e-3 } });
   * ```
   */
  static async create(
    gpu: GpuContext,
    params: MlpParams,
    options: GpuMlpOptions,
  ): Promise<GpuMlp> {
    const net = new GpuMlp(gpu, params, options);
    net.#maskOps = await Promise.all(
      net.weights.map((w, l) =>
        createMaskApply(gpu, params.weights[l].length, { w, mask: net.masks[l] })
      ),
    );
    net.#ops.push(...net.#maskOps);
    return net;
  }

  /** Number of weight layers. */
  get layers(): number {
    return this.sizes.length - 1;
  }

  /** Builds the training-step ops over a split (resets Adam's moments and step counter). */
  async bindTrain(split: GpuSplit): Promise<void> {
    const gpu = this.#gpu;
    const { batch, adam } = this.#options;
    const L = this.layers;
    const own = (b: GPUBuffer) => (this.#owned.push(b), b);
    this.#trainSplit = split;
    this.#trainActs = this.sizes.map((n, l) => own(createStorage(gpu, batch * n * 4, `act${l}`)));
    this.#trainLabels = own(createStorage(gpu, batch * 4, "labels"));
    const dz = this.sizes.slice(1).map((n, l) => own(createStorage(gpu, batch * n * 4, `dz${l}`)));
    const dx = own(createStorage(gpu, batch * Math.max(...this.sizes) * 4, "dx"));
    const gradW = this.weights.map((_, l) =>
      own(createStorage(gpu, this.sizes[l] * this.sizes[l + 1] * 4, `dW${l}`))
    );
    const gradB = this.biases.map((_, l) =>
      own(createStorage(gpu, this.sizes[l + 1] * 4, `db${l}`))
    );
    this.#gradW = gradW;
    this.#gradB = gradB;
    const ones = own(uploadStorage(
      gpu,
      new Float32Array(Math.max(...this.sizes)).fill(1),
      "bias-mask",
    ));
    const acts = this.#trainActs;
    const ops: Op[] = [];
    ops.push(
      await createGather(gpu, batch, split.features, {
        pixels: split.pixels,
        labelsAll: split.labels,
        order: split.order,
        state: this.#state,
        x: acts[0],
        y: this.#trainLabels,
      }),
    );
    ops.push(...await this.#forwardOps(acts, batch));
    ops.push(
      await createSoftmaxXent(gpu, batch, this.sizes[L], {
        logits: acts[L],
        labels: this.#trainLabels,
        grad: dz[L - 1],
        stats: this.#stats,
      }),
      await createAccuracy(gpu, batch, this.sizes[L], {
        logits: acts[L],
        labels: this.#trainLabels,
        correct: this.#correct,
      }),
    );
    for (let l = L - 1; l >= 0; l--) {
      const [inp, out] = [this.sizes[l], this.sizes[l + 1]];
      // dW_l[in, out] = act_lᵀ · dz_l, with act_l stored [batch, in].
      ops.push(
        await createMatmul(gpu, { m: inp, n: out, k: batch, transA: true }, {
          a: acts[l],
          b: dz[l],
          c: gradW[l],
        }),
      );
      if (this.biases.length > 0) {
        ops.push(await createBiasGrad(gpu, batch, out, { dz: dz[l], db: gradB[l] }));
      }
      if (l > 0) {
        // dx[batch, in] = dz_l · W_lᵀ, with W_l stored [in, out]; then through the ReLU.
        ops.push(
          await createMatmul(gpu, { m: batch, n: inp, k: out, transB: true }, {
            a: dz[l],
            b: this.weights[l],
            c: dx,
          }),
          await createReluBackward(gpu, batch * inp, { dy: dx, act: acts[l], dx: dz[l - 1] }),
        );
      }
    }
    for (let l = 0; l < L; l++) {
      if (this.#options.frozen?.[l]) continue;
      const m = own(createStorage(gpu, this.sizes[l] * this.sizes[l + 1] * 4, `m${l}`));
      const v = own(createStorage(gpu, this.sizes[l] * this.sizes[l + 1] * 4, `v${l}`));
      ops.push(
        await createAdam(gpu, this.sizes[l] * this.sizes[l + 1], adam, {
          w: this.weights[l],
          grad: gradW[l],
          m,
          v,
          mask: this.masks[l],
          state: this.#state,
        }),
      );
      if (this.biases.length > 0) {
        const n = this.sizes[l + 1];
        ops.push(
          await createAdam(gpu, n, adam, {
            w: this.biases[l],
            grad: gradB[l],
            m: own(createStorage(gpu, n * 4, `mb${l}`)),
            v: own(createStorage(gpu, n * 4, `vb${l}`)),
            mask: ones,
            state: this.#state,
          }),
        );
      }
    }
    ops.push(await createAdvance(gpu, this.#state));
    this.#trainOps = ops;
    this.#ops.push(...ops);
  }

  async #forwardOps(acts: GPUBuffer[], rows: number): Promise<Op[]> {
    const ops: Op[] = [];
    for (let l = 0; l < this.layers; l++) {
      ops.push(
        await createMatmul(this.#gpu, {
          m: rows,
          n: this.sizes[l + 1],
          k: this.sizes[l],
          relu: l < this.layers - 1,
        }, {
          a: acts[l],
          b: this.weights[l],
          c: acts[l + 1],
          bias: this.biases[l],
        }),
      );
    }
    return ops;
  }

  /** Number of full batches of the bound training split. */
  get stepsPerEpoch(): number {
    return Math.floor((this.#trainSplit?.count ?? 0) / this.#options.batch);
  }

  /** Starts an epoch: uploads the sample order and zeroes cursor, loss and accuracy sums. */
  startEpoch(order: Uint32Array): void {
    const gpu = this.#gpu;
    if (!this.#trainSplit) throw new Error("GpuMlp.startEpoch: bindTrain was not called");
    writeStorage(gpu, this.#trainSplit.order, order);
    writeStorage(gpu, this.#state, new Uint32Array([0]), 4);
    writeStorage(gpu, this.#stats, new Float32Array(2));
    writeStorage(gpu, this.#correct, new Uint32Array(1));
  }

  /** Encodes `steps` training steps into one submit (no readback). */
  trainSteps(steps: number): void {
    const encoder = this.#gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let s = 0; s < steps; s++) for (const op of this.#trainOps) op.encode(pass);
    pass.end();
    this.#gpu.device.queue.submit([encoder.finish()]);
  }

  /** Reads the running loss and accuracy over the `steps` taken since `startEpoch`. */
  async trainMetrics(steps: number): Promise<EvalResult & { lastLoss: number }> {
    const [stats, correct] = await Promise.all([
      readF32(this.#gpu, this.#stats, 2),
      readU32(this.#gpu, this.#correct, 1),
    ]);
    const samples = Math.max(1, steps * this.#options.batch);
    return { loss: stats[1] / samples, accuracy: correct[0] / samples, lastLoss: stats[0] };
  }

  /** Waits for submitted work (keeps the queue short between chunks of steps). */
  async sync(): Promise<void> {
    await this.#gpu.device.queue.onSubmittedWorkDone();
  }

  async #evalPlan(split: GpuSplit, rows: number, offset: number): Promise<EvalPlan> {
    const key = `${split.pixels.label}:${rows}:${offset}`;
    let plan = this.#evalPlans.get(key);
    if (plan) return plan;
    const gpu = this.#gpu;
    const L = this.layers;
    const acts = this.#evalActs;
    const ops: Op[] = [
      await createGather(gpu, rows, split.features, {
        pixels: split.pixels,
        labelsAll: split.labels,
        order: split.order,
        state: this.#evalState,
        x: acts[0],
        y: this.#evalLabels,
      }, offset),
      ...await this.#forwardOps(acts, rows),
      await createSoftmaxXent(gpu, rows, this.sizes[L], {
        logits: acts[L],
        labels: this.#evalLabels,
        stats: this.#stats,
      }),
      await createAccuracy(gpu, rows, this.sizes[L], {
        logits: acts[L],
        labels: this.#evalLabels,
        correct: this.#correct,
      }),
      await createAdvance(gpu, this.#evalState),
    ];
    plan = { rows, ops };
    this.#evalPlans.set(key, plan);
    this.#ops.push(...ops);
    return plan;
  }

  /**
   * Evaluates loss and accuracy over a whole split (in evaluation chunks; one readback).
   * The split's order must be the identity (as `uploadSplit` leaves it).
   */
  async evaluate(split: GpuSplit): Promise<EvalResult> {
    const gpu = this.#gpu;
    const chunk = Math.min(this.#options.evalBatch, split.count);
    const full = Math.floor(split.count / chunk);
    const rest = split.count - full * chunk;
    writeStorage(gpu, this.#evalState, new Uint32Array(2));
    writeStorage(gpu, this.#stats, new Float32Array(2));
    writeStorage(gpu, this.#correct, new Uint32Array(1));
    const main = await this.#evalPlan(split, chunk, 0);
    const encoder = gpu.device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    for (let i = 0; i < full; i++) for (const op of main.ops) op.encode(pass);
    pass.end();
    if (rest > 0) {
      // The tail chunk reads from offset full·chunk with its cursor reset to 0.
      encoder.clearBuffer(this.#evalState);
      const tail = await this.#evalPlan(split, rest, full * chunk);
      pass = encoder.beginComputePass();
      for (const op of tail.ops) op.encode(pass);
      pass.end();
    }
    gpu.device.queue.submit([encoder.finish()]);
    const [stats, correct] = await Promise.all([
      readF32(gpu, this.#stats, 2),
      readU32(gpu, this.#correct, 1),
    ]);
    return { loss: stats[1] / split.count, accuracy: correct[0] / split.count };
  }

  /** Times `repeats` forward passes over a split; returns the median in milliseconds. */
  async timeInference(split: GpuSplit, repeats: number): Promise<number> {
    await this.evaluate(split); // warm-up: builds the plans
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await this.evaluate(split);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }

  /** Uploads new masks (one [in, out] 0/1 array per layer) and applies them to the weights. */
  setMasks(masks: Float32Array[]): void {
    masks.forEach((m, l) => writeStorage(this.#gpu, this.masks[l], m));
    const encoder = this.#gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const op of this.#maskOps) op.encode(pass);
    pass.end();
    this.#gpu.device.queue.submit([encoder.finish()]);
  }

  /** Overwrites the parameters (same shapes). */
  setParams(params: MlpParams): void {
    params.weights.forEach((w, l) => writeStorage(this.#gpu, this.weights[l], w));
    params.biases?.forEach((b, l) => writeStorage(this.#gpu, this.biases[l], b));
  }

  /** Reads the parameters back to the CPU (one readback per tensor). */
  async getParams(): Promise<MlpParams> {
    const weights = await Promise.all(
      this.weights.map((w, l) => readF32(this.#gpu, w, this.sizes[l] * this.sizes[l + 1])),
    );
    const biases = this.biases.length > 0
      ? await Promise.all(this.biases.map((b, l) => readF32(this.#gpu, b, this.sizes[l + 1])))
      : null;
    return { sizes: [...this.sizes], weights, biases };
  }

  /**
   * Reads the gradients of the last training step (dW_l [in, out], db_l [out]) back; for tests
   * that check the GPU backward pass against the CPU reference.
   */
  async readGradients(): Promise<{ weights: Float32Array[]; biases: Float32Array[] }> {
    const weights = await Promise.all(
      this.#gradW.map((g, l) => readF32(this.#gpu, g, this.sizes[l] * this.sizes[l + 1])),
    );
    const biases = await Promise.all(
      this.#gradB.map((g, l) => readF32(this.#gpu, g, this.sizes[l + 1])),
    );
    return { weights, biases };
  }

  /** Frees every buffer this network created. */
  destroy(): void {
    for (const op of this.#ops) op.destroy();
    for (const b of this.#owned) b.destroy();
  }
}
