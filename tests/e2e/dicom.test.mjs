// DICOM X-rays in the page: 8- and 16-bit, MONOCHROME1 (inverted) and MONOCHROME2, rescaled and
// windowed, each classifies exactly like the same X-ray as a PNG; a JPEG 2000 file is refused
// with a message naming the compression, and the page keeps working. The fixtures are generated
// by tests/dicom.rs into tests/fixtures/dicom/ from one of the shipped sample X-rays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openCpuPage } from './browser.mjs';

let session, app;
before(async () => {
  session = await openCpuPage();
  ({ app } = session);
});
after(async () => { await session?.close(); });

const fixture = async (name, mimeType = 'application/dicom') =>
  ({ name, mimeType, buffer: await readFile(`tests/fixtures/dicom/${name}`) });

/** The drawn model input, as 0–255 red values. */
const modelInput = () => app.page.$eval('[data-testid=model-input]', (canvas) =>
  Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 4 === 0)));

test('DICOM files classify like the same X-ray as a PNG, and the page says it cannot show the file itself', async () => {
  await app.upload(await fixture('xray-grey.png', 'image/png'));
  const reference = await app.probabilities();
  const referencePixels = await modelInput();
  assert.ok(reference, 'the PNG classifies');
  for (const name of ['xray-8bit-mono2.dcm', 'xray-16bit-mono1-window.dcm', 'xray-16bit-mono2-rescaled.dcm']) {
    await app.upload(await fixture(name));
    const probabilities = await app.probabilities();
    if (!probabilities) assert.fail(`${name} does not classify: ${await app.errorText()}`);
    for (const [cls, p] of Object.entries(reference)) {
      assert.ok(Math.abs(probabilities[cls] - p) < 0.01, `${name}: ${cls} ${probabilities[cls]} vs the PNG's ${p}`);
    }
    const pixels = await modelInput();
    const worst = pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - referencePixels[i])), 0);
    assert.ok(worst <= 1, `${name}: the model input differs from the PNG's by up to ${worst}`);
    assert.match(await app.page.textContent('.images figcaption'), new RegExp(`${name.replace('.', '\\.')} · 153×320$`));
    await app.page.waitForSelector('[data-testid=preview-unshowable]');
  }
});

test('a JPEG 2000 DICOM file names its compression and what to do, then a good image classifies', async () => {
  await app.upload(await fixture('jpeg2000.dcm'));
  assert.match(await app.errorText(), /jpeg2000\.dcm: the DICOM pixel data is compressed as JPEG 2000 .*\(1\.2\.840\.10008\.1\.2\.4\.90\).*export the image as PNG/);
  await app.upload(await fixture('xray-grey.png', 'image/png'));
  assert.ok(await app.probabilities(), 'the next good image classifies');
  assert.equal(await app.page.$('[data-testid=preview-unshowable]'), null, 'a PNG is shown as itself');
  assert.deepEqual(app.errors, []);
});
