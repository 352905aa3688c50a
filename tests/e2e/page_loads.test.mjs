// The release build, served from a sub-path as on GitHub Pages, loads its model in real Chromium
// on WebGPU (SwiftShader), classifies uploads and samples, reports bad files and keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchChromium, ClassifierPage } from './browser.mjs';
import { fixtures } from './fixtures.mjs';

let server, browser, files;
before(async () => {
  files = await fixtures();
  server = await serveDist('dist', '/bone-fracture/');
  browser = await launchChromium({ webgpu: true });
});
after(async () => { await browser?.close(); await server?.close(); });

test('from a sub-path on WebGPU: loads the model, classifies, reports a bad file, classifies again', async () => {
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(server.url);
  assert.equal(await app.backend(), 'webgpu');
  assert.match(await app.page.textContent('footer'), /CC BY 4\.0/);
  assert.equal(await app.seq(), 0);

  const requests = app.recordRequests();
  const served = server.requests.length;
  await app.upload(files.xray);
  assert.deepEqual(requests, [], 'classifying makes no network request: the image stays on the device');
  assert.equal(server.requests.length, served);
  const first = await app.probabilities();
  assert.equal(Object.keys(first).length, 10);
  const values = Object.values(first);
  const total = values.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
  assert.deepEqual(values, [...values].sort((a, b) => b - a), 'sorted by probability');
  assert.ok((await app.inferenceMs()) > 0);
  assert.match(await app.page.textContent('.timing'), /ms on WebGPU \(decoding, resizing and the network on 8 views of the image\)/,
    'the default model answers over its 8 test-time views');

  await app.upload(files.textAsPng);
  assert.equal(await app.probabilities(), null);
  assert.match(await app.errorText(), /not-an-image\.png: not an image/);

  await app.upload(files.xray);
  assert.deepEqual(Object.keys(await app.probabilities()).sort(), Object.keys(first).sort());
  assert.equal(await app.page.locator('[data-testid=error]').count(), 0, 'the error goes away on the next good input');
  assert.deepEqual(app.errors, []);

  // The model card shows the honest numbers next to the notebook's.
  assert.match(await app.page.textContent('[data-testid=metrics-table]'), /89\.3 %[\s\S]*group/);

  // Second visit: the weights come from the Cache API.
  await app.page.reload();
  await app.page.waitForSelector('[data-testid=model-ready]', { timeout: 180_000 });
  assert.equal(await app.page.getAttribute('[data-testid=model-ready]', 'data-from-cache'), 'true');
  await context.close();
});

test('a sample click classifies it; WebGPU and CPU agree; switching backends by hand works', async () => {
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(server.url);
  await app.page.click('[data-testid=sample][data-class=spiral]');
  await app.waitForSeq(1);
  const gpu = await app.probabilities();

  await app.page.click('[data-testid=use-cpu]');
  await app.page.waitForSelector('[data-testid=backend][data-backend=cpu]');
  await app.page.waitForSelector('[data-testid=model-ready]', { timeout: 180_000 });
  await app.page.click('[data-testid=sample][data-class=spiral]');
  await app.waitForSeq(2);
  const cpu = await app.probabilities();
  assert.equal(Object.keys(cpu)[0], Object.keys(gpu)[0], 'same top-1');
  for (const [name, p] of Object.entries(gpu)) {
    assert.ok(Math.abs(p - cpu[name]) < 1e-3, `${name}: WebGPU ${p} vs CPU ${cpu[name]}`);
  }
  assert.match(await app.page.textContent('.timing'), /CPU/);
  await context.close();
});

test('a lost GPU: the page says so, moves to the CPU and classifies the next image the same', async () => {
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(server.url);
  assert.equal(await app.backend(), 'webgpu');
  await app.upload(files.xray);
  const gpu = await app.probabilities();
  // The worker's test hook destroys its GPUDevice, as a driver reset or a GPU process crash would.
  const worker = app.page.workers().find((w) => /worker/.test(w.url()));
  assert.equal(await worker.evaluate(() => wasm_bindgen.lose_gpu_device()), true);
  await app.upload(files.xray);
  const cpu = await app.probabilities();
  if (!cpu) assert.fail(`not classified after the loss: ${await app.errorText()}`);
  assert.equal(await app.backend(), 'cpu');
  assert.match(await app.page.textContent('[data-testid=backend]'), /Using the CPU because the GPU was lost/);
  assert.match(await app.page.textContent('.timing'), /ms on CPU/);
  for (const [name, p] of Object.entries(gpu)) {
    assert.ok(Math.abs(p - cpu[name]) < 1e-3, `${name}: WebGPU ${p} vs CPU ${cpu[name]}`);
  }
  await app.upload(files.xray);
  assert.ok(await app.probabilities(), 'and keeps classifying');
  assert.deepEqual(app.errors, []);
  await context.close();
});

test('corrupt weights: a clear message and a retry that works', async () => {
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  server.faults.set('model.bpk', 'corrupt');
  try {
    await app.open(server.url);
    assert.match(await app.page.textContent('[data-testid=model-status] [data-testid=error]'), /corrupt: their sha256 is/);
  } finally {
    server.faults.clear();
  }
  await app.page.click('[data-testid=retry]');
  await app.page.waitForSelector('[data-testid=model-ready]', { timeout: 180_000 });
  await app.upload(files.xray);
  assert.equal(Object.keys(await app.probabilities()).length, 10);
  await context.close();
});
