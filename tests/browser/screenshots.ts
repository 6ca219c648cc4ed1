/// <reference lib="dom" />
/**
 * The README's screenshots of the browser app, taken in headless Chromium (SwiftShader):
 *
 *   deno run -A tests/browser/screenshots.ts CHECKPOINT EXPORT_FILE OUT_DIR
 *
 * trains the MLP 784-300-100-10 for one epoch in the page (train.png), opens EXPORT_FILE and runs
 * the test set on both paths (open.png), opens CHECKPOINT and prunes it (prune.png), and draws a
 * 7 (draw.png).
 *
 * @module
 */

import { openAppPage } from "./app_page.ts";

const [checkpoint, exported, out] = Deno.args;
if (!out) {
  console.error("usage: deno run -A tests/browser/screenshots.ts CHECKPOINT EXPORT_FILE OUT_DIR");
  Deno.exit(2);
}
await Deno.mkdir(out, { recursive: true });
const app = await openAppPage();
const page = app.page;

/** Waits for the status line `id` to match `pattern`. */
async function waitFor(id: string, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    (i, p) => new RegExp(p).test(document.getElementById(i)!.textContent ?? ""),
    { timeout: 1_200_000 },
    id,
    pattern.source,
  );
}

/** A screenshot of one section. */
async function shoot(section: string, name: string): Promise<void> {
  const element = (await page.$(`#${section}`))!;
  await element.scrollIntoView();
  await new Promise((r) => setTimeout(r, 300)); // the charts' last frame
  await element.screenshot({ path: `${out}/${name}` });
}

try {
  await page.select("select[name=hidden]", "300,100");
  await page.$eval("input[name=epochs]", (e) => ((e as HTMLInputElement).value = "1"));
  await page.click("#train-button");
  await waitFor("train-status", /^Trained/);
  await shoot("train", "train.png");
  const input = await page.$("input#file-input[type=file]");
  await input!.uploadFile(exported);
  await waitFor("open-status", /zero; layers/);
  await page.click("#evaluate-button");
  await waitFor("open-status", /the sparse path takes/);
  await shoot("open", "open.png");
  await input!.uploadFile(checkpoint);
  await waitFor("open-status", /checkpoint/);
  await page.click("#prune-button");
  await waitFor("prune-status", /points of/);
  await shoot("prune", "prune.png");
  const pad = (await page.$("#pad"))!;
  await pad.scrollIntoView();
  const box = (await pad.boundingBox())!;
  const stroke = [[70, 60], [210, 60], [180, 120], [150, 180], [125, 240]];
  await page.mouse.move(box.x + stroke[0][0], box.y + stroke[0][1]);
  await page.mouse.down();
  for (const [x, y] of stroke.slice(1)) {
    await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
  }
  await page.mouse.up();
  await new Promise((r) => setTimeout(r, 1500));
  await shoot("draw", "draw.png");
  console.log(`wrote ${out}/{train,open,prune,draw}.png`);
} finally {
  await app.close();
}
