// The shipped models: the transfer-learning default and the reference notebook's CNN, each
// chosen from the page's picker (or the address), each classifying on WebGPU and on the CPU;
// the transfer model's heatmap toggle and opacity slider on both backends; the colour-photo warning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { serveDist, launchChromium, ClassifierPage } from './browser.mjs';
import { fixtures } from './fixtures.mjs';

let server, files, index;
const gpuResults = [], cpuResults = [];
before(async () => {
  files = await fixtures();
  server = await serveDist('dist', '/');
  index = JSON.parse(await readFile('public/models/index.json', 'utf8'));
});
after(async () => { await server?.close(); });

const name = (id) => index.models.find((m) => m.id === id).name;

/** Picks `id` in the model picker and waits until the page says that model is ready. */
async function choose(app, id) {
  await app.page.selectOption('[data-testid=model-picker]', id);
  await app.page.waitForFunction((want) => document.querySelector('[data-testid=model-ready]')?.textContent.includes(want),
    name(id), { timeout: 180_000 });
}

/**
 * EfficientNet's heatmap: hidden until toggled, then a non-constant map over the model's input
 * whose opacity follows the slider; both settings hold for the next X-ray. The seed CNN says why
 * it has none.
 */
async function checkHeatmap(app, id) {
  if (id === 'seed-cnn') {
    assert.match(await app.page.textContent('[data-testid=heatmap-unavailable]'), /flattens its feature maps/);
    assert.equal(await app.page.locator('[data-testid=heatmap-toggle]').count(), 0);
    return;
  }
  const heatmap = app.page.locator('[data-testid=heatmap]');
  if (await app.page.isChecked('[data-testid=heatmap-toggle]')) await app.page.uncheck('[data-testid=heatmap-toggle]');
  assert.equal(await heatmap.isVisible(), false, 'hidden until asked for');
  await app.page.check('[data-testid=heatmap-toggle]');
  assert.equal(await heatmap.isVisible(), true, 'shown when toggled');
  const alphas = await heatmap.evaluate((canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    return new Set(Array.from({ length: data.length / 4 }, (_, i) => data[i * 4 + 3])).size;
  });
  assert.ok(alphas > 50, `the map is not constant (${alphas} distinct levels)`);
  await app.page.fill('[data-testid=heatmap-opacity]', '25');
  assert.equal(await heatmap.evaluate((canvas) => getComputedStyle(canvas).opacity), '0.25');
  // The settings hold for the next X-ray.
  await app.upload(files.xray);
  if (!(await app.probabilities())) assert.fail(`${id}, second X-ray: ${await app.errorText()}`);
  assert.equal(await heatmap.isVisible(), true, 'still shown for the next X-ray');
  assert.equal(await heatmap.evaluate((canvas) => getComputedStyle(canvas).opacity), '0.25');
  assert.equal(await app.page.isChecked('[data-testid=heatmap-toggle]'), true);
  assert.equal(await app.page.inputValue('[data-testid=heatmap-opacity]'), '25');
  await app.page.uncheck('[data-testid=heatmap-toggle]');
  assert.equal(await heatmap.isVisible(), false, 'hidden again');
}

/** Classifies the test X-ray with every shipped model, in the picker's order. */
async function everyModel(app) {
  const picked = await app.page.$$eval('[data-testid=model-picker] option', (options) => options.map((o) => o.value));
  assert.deepEqual(picked, index.models.map((m) => m.id), 'the picker lists every shipped model');
  assert.equal(await app.page.inputValue('[data-testid=model-picker]'), index.default, 'the default is chosen first');
  assert.match(await app.page.textContent('[data-testid=model-ready]'), new RegExp(name(index.default).replace(/[()]/g, '.')));
  const results = {};
  for (const id of [...picked.filter((m) => m !== index.default), index.default]) {
    await choose(app, id);
    await app.upload(files.xray);
    const probabilities = await app.probabilities();
    if (!probabilities) assert.fail(`${id}: ${await app.errorText()}`);
    results[id] = probabilities;
    await checkHeatmap(app, id);
  }
  return results;
}

for (const webgpu of [true, false]) {
  test(`on ${webgpu ? 'WebGPU' : 'the CPU'}: each shipped model is chosen from the picker, classifies and has its heatmap toggle`, async () => {
    const browser = await launchChromium({ webgpu });
    const app = new ClassifierPage(await (await browser.newContext()).newPage());
    await app.open(server.url);
    assert.equal(await app.backend(), webgpu ? 'webgpu' : 'cpu');
    const results = await everyModel(app);
    const [a, b] = Object.values(results);
    assert.ok(Object.keys(a).some((c) => Math.abs(a[c] - b[c]) > 1e-3), 'different models give different answers');
    assert.deepEqual(app.errors, []);
    assert.deepEqual(await app.cspViolations(), [], 'no inline style or script the policy blocks');
    await browser.close();
    (webgpu ? gpuResults : cpuResults).push(results);
  });
}
test('WebGPU and the CPU give every model the same probabilities', () => {
  assert.equal(gpuResults.length, 1);
  assert.equal(cpuResults.length, 1);
  for (const [id, gpu] of Object.entries(gpuResults[0])) {
    for (const [cls, p] of Object.entries(gpu)) {
      assert.ok(Math.abs(p - cpuResults[0][id][cls]) < 2e-3, `${id}, ${cls}: WebGPU ${p} vs CPU ${cpuResults[0][id][cls]}`);
    }
  }
});

