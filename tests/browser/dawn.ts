/**
 * The kernel tests inside headless Chromium: WebGPU there is Dawn (Tint compiles the WGSL), on
 * SwiftShader's Vulkan. The test files of tests/browser/suite.ts are bundled for the browser
 * (`deno bundle`, with `node:crypto` and `node:zlib` mapped to src/web/), served from
 * 127.0.0.1 together with the shader files and test fixtures, and driven through puppeteer-core:
 * one call per test, so each reports on its own.
 *
 * @module
 */

import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { PageResult, SuiteGlobal } from "./suite.ts";
import { bundleForBrowser, shaderSources as projectShaders } from "../../src/cli/web_build.ts";

/** Debian's Chromium, as `deno task setup --browser` installs it. */
export const CHROMIUM = "/usr/bin/chromium";

/** Chromium's flags for WebGPU compute, headless, on SwiftShader. */
export const CHROMIUM_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--enable-features=Vulkan",
];

const ROOT = new URL("../../", import.meta.url);

/** The suite, loaded in a page. */
export interface DawnSuite {
  /** The page's adapter, e.g. `google swiftshader`. */
  adapter: string;
  /** Features of the device the tests run on. */
  features: string[];
  /** The tests registered in the page, in order. */
  names: string[];
  /** Runs one test in the page. */
  run(name: string): Promise<PageResult>;
  /** What the page printed (console and uncaught errors), for a failure's message. */
  console: string[];
  /** Closes the browser and the server. */
  close(): Promise<void>;
}

/**
 * Every shader file's text: those of shaders/ by name, the broken ones of tests/fixtures/ by the
 * path a test in the page names them with (`/tests/fixtures/broken.wgsl`).
 */
async function shaderSources(): Promise<Record<string, string>> {
  const sources = await projectShaders();
  for await (const entry of Deno.readDir(new URL("tests/fixtures/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".wgsl")) {
      sources[`/tests/fixtures/${entry.name}`] = await Deno.readTextFile(
        new URL(`tests/fixtures/${entry.name}`, ROOT),
      );
    }
  }
  return sources;
}

/** Serves the page, the bundle and tests/fixtures/ on 127.0.0.1. */
function serve(bundle: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") {
      return new Response("<!doctype html><title>wgprune kernels</title>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (path === "/favicon.ico") return new Response(null, { status: 204 });
    if (path === "/tests/suite.js") {
      return new Response(bundle, { headers: { "content-type": "text/javascript" } });
    }
    const fixture = path.match(/^\/tests\/fixtures\/([\w.-]+)$/)?.[1];
    if (fixture) {
      try {
        return new Response(await Deno.readFile(new URL(`tests/fixtures/${fixture}`, ROOT)));
      } catch {
        // not found below
      }
    }
    return new Response("not found", { status: 404 });
  });
}

/** Starts headless Chromium with WebGPU on SwiftShader. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    protocolTimeout: 30 * 60_000,
  });
}

/** What `page` prints (console lines, uncaught errors), collected as it prints it. */
export function recordPrinted(page: Page): string[] {
  const printed: string[] = [];
  page.on("console", (m) => printed.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => printed.push(`page error: ${e}`));
  return printed;
}

/** Bundles the suite, starts Chromium and loads the suite in a page. */
export async function openDawnSuite(): Promise<DawnSuite> {
  const bundle = await bundleForBrowser("tests/browser/suite.ts");
  const server = serve(bundle);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    const printed = recordPrinted(page);
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    await page.addScriptTag({ url: "/tests/suite.js", type: "module" });
    await page.waitForFunction(() => "wgpruneSuite" in globalThis, { timeout: 60_000 });
    const shaders = await shaderSources();
    const { adapter, features } = await page.evaluate(
      (s) => (globalThis as unknown as SuiteGlobal).wgpruneSuite.start(s),
      shaders,
    );
    const names = await page.evaluate(() =>
      (globalThis as unknown as SuiteGlobal).wgpruneSuite.names()
    );
    const opened = browser;
    return {
      adapter,
      features,
      names,
      console: printed,
      run: (name) =>
        page.evaluate((n) => (globalThis as unknown as SuiteGlobal).wgpruneSuite.run(n), name),
      async close() {
        await opened.close();
        await server.shutdown();
      },
    };
  } catch (err) {
    await browser?.close();
    await server.shutdown();
    throw err;
  }
}
