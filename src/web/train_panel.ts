/// <reference lib="dom" />
/**
 * The training panel: trains an MLP on MNIST in the page, as `deno task train --hidden H
 * --epochs E --limit-train N --seed S` does, drawing the loss and the accuracy live; the result
 * becomes the app's dense model.
 *
 * @module
 */

import { loadData, train } from "../mod.ts";
import { liveChart } from "./charts.ts";
import { type AppState, messageOf, showStatus } from "./state.ts";
import { MNIST_DIR } from "./boot.ts";

/** The form's settings. */
interface TrainSettings {
  hidden: number[];
  epochs: number;
  limit: number;
  seed: number;
}

/** Reads the form. */
function settingsOf(form: HTMLFormElement): TrainSettings {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  return {
    hidden: value("hidden").split(",").map(Number),
    epochs: Number(value("epochs")),
    limit: Number(value("limit")),
    seed: Number(value("seed")),
  };
}

/** Wires the training panel. */
export function trainPanel(state: AppState): void {
  const form = document.getElementById("train-form") as HTMLFormElement;
  const button = document.getElementById("train-button") as HTMLButtonElement;
  const loss = liveChart("loss-chart", "step", "training loss");
  const accuracy = liveChart("accuracy-chart", "epoch", "accuracy %");
  button.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const s = settingsOf(form);
    const name = `MLP 784-${s.hidden.join("-")}-10`;
    loss.clear();
    accuracy.clear();
    try {
      showStatus("train-status", `Loading ${s.limit} training images…`);
      const data = await loadData({ dataDir: MNIST_DIR, seed: s.seed, limitTrain: s.limit });
      const t0 = performance.now();
      const validAccuracy: number[] = [];
      const run = await train(state.gpu, data, {
        hidden: s.hidden,
        epochs: s.epochs,
        seed: s.seed,
      }, (p) => {
        const at = p.epoch - 1 + (p.steps > 0 ? p.step / p.steps : 1);
        if (p.record) {
          validAccuracy.push(p.record.valid_accuracy);
          accuracy.add("validation", p.epoch, p.record.valid_accuracy * 100);
          return;
        }
        const step = (p.epoch - 1) * p.steps + p.step;
        loss.add("training loss", step, p.loss);
        accuracy.add("training (running)", at, p.accuracy * 100);
        showStatus(
          "train-status",
          `Training ${name}: epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.steps}, loss ${
            p.loss.toFixed(4)
          }`,
        );
      });
      const seconds = (performance.now() - t0) / 1000;
      state.measured.training = { testAccuracy: run.test.accuracy, validAccuracy, seconds };
      state.setDense({ label: `trained ${name}`, model: run.model });
      showStatus(
        "train-status",
        `Trained ${name} in ${seconds.toFixed(1)} s: test accuracy ${
          (run.test.accuracy * 100).toFixed(2)
        }% (${state.gpu.adapter})`,
      );
    } catch (err) {
      showStatus("train-status", messageOf(err), true);
    } finally {
      button.disabled = false;
    }
  });
}
