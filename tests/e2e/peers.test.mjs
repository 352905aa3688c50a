// The inference benchmark's output-equivalence check (issue: performance side by side with
// the peers): the same exported network, weights and input in ONNX Runtime Web and
// TensorFlow.js (wasm and WebGPU each) and in this project's Burn build (flex, ndarray, WebGPU)
// must give the logits Burn gives natively (`fracture export`'s reference.json) within 1e-3.
// Needs the benchmark site (scripts/tools.sh `build_bench_site`, which scripts/test.sh runs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { RUNTIMES, serveHarness, launchBenchBrowser, openRuntime, reference, maxAbsDiff } from '../../bench/harness.mjs';

const SITE = process.env.BENCH_SITE ?? `${homedir()}/.cache/bone-fracture/bench-site`;
const MODEL = 'efficientnet-lite0';
const argmax = (xs) => xs.indexOf(Math.max(...xs));
let server, browser, expected;

before(async () => {
  server = await serveHarness(SITE);
  browser = await launchBenchBrowser();
  expected = await reference(SITE, MODEL);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

for (const runtime of RUNTIMES) {
  test(`${runtime} gives Burn's native logits for ${MODEL} within 1e-3`, { timeout: 300_000 }, async () => {
    const { page, backend, errors } = await openRuntime(browser, server.url, runtime, MODEL);
    try {
      const logits = await page.evaluate(() => window.harness.logits(1));
      assert.equal(logits.length, expected.length, backend);
      const diff = maxAbsDiff(logits, expected);
      assert.ok(diff < 1e-3, `${backend}: logits differ by up to ${diff}`);
      assert.equal(argmax(logits), argmax(expected), backend);
      // A batch is not a different computation: its first row is the single image's.
      const batch = await page.evaluate(() => window.harness.logits(2));
      assert.ok(maxAbsDiff(batch.slice(0, expected.length), expected) < 1e-3, `${backend}: batch of 2`);
      assert.ok(maxAbsDiff(batch.slice(expected.length), expected) < 1e-3, `${backend}: batch of 2, second row`);
      assert.deepEqual(errors, [], backend);
    } finally {
      await page.close();
    }
  });
}
