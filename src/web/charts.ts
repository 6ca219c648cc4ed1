/// <reference lib="dom" />
/**
 * The app's live charts on chart.js: line charts whose points are appended as they are measured
 * (training loss and accuracy by step, the pruning curve's accuracy by sparsity).
 *
 * @module
 */

import Chart from "chart.js/auto";

/** Colours of the series, in order. */
const COLOURS = ["#3367d6", "#e8710a", "#188038", "#a142f4"];

/** A line chart of named series of (x, y) points. */
export interface LiveChart {
  /** Appends a point to a series (created on first use). */
  add(series: string, x: number, y: number): void;
  /** Removes every point. */
  clear(): void;
}

/** A line chart on the canvas `id`, its axes titled. */
export function liveChart(id: string, xTitle: string, yTitle: string): LiveChart {
  const canvas = document.getElementById(id) as HTMLCanvasElement;
  const chart = new Chart(canvas, {
    type: "line",
    data: { datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: xTitle } },
        y: { title: { display: true, text: yTitle } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      chart.update();
    });
  };
  return {
    add(series, x, y) {
      let set = chart.data.datasets.find((d) => d.label === series);
      if (!set) {
        const colour = COLOURS[chart.data.datasets.length % COLOURS.length];
        set = {
          label: series,
          data: [],
          borderColor: colour,
          backgroundColor: colour,
          pointRadius: 2,
        };
        chart.data.datasets.push(set);
      }
      (set.data as { x: number; y: number }[]).push({ x, y });
      redraw();
    },
    clear() {
      chart.data.datasets = [];
      chart.update();
    },
  };
}
