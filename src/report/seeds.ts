/**
 * Several seeds of one study summarised: the sweep rows of experiments that differ only in their
 * seed, grouped by point (method, strategy, k and every recovery and quantisation setting), as
 * mean ± sample standard deviation, written as seeds.csv, seeds.md and PNG plots whose bands span
 * mean ± std.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { writeFileAtomic } from "../util/files.ts";
import { mean, sampleStd } from "../util/stats.ts";
import type { SweepRow } from "../sweep/results.ts";
import { pointKey } from "../sweep/point_id.ts";
import { seriesLabel } from "../sweep/table.ts";
import { type Panel, renderPanels, type Series } from "./charts.ts";

/** One point over the seeds. */
export interface SeedPoint {
  /** Series label of the point (`weight`, `unit finetune 2ep`, …). */
  label: string;
  /** Method. */
  method: string;
  /** Strategy. */
  strategy: string;
  /** Target sparsity (percent). */
  k: number;
  /** Seeds that have the point. */
  seeds: number[];
  /** Mean and sample std of test accuracy (fractions). */
  accuracy: { mean: number; std: number };
  /** Mean and sample std of test loss. */
  loss: { mean: number; std: number };
  /** Mean achieved sparsity of the prunable layers (fraction). */
  sparsity: number;
  /** Mean non-zero parameters. */
  nonzeros: number;
}

/** The rows of one experiment with its seed. */
export interface SeedRows {
  /** The experiment's seed. */
  seed: number;
  /** Its sweep rows (one trained model). */
  rows: SweepRow[];
}

/** Groups the seeds' rows by point, in the order points first appear. */
export function aggregateSeeds(runs: readonly SeedRows[]): SeedPoint[] {
  const groups = new Map<string, { row: SweepRow; seeds: number[]; rows: SweepRow[] }>();
  for (const run of runs) {
    for (const row of run.rows) {
      const key = pointKey({ ...row, model: "" });
      const group = groups.get(key) ?? { row, seeds: [], rows: [] };
      group.seeds.push(run.seed);
      group.rows.push(row);
      groups.set(key, group);
    }
  }
  return [...groups.values()].map(({ row, seeds, rows }) => {
    const of = (column: string) => rows.map((r) => Number(r[column]));
    return {
      label: seriesLabel(row),
      method: row.method,
      strategy: row.strategy,
      k: Number(row.k),
      seeds,
      accuracy: { mean: mean(of("accuracy")), std: sampleStd(of("accuracy")) },
      loss: { mean: mean(of("loss")), std: sampleStd(of("loss")) },
      sparsity: mean(of("sparsity")),
      nonzeros: mean(of("nonzeros")),
    };
  });
}

/** seeds.csv text: one row per point, with a header. */
export function formatSeedsCsv(points: readonly SeedPoint[]): string {
  return stringify(
    points.map((p) => ({
      series: p.label,
      method: p.method,
      strategy: p.strategy,
      k: p.k,
      seeds: p.seeds.join(" "),
      n: p.seeds.length,
      accuracy_mean: p.accuracy.mean,
      accuracy_std: p.accuracy.std,
      loss_mean: p.loss.mean,
      loss_std: p.loss.std,
      sparsity_mean: p.sparsity,
      nonzeros_mean: p.nonzeros,
    })),
    {
      header: true,
      columns: [
        "series",
        "method",
        "strategy",
        "k",
        "seeds",
        "n",
        "accuracy_mean",
        "accuracy_std",
        "loss_mean",
        "loss_std",
        "sparsity_mean",
        "nonzeros_mean",
      ],
    },
  );
}

/**
 * seeds.md: test accuracy (%) as mean ± std per k (rows) and series (columns); a cell computed on
 * fewer seeds than the study has says how many (`n=2`).
 */
export function seedsMarkdown(points: readonly SeedPoint[], seedCount: number): string {
  const labels = [...new Set(points.map((p) => p.label))];
  const ks = [...new Set(points.map((p) => p.k))].sort((a, b) => a - b);
  const cell = (label: string, k: number) => {
    const p = points.find((q) => q.label === label && q.k === k);
    if (!p) return "";
    const text = `${(p.accuracy.mean * 100).toFixed(2)} ± ${(p.accuracy.std * 100).toFixed(2)}`;
    return p.seeds.length < seedCount ? `${text} (n=${p.seeds.length})` : text;
  };
  const lines = [
    `Test accuracy (%), mean ± sample std over ${seedCount} seeds`,
    "",
    `| k (%) | ${labels.join(" | ")} |`,
    `|---:|${labels.map(() => "---:").join("|")}|`,
    ...ks.map((k) => `| ${k} | ${labels.map((l) => cell(l, k)).join(" | ")} |`),
  ];
  return lines.join("\n") + "\n";
}

/** A panel of one column (accuracy or loss) against sparsity, with mean ± std bands. */
function bandPanel(
  points: readonly SeedPoint[],
  title: string,
  yLabel: string,
  of: (p: SeedPoint) => { mean: number; std: number },
  scale: number,
): Panel {
  const labels = [...new Set(points.map((p) => p.label))];
  const series: Series[] = labels.map((label) => {
    const mine = points.filter((p) => p.label === label).sort((a, b) => a.sparsity - b.sparsity);
    const at = (p: SeedPoint, y: number): [number, number] => [p.sparsity * 100, y * scale];
    return {
      label,
      points: mine.map((p) => at(p, of(p).mean)),
      band: {
        lower: mine.map((p) => at(p, of(p).mean - of(p).std)),
        upper: mine.map((p) => at(p, of(p).mean + of(p).std)),
      },
    };
  });
  return { title, xLabel: "sparsity of prunable layers (%)", yLabel, series };
}

/**
 * Writes `dir/{seeds.csv, seeds.md, seeds_accuracy.png, seeds_loss.png}` for the aggregated
 * points, with the dense models' test accuracies (one per seed) summarised in seeds.md; returns
 * seeds.md.
 */
export async function writeSeedsReport(
  dir: string,
  points: readonly SeedPoint[],
  seedCount: number,
  title: string,
  denseAccuracies: readonly number[],
): Promise<string> {
  const dense = `Dense test accuracy: ${(mean(denseAccuracies) * 100).toFixed(2)} ± ${
    (sampleStd(denseAccuracies) * 100).toFixed(2)
  }% (${denseAccuracies.map((a) => (a * 100).toFixed(2)).join(", ")})`;
  const markdown = `# ${title}\n\n${dense}\n\n${seedsMarkdown(points, seedCount)}`;
  await writeFileAtomic(`${dir}/seeds.csv`, formatSeedsCsv(points));
  await writeFileAtomic(`${dir}/seeds.md`, markdown);
  const accuracy = bandPanel(
    points,
    `Test accuracy, mean ± std over ${seedCount} seeds`,
    "test accuracy (%)",
    (p) => p.accuracy,
    100,
  );
  const loss = bandPanel(
    points,
    `Test loss, mean ± std over ${seedCount} seeds`,
    "test loss",
    (p) => p.loss,
    1,
  );
  await writeFileAtomic(`${dir}/seeds_accuracy.png`, await renderPanels([accuracy], 900, 560));
  await writeFileAtomic(`${dir}/seeds_loss.png`, await renderPanels([loss], 900, 560));
  return markdown;
}
