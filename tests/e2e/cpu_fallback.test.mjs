// Without WebGPU (Chromium without --enable-unsafe-webgpu) the page says so and runs on the CPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchChromium, ClassifierPage } from './browser.mjs';
import { fixtures } from './fixtures.mjs';

let server, browser, files;
before(async () => {
  files = await fixtures();
  server = await serveDist();
  browser = await launchChromium({ webgpu: false });
});
after(async () => { await browser?.close(); await server?.close(); });

test('no WebGPU: the CPU backend, with the reason shown, classifies an upload', async () => {
  const app = new ClassifierPage(await browser.newPage());
  await app.open(server.url);
  assert.equal(await app.backend(), 'cpu');
  assert.match(await app.page.textContent('[data-testid=backend]'), /Using the CPU because/);
  await app.upload(files.xray);
  assert.equal(Object.keys(await app.probabilities()).length, 10);
  assert.deepEqual(app.errors, []);
});

test('dropping a file and pasting an image both classify it', async () => {
  const app = new ClassifierPage(await browser.newPage());
  await app.open(server.url);
  const b64 = files.xray.buffer.toString('base64');
  const deliver = (how) => app.page.evaluate(([data, how]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], `${how}.jpg`, { type: 'image/jpeg' }));
    if (how === 'dropped') {
      document.querySelector('.drop-zone')
        .dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    } else {
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }
  }, [b64, how]);
  await deliver('dropped');
  await app.waitForSeq(1);
  assert.match(await app.page.textContent('[data-testid=result] figcaption'), /dropped\.jpg/);
  await deliver('pasted');
  await app.waitForSeq(2);
  assert.match(await app.page.textContent('[data-testid=result] figcaption'), /pasted\.jpg/);
  assert.equal(Object.keys(await app.probabilities()).length, 10);
  assert.deepEqual(app.errors, []);
});
