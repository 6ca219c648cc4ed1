/**
 * The few pieces of Deno's API that the kernel test files use, for running them in a browser
 * page: `Deno.test` records each test instead of running it, `Deno.readFile` fetches a test
 * fixture from the page's server, `Deno.env.get` finds nothing (and `Deno.version` is absent, so
 * src/gpu/device.ts takes the browser's adapter as it is). Imported before the test files.
 *
 * @module
 */

/** One registered test. */
export interface BrowserTest {
  /** The name given to `Deno.test`. */
  name: string;
  /** Its body. */
  fn: () => unknown | Promise<unknown>;
  /** True when the test declared itself ignored here. */
  ignore: boolean;
}

/** Every test the imported files registered, in order. */
export const registered: BrowserTest[] = [];

type TestArgs =
  | [name: string, fn: () => unknown]
  | [options: { name: string; fn: () => unknown; ignore?: boolean }];

/**
 * `Deno.readFile` of a path under tests/, fetched from the page's server (the bundle is served as
 * `/tests/suite.js`, so a test's `new URL("./fixtures/…", import.meta.url)` names the fixture).
 */
async function readFile(path: string | URL): Promise<Uint8Array> {
  const response = await fetch(String(path));
  if (!response.ok) throw new Error(`readFile: ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const shim = {
  test(...args: TestArgs): void {
    const t = args.length === 2 ? { name: args[0], fn: args[1] } : args[0];
    registered.push({ name: t.name, fn: t.fn, ignore: "ignore" in t && t.ignore === true });
  },
  readFile,
  env: { get: (_name: string) => undefined },
};

// The page has no Deno; the test files see this one.
(globalThis as unknown as { Deno: typeof shim }).Deno = shim;
