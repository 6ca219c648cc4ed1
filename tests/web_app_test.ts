/**
 * The browser app (src/web/) in headless Chromium (Dawn on SwiftShader), checked against the
 * command line on the same files: a small MLP (784-300-100-10, one epoch on 5,000 images, seed 0)
 * is trained and swept by `deno task sweep`, exported at weight k = 90 and evaluated by
 * `deno task eval --predictions` on the dense and the sparse path. The page then
 *
 * - opens the exported files (CSR safetensors, .dcz, .onnx) and predicts every test image as
 *   eval does, on each path: the only differences allowed are true near-ties (eval's top-two
 *   logit margin under `NEAR_TIE`), each named in the failure;
 * - trains the same network with the same seed and flags to within 0.2 points of the CLI;
 * - prunes the CLI's checkpoint at the challenge's levels: the same sparsity at every point and
 *   the same accuracy (to `NEAR_TIE_IMAGES` test images), and offers the files of weight k = 90
 *   as `deno task export` wrote them (byte for byte; model.dcz decoded, its header compressed by
 *   another DEFLATE encoder);
 * - classifies a drawn digit with the dense and the pruned model;
 * - loads and runs again offline, from its service worker's cache.
 */

import { parse } from "csv-parse/sync";
import { assert, assertEquals } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { openAppPage } from "./browser/app_page.ts";
import { readSweep } from "../src/sweep/results.ts";
import { openModel } from "../src/mod.ts";
import type { AppState, CurvePoint, Measured, PathEvaluation } from "../src/web/state.ts";

/** A logit margin below this is a near-tie another summation order may flip. */
const NEAR_TIE = 1e-3;
/** Test images a curve point's accuracy may differ by (near-ties). */
const NEAR_TIE_IMAGES = 2;

const tmp = await Deno.makeTempDir({ prefix: "wgprune-web-test-" });
const FLAGS = [
  "--hidden",
  "300,100",
  "--epochs",
  "1",
  "--limit-train",
  "5000",
  "--seed",
  "0",
  "--output-dir",
  tmp,
  "--experiment-id",
  "small",
];
const KS = "0,25,50,60,70,80,90,95,97,99";
const dir = `${tmp}/small`;
const exported = `${dir}/export/weight_k90_oneshot`;

/** Runs a command, failing with its stderr when it fails. */
async function cli(script: string, args: string[]): Promise<void> {
  const out = await runCli(script, args);
  if (out.code !== 0) throw new Error(`deno task ${script} failed: ${out.stderr}`);
}

await cli("sweep", [...FLAGS, "--method", "weight,unit", "--k", KS]);
await cli("export", [...FLAGS, "--method", "weight", "--k", "90"]);
for (const path of ["dense", "sparse"]) {
  await cli("eval", [
    `${exported}/model_csr.safetensors`,
    "--infer",
    path,
    "--predictions",
    `${tmp}/${path}.csv`,
  ]);
}
const app = await openAppPage();
const page = app.page;
const sanitize = { sanitizeOps: false, sanitizeResources: false };

/** What the page's panels measured last. */
function measured(): Promise<Measured> {
  return page.evaluate(async () =>
    (await (globalThis as unknown as { wgpruneApp: { ready: Promise<AppState> } }).wgpruneApp
      .ready).measured
  );
}

/** Waits until the status line `id` matches `pattern` (its text is the failure otherwise). */
async function waitForStatus(id: string, pattern: RegExp, timeout = 600_000): Promise<string> {
  await page.waitForFunction(
    (i, p) =>
      new RegExp(p).test(document.getElementById(i)!.textContent ?? "") ||
      document.getElementById(i)!.classList.contains("error"),
    { timeout },
    id,
    pattern.source,
  );
  const text = await page.$eval(`#${id}`, (e) => e.textContent ?? "");
  const error = await page.$eval(`#${id}`, (e) => e.classList.contains("error"));
  assert(!error, `${id}: ${text}`);
  return text;
}

