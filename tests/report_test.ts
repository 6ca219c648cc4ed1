import { assert, assertEquals } from "./_assert.ts";
import { paretoFrontier, renderReportHtml } from "../src/report/sweep_report.ts";
import { NO_COMPRESSION_FIGURES, type SweepRow } from "../src/sweep/results.ts";
import { criteriaMarkdown, sweepMarkdown } from "../src/sweep/table.ts";

function rows(): SweepRow[] {
  const out: SweepRow[] = [];
  const ks = [0, 50, 90, 99];
  for (const method of ["weight", "unit"]) {
    for (const k of ks) {
      out.push({
        ...NO_COMPRESSION_FIGURES,
        model: "m",
        method,
        strategy: "oneshot",
        k,
        sparsity: k / 100,
        sparsity_total: k / 100,
        accuracy: method === "weight" ? 0.98 - k / 1000 : 0.98 - k / 200,
        loss: 0.1 + k / 100,
        nonzeros: 1000 - 10 * k,
        infer_ms: 100,
        compact_hidden: "10-10",
        infer_compact_ms: method === "unit" ? 100 - k / 2 : 100,
        infer_sparse_ms: method === "unit" ? 100 - k / 2 : 100,
        speedup: 1,
        infer_path: "dd",
        gzip_bytes: 4000 - 30 * k,
        compression: 4000 / (4000 - 30 * k),
        finetune_epochs: 0,
        recovery_lr: 0,
        steps: 0,
        prune_params: "default",
        rewind: "none",
        detail: "",
      });
    }
  }
  return out;
}

Deno.test("paretoFrontier keeps the non-dominated points", () => {
  assertEquals(paretoFrontier([[0, 98], [50, 97], [60, 96.5], [55, 95], [90, 97.5]]), [[0, 98], [
    90,
    97.5,
  ]]);
  assertEquals(paretoFrontier([[0, 98], [50, 97], [60, 96.5]]), [[0, 98], [50, 97], [60, 96.5]]);
});

Deno.test("criteria table: every series at k = 90/95/99, magnitude first", () => {
  const unitFirst = [...rows().filter((r) => r.method === "unit"), ...rows()];
  assertEquals(
    criteriaMarkdown(unitFirst),
    [
      "| series | k = 90 % | k = 95 % | k = 99 % |",
      "|---|---:|---:|---:|",
      "| weight | 89.00 |  | 88.10 |",
      "| unit | 53.00 |  | 48.50 |",
      "",
    ].join("\n"),
  );
  assertEquals(criteriaMarkdown(rows().filter((r) => r.k < 90)), "");
});

Deno.test("sweep.md puts methods side by side per k", () => {
  const md = sweepMarkdown(rows());
  const lines = md.trim().split("\n");
  assertEquals(
    lines[0],
    "| k % | weight acc % | unit acc % | weight sparsity % | unit sparsity % |",
  );
  assertEquals(lines[3], "| 50 | 93.00 | 73.00 | 50.00 | 50.00 |");
  assertEquals(lines.length, 6);
});

Deno.test("report.html loads in headless Chromium without console errors, charts complete", async () => {
  const dir = await Deno.makeTempDir();
  const html = await renderReportHtml(rows(), "test report", { experiment: "x" });
  assert(
    !html.includes("http://") && !html.includes("https://cdn"),
    "page must not load from the network",
  );
  await Deno.writeTextFile(`${dir}/report.html`, html);
  const out = await new Deno.Command("chromium", {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${dir}/profile`,
      "--enable-logging=stderr",
      "--v=0",
      "--virtual-time-budget=5000",
      "--dump-dom",
      `file://${dir}/report.html`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dom = new TextDecoder().decode(out.stdout);
  const log = new TextDecoder().decode(out.stderr);
  await Deno.remove(dir, { recursive: true });
  const consoleLines = log.split("\n").filter((l) => l.includes("CONSOLE"));
  assertEquals(consoleLines, [], "console messages");
  const match = dom.match(/data-chart-points="([^"]*)"/);
  assert(match, "charts did not run (no data-chart-points on <body>)");
  const points = JSON.parse(match[1].replaceAll("&quot;", '"'));
  // 2 methods × 4 k: accuracy and loss 8 points; time 24 (dense, compact, sparse); pareto 8 + frontier.
  assertEquals(points.accuracy, 8);
  assertEquals(points.loss, 8);
  assertEquals(points.time, 24);
  assertEquals(
    points.pareto,
    8 + paretoFrontier(rows().map((r) => [r.sparsity * 100, r.accuracy * 100])).length,
  );
  // Criteria against magnitude: the 2 methods at k = 90 and 99 (no point at 95).
  assertEquals(points.criteria, 4);
  assert(dom.includes("<td>50</td><td>93.00</td>"), "table rendered");
  assert(dom.includes("<td>unit</td><td>53.00</td><td></td><td>48.50</td>"), "criteria table");
});
