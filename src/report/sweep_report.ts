/**
 * Sweep figures and the HTML report: accuracy, loss and inference time against sparsity, the
 * Pareto frontier over every method × strategy, accuracy against compressed size, weight-magnitude histograms, and one
 * self-contained report.html (chart.js inlined, data embedded, no network needed).
 *
 * @module
 */

import { prepareFromWeights } from "../prune/prepare.ts";
import {
  type HistogramPanel,
  type Panel,
  panelConfig,
  renderHistogramGrid,
  renderPanels,
  type Series,
} from "./charts.ts";
import type { SweepRow } from "../sweep/results.ts";
import { CRITERIA_KS, criteriaMarkdown, seriesLabel, sweepMarkdown } from "../sweep/table.ts";
import type { Model } from "../model/network.ts";
import { getPruneMethod } from "../prune/registry.ts";
import { scoredOnGpu } from "../prune/method.ts";
import { columnNorms } from "../prune/unit.ts";
import { readTextOrFail, writeFileAtomic } from "../util/files.ts";

/** Points (x = sparsity %, y = f(row)) of each series, sorted by x. */
function seriesOf(
  rows: SweepRow[],
  y: (r: SweepRow) => number,
): { label: string; points: [number, number][] }[] {
  const groups = new Map<string, [number, number][]>();
  for (const r of rows) {
    const label = seriesLabel(r);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push([Number(r.sparsity) * 100, y(r)]);
  }
  return [...groups].map(([label, points]) => ({
    label,
    points: points.sort((a, b) => a[0] - b[0]),
  }));
}

/** Points (x = Huffman-coded KiB, y = accuracy %) of each series, sorted by size. */
function sizeSeries(
  rows: SweepRow[],
): { label: string; points: [number, number][]; scatter: boolean }[] {
  const groups = new Map<string, [number, number][]>();
  for (const r of rows) {
    const label = seriesLabel(r);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push([Number(r.bytes_huffman) / 1024, Number(r.accuracy) * 100]);
  }
  return [...groups].map(([label, points]) => ({
    label,
    points: points.sort((a, b) => a[0] - b[0]),
    scatter: false,
  }));
}

/**
 * The Pareto frontier of (sparsity, accuracy): points no other point beats on both.
 *
 * @example
 * ```ts
 * paretoFrontier([[0, 98], [50, 97], [60, 96.5], [55, 95]]); // [[0, 98], [50, 97], [60, 96.5]]
 * ```
 */
export function paretoFrontier(points: [number, number][]): [number, number][] {
  const sorted = [...points].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  const frontier: [number, number][] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p[1] > best) {
      frontier.push(p);
      best = p[1];
    }
  }
  return frontier.reverse();
}

/**
 * Accuracy at k = 90, 95 and 99 of every series with a point there, magnitude pruning's series
 * dashed: how each criterion, allocation and strategy compares with magnitude where it matters.
 */
function criteriaSeries(rows: SweepRow[]): Series[] {
  const high = rows.filter((r) => CRITERIA_KS.includes(Number(r.k)));
  const groups = new Map<string, [number, number][]>();
  for (const r of high) {
    const label = seriesLabel(r);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push([Number(r.k), Number(r.accuracy) * 100]);
  }
  return [...groups].map(([label, points]) => ({
    label,
    points: points.sort((a, b) => a[0] - b[0]),
    dashed: label === "weight" || label.startsWith("weight "),
  }));
}

