/**
 * The browser app in headless Chromium for the tests: built into a temp folder
 * (`buildWebApp`, as `deno task web` builds it), served on 127.0.0.1 and opened with
 * puppeteer-core in Debian's Chromium on SwiftShader (Dawn), waiting until the app has booted.
 *
 * @module
 */

import type { Browser, Page } from "puppeteer-core";
import { buildWebApp, serveFolder } from "../../src/cli/web_build.ts";
import { launchChromium, recordPrinted } from "./dawn.ts";

/** The app, open in a page. */
export interface AppPage {
  /** The page. */
  page: Page;
  /** The browser. */
  browser: Browser;
  /** The app's URL. */
  url: string;
  /** The built folder. */
  dir: string;
  /** What the page printed (console, uncaught errors). */
  printed: string[];
  /** Closes the browser, the server and removes the folder. */
  close(): Promise<void>;
}

/** Builds the app, serves it and opens it; resolves once `wgpruneApp.ready` has. */
export async function openAppPage(): Promise<AppPage> {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-web-" });
  await buildWebApp(dir, () => {});
  const server = serveFolder(dir, 0);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    const printed = recordPrinted(page);
    await page.goto(url);
    await page.waitForFunction(() => "wgpruneApp" in globalThis, { timeout: 60_000 });
    await page.evaluate(async () => {
      await (globalThis as unknown as { wgpruneApp: { ready: Promise<unknown> } }).wgpruneApp
        .ready;
    });
    const opened = browser;
    return {
      page,
      browser: opened,
      url,
      dir,
      printed,
      async close() {
        await opened.close();
        await server.shutdown();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (err) {
    await browser?.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
    throw err;
  }
}

/** Text of the element `selector`. */
export function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (e) => e.textContent ?? "");
}
