// Shared by the end-to-end tests: a static server for dist/ and headless Chromium.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

export const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.bpk': 'application/octet-stream', '.jpg': 'image/jpeg', '.png': 'image/png',
};

/**
 * Serves `root` under `prefix` (e.g. "/" or "/bone-fracture/") on a free port.
 * `faults` maps a path ending (e.g. "model.bpk") to "corrupt" or "404", for failure tests;
 * `requests` records every path asked for.
 */
export async function serveDist(root = 'dist', prefix = '/') {
  const faults = new Map();
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(url.pathname);
    if (!url.pathname.startsWith(prefix)) { res.writeHead(404).end(); return; }
    const fault = [...faults].find(([suffix]) => url.pathname.endsWith(suffix))?.[1];
    if (fault === '404') { res.writeHead(404).end(); return; }
    let path = normalize(join(root, decodeURIComponent(url.pathname.slice(prefix.length))));
    try {
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      const body = await readFile(path);
      if (fault === 'corrupt') body[Math.floor(body.length / 2)] ^= 0xff;
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const close = () => new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections(); // keep-alive connections would hold it open
  });
  return { url: `http://127.0.0.1:${port}${prefix}`, faults, requests, close };
}

/**
 * Headless Debian Chromium; `webgpu` adds WebGPU (SwiftShader without a GPU). The benchmarks
 * pass `CHROMIUM_FLAGS` (e.g. "--use-angle=vulkan --enable-features=Vulkan") for a real GPU.
 */
export async function launchChromium({ webgpu = false, extraArgs = [], benchmarkFlags = false } = {}) {
  const args = [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-quic',
  ];
  // Playwright starts every launch with a fresh, empty user-data-dir of its own.
  if (webgpu) args.push('--enable-unsafe-webgpu');
  args.push(...extraArgs);
  if (benchmarkFlags) args.push(...(process.env.CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean));
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args });
}

/** Page object for the classifier page. */
export class ClassifierPage {
  constructor(page) {
    this.page = page;
    this.errors = [];
    page.on('pageerror', (e) => this.errors.push(e.message));
  }

  /** Opens the page and waits until the model is loaded (SwiftShader and debug-free wasm take a while). */
  async open(url) {
    await this.page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await this.page.goto(url);
    await this.page.waitForSelector('[data-testid=model-ready], [data-testid=model-status] [data-testid=error]', { timeout: 180_000 });
    // Until the service worker has cached the app shell and taken control, its own downloads
    // would show up among the page's requests.
    await this.page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 120_000 });
  }

  /** Moves the model to the CPU backend and waits until it is loaded there. */
  async useCpu() {
    await this.page.click('[data-testid=use-cpu]');
    await this.page.waitForSelector('[data-testid=backend][data-backend=cpu]');
    await this.page.waitForSelector('[data-testid=model-ready]', { timeout: 180_000 });
  }

  /** Content-Security-Policy violations reported so far. */
  cspViolations() { return this.page.evaluate(() => window.cspViolations); }

  backend() { return this.page.getAttribute('[data-testid=backend]', 'data-backend'); }

  seq() { return this.page.getAttribute('[data-testid=result]', 'data-seq').then(Number); }

  /** Sets a file on the picker and waits for the result's `data-seq` to grow by one. */
  async upload(file) {
    const before = await this.seq();
    await this.page.setInputFiles('input[data-testid=file-input]', file);
    await this.waitForSeq(before + 1);
  }

  async waitForSeq(n) {
    await this.page.waitForSelector(`[data-testid=result][data-seq="${n}"]`, { timeout: 120_000 });
  }

  /** The shown probabilities by class folder name (in the shown order), or null when there are none. */
  async probabilities() {
    const rows = await this.page.$$eval('[data-testid=prediction]', (items) =>
      items.map((item) => [item.dataset.class, Number(item.dataset.prob)]));
    return rows.length ? Object.fromEntries(rows) : null;
  }

  /** Milliseconds of the last inference, as the page reports them. */
  inferenceMs() { return this.page.textContent('[data-testid=inference-ms]').then(Number); }

  errorText() { return this.page.textContent('[data-testid=result] [data-testid=error]'); }

  /** Every http(s) request the page or its worker makes from now on. */
  recordRequests() {
    const seen = [];
    this.page.context().on('request', (r) => { if (/^https?:/.test(r.url())) seen.push(r.url()); });
    return seen;
  }
}

/**
 * One classifier page on the CPU backend (Chromium without WebGPU), dist/ served at "/", for a
 * test file that runs all its tests in one tab. `close()` ends the page, the browser and the server.
 * `query` picks a shipped model by address (`?model=seed-cnn`) instead of the default.
 */
export async function openCpuPage(query = '') {
  const server = await serveDist('dist', '/');
  const browser = await launchChromium({ webgpu: false });
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(server.url + query);
  const backend = await app.backend();
  if (backend !== 'cpu') throw new Error(`expected the CPU backend without WebGPU, got ${backend}`);
  const close = async () => { await context.close(); await browser.close(); await server.close(); };
  return { server, browser, context, app, close };
}
