// The Node side of the inference benchmark and of its equivalence test: serves the harness
// page (bench/browser/), this project's bench-network wasm, the exported models and the peers'
// npm packages from one local origin, and drives one page per runtime in headless Chromium.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { launchChromium, TYPES } from '../tests/e2e/browser.mjs';

/** The runtimes, in the order the tables list them. */
export const RUNTIMES = ['burn-flex', 'burn-ndarray', 'burn-webgpu', 'ort-wasm', 'ort-webgpu', 'tfjs-wasm', 'tfjs-webgpu'];

/**
 * `site` is what `scripts/bench.sh`'s `build_bench_site` made: `ours/` (wasm-bindgen output)
 * and `export/<model>/` (`fracture export`).
 */
export async function serveHarness(site) {
  const roots = {
    '/bench/': 'bench/browser',
    '/ours/': join(site, 'ours'),
    '/export/': join(site, 'export'),
    '/models/': 'public/models',
    '/vendor/ort/': 'node_modules/onnxruntime-web/dist',
    '/vendor/tfjs/': 'node_modules/@tensorflow/tfjs/dist',
    '/vendor/tfjs-wasm/': 'node_modules/@tensorflow/tfjs-backend-wasm/dist',
    '/vendor/tfjs-webgpu/': 'node_modules/@tensorflow/tfjs-backend-webgpu/dist',
  };
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    const prefix = Object.keys(roots).find((p) => pathname.startsWith(p));
    if (!prefix) return res.writeHead(404).end();
    let path = normalize(join(roots[prefix], decodeURIComponent(pathname.slice(prefix.length))));
    try {
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(await readFile(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/bench/`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Headless Chromium with WebGPU (SwiftShader without a GPU; CHROMIUM_FLAGS adds flags for a real one). */
export function launchBenchBrowser() {
  return launchChromium({ webgpu: true, benchmarkFlags: true });
}

/** A fresh page with `runtime` loaded with `model`: `{ page, backend, loadMs, errors }`. */
export async function openRuntime(browser, url, runtime, model) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 60_000 });
  const { backend, loadMs } = await page.evaluate(([r, m]) => window.harness.load(r, m), [runtime, model]);
  return { page, backend, loadMs, errors };
}

/** Burn's native logits for the exported input (`fracture export`'s reference.json). */
export async function reference(site, model) {
  return JSON.parse(await readFile(join(site, 'export', model, 'reference.json'), 'utf8')).logits;
}

export const maxAbsDiff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