/** The chart panels of a sweep (shared by the PNGs and the HTML report). */
export function sweepPanels(allRows: SweepRow[]): Record<string, Panel> {
  const all: [number, number][] = allRows.map((r) => [
    Number(r.sparsity) * 100,
    Number(r.accuracy) * 100,
  ]);
  // The per-method plots show one-shot pruning (the challenge's plot); the Pareto plot shows
  // every method × strategy.
  // (and the small-dense baseline, trained from scratch, beside unit pruning).
  const oneshot = allRows.filter((r) => r.strategy === "oneshot" || r.strategy === "scratch");
  const rows = oneshot.length > 0 ? oneshot : allRows;
  return {
    accuracy: {
      title: "Test accuracy vs sparsity",
      xLabel: "sparsity of prunable layers (%)",
      yLabel: "test accuracy (%)",
      series: seriesOf(rows, (r) => Number(r.accuracy) * 100),
    },
    loss: {
      title: "Test loss vs sparsity",
      xLabel: "sparsity of prunable layers (%)",
      yLabel: "test cross-entropy",
      series: seriesOf(rows, (r) => Number(r.loss)),
      logY: true,
    },
    time: {
      title: "Inference time over the test set",
      xLabel: "sparsity of prunable layers (%)",
      yLabel: "ms (median)",
      series: [
        ...seriesOf(rows, (r) => Number(r.infer_ms)).map((s) => ({
          ...s,
          label: `${s.label} (masked dense)`,
        })),
        ...seriesOf(rows, (r) => Number(r.infer_compact_ms)).map((s) => ({
          ...s,
          label: `${s.label} (dead units removed)`,
          dashed: true,
        })),
        ...seriesOf(
          rows.filter((r) => Number(r.infer_sparse_ms) > 0),
          (r) => Number(r.infer_sparse_ms),
        ).map((s) => ({
          ...s,
          label: `${s.label} (sparse kernels, auto)`,
          dashed: true,
        })),
      ],
      logY: true,
    },
    size: {
      title: "Accuracy vs compressed size (Huffman-coded Deep Compression file)",
      xLabel: "model.dcz size (KiB, log scale)",
      yLabel: "test accuracy (%)",
      series: sizeSeries(allRows.filter((r) => Number(r.bytes_huffman) > 0)),
      logX: true,
    },
    criteria: {
      title: "Every criterion against magnitude pruning (dashed) at high sparsity",
      xLabel: "target sparsity k (%)",
      yLabel: "test accuracy (%)",
      series: criteriaSeries(allRows),
      yMin: 0,
      yMax: 100,
    },
    pareto: {
      title: "Accuracy vs sparsity: every method × strategy, Pareto frontier",
      xLabel: "sparsity of prunable layers (%)",
      yLabel: "test accuracy (%)",
      series: [
        ...seriesOf(allRows, (r) => Number(r.accuracy) * 100).map((s) => ({ ...s, scatter: true })),
        { label: "Pareto frontier", points: paretoFrontier(all), dashed: true },
      ],
    },
  };
}

function histogram(
  values: Float32Array,
  lo: number,
  hi: number,
  bins: number,
): { edges: number[]; counts: number[] } {
  const counts = new Array(bins).fill(0);
  const width = (hi - lo) / bins;
  for (const v of values) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[b]++;
  }
  return { edges: counts.map((_, i) => lo + i * width), counts };
}

/**
 * hist_<method>.png: per k, the distribution of the surviving prunable weights as log10|w|
 * (unit pruning: log10 of the surviving units' L2 norms), from one-shot masks of the trained
 * network.
 */
export function renderMethodHistograms(
  model: Model,
  prunable: readonly string[],
  method: string,
  ks: number[],
  seed: number,
): Promise<Uint8Array> {
  const prep = prepareFromWeights(getPruneMethod(method), model, prunable, seed);
  const perK: { k: number; values: Float32Array }[] = [];
  for (const k of ks) {
    const { masks } = prep.masks(k);
    const values: number[] = [];
    for (const name of prunable) {
      const { shape, data: w } = model.params.get(name)!;
      const mask = masks.get(name);
      const kept = (i: number) => mask === undefined || mask[i] !== 0;
      if (method === "unit") {
        const cols = shape[shape.length - 1];
        const norms = columnNorms(w, w.length / cols, cols);
        for (let c = 0; c < cols; c++) {
          if (kept(c) && norms[c] > 0) values.push(Math.log10(norms[c]));
        }
      } else {
        for (let i = 0; i < w.length; i++) {
          if (kept(i) && w[i] !== 0) values.push(Math.log10(Math.abs(w[i])));
        }
      }
    }
    perK.push({ k, values: Float32Array.from(values) });
  }
  // One x range for every panel: from the dense network's values (floored at 1e-6).
  let lo = Infinity;
  let hi = -Infinity;
  for (const { values } of perK) {
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  lo = Math.max(Number.isFinite(lo) ? Math.floor(lo) : -6, -6);
  hi = Number.isFinite(hi) ? Math.ceil(hi * 10) / 10 : 1;
  const panels: HistogramPanel[] = perK.map(({ k, values }) => ({
    title: `k = ${Number(k.toFixed(2))}% (${values.length} left)`,
    ...histogram(values, lo, hi, 40),
  }));
  return renderHistogramGrid(method === "unit" ? "log10 unit L2 norm" : "log10 |w|", panels);
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]!),
  );
}

/** The rows of a markdown table as HTML table rows (header cells first); "" for "". */
function htmlTable(markdown: string): string {
  if (markdown === "") return "";
  return markdown.trim().split("\n").filter((_, i) => i !== 1).map((line, i) => {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const tag = i === 0 ? "th" : "td";
    return `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("")}</tr>`;
  }).join("\n");
}

/** chart.js's UMD bundle, inlined into report.html. */
async function chartJsSource(): Promise<string> {
  const entry = new URL(import.meta.resolve("chart.js"));
  return await readTextOrFail(new URL("./chart.umd.min.js", entry).pathname);
}

