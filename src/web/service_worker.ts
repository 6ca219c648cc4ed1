/// <reference lib="webworker" />
/**
 * The app's service worker: at install it caches every file the build lists in files.json, so
 * the page loads and runs offline; MNIST is served from the cache first (it never changes), the
 * rest from the network first (a rebuilt app is seen at once), the cache when offline.
 *
 * @module
 */

const worker = globalThis as unknown as ServiceWorkerGlobalScope;
const PREFIX = "wgprune-";

worker.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const manifest = await (await fetch("files.json", { cache: "no-cache" })).json() as {
      version: string;
      files: string[];
    };
    const cache = await caches.open(PREFIX + manifest.version);
    await cache.addAll(manifest.files);
    await worker.skipWaiting();
  })());
});

worker.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = (await (await fetch("files.json", { cache: "no-cache" }).catch(() => undefined))
      ?.json().catch(() => undefined))?.version;
    for (const name of await caches.keys()) {
      if (keep && name.startsWith(PREFIX) && name !== PREFIX + keep) await caches.delete(name);
    }
    await worker.clients.claim();
  })());
});

/** The cached response of a request, from any of the app's caches. */
function cached(request: Request): Promise<Response | undefined> {
  return caches.match(request, { ignoreSearch: true });
}

worker.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const immutable = new URL(request.url).pathname.includes("/mnist/");
  event.respondWith((async () => {
    if (immutable) {
      const hit = await cached(request);
      if (hit) return hit;
    }
    try {
      return await fetch(request);
    } catch (err) {
      const hit = await cached(request);
      if (hit) return hit;
      throw err;
    }
  })());
});