test("the address can ask for a model: ?model=seed-cnn, whose card and answers cite its own cross-validation", async () => {
  const browser = await launchChromium({ webgpu: false });
  const app = new ClassifierPage(await (await browser.newContext()).newPage());
  await app.open(`${server.url}?model=seed-cnn`);
  assert.match(await app.page.textContent('[data-testid=model-ready]'), /Seed CNN/);
  assert.equal(await app.page.inputValue('[data-testid=model-picker]'), 'seed-cnn');
  const { cross_validation: folds } = JSON.parse(await readFile('public/models/seed-cnn/model.json', 'utf8'));
  const images = folds.results.reduce((n, fold) => n + fold.test_images, 0);
  const top1 = folds.top1.mean * 100;
  const cv = await app.page.textContent('[data-testid=cv-table]');
  assert.ok(cv.includes(`${top1.toFixed(1)} ±`), `the seed CNN's folds in ${cv}`);
  const cardText = await app.page.textContent('.model-card');
  assert.ok(cardText.includes(`${folds.folds} group-disjoint, class-stratified folds of all ${images} images`), cardText);
  assert.ok(cardText.includes(`Recipe: ${folds.recipe}`) && folds.recipe.startsWith('seed-cnn'), cardText);
  assert.equal(await app.page.locator('[data-testid=cv-views]').count(), 0, 'it answers from the image alone');
  await app.upload(files.xray);
  if (!(await app.probabilities())) assert.fail(`seed-cnn: ${await app.errorText()}`);
  const honesty = await app.page.textContent('.honesty');
  const cited = [`in ${folds.folds}-fold cross-validation over ${images} X-rays`, `right ${top1.toFixed(0)} % of the time`];
  assert.ok(cited.every((text) => honesty.includes(text)), honesty);
  await browser.close();
});

test('a colour photo is classified with a warning that it does not look like an X-ray; an X-ray gets none', async () => {
  const browser = await launchChromium({ webgpu: false });
  const app = new ClassifierPage(await (await browser.newContext()).newPage());
  await app.open(server.url);
  await app.upload('tests/fixtures/imagenet/coffee.png');
  assert.ok(await app.probabilities(), 'still classified');
  assert.match(await app.page.textContent('[data-testid=not-an-xray]'), /does not look like an X-ray: it is in colour/);
  await app.upload(files.xray);
  assert.ok(await app.probabilities());
  assert.equal(await app.page.locator('[data-testid=not-an-xray]').count(), 0);
  await browser.close();
});

