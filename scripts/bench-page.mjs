// Page benchmark in headless Chromium, with the default model: bytes over the wire, cold load → first prediction, and
// the median inference time over 20 runs after a warm-up, on WebGPU (SwiftShader here) and on
// the CPU backend. Prints a Markdown table. Run through scripts/bench.sh (it needs the release build in dist/).
import { readFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { serveDist, launchChromium, ClassifierPage } from '../tests/e2e/browser.mjs';

const RUNS = Number(process.env.RUNS ?? 20);
const image = { name: 'oblique.jpg', mimeType: 'image/jpeg', buffer: await readFile('public/samples/oblique.jpg') };

async function bytes(path) {
  const raw = await readFile(path);
  return { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mb = (n) => (n / 1e6).toFixed(2);

async function measure(webgpu) {
  const server = await serveDist('dist', '/');
  const browser = await launchChromium({ webgpu, benchmarkFlags: true });
  try {
    // Cold: a fresh profile (no HTTP or Cache API cache); the upload is queued as soon as the page is up.
    const context = await browser.newContext();
    const app = new ClassifierPage(await context.newPage());
    const start = Date.now();
    await app.page.goto(server.url);
    await app.page.waitForSelector('input[data-testid=file-input]');
    const interactive = Date.now() - start;
    await app.upload(image);
    const firstPrediction = Date.now() - start;
    const backend = await app.backend();
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      await app.upload(image);
      times.push(await app.inferenceMs());
    }
    await context.close();
    return { backend, interactive, firstPrediction, times };
  } finally {
    await browser.close();
    await server.close();
  }
}

const files = await readdir('dist');
const wasm = { raw: 0, gzip: 0 };
for (const f of files.filter((f) => f.endsWith('.wasm'))) {
  const b = await bytes(`dist/${f}`);
  wasm.raw += b.raw; wasm.gzip += b.gzip;
  console.log(`| ${f} | ${mb(b.raw)} MB | ${mb(b.gzip)} MB |`);
}
// The default model's weights: what a first visit downloads.
const index = JSON.parse(await readFile('dist/models/index.json', 'utf8'));
const weightsPath = `models/${index.models.find((m) => m.id === index.default).path}model.bpk`;
const weights = await bytes(`dist/${weightsPath}`);
console.log(`| ${weightsPath} (default model, f16) | ${mb(weights.raw)} MB | ${mb(weights.gzip)} MB |`);
console.log(`| wasm + weights | ${mb(wasm.raw + weights.raw)} MB | ${mb(wasm.gzip + weights.gzip)} MB |\n`);

console.log('| backend | page interactive (ms) | cold load → first prediction (ms) | inference median (ms) | min–max (ms) | runs |');
console.log('|---|---|---|---|---|---|');
for (const webgpu of [true, false]) {
  const r = await measure(webgpu);
  const label = r.backend === 'webgpu' ? `WebGPU${process.env.GPU_NAME ? ` (${process.env.GPU_NAME})` : ' (SwiftShader, no GPU)'}` : 'CPU (flex, wasm)';
  console.log(`| ${label} | ${r.interactive} | ${r.firstPrediction} | ${median(r.times).toFixed(1)} | ${Math.min(...r.times).toFixed(1)}–${Math.max(...r.times).toFixed(1)} | ${r.times.length} |`);
}