/** Opens a file in the app through its file input (the drop zone's handler). */
async function openFile(path: string): Promise<string> {
  await page.$eval("#open-status", (e) => (e.textContent = ""));
  const input = await page.$("input#file-input[type=file]");
  await input!.uploadFile(path);
  const name = path.split("/").at(-1)!;
  return await waitForStatus("open-status", new RegExp(name.replace(/\./g, "\\.")));
}

/** eval's predictions CSV: predicted class and margin by image. */
async function evalPredictions(path: string): Promise<{ predicted: number[]; margin: number[] }> {
  const rows = parse(await Deno.readTextFile(path), { columns: true }) as Record<string, string>[];
  assertEquals(rows.length, 10000, path);
  return {
    predicted: rows.map((r) => Number(r.predicted)),
    margin: rows.map((r) => Number(r.margin)),
  };
}

/** Images whose predictions differ, each with eval's margin; fails unless all are near-ties. */
function assertSamePredictions(
  got: PathEvaluation,
  want: { predicted: number[]; margin: number[] },
  what: string,
) {
  const differ = got.predicted.flatMap((c, i) => c === want.predicted[i] ? [] : [i]);
  const wide = differ.filter((i) => !(want.margin[i] < NEAR_TIE));
  assertEquals(
    wide.map((i) =>
      `image ${i}: page ${got.predicted[i]}, eval ${want.predicted[i]} (margin ${want.margin[i]})`
    ),
    [],
    `${what}: predictions differ beyond near-ties`,
  );
  console.log(
    `${what}: ${
      10000 - differ.length
    }/10000 predictions equal eval's; near-ties ${differ.length}; accuracy ${
      (got.accuracy * 100).toFixed(2)
    }%, ${got.msPerPass.toFixed(1)} ms per pass`,
  );
}

for (const file of ["model_csr.safetensors", "model.dcz", "model.onnx"]) {
  Deno.test({
    name:
      `web: ${file} opened in the page predicts every test image as deno task eval does, dense and sparse`,
    ...sanitize,
    async fn() {
      await openFile(`${exported}/${file}`);
      await page.click("#evaluate-button");
      await waitForStatus("open-status", /the sparse path takes/);
      const evaluation = (await measured()).evaluation!;
      assertEquals(evaluation.map((e) => e.path), ["dense", "sparse"]);
      for (const e of evaluation) {
        assertSamePredictions(
          e,
          await evalPredictions(`${tmp}/${e.path}.csv`),
          `${file} ${e.path}`,
        );
      }
    },
  });
}

