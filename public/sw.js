// Service worker: keeps the app shell (page, wasm, styles, worker) and the model's small files so
// that a reload works offline. The weights themselves are kept by the model worker in the Cache
// API (`bone-fracture-weights-v1`), so they are not duplicated here.
//
// Install: fetch index.html and worker_loader.js and cache them with every same-folder file they
// name. Fetch: network first (a new release is picked up at once), the cache when offline.
const CACHE = 'bone-fracture-shell-v1';
const ENTRY_POINTS = ['./', './worker_loader.js', './models/index.json'];

/** Relative URLs (`./name.ext`) named inside a text file. */
function namedFiles(text) {
  return [...text.matchAll(/["'(](\.\/[\w.\-/]+\.(?:js|wasm|css|json))["')]/g)].map((m) => m[1]);
}

async function precache() {
  const cache = await caches.open(CACHE);
  const seen = new Set();
  const queue = [...ENTRY_POINTS];
  while (queue.length) {
    const path = queue.shift();
    if (seen.has(path)) continue;
    seen.add(path);
    const response = await fetch(path, { cache: 'no-cache' });
    if (!response.ok) continue;
    await cache.put(path, response.clone());
    if (/\.(js|html)$|\/$/.test(path)) queue.push(...namedFiles(await response.text()));
    if (path.endsWith('models/index.json')) {
      // The default model's card; its weights are the model worker's to keep.
      const index = await response.json();
      const entry = index.models.find((m) => m.id === index.default);
      if (entry) queue.push(`./models/${entry.path.replace(/\/?$/, '/')}model.json`);
    }
  }
}

self.addEventListener('install', (event) => event.waitUntil(precache().then(() => self.skipWaiting())));

self.addEventListener('activate', (event) => event.waitUntil(
  caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('bone-fracture-shell-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()),
));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      // Keep what the shell needs; large files (weights, demo images) are not copied here.
      if (response.ok && /\.(html|js|wasm|css|json)$|\/$/.test(url.pathname)) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
      }
      return response;
    } catch (offline) {
      const cached = await caches.match(event.request, { ignoreSearch: true });
      if (cached) return cached;
      throw offline;
    }
  })());
});
