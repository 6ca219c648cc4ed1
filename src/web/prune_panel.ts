/// <reference lib="dom" />
/**
 * The pruning panel: prunes the app's dense model one-shot with `weight` and/or `unit` at the
 * seed challenge's levels, evaluates each point on the test set on the fastest exact path and
 * draws the accuracy-versus-sparsity curves as the points arrive; a row of the table, clicked,
 * becomes the app's pruned model (weight k = 90 by default), its exported files offered for
 * download.
 *
 * @module
 */

import { exportFiles, openInference, prune, type PrunedModel } from "../mod.ts";
import { liveChart } from "./charts.ts";
import { type AppState, type CurvePoint, messageOf, showStatus } from "./state.ts";

/** The seed challenge's levels, percent. */
export const CHALLENGE_KS = [0, 25, 50, 60, 70, 80, 90, 95, 97, 99];

/** Wires the pruning panel. */
export function prunePanel(state: AppState): void {
  const form = document.getElementById("prune-form") as HTMLFormElement;
  const button = document.getElementById("prune-button") as HTMLButtonElement;
  const body = document.querySelector("#curve tbody")!;
  const curve = liveChart("curve-chart", "sparsity %", "test accuracy %");
  state.addEventListener("changed", () => (button.disabled = !state.dense));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const dense = state.dense;
    if (!dense) return;
    const methods = ["weight", "unit"].filter((m) =>
      (form.elements.namedItem(m) as HTMLInputElement).checked
    );
    button.disabled = true;
    curve.clear();
    body.replaceChildren();
    const points: CurvePoint[] = [];
    try {
      for (const method of methods) {
        for (const pruned of prune(dense.model, method, CHALLENGE_KS)) {
          showStatus("prune-status", `Evaluating ${method} k=${pruned.k}…`);
          const point = await evaluatePoint(state, pruned);
          points.push(point);
          curve.add(method, point.sparsity * 100, point.accuracy * 100);
          body.append(row(state, point, pruned));
          if (method === "weight" && pruned.k === 90) select(state, body.lastElementChild!, pruned);
        }
      }
      state.measured.curve = points;
      showStatus(
        "prune-status",
        `${points.length} points of ${dense.label}; click a row to draw with it`,
      );
    } catch (err) {
      showStatus("prune-status", messageOf(err), true);
    } finally {
      button.disabled = !state.dense;
    }
  });
}

/** Test accuracy of one pruned model. */
async function evaluatePoint(state: AppState, pruned: PrunedModel): Promise<CurvePoint> {
  const inference = await openInference(state.gpu, pruned.model);
  try {
    const { accuracy } = await inference.evaluate(state.data.test, 0);
    return { method: pruned.method, k: pruned.k, sparsity: pruned.sparsity, accuracy };
  } finally {
    inference.destroy();
  }
}

/** Makes `pruned` the app's pruned model and marks its row. */
function select(state: AppState, tr: Element, pruned: PrunedModel): void {
  tr.parentElement?.querySelectorAll("tr").forEach((r) => r.classList.remove("selected"));
  tr.classList.add("selected");
  state.setPruned({ label: `${pruned.method} k=${pruned.k}`, model: pruned.model });
  offerDownloads(pruned);
}

/** The files a visitor may download of the selected point, as `deno task export` writes them. */
const DOWNLOADS = ["model_csr.safetensors", "model.dcz", "model.onnx"];

/** Links to the selected point's exported files (object URLs of the encoded bytes). */
function offerDownloads(pruned: PrunedModel): void {
  const element = document.getElementById("downloads")!;
  element.querySelectorAll("a").forEach((a) => URL.revokeObjectURL(a.href));
  const files = exportFiles(pruned);
  const links = DOWNLOADS.map((name) => {
    const a = document.createElement("a");
    const bytes = files.get(name)!;
    a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    a.download = name;
    a.textContent = `${name} (${(bytes.length / 1024).toFixed(0)} KiB)`;
    return a;
  });
  element.replaceChildren(
    `Download ${pruned.method} k=${pruned.k}: `,
    ...links.flatMap((a, i) => i === 0 ? [a] : [", ", a]),
  );
}

/** A table row of a point; clicked, it selects the point. */
function row(state: AppState, point: CurvePoint, pruned: PrunedModel): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (
    const text of [
      point.method,
      String(point.k),
      (point.sparsity * 100).toFixed(2),
      (point.accuracy * 100).toFixed(2),
    ]
  ) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  tr.addEventListener("click", () => select(state, tr, pruned));
  return tr;
}