/** Builds the self-contained report.html. */
export async function renderReportHtml(
  rows: SweepRow[],
  title: string,
  summary: Record<string, string>,
): Promise<string> {
  const panels = sweepPanels(rows);
  const configs = Object.fromEntries(
    Object.entries(panels).map(([name, p]) => [name, panelConfig(p)]),
  );
  const table = htmlTable(sweepMarkdown(rows));
  const criteria = htmlTable(criteriaMarkdown(rows));
  const facts = Object.entries(summary).map(([k, v]) =>
    `<li><b>${escapeHtml(k)}</b>: ${escapeHtml(v)}</li>`
  ).join("\n");
  const chartJs = (await chartJsSource()).replaceAll("</script", "<\\/script");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1.5rem; }
canvas { width: 100% !important; height: 380px !important; }
table { border-collapse: collapse; margin-top: 1rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<ul>${facts}</ul>
<div class="charts">
<div><canvas id="chart-accuracy"></canvas></div>
<div><canvas id="chart-loss"></canvas></div>
<div><canvas id="chart-time"></canvas></div>
<div><canvas id="chart-pareto"></canvas></div>
<div><canvas id="chart-criteria"></canvas></div>
<div><canvas id="chart-size"></canvas></div>
</div>
<h2>Accuracy by sparsity</h2>
<table>${table}</table>
${
    criteria
      ? `<h2>Every criterion against magnitude at k = ${
        CRITERIA_KS.join(", ")
      } %</h2>\n<table>${criteria}</table>`
      : ""
  }
<script>${chartJs}</script>
<script>
const configs = ${JSON.stringify(configs)};
window.wgpruneCharts = {};
for (const [name, config] of Object.entries(configs)) {
  config.options.responsive = true;
  config.options.maintainAspectRatio = false;
  window.wgpruneCharts[name] = new Chart(document.getElementById("chart-" + name), config);
}
// Points drawn per chart, for automated checks of the page.
document.body.dataset.chartPoints = JSON.stringify(Object.fromEntries(
  Object.entries(window.wgpruneCharts).map(([name, chart]) => [
    name,
    chart.data.datasets.reduce((n, d) => n + d.data.length, 0),
  ]),
));
</script>
</body></html>
`;
}

/** The facts at the head of report.html: experiment, dataset, dense accuracy, adapter, points. */
export function reportSummary(facts: {
  experiment: string;
  dataset: string;
  denseAccuracy: number;
  adapter: string;
  points: number;
}): Record<string, string> {
  return {
    experiment: facts.experiment,
    dataset: facts.dataset,
    "dense test accuracy": `${(facts.denseAccuracy * 100).toFixed(2)}%`,
    adapter: facts.adapter,
    points: String(facts.points),
  };
}

/** Writes sweep.md, the PNG figures and report.html into `dir`; returns the markdown table. */
export async function writeSweepReport(
  dir: string,
  rows: SweepRow[],
  trained: Model,
  prunable: readonly string[],
  methods: string[],
  ks: number[],
  seed: number,
  summary: Record<string, string>,
): Promise<string> {
  const markdown = sweepMarkdown(rows);
  const criteria = criteriaMarkdown(rows);
  await writeFileAtomic(
    `${dir}/sweep.md`,
    criteria ? `${markdown}\nEvery criterion against magnitude pruning:\n\n${criteria}` : markdown,
  );
  const panels = sweepPanels(rows);
  await writeFileAtomic(
    `${dir}/sweep_accuracy.png`,
    await renderPanels([panels.accuracy], 900, 560),
  );
  await writeFileAtomic(`${dir}/sweep_loss.png`, await renderPanels([panels.loss], 900, 560));
  await writeFileAtomic(`${dir}/sweep_time.png`, await renderPanels([panels.time], 900, 560));
  await writeFileAtomic(`${dir}/pareto.png`, await renderPanels([panels.pareto], 900, 560));
  await writeFileAtomic(
    `${dir}/sweep_criteria.png`,
    await renderPanels([panels.criteria], 900, 640),
  );
  await writeFileAtomic(`${dir}/sweep_size.png`, await renderPanels([panels.size], 900, 560));
  for (const method of methods) {
    // Gradient and training scores need the GPU and the data: no histograms of what they keep.
    const m = getPruneMethod(method);
    if (scoredOnGpu(m)) continue;
    await writeFileAtomic(
      `${dir}/hist_${method}.png`,
      await renderMethodHistograms(trained, prunable, method, ks, seed),
    );
  }
  await writeFileAtomic(
    `${dir}/report.html`,
    await renderReportHtml(rows, `wgprune sweep: ${summary.experiment ?? ""}`, summary),
  );
  return markdown;
}