Deno.test({
  name:
    "web: training in the page reaches the CLI's test accuracy for the same seed and flags, within 0.2 points",
  ...sanitize,
  async fn() {
    await page.select("select[name=hidden]", "300,100");
    for (const [name, value] of [["epochs", "1"], ["limit", "5000"], ["seed", "0"]]) {
      await page.$eval(`input[name=${name}]`, (e, v) => ((e as HTMLInputElement).value = v), value);
    }
    await page.click("#train-button");
    await waitForStatus("train-status", /^Trained/);
    const page_ = (await measured()).training!.testAccuracy;
    const cli = JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`)).test_accuracy as number;
    console.log(`training: page ${(page_ * 100).toFixed(2)}%, CLI ${(cli * 100).toFixed(2)}%`);
    assert(Math.abs(page_ - cli) <= 0.002, `page ${page_}, CLI ${cli}`);
  },
});

Deno.test({
  name:
    "web: the page's pruning curve of the CLI's checkpoint has the CLI sweep's points; its downloads are the export's files",
  ...sanitize,
  async fn() {
    await openFile(`${dir}/checkpoint.safetensors`);
    await page.click("#prune-button");
    await waitForStatus("prune-status", /points of/);
    const curve: CurvePoint[] = (await measured()).curve!;
    const rows = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals(curve.length, 20);
    let worst = 0;
    for (const p of curve) {
      const row = rows.find((r) => r.method === p.method && Number(r.k) === p.k);
      assert(row, `sweep.csv has no ${p.method} k=${p.k}`);
      assert(
        Math.abs(Number(row.sparsity) - p.sparsity) < 1e-9,
        `${p.method} k=${p.k}: sparsity ${p.sparsity} vs ${row.sparsity}`,
      );
      const images = Math.round(Math.abs(Number(row.accuracy) - p.accuracy) * 10000);
      worst = Math.max(worst, images);
      assert(
        images <= NEAR_TIE_IMAGES,
        `${p.method} k=${p.k}: accuracy ${p.accuracy} vs ${row.accuracy}`,
      );
    }
    console.log(
      `curve: 20 points, sparsity equal, accuracy within ${worst} test images of the sweep's`,
    );
    // The point selected (weight k = 90) offers the files deno task export wrote for it: the
    // same bytes, but for model.dcz's DEFLATE-compressed header (fflate in the page, zlib under
    // Deno), which must decode to the same model.
    const dcz = await page.evaluate(async () => {
      const a = document.querySelector<HTMLAnchorElement>(`#downloads a[download="model.dcz"]`)!;
      return [...new Uint8Array(await (await fetch(a.href)).arrayBuffer())];
    });
    const fromPage = openModel(Uint8Array.from(dcz), "model.dcz").model;
    const fromCli = openModel(await Deno.readFile(`${exported}/model.dcz`), "model.dcz").model;
    assertEquals(fromPage.spec, fromCli.spec);
    for (const [name, t] of fromCli.params) {
      assertEquals([...fromPage.params.get(name)!.data], [...t.data], `model.dcz ${name}`);
    }
    for (const name of ["model_csr.safetensors", "model.onnx"]) {
      const bytes = await page.evaluate(async (n) => {
        const a = document.querySelector<HTMLAnchorElement>(`#downloads a[download="${n}"]`)!;
        return [...new Uint8Array(await (await fetch(a.href)).arrayBuffer())];
      }, name);
      const want = await Deno.readFile(`${exported}/${name}`);
      assert(
        bytes.length === want.length && bytes.every((b, i) => b === want[i]),
        `${name}: the page's ${bytes.length} bytes differ from deno task export's ${want.length}`,
      );
    }
  },
});

Deno.test({
  name: "web: a drawn digit gets ten probabilities from the dense and from the pruned model",
  ...sanitize,
  async fn() {
    await page.evaluate(async () => {
      (await (globalThis as unknown as { wgpruneApp: { ready: Promise<AppState> } }).wgpruneApp
        .ready).measured.drawn = undefined;
    });
    const pad = (await page.$("#pad"))!;
    await pad.scrollIntoView();
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + 140, box.y + 40);
    await page.mouse.down();
    for (let y = 40; y <= 240; y += 10) await page.mouse.move(box.x + 140, box.y + y);
    await page.mouse.up();
    await page.waitForFunction(async () => {
      const m = (await (globalThis as unknown as { wgpruneApp: { ready: Promise<AppState> } })
        .wgpruneApp.ready).measured.drawn;
      return m?.dense !== undefined && m?.pruned !== undefined;
    }, { timeout: 60_000 });
    const drawn = (await measured()).drawn!;
    for (const p of [drawn.dense!, drawn.pruned!]) {
      assertEquals(p.length, 10);
      assert(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, `probabilities ${p}`);
    }
    const top = (p: number[]) => p.indexOf(Math.max(...p));
    console.log(
      `drawn vertical stroke: dense says ${top(drawn.dense!)}, pruned says ${top(drawn.pruned!)}`,
    );
    assertEquals(top(drawn.dense!), 1, `a vertical stroke: ${drawn.dense}`);
  },
});

Deno.test({
  name: "web: once loaded, the app loads and boots again offline",
  ...sanitize,
  async fn() {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.setOfflineMode(true);
    try {
      await page.reload();
      await page.waitForFunction(() => "wgpruneApp" in globalThis, { timeout: 60_000 });
      const status = await waitForStatus("status", /^Ready/, 120_000);
      assert(/10000 test images/.test(status), status);
    } finally {
      await page.setOfflineMode(false);
    }
  },
});

Deno.test({
  name: "web: the page printed no error, and closes",
  ...sanitize,
  async fn() {
    const errors = app.printed.filter((l) => /error/i.test(l));
    await app.close();
    await Deno.remove(tmp, { recursive: true });
    assertEquals(errors, []);
  },
});
