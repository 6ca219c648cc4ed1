/**
 * PNG charts: chart.js drawn on @napi-rs/canvas. Loaded lazily (only when a PNG is written), so
 * the training path does not need the native canvas module.
 *
 * @module
 */

import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { Chart, type ChartConfiguration, registerables } from "chart.js";
import type { EpochRecord } from "../train/trainer.ts";

Chart.register(...registerables);

/** One line of a chart. */
export interface Series {
  /** Legend label. */
  label: string;
  /** Points (x, y). */
  points: [number, number][];
  /** Dashed line. */
  dashed?: boolean;
  /** Draw points only, no line. */
  scatter?: boolean;
  /** A shaded band around the line: its lower and upper edge at each x (e.g. mean ± std). */
  band?: { lower: [number, number][]; upper: [number, number][] };
}

/** One chart panel. */
export interface Panel {
  /** Title above the panel. */
  title: string;
  /** X axis label. */
  xLabel: string;
  /** Y axis label. */
  yLabel: string;
  /** Lines. */
  series: Series[];
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Y axis range. */
  yMin?: number;
  /** Y axis range. */
  yMax?: number;
}

const COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#393b79",
  "#e6550d",
  "#31a354",
  "#756bb1",
  "#843c39",
  "#d6616b",
  "#636363",
  "#8ca252",
  "#3182bd",
  "#fd8d3c",
];

/** chart.js configuration of a panel (shared with the HTML report). */
export function panelConfig(panel: Panel): ChartConfiguration<"line"> {
  return {
    type: "line",
    data: {
      datasets: panel.series.flatMap((s, i) => {
        const color = COLORS[i % COLORS.length];
        const line = {
          label: s.label,
          data: s.points.map(([x, y]) => ({ x, y })),
          borderColor: color,
          backgroundColor: color,
          borderDash: s.dashed ? [6, 4] : [],
          showLine: !s.scatter,
          pointRadius: 3,
          tension: 0,
        };
        if (!s.band) return [line];
        // The band: its upper edge filled down to the lower edge (the next dataset), unlabelled.
        const edge = (points: [number, number][], fill: string | boolean) => ({
          label: "",
          data: points.map(([x, y]) => ({ x, y })),
          borderColor: "rgba(0,0,0,0)",
          backgroundColor: `${color}33`,
          pointRadius: 0,
          fill,
          tension: 0,
        });
        return [edge(s.band.upper, "+1"), edge(s.band.lower, false), line];
      }),
    },
    options: {
      animation: false,
      responsive: false,
      plugins: {
        title: { display: true, text: panel.title, font: { size: 16 } },
        legend: {
          position: "bottom",
          labels: { filter: (item: { text: string }) => item.text !== "" },
        },
      },
      scales: {
        x: {
          type: panel.logX ? "logarithmic" : "linear",
          title: { display: true, text: panel.xLabel },
        },
        y: {
          type: panel.logY ? "logarithmic" : "linear",
          title: { display: true, text: panel.yLabel },
          min: panel.yMin,
          max: panel.yMax,
        },
      },
    },
  };
}

/**
 * Renders panels side by side into one PNG.
 *
 * @example
 * ```ts
 * const png = await renderPanels([{ title: "t", xLabel: "x", yLabel: "y", series: [] }]);
 * ```
 */
export async function renderPanels(
  panels: Panel[],
  panelWidth = 640,
  height = 440,
): Promise<Uint8Array> {
  const out = createCanvas(panelWidth * panels.length, height);
  const octx = out.getContext("2d");
  octx.fillStyle = "#ffffff";
  octx.fillRect(0, 0, out.width, out.height);
  panels.forEach((panel, i) => {
    drawChart(panelConfig(panel), panelWidth, height, octx, i * panelWidth, 0);
  });
  return new Uint8Array(await out.encode("png"));
}

/**
 * Draws one chart.js configuration on a white canvas of its own and copies it onto `target` at
 * (x, y) before the chart is destroyed (destroying clears the canvas).
 */
function drawChart(
  config: ChartConfiguration<"line" | "bar">,
  width: number,
  height: number,
  target: SKRSContext2D,
  x: number,
  y: number,
): void {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  // chart.js only needs a 2-D context; @napi-rs/canvas provides a compatible one.
  const item = ctx as unknown as ConstructorParameters<typeof Chart>[0];
  const chart = new Chart(item, config as ChartConfiguration);
  chart.draw();
  target.drawImage(canvas, x, y);
  chart.destroy();
}

/** training.png: loss and accuracy per epoch, train and validation. */
export function renderTrainingPng(history: EpochRecord[]): Promise<Uint8Array> {
  const pts = (key: keyof EpochRecord, scale = 1) =>
    history.map((r) => [r.epoch, (r[key] as number) * scale] as [number, number]);
  return renderPanels([
    {
      title: "Loss",
      xLabel: "epoch",
      yLabel: "cross-entropy",
      series: [
        { label: "train", points: pts("train_loss") },
        { label: "validation", points: pts("valid_loss"), dashed: true },
      ],
    },
    {
      title: "Accuracy",
      xLabel: "epoch",
      yLabel: "accuracy (%)",
      series: [
        { label: "train", points: pts("train_accuracy", 100) },
        { label: "validation", points: pts("valid_accuracy", 100), dashed: true },
      ],
    },
  ]);
}

/** One histogram panel: bin edges and counts. */
export interface HistogramPanel {
  /** Panel title. */
  title: string;
  /** Left edge of each bin. */
  edges: number[];
  /** Count per bin. */
  counts: number[];
}

/**
 * Renders histogram panels in a grid (`columns` wide) into one PNG.
 *
 * @example
 * ```ts
 * const png = await renderHistogramGrid("|w|", [{ title: "k=0", edges: [0], counts: [1] }]);
 * ```
 */
export async function renderHistogramGrid(
  xLabel: string,
  panels: HistogramPanel[],
  columns = 4,
  panelWidth = 360,
  panelHeight = 260,
): Promise<Uint8Array> {
  const rows = Math.ceil(panels.length / columns);
  const out = createCanvas(panelWidth * columns, panelHeight * rows);
  const octx = out.getContext("2d");
  octx.fillStyle = "#ffffff";
  octx.fillRect(0, 0, out.width, out.height);
  panels.forEach((panel, i) => {
    drawChart(
      {
        type: "bar",
        data: {
          labels: panel.edges.map((e) =>
            e.toFixed(panel.edges.at(-1)! - panel.edges[0] < 2 ? 2 : 1)
          ),
          datasets: [{ label: panel.title, data: panel.counts, backgroundColor: COLORS[0] }],
        },
        options: {
          animation: false,
          responsive: false,
          plugins: { title: { display: true, text: panel.title }, legend: { display: false } },
          scales: {
            x: { title: { display: true, text: xLabel }, ticks: { maxTicksLimit: 8 } },
            y: { title: { display: true, text: "count" } },
          },
        },
      },
      panelWidth,
      panelHeight,
      octx,
      (i % columns) * panelWidth,
      Math.floor(i / columns) * panelHeight,
    );
  });
  return new Uint8Array(await out.encode("png"));
}
