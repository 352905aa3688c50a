// Browser inference benchmark: the same network, weights and input in this project's Burn
// build and in ONNX Runtime Web and TensorFlow.js, in one headless Chromium. For each runtime,
// after a check that its logits match Burn's native ones, the median (min–max) of RUNS
// single-image runs and of RUNS batch-of-8 runs, each after two warm-up runs. Prints Markdown.
// A runtime that fails is listed with its error. Usage: node bench/inference.mjs SITE [MODEL...]
// (scripts/bench.sh runs it; RUNS=20; ONLY=burn-flex,ort-wasm picks runtimes)
import { RUNTIMES, serveHarness, launchBenchBrowser, openRuntime, reference, maxAbsDiff, median } from './harness.mjs';

const [site, ...models] = process.argv.slice(2);
const RUNS = Number(process.env.RUNS ?? 20);
// Batches of 8 on WebGPU emulated by SwiftShader take 20–40 s each; scripts/bench.sh runs
// fewer of them there (the table says how many). On a real GPU every row gets RUNS.
const WEBGPU_BATCH_RUNS = Number(process.env.WEBGPU_BATCH_RUNS ?? RUNS);
const BATCH = 8;
const kind = (runtime) => (runtime.split('+')[0].endsWith('webgpu') ? 'WebGPU' : 'CPU (wasm)');
const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

const server = await serveHarness(site);
try {
  for (const model of models.length ? models : ['efficientnet-lite0']) {
    const expected = await reference(site, model);
    const rows = [];
    const only = process.env.ONLY?.split(',');
    for (const runtime of only ?? RUNTIMES) {
      // A browser of its own for each runtime: nothing one leaves behind slows the next.
      const browser = await launchBenchBrowser();
      let page;
      try {
        const opened = await openRuntime(browser, server.url, runtime, model);
        page = opened.page;
        const diff = maxAbsDiff(await page.evaluate(() => window.harness.logits(1)), expected);
        if (!(diff < 1e-3)) throw new Error(`logits differ from Burn's native ones by ${diff}`);
        const single = await page.evaluate((runs) => window.harness.time(1, runs), RUNS);
        const batchRuns = kind(runtime) === 'WebGPU' ? WEBGPU_BATCH_RUNS : RUNS;
        const batch = await page.evaluate(([b, runs]) => window.harness.time(b, runs), [BATCH, batchRuns]);
        rows.push({ runtime, backend: opened.backend, loadMs: opened.loadMs, diff, single, batch });
        process.stderr.write(`${model} ${opened.backend}: ${ms(median(single))} ms, batch of ${BATCH} ${ms(median(batch))} ms\n`);
      } catch (e) {
        rows.push({ runtime, backend: runtime, error: e.message.split('\n')[0] });
        process.stderr.write(`${model} ${runtime}: failed: ${e.message}\n`);
      } finally {
        await page?.close().catch(() => {});
        await browser.close();
      }
    }
    console.log(`\n#### ${model}: median (min–max) after 2 warm-up runs\n`);
    console.log(`| runtime | kind | load (ms) | max \\|Δ logit\\| | 1 image (ms) | × fastest peer | batch of ${BATCH} (ms) | images/s | × fastest peer | runs (1 / ${BATCH}) |`);
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      if (r.error) {
        console.log(`| ${r.backend} | ${kind(r.runtime)} | failed: ${r.error} | | | | | | | |`);
        continue;
      }
      const peers = rows.filter((p) => !p.error && !p.runtime.startsWith('burn') && kind(p.runtime) === kind(r.runtime));
      const bestSingle = Math.min(...peers.map((p) => median(p.single)));
      const bestBatch = Math.min(...peers.map((p) => median(p.batch)));
      const m1 = median(r.single);
      const m8 = median(r.batch);
      const name = r.runtime.startsWith('burn') ? `**${r.backend}**` : r.backend;
      const range = (xs) => `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;
      const ratio = (x, best) => (Number.isFinite(best) ? (x / best).toFixed(2) : '—');
      console.log(`| ${name} | ${kind(r.runtime)} | ${ms(r.loadMs)} | ${r.diff.toExponential(1)} | ${range(r.single)} | ${ratio(m1, bestSingle)} | ${range(r.batch)} | ${((BATCH * 1000) / m8).toFixed(1)} | ${ratio(m8, bestBatch)} | ${r.single.length} / ${r.batch.length} |`);
    }
  }
} finally {
  await server.close();
}