test("the model card shows the default model's cross-validation, training curves, per-class table and confusion matrix", async () => {
  const browser = await launchChromium({ webgpu: false });
  const app = new ClassifierPage(await (await browser.newContext()).newPage());
  await app.open(server.url);
  const card = JSON.parse(await readFile(`public/models/${index.models.find((m) => m.id === index.default).path}model.json`, 'utf8'));
  const cv = await app.page.textContent('[data-testid=cv-table]');
  assert.ok(cv.includes(`${(card.cross_validation.top1.mean * 100).toFixed(1)} ±`), `top-1 in ${cv}`);
  assert.ok(card.views > 1, 'the default model averages its answers over test-time views');
  // The page's own answer, cross-validated: the same folds scored over the card's views.
  const views = card.cross_validation_views;
  assert.equal(views.views, card.views);
  const viewsRow = await app.page.textContent('[data-testid=cv-views]');
  assert.ok(viewsRow.includes(`mean over ${card.views} views (the page's answer)${(views.top1.mean * 100).toFixed(1)} ±`), `the views' top-1 in ${viewsRow}`);
  assert.ok(viewsRow.includes(`${views.calibrated_ece.mean.toFixed(3)} ±`), `the views' calibrated ECE in ${viewsRow}`);
  assert.match(await app.page.textContent('[data-testid=views]'), new RegExp(`mean of the probabilities over ${card.views} views`));
  // "How good is it?" leads with every model's cross-validation on these folds: this one's
  // answer, then those its card compares it with (the seed CNN's at least).
  const compared = [{ model: card.metrics.group.model, cross_validation: views }, ...card.cross_validation_comparison];
  assert.ok(compared.some((c) => c.model === 'seed-cnn'), 'the seed CNN is compared on the same folds');
  // Each row: the card's model name (its first cell says it in words), then the figures.
  const rows = await app.page.$$eval('[data-testid=compared-cv]',
    (trs) => trs.map((tr) => [tr.dataset.model, [...tr.cells].slice(1).map((td) => td.textContent).join('')]));
  assert.deepEqual(
    rows,
    compared.map(({ model, cross_validation: cv }) => {
      const pm = (m) => `${(m.mean * 100).toFixed(1)} ± ${(m.sd * 100).toFixed(1)} %`;
      const images = cv.results.reduce((n, fold) => n + fold.test_images, 0);
      return [model, `${cv.folds} group folds${pm(cv.top1)}${pm(cv.top3)}${cv.macro_f1.mean.toFixed(3)} ± ${cv.macro_f1.sd.toFixed(3)}` +
        `${cv.loss.mean.toFixed(3)} ± ${cv.loss.sd.toFixed(3)}${images}`];
    }),
  );
  const names = await app.page.$$eval('[data-testid=compared-cv] td:first-child', (tds) => tds.map((td) => td.textContent));
  assert.ok(names.includes('Notebook CNN') && names.includes('Notebook MLP'), `the networks named in words: ${names}`);
  await app.page.waitForSelector('[data-testid=training-curves] polyline', { timeout: 30_000 });
  // One pair of curves per training run: the model's own, or each soup member's.
  const log = (await readFile(`public/models/${index.default}/metrics.jsonl`, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  const runs = [...new Set(log.map((epoch) => epoch.run ?? 0))];
  assert.equal(await app.page.locator('[data-testid=training-curves]').count(), runs.length);
  const cardText = await app.page.textContent('.model-card');
  for (const run of runs) {
    const epochs = log.filter((epoch) => (epoch.run ?? 0) === run).length;
    const caption = run ? `Run ${run} of the soup \\([^)]*\\): ${epochs} epochs` : `${epochs} epochs of the shipped run`;
    assert.match(cardText, new RegExp(caption));
  }
  assert.equal(await app.page.locator('[data-testid=per-class-table] tbody tr').count(), 10);
  const cells = await app.page.$$eval('[data-testid=confusion-matrix] tbody td', (tds) => tds.map((td) => Number(td.textContent)));
  assert.equal(cells.length, 100);
  assert.equal(cells.reduce((a, b) => a + b, 0), card.metrics.group.validation.n, 'every validation image is counted once');
  await browser.close();
});

test("the model card's confusion cells open their X-rays; the validation grid shows predicted vs actual; the training grid shows labelled X-rays", async () => {
  const browser = await launchChromium({ webgpu: false });
  const app = new ClassifierPage(await (await browser.newContext()).newPage());
  await app.open(server.url);
  const folder = `public/models/${index.models.find((m) => m.id === index.default).path}`;
  const gallery = JSON.parse(await readFile(`${folder}gallery.json`, 'utf8'));
  const { classes } = JSON.parse(await readFile(`${folder}model.json`, 'utf8'));
  assert.ok(gallery.validation.every((v) => classes.includes(v.class)), 'gallery classes are the card\'s class names');
  const shown = app.page.locator('[data-testid=validation-image]:visible');
  await app.page.waitForSelector('[data-testid=validation-grid]', { timeout: 30_000 });
  assert.equal(await shown.count(), gallery.validation.length, 'every validation X-ray at first');
  // The matrix counts the gallery's answers: each cell's number is the images it opens.
  const cell = app.page.locator('[data-testid=confusion-matrix-cell]:not([disabled])');
  const offDiagonal = (await cell.evaluateAll((bs) => bs.map((b, i) => [i, b.dataset.actual !== b.dataset.predicted])))
    .find(([, off]) => off)[0];
  const button = cell.nth(offDiagonal);
  const [count, actual, predicted] = await button.evaluate((b) => [Number(b.textContent), b.dataset.actual, b.dataset.predicted]);
  assert.match(await button.getAttribute('aria-label'), new RegExp(`^${count} X-rays: actual .+, predicted .+$`));
  await button.click();
  assert.equal(await shown.count(), count, `cell (${actual}, ${predicted}) opens its ${count} X-rays`);
  for (const figure of await shown.all()) {
    assert.deepEqual([await figure.getAttribute('data-actual'), await figure.getAttribute('data-predicted')], [actual, predicted]);
    assert.match(await figure.textContent(), /Actual: .*Model: .*%/);
  }
  assert.match(await app.page.textContent('[data-testid=validation-heading]'), /^Actual .+, predicted .+:$/);
  // Right and wrong split the images; the thumbnails load.
  await app.page.click('[data-testid=validation-filter]:has-text("Wrong")');
  const wrong = gallery.validation.filter((v) => v.probabilities.indexOf(Math.max(...v.probabilities)) !== classes.indexOf(v.class)).length;
  assert.equal(await shown.count(), wrong);
  assert.equal(await app.page.locator('.xray-thumb.right:visible').count(), 0);
  const firstImage = shown.first().locator('img');
  await firstImage.scrollIntoViewIfNeeded();
  await app.page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await firstImage.elementHandle(), { timeout: 10_000 });
  // Training X-rays: a few per class, labelled with their class.
  const training = app.page.locator('[data-testid=training-image]');
  assert.equal(await training.count(), gallery.training.length);
  const perClass = await training.evaluateAll((fs) => fs.map((f) => f.dataset.class));
  assert.equal(new Set(perClass).size, 10, 'every class is in the training grid');
  assert.match(await app.page.textContent('.model-card'), /CC BY 4\.0/);
  await browser.close();
});

