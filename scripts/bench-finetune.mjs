// Fine-tuning throughput in headless Chromium: the demo set on WebGPU and on the CPU backend,
// head only and whole network. Each run is stopped after BATCHES steps; the page's own
// images/s of the epoch so far is reported (the first step's warm-up included). Prints a
// Markdown table. Run through scripts/bench.sh or scripts/bench-gpu.sh; CHROMIUM_FLAGS adds browser flags (a
// real GPU may need e.g. "--use-angle=vulkan --enable-features=Vulkan").
import { serveDist, launchChromium, ClassifierPage } from '../tests/e2e/browser.mjs';

const BATCHES = Number(process.env.BATCHES ?? 3);
const BATCH_SIZE = Number(process.env.BATCH_SIZE ?? 16);
// The shipped model to fine-tune (the page's default unless MODEL names another).
const MODEL = process.env.MODEL;
// BACKENDS=cpu skips WebGPU (on SwiftShader, three whole-network EfficientNet steps take over 10 minutes).
const BACKENDS = (process.env.BACKENDS ?? 'webgpu,cpu').split(',');

async function run(browser, url, backend, trainable) {
  const context = await browser.newContext();
  const app = new ClassifierPage(await context.newPage());
  await app.open(MODEL ? `${url}?model=${MODEL}` : url);
  if (backend === 'cpu') await app.useCpu();
  const actual = await app.backend();
  await app.page.check(`[data-testid=finetune-${trainable}]`);
  await app.page.selectOption('.finetune-options select >> nth=0', String(BATCH_SIZE));
  await app.page.fill('input[data-testid=finetune-epochs]', '1');
  await app.page.click('[data-testid=finetune-demo]');
  await app.page.waitForSelector(`[data-testid=finetune-speed][data-batch="${BATCHES}"]`, { timeout: 1_800_000 });
  const speed = Number(await app.page.getAttribute('[data-testid=finetune-speed]', 'data-images-per-second'));
  await app.page.click('[data-testid=finetune-stop]');
  await app.page.waitForSelector('[data-testid=finetune-state][data-state=stopped], [data-testid=finetune-state][data-state=done]', { timeout: 1_800_000 });
  await context.close();
  return { actual, speed };
}

const server = await serveDist('dist', '/');
const browser = await launchChromium({ webgpu: true, benchmarkFlags: true });
const gpu = await browser.newPage();
await gpu.goto(server.url); // WebGPU needs a secure context (localhost is one)
const adapter = await gpu.evaluate(async () => {
  const a = await navigator.gpu?.requestAdapter();
  return a ? `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''} ${a.info?.description ?? ''}`.trim() || 'unnamed adapter' : 'none (navigator.gpu has no adapter)';
});
await gpu.close();
console.log(`Model: ${MODEL ?? 'the default'}; WebGPU adapter: ${adapter}; batch ${BATCH_SIZE}; images/s over the first ${BATCHES} steps of the demo set\n`);
console.log('| backend | what trains | images/s |');
console.log('|---|---|---|');
try {
  for (const backend of BACKENDS) {
    for (const trainable of ['head', 'whole']) {
      const { actual, speed } = await run(browser, server.url, backend, trainable);
      const label = actual === 'webgpu' ? 'WebGPU' : 'CPU (flex, wasm)';
      console.log(`| ${label} | ${trainable === 'head' ? 'head only' : 'whole network'} | ${speed.toFixed(2)} |`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
