/// <reference lib="dom" />
/**
 * What the app's panels share: the GPU, the MNIST test set, the current dense model (trained
 * here or opened) and the current pruned one (a point of the pruning curve, or an opened sparse
 * file), and what each panel measured last (read by the tests in headless Chromium through
 * `globalThis.wgpruneApp`).
 *
 * @module
 */

import type { Dataset, GpuContext, Model } from "../mod.ts";

/** A model the panels can use, with what to call it. */
export interface NamedModel {
  /** Shown above its predictions, e.g. "trained MLP 784-300-100-10" or "weight k=90". */
  label: string;
  /** The model (pruned entries exactly 0). */
  model: Model;
}

/** One point of the pruning curve. */
export interface CurvePoint {
  /** Method. */
  method: string;
  /** Level asked for, percent. */
  k: number;
  /** Sparsity reached over the prunable weights (fraction). */
  sparsity: number;
  /** Test accuracy (fraction). */
  accuracy: number;
}

/** One path's evaluation of an opened model on the test set. */
export interface PathEvaluation {
  /** `dense` or `sparse`. */
  path: string;
  /** Test accuracy (fraction). */
  accuracy: number;
  /** Median milliseconds of one pass over the test set. */
  msPerPass: number;
  /** Predicted class of each test image. */
  predicted: number[];
  /** Top-two logit margin of each test image. */
  margin: number[];
}

/** What the panels measured last. */
export interface Measured {
  /** The last training run. */
  training?: { testAccuracy: number; validAccuracy: number[]; seconds: number };
  /** The last pruning curve. */
  curve?: CurvePoint[];
  /** The last evaluation of an opened model. */
  evaluation?: PathEvaluation[];
  /** The last drawn digit's probabilities, by model. */
  drawn?: { dense?: number[]; pruned?: number[] };
}

/** The app's shared state; `changed` fires when a model changes. */
export class AppState extends EventTarget {
  /** What the panels measured last. */
  readonly measured: Measured = {};
  #dense?: NamedModel;
  #pruned?: NamedModel;

  /** @param gpu the page's device; @param data MNIST, split with seed 0 */
  constructor(readonly gpu: GpuContext, readonly data: Dataset) {
    super();
  }

  /** The current dense model. */
  get dense(): NamedModel | undefined {
    return this.#dense;
  }

  /** The current pruned model. */
  get pruned(): NamedModel | undefined {
    return this.#pruned;
  }

  /** Sets the dense model (the pruned one, derived from the previous, is dropped). */
  setDense(model: NamedModel): void {
    this.#dense = model;
    this.#pruned = undefined;
    this.dispatchEvent(new Event("changed"));
  }

  /** Sets the pruned model. */
  setPruned(model: NamedModel): void {
    this.#pruned = model;
    this.dispatchEvent(new Event("changed"));
  }
}

/** Shows a status line (an error in red). */
export function showStatus(id: string, text: string, error = false): void {
  const element = document.getElementById(id)!;
  element.textContent = text;
  element.classList.toggle("error", error);
}

/** A one-line message of an error (a `UsageError`'s message is already one line). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
