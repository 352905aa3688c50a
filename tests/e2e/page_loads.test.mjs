// The release build of the page starts in real Chromium: the wasm instantiates and Leptos renders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchChromium } from './browser.mjs';

let server, browser;
before(async () => { server = await serveDist(); browser = await launchChromium(); });
after(async () => { await browser?.close(); await server?.close(); });

test('the page renders its heading, the ten classes and the dataset credit', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('h1', { timeout: 30_000 });
  assert.match(await page.textContent('h1'), /Bone fracture classifier/);
  assert.equal(await page.locator('.classes li').count(), 10);
  assert.match(await page.textContent('footer'), /CC BY 4\.0/);
  assert.deepEqual(errors, []);
});
