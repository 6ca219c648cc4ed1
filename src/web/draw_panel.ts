/// <reference lib="dom" />
/**
 * The drawing panel: a digit drawn on the canvas becomes an MNIST-style 28×28 image
 * (src/web/digit.ts), and the dense and the pruned model each show their ten class
 * probabilities.
 *
 * @module
 */

import { type Inference, openInference } from "../mod.ts";
import { toMnist } from "./digit.ts";
import { type AppState, messageOf, type NamedModel } from "./state.ts";

/** Pen width on the 280×280 canvas (about two MNIST pixels). */
const PEN = 22;

/** An inference kept for the model it was made for. */
interface Kept {
  model: NamedModel;
  inference: Promise<Inference>;
}

/** Wires the drawing panel. */
export function drawPanel(state: AppState): void {
  const pad = document.getElementById("pad") as HTMLCanvasElement;
  const ctx = pad.getContext("2d", { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  const kept: Record<"dense" | "pruned", Kept | undefined> = {
    dense: undefined,
    pruned: undefined,
  };
  const inferenceOf = (which: "dense" | "pruned"): Promise<Inference> | undefined => {
    const model = state[which];
    if (!model) return undefined;
    if (kept[which]?.model !== model) {
      kept[which]?.inference.then((i) => i.destroy());
      kept[which] = { model, inference: openInference(state.gpu, model.model) };
    }
    return kept[which]!.inference;
  };
  const predict = async () => {
    const rgba = ctx.getImageData(0, 0, pad.width, pad.height).data;
    const ink = new Uint8Array(pad.width * pad.height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
    const image = toMnist(ink, pad.width, pad.height);
    state.measured.drawn = {};
    for (const which of ["dense", "pruned"] as const) {
      const title = document.getElementById(`${which}-title`)!;
      const bars = document.getElementById(`${which}-bars`)!;
      const inference = inferenceOf(which);
      title.textContent = state[which]
        ? `${which === "dense" ? "Dense" : "Pruned"}: ${state[which]!.label}`
        : `${which === "dense" ? "Dense" : "Pruned"} model: none yet`;
      if (!inference) {
        bars.replaceChildren();
        continue;
      }
      try {
        const p = await (await inference).classify(image);
        state.measured.drawn[which] = [...p];
        showBars(bars, p);
      } catch (err) {
        bars.textContent = messageOf(err);
      }
    }
  };
  wirePen(pad, ctx, predict);
  document.getElementById("clear-button")!.addEventListener("click", () => {
    clear();
    state.measured.drawn = undefined;
    for (const which of ["dense", "pruned"]) {
      document.getElementById(`${which}-bars`)!.replaceChildren();
    }
  });
  state.addEventListener("changed", () => predict());
}

/** Draws with the pointer on `pad`; `done` is called when a stroke ends. */
function wirePen(pad: HTMLCanvasElement, ctx: CanvasRenderingContext2D, done: () => void): void {
  let drawing = false;
  const at = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return [
      (e.clientX - r.left) * (pad.width / r.width),
      (e.clientY - r.top) * (pad.height / r.height),
    ];
  };
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = PEN;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  pad.addEventListener("pointerup", () => {
    drawing = false;
    done();
  });
}

/** Ten bars of class probabilities, the largest highlighted. */
function showBars(element: HTMLElement, p: Float32Array): void {
  const top = p.indexOf(Math.max(...p));
  element.replaceChildren(...[...p].map((v, c) => {
    const bar = document.createElement("div");
    bar.className = c === top ? "bar top" : "bar";
    const digit = document.createElement("span");
    digit.textContent = String(c);
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${Math.round(v * 180)}px`;
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(v * 100).toFixed(1)}%`;
    bar.append(digit, fill, value);
    return bar;
  }));
}
