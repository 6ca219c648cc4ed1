/// <reference lib="dom" />
/**
 * The panel that opens an exported model by drag and drop (or a file chooser) and runs the test
 * set on the dense and on the sparse path, timing each. A sparse file becomes the app's pruned
 * model, a dense one (a checkpoint, k = 0) its dense model.
 *
 * @module
 */

import { type OpenedModel, openInference, openModel } from "../mod.ts";
import { type AppState, messageOf, type PathEvaluation, showStatus } from "./state.ts";

/** Wires the panel. */
export function openPanel(state: AppState): void {
  const drop = document.getElementById("drop")!;
  const input = document.getElementById("file-input") as HTMLInputElement;
  const button = document.getElementById("evaluate-button") as HTMLButtonElement;
  let opened: OpenedModel | undefined;
  const open = async (file: File) => {
    try {
      opened = openModel(new Uint8Array(await file.arrayBuffer()), file.name);
      const m = opened;
      const layers = m.model.spec.layers.map((l) => l.kind).join(", ");
      showStatus(
        "open-status",
        `${m.name}: ${m.format}, ${(m.sparsity * 100).toFixed(2)}% of its prunable weights ` +
          `zero; layers ${layers}`,
      );
      const named = { label: m.name, model: m.model };
      if (m.sparsity > 0) state.setPruned(named);
      else state.setDense(named);
      button.disabled = false;
    } catch (err) {
      opened = undefined;
      button.disabled = true;
      showStatus("open-status", messageOf(err), true);
    }
  };
  input.addEventListener("change", () => input.files?.[0] && open(input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files[0];
    if (file) open(file);
  });
  button.addEventListener("click", async () => {
    if (!opened) return;
    button.disabled = true;
    try {
      state.measured.evaluation = await evaluatePaths(state, opened);
    } catch (err) {
      showStatus("open-status", messageOf(err), true);
    } finally {
      button.disabled = false;
    }
  });
}

/** Runs the test set on both paths, filling the table as each finishes. */
async function evaluatePaths(state: AppState, opened: OpenedModel): Promise<PathEvaluation[]> {
  const body = document.querySelector("#evaluation tbody")!;
  body.replaceChildren();
  const results: PathEvaluation[] = [];
  for (const path of ["dense", "sparse"] as const) {
    showStatus("open-status", `${opened.name}: running the test set on the ${path} path…`);
    const inference = await openInference(state.gpu, opened, { path });
    try {
      const { accuracy, msPerPass } = await inference.evaluate(state.data.test, 3);
      const { predicted, margin } = await inference.predict(state.data.test);
      results.push({
        path,
        accuracy,
        msPerPass,
        predicted: [...predicted],
        margin: [...margin],
      });
      const kernels = inference.layers.length === 0
        ? "quantised weights"
        : inference.layers.map((l) => l.path).join(", ");
      const tr = document.createElement("tr");
      for (const text of [path, `${(accuracy * 100).toFixed(2)}%`, msPerPass.toFixed(1), kernels]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
    } finally {
      inference.destroy();
    }
  }
  const [dense, sparse] = results;
  showStatus(
    "open-status",
    `${opened.name} on ${state.data.test.count} test images: the sparse path takes ` +
      `${(sparse.msPerPass / dense.msPerPass).toFixed(2)}× the dense path's time`,
  );
  return results;
}
