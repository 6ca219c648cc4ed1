/**
 * sweep.md: the sweep as a markdown table, one row per k, accuracy columns side by side per
 * method (and strategy), plus the sparsity reached.
 *
 * @module
 */

import type { SweepRow } from "./results.ts";

/** Column label of a method/strategy pair. */
export function seriesLabel(
  row: Pick<SweepRow, "method" | "strategy" | "finetune_epochs" | "rewind"> & {
    bits?: string;
    allocation?: string;
  },
): string {
  // A scored method with another allocation: `weight/lamp`.
  const allocation = String(row.allocation ?? "uniform");
  const method = allocation === "uniform" ? row.method : `${row.method}/${allocation}`;
  // Weight sharing after recovery: `+5bit` (or `+8,5bit`); post-training quantisation: `+int8`
  // or `+f16`; f32 points carry nothing.
  const bits = String(row.bits ?? "32");
  const shared = bits === "32" ? "" : /^\d/.test(bits) ? ` +${bits}bit` : ` +${bits}`;
  if (row.strategy === "oneshot") return `${method}${shared}`;
  const epochs = Number(row.finetune_epochs) > 0 ? ` ${row.finetune_epochs}ep` : "";
  if (row.strategy === "rewind") return `${method} rewind:${row.rewind}${epochs}${shared}`;
  return `${method} ${row.strategy}${epochs}${shared}`;
}

/**
 * Renders the markdown table.
 *
 * @example
 * ```ts
 * console.log(sweepMarkdown(rows));
 * ```
 */
export function sweepMarkdown(rows: SweepRow[]): string {
  const labels = [...new Set(rows.map(seriesLabel))];
  const methods = [...new Set(rows.map((r) => r.method))];
  const ks = [...new Set(rows.map((r) => Number(r.k)))].sort((a, b) => a - b);
  const cell = new Map(rows.map((r) => [`${seriesLabel(r)}|${Number(r.k)}`, r]));
  // Sparsity depends on the method and k, not on how accuracy was recovered: one column each.
  const sparsity = new Map(rows.map((r) => [`${r.method}|${Number(r.k)}`, r]));
  const header = [
    "k %",
    ...labels.map((l) => `${l} acc %`),
    ...methods.map((m) => `${m} sparsity %`),
  ];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---:").join("|")}|`,
  ];
  for (const k of ks) {
    const acc = labels.map((l) => {
      const r = cell.get(`${l}|${k}`);
      return r ? (Number(r.accuracy) * 100).toFixed(2) : "";
    });
    const sp = methods.map((m) => {
      const r = sparsity.get(`${m}|${k}`);
      return r ? (Number(r.sparsity) * 100).toFixed(2) : "";
    });
    // A k set by --std-sensitivity is a share of the weights, not a round number.
    lines.push(`| ${[String(Number(k.toFixed(2))), ...acc, ...sp].join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

/** The sparsities (percent) at which every criterion is set against magnitude pruning. */
export const CRITERIA_KS = [90, 95, 99];

/**
 * Every series (criterion × allocation × strategy) at the high sparsities of `CRITERIA_KS`, one
 * row each, magnitude pruning (`weight`) first, as a markdown table of test accuracy (%); the
 * empty string when no point lies at those sparsities.
 *
 * @example
 * ```ts
 * console.log(criteriaMarkdown(rows)); // | series | k = 90 % | k = 95 % | k = 99 % |
 * ```
 */
export function criteriaMarkdown(rows: SweepRow[]): string {
  const high = rows.filter((r) => CRITERIA_KS.includes(Number(r.k)));
  if (high.length === 0) return "";
  const labels = [...new Set(high.map(seriesLabel))];
  const magnitude = (l: string) => (l === "weight" || l.startsWith("weight ") ? 0 : 1);
  labels.sort((a, b) => magnitude(a) - magnitude(b));
  const cell = new Map(high.map((r) => [`${seriesLabel(r)}|${Number(r.k)}`, r]));
  const header = ["series", ...CRITERIA_KS.map((k) => `k = ${k} %`)];
  const lines = [`| ${header.join(" | ")} |`, `|---|${CRITERIA_KS.map(() => "---:").join("|")}|`];
  for (const label of labels) {
    const acc = CRITERIA_KS.map((k) => {
      const r = cell.get(`${label}|${k}`);
      return r ? (Number(r.accuracy) * 100).toFixed(2) : "";
    });
    lines.push(`| ${[label, ...acc].join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}
