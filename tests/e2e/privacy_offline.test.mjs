// The image never leaves the device and the page talks only to its own origin: a
// Content-Security-Policy says so, and every request is recorded while the page loads, classifies
// and fine-tunes on a picked folder. With the network off, a reload still classifies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchChromium, ClassifierPage } from './browser.mjs';
import { fixtures, labelledFolder } from './fixtures.mjs';

let server, browser, files;
before(async () => {
  files = await fixtures();
  server = await serveDist('dist', '/bone-fracture/');
  browser = await launchChromium({ webgpu: false });
});
after(async () => { await browser?.close(); await server?.close(); });

test('only its own origin: a strict CSP, no violation, no request while classifying or fine-tuning', async () => {
  const context = await browser.newContext();
  const all = [];
  context.on('request', (r) => all.push(r.url()));
  const app = new ClassifierPage(await context.newPage());
  await app.open(server.url);
  const policy = await app.page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
  assert.match(policy, /default-src 'self'/);
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/, 'inline script only by hash');
  assert.doesNotMatch(policy, /unsafe-inline|\*/);

  const afterLoad = all.length;
  await app.upload(files.xray);
  assert.ok(await app.probabilities());
  await app.page.setInputFiles('input[data-testid=finetune-folder]', await labelledFolder());
  await app.page.fill('input[data-testid=finetune-epochs]', '1');
  await app.page.click('[data-testid=finetune-start]');
  await app.page.waitForSelector('[data-testid=finetune-state][data-state=done]', { state: 'attached', timeout: 300_000 });
  const later = all.slice(afterLoad).filter((url) => !url.startsWith('blob:') && !url.startsWith('data:'));
  assert.deepEqual(later, [], 'classifying and fine-tuning on a picked folder request nothing');
  const origin = new URL(server.url).origin;
  assert.deepEqual(all.filter((url) => /^https?:/.test(url) && !url.startsWith(origin)), [], 'no other origin, ever');
  assert.deepEqual(await app.cspViolations(), []);
  assert.deepEqual(app.errors, []);
  await context.close();
});

test('offline: after one visit, a reload with the server gone still classifies', async () => {
  const site = await serveDist('dist', '/offline/');
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(site.url); // waits until the service worker has cached the app shell and took control
  await site.close();
  await context.setOffline(true);
  await app.page.reload();
  await app.page.waitForSelector('[data-testid=model-ready]', { timeout: 180_000 });
  assert.equal(await app.page.getAttribute('[data-testid=model-ready]', 'data-from-cache'), 'true');
  await app.upload(files.xray);
  assert.equal(Object.keys(await app.probabilities()).length, 10);
  await context.close();
});
