// Soak: 1,000 classifications in one page (CPU backend), cycling through the ten sample X-rays.
// After a forced garbage collection at 100 and at 1,000, the page's and the worker's
// WebAssembly memories and JS heaps must each differ by less than 5 %, and their live
// WebAssembly heaps (`heap_meter`) by less than 1 %. The memory size alone is only the
// allocator's high-water mark; the live heap is what caught a leak of one 48-byte allocation per
// classification (+9.4 % on the page's, README "Memory"), and it held to 0.00 % since: 1 % still
// catches a leak of about 9 bytes a classification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { openCpuPage } from './browser.mjs';

const TOTAL = Number(process.env.SOAK_TOTAL ?? 1000);
const CHECKPOINT = 100;
// Extra points at which to print the figures (e.g. SOAK_EVERY=250), to see how they move.
const EVERY = Number(process.env.SOAK_EVERY ?? 0);
// The small seed CNN by default: a thousand runs of the transfer model (8 views a classification,
// 833 ms each in README "Memory") would add about 14 minutes to the test command.
// SOAK_MODEL=efficientnet-lite0 measures the default model.
const MODEL = process.env.SOAK_MODEL ?? 'seed-cnn';

let session, browser, context, app;
before(async () => {
  session = await openCpuPage(`?model=${MODEL}`);
  ({ app, browser, context } = session);
});
after(async () => { await session?.close(); });

/**
 * Chrome DevTools Protocol access to the model worker: Playwright gives CDP sessions for pages
 * only, so this attaches to the worker target through the browser session and relays messages.
 */
async function workerDevTools(workerUrl) {
  const session = await browser.newBrowserCDPSession();
  const { targetInfos } = await session.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'worker' && t.url === workerUrl);
  assert.ok(target, `the worker target among ${targetInfos.map((t) => `${t.type} ${t.url}`)}`);
  const { sessionId } = await session.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  const pending = new Map();
  let id = 0;
  session.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message);
    pending.get(message.id)?.(message.result);
  });
  return (method, params = {}) => new Promise((resolve) => {
    pending.set(++id, resolve);
    session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
  });
}

test(`${TOTAL} classifications (${MODEL}): memory at ${CHECKPOINT} and at ${TOTAL} differs by less than 5 % (live heaps: 1 %)`, async () => {
  const names = (await readdir('public/samples')).filter((n) => n.endsWith('.jpg')).sort();
  const samples = await Promise.all(names.map(async (name) =>
    ({ name, mimeType: 'image/jpeg', buffer: await readFile(`public/samples/${name}`) })));
  const worker = app.page.workers().find((w) => /worker/.test(w.url()));
  const page = await context.newCDPSession(app.page);
  const inWorker = await workerDevTools(worker.url());

  const measure = async () => {
    await page.send('HeapProfiler.collectGarbage');
    await inWorker('HeapProfiler.collectGarbage');
    return {
      'page wasm heap (live)': await app.page.evaluate(() => window.wasmBindings.wasm_heap_live_bytes()),
      'page wasm memory': await app.page.evaluate(() => window.wasmBindings.wasm_memory_bytes()),
      'page JS heap': (await page.send('Runtime.getHeapUsage')).usedSize,
      'worker wasm heap (live)': await worker.evaluate(() => wasm_bindgen.wasm_heap_live_bytes()),
      'worker wasm memory': await worker.evaluate(() => wasm_bindgen.wasm_memory_bytes()),
      'worker JS heap': (await inWorker('Runtime.getHeapUsage')).usedSize,
    };
  };

  const started = Date.now();
  let atCheckpoint;
  for (let i = 1; i <= TOTAL; i++) {
    await app.upload(samples[i % samples.length]);
    if (!(await app.probabilities())) assert.fail(`classification ${i} failed: ${await app.errorText()}`);
    if (i === CHECKPOINT) atCheckpoint = await measure();
    if (EVERY && i % EVERY === 0) console.log(`soak at ${i}: ${JSON.stringify(await measure())}`);
  }
  const atEnd = await measure();
  const seconds = (Date.now() - started) / 1000;

  const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);
  console.log(`soak (${MODEL}): ${TOTAL} classifications in ${seconds.toFixed(0)} s (${(seconds / TOTAL * 1000).toFixed(0)} ms each)`);
  console.log(`| measure | at ${CHECKPOINT} (MiB) | at ${TOTAL} (MiB) | change |`);
  console.log('|---|---|---|---|');
  for (const [what, before] of Object.entries(atCheckpoint)) {
    const change = (atEnd[what] - before) / before;
    console.log(`| ${what} | ${mib(before)} | ${mib(atEnd[what])} | ${(change * 100).toFixed(2)} % |`);
  }
  for (const [what, before] of Object.entries(atCheckpoint)) {
    const change = Math.abs(atEnd[what] - before) / before;
    const limit = what.includes('(live)') ? 0.01 : 0.05;
    assert.ok(change < limit, `${what}: ${mib(before)} MiB at ${CHECKPOINT}, ${mib(atEnd[what])} MiB at ${TOTAL} (limit ${limit * 100} %)`);
  }
  assert.equal(await app.seq(), TOTAL);
  assert.deepEqual(app.errors, []);
});
