// Browser tests of the experiment as an explorer: chart view, grouping with bands, scatter,
// parallel coordinates with brushing, live runs, images, HTML/table previews, logged models,
// datasets, deep links. A real runstash server seeded by the stock mlflow client.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, startServer } from './harness.mjs';

let server;
let browser;
let page;
let explorer;
let live;
const dialogs = [];

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const card = (id) => page.locator(`[data-testid=chart-card][data-card="${id}"]`);
const hash = () => page.evaluate(() => decodeURIComponent(location.hash));

async function rest(path, body) {
  const response = await fetch(`${server.trackingUri}/api/2.0/mlflow/${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

async function history(runId, key) {
  const body = await rest(`metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent(key)}`);
  return body.metrics;
}

/** uPlot's legend of a chart as label -> value text, at the current cursor. */
function legend(title) {
  return page.$$eval(`[data-testid=metric-chart][data-title="${title}"] .u-legend .u-series`, (rows) =>
    Object.fromEntries(rows.map((r) => [r.querySelector('.u-label')?.textContent ?? '', r.querySelector('.u-value')?.textContent ?? ''])),
  );
}

/** Moves the mouse over a chart's plotting area at a fraction of its width. */
async function hover(title, fraction) {
  const box = await page.locator(`[data-testid=metric-chart][data-title="${title}"] .u-over`).boundingBox();
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  server = await startServer();
  try {
    ({ explorer, live } = await seed(server.trackingUri, 'seed_explorer.py'));
  } catch (error) {
    error.message += `\n--- server log (tail) ---\n${server.log?.().slice(-4000) ?? ''}`;
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('chart view: a chart per metric in prefix sections, bars for single values, run colors shared with the table', async () => {
  await at(`#/experiments/${explorer.experiment_id}`);
  await page.getByTestId('tab-charts').click();
  await page.waitForFunction(() => location.hash.includes('tab=charts'));
  const sections = page.locator('[data-testid=chart-section]');
  await sections.nth(2).waitFor();
  assert.deepEqual(await sections.evaluateAll((s) => s.map((e) => e.dataset.section)), ['', 'train', 'val']);
  for (const title of ['score', 'train/loss', 'val/loss']) {
    await card(`metric:${title}`).scrollIntoViewIfNeeded();
    await page.waitForFunction((t) => Number(document.querySelector(`[data-testid=metric-chart][data-title="${t}"]`)?.dataset.drawn ?? 0) > 0, title);
  }
  // final_acc has one value per run: drawn as bars, one per run, with the logged values.
  const bars = page.locator('[data-testid=bar-chart][data-title=final_acc] [data-testid=bar]');
  await bars.nth(5).waitFor();
  const values = Object.fromEntries(await bars.evaluateAll((b) => b.map((e) => [e.dataset.label, Number(e.dataset.value)])));
  assert.deepEqual(Object.keys(values).sort(), ['seed-0', 'seed-1', 'seed-2', 'seed-3', 'seed-4', 'seed-5']);
  for (let i = 0; i < 6; i += 1) assert.ok(Math.abs(values[`seed-${i}`] - (0.5 + 0.08 * i)) < 1e-9, `seed-${i}: ${values[`seed-${i}`]}`);
  assert.equal(await page.locator('[data-testid=metric-chart][data-title=final_acc]').count(), 0, 'no line chart for a single value');
  // The run's swatch in the table has the color of its bar.
  const swatch = await page.locator('[data-testid=run-row]', { hasText: 'seed-2' }).locator('.swatch').evaluate((e) => getComputedStyle(e).backgroundColor);
  const fill = await bars.filter({ has: page.locator('title', { hasText: 'seed-2' }) }).locator('rect').evaluate((e) => getComputedStyle(e).fill);
  assert.equal(swatch, fill);
  // Each chart's key was asked once (charts share runstash's batched chart call), for all six runs,
  // about one point per pixel of its plot.
  const requests = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => e.name.includes('get-chart-histories'))
      .map((e) => new URL(e.name).searchParams)
      .flatMap((q) => q.getAll('metric_keys').map((key) => ({ key, runs: q.getAll('run_ids').length, maxResults: Number(q.get('max_results')) }))),
  );
  assert.deepEqual([...new Set(requests.map((r) => r.key))].sort(), ['final_acc', 'rmse', 'score', 'train/loss', 'val/loss']);
  const width = await page.locator('.metric-card').first().evaluate((e) => e.clientWidth);
  const fitted = Math.min(2500, Math.max(50, Math.ceil((width - 60) / 100) * 100));
  for (const key of ['final_acc', 'rmse', 'score', 'train/loss', 'val/loss']) {
    const list = requests.filter((r) => r.key === key);
    assert.equal(list.length, 1, `${key}: one request`);
    assert.equal(list[0].runs, 6, `${key}: every run in it`);
    assert.equal(list[0].maxResults, fitted, `${key}: max_results fitted to ${width} px`);
  }
  await shot('chart-view');
});

test('chart view: x axis, log scale and smoothing in the URL; hover is shared between charts', async () => {
  await page.getByTestId('x-axis').selectOption('relative');
  await page.getByTestId('log-scale').check();
  await page.getByTestId('smoothing').fill('0.5');
  await page.waitForFunction(() => location.hash.includes('x=relative') && location.hash.includes('log=1') && location.hash.includes('smooth=0.5'));
  await page.getByTestId('x-axis').selectOption('step');
  await page.getByTestId('log-scale').uncheck();
  await page.getByTestId('smoothing').fill('0');
  await page.waitForFunction(() => !location.hash.includes('x=') && !location.hash.includes('log=') && !location.hash.includes('smooth='));
  await hover('score', 0.999);
  // The cursor on `score` moves the cursor of `train/loss` to the same step.
  await page.waitForFunction(() => document.querySelector('[data-title="train/loss"] .u-legend .u-series .u-value')?.textContent === '9');
  const loss = await legend('train/loss');
  const expected = (await history(explorer.run_ids[5], 'train/loss')).find((m) => m.step === 9).value;
  assert.ok(Math.abs(Number(loss['seed-5']) - expected) < 1e-5, `${loss['seed-5']} vs ${expected}`);
});

test('chart view: charts are removed, reordered, resized and added; runs hidden from the table', async () => {
  await card('metric:val/loss').getByTestId('card-remove').click();
  await page.waitForFunction(() => !document.querySelector('[data-card="metric:val/loss"]'));
  assert.match(await hash(), /charts=metric:final_acc\|metric:rmse\|metric:score\|metric:train\/loss/);
  await card('metric:final_acc').getByTestId('card-later').click();
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('charts=metric:rmse|metric:final_acc|'));
  await card('metric:score').getByTestId('card-resize').click();
  await page.waitForFunction(() => document.querySelector('[data-card="metric:score"]')?.classList.contains('wide'));
  const widths = await page.evaluate(() => ['metric:score', 'metric:rmse'].map((id) => document.querySelector(`[data-card="${id}"]`).getBoundingClientRect().width));
  assert.ok(widths[0] > widths[1] * 1.8, `wide card ${widths}`);
  await page.locator('.add-card summary').click();
  await page.getByTestId('add-metric').selectOption('val/loss');
  await card('metric:val/loss').waitFor();
  // Hiding a run from the table removes it from every chart.
  await page.locator('[data-testid=run-row]', { hasText: 'seed-0' }).getByTestId('run-eye').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-title=final_acc] [data-testid=bar]').length === 5);
  assert.match(await hash(), new RegExp(`hide=${explorer.run_ids[0]}`));
  await page.locator('[data-testid=run-row]', { hasText: 'seed-0' }).getByTestId('run-eye').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-title=final_acc] [data-testid=bar]').length === 6);
});

test('grouping by a param: group rows in the table, mean ± std bands checked against the data', async () => {
  await at(`#/experiments/${explorer.experiment_id}?tab=charts`);
  await page.locator('[data-testid=group-picker] summary').click();
  await page.getByTestId('group-param-optimizer').check();
  await page.waitForFunction(() => location.hash.includes('group=param%3Aoptimizer') || location.hash.includes('group=param:optimizer'));
  await page.locator('[data-testid=group-picker] summary').click();
  const groups = page.locator('[data-testid=group-row]');
  await groups.nth(1).waitFor();
  assert.deepEqual(await groups.evaluateAll((g) => g.map((e) => e.textContent.trim())), ['▾optimizer=b 3 runs', '▾optimizer=a 3 runs']);
  // Collapsing a group hides its runs.
  await groups.nth(0).getByTestId('group-toggle').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 3);
  await groups.nth(0).getByTestId('group-toggle').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 6);

  // The numbers: mean and population std of `score` over each group's runs at the last step.
  const step = 9;
  const at9 = await Promise.all(explorer.run_ids.map(async (id) => (await history(id, 'score')).find((m) => m.step === step).value));
  const stats = (xs) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
  };
  const expected = { 'optimizer=a': stats(at9.slice(0, 3)), 'optimizer=b': stats(at9.slice(3)) };
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=metric-chart][data-title=score]')?.dataset.drawn ?? 0) > 0);
  await hover('score', 0.999);
  await page.waitForFunction(() => document.querySelector('[data-title=score] .u-legend .u-series .u-value')?.textContent === '9');
  const shown = await legend('score');
  for (const [group, { mean, std }] of Object.entries(expected)) {
    const close = (label, value) => assert.ok(Math.abs(Number(shown[label]) - value) < 1e-4, `${label}: ${shown[label]} vs ${value}`);
    close(`${group} (3 runs) mean`, mean);
    close(`${group} (3 runs) +std`, mean + std);
    close(`${group} (3 runs) -std`, mean - std);
  }
  assert.ok(expected['optimizer=a'].std > 0.1, 'the band has a width');
  // Single-value metrics group into one bar per group at the mean.
  const bars = await page.locator('[data-title=final_acc] [data-testid=bar]').evaluateAll((b) => b.map((e) => [e.dataset.label, Number(e.dataset.value)]));
  assert.equal(bars.length, 2);
  assert.ok(Math.abs(bars.find(([l]) => l.startsWith('optimizer=a'))[1] - 0.58) < 1e-9);
  // min–max band: the upper edge is the group's max.
  await page.getByTestId('band').selectOption('minmax');
  await page.waitForFunction(() => location.hash.includes('band=minmax'));
  await page.waitForFunction(() => [...document.querySelectorAll('[data-title=score] .u-legend .u-label')].some((e) => e.textContent.endsWith(' max')));
  await hover('score', 0.5);
  await hover('score', 0.999);
  const minmax = await legend('score');
  assert.ok(Math.abs(Number(minmax['optimizer=a (3 runs) max']) - Math.max(...at9.slice(0, 3))) < 1e-4);
  await page.getByTestId('band').selectOption('std');
  await hover('score', 0.999);
  await shot('grouped-chart');
  // The same grouping in the runs table.
  await page.getByTestId('tab-table').click();
  await page.locator('[data-testid=group-row]').nth(1).waitFor();
  assert.equal(await page.getByTestId('runs-count').textContent(), '6 runs in 2 groups');
  await shot('grouped-table');
});

test('scatter of a param against a metric; parallel coordinates pick varying params and brush the table', async () => {
  await at(`#/experiments/${explorer.experiment_id}?tab=charts`);
  await page.locator('.add-card summary').click();
  await page.getByTestId('scatter-x').selectOption('params.lr');
  await page.getByTestId('scatter-y').selectOption('metrics.final_acc');
  await page.getByTestId('add-scatter').click();
  const points = page.locator('[data-testid=scatter-chart] [data-testid=scatter-point]');
  await points.nth(5).waitFor();
  assert.equal(await points.count(), 6);
  await page.locator('[data-testid=scatter-chart]').scrollIntoViewIfNeeded();
  await page.locator('[data-testid=scatter-chart]').screenshot({ path: join(resultsDir, 'scatter.png') });

  await page.getByTestId('add-parallel').selectOption('final_acc');
  const parallel = page.getByTestId('parallel-chart');
  await parallel.waitFor();
  // lr, optimizer and seed vary between the runs; the chosen metric is the last axis.
  assert.deepEqual(await parallel.getByTestId('pc-axis').evaluateAll((a) => a.map((e) => e.dataset.axis)), ['lr', 'optimizer', 'seed', 'final_acc']);
  assert.equal(await parallel.getByTestId('pc-line').count(), 6);
  // Brush the upper half of the metric axis (0.5..0.9): only runs with final_acc > 0.7 stay in the table.
  await page.locator('.add-card summary').click();
  await parallel.scrollIntoViewIfNeeded();
  const axis = await parallel.getByTestId('pc-brush').nth(3).boundingBox();
  await page.mouse.move(axis.x + axis.width / 2, axis.y + 2);
  await page.mouse.down();
  await page.mouse.move(axis.x + axis.width / 2, axis.y + axis.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 3);
  assert.deepEqual((await page.locator('[data-testid=run-row] .name').allTextContents()).sort(), ['seed-3', 'seed-4', 'seed-5']);
  assert.match(await page.getByTestId('runs-count').textContent(), /3 inside the brushed ranges/);
  assert.equal(await parallel.locator('[data-testid=pc-line][data-inside=true]').count(), 3);
  await parallel.screenshot({ path: join(resultsDir, 'parallel-coordinates.png') });
  await parallel.getByTestId('clear-brush').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 6);
});

test('live runs: table and charts refresh only what changed, with a live state and a pause', async () => {
  const requests = [];
  const onRequest = (r) => {
    if (r.url().includes('ajax-api')) requests.push({ url: r.url(), body: r.postData() ?? '' });
  };
  page.on('request', onRequest);
  try {
    await at(`#/experiments/${live.experiment_id}?tab=charts`);
    await page.getByTestId('live-state').getByText('live: 1 run running').waitFor();
    assert.equal(await page.getByTestId('runs-count').textContent(), '1 run');
    await page.waitForFunction(() => document.querySelector('[data-testid=metric-chart][data-title=loss]')?.dataset.points === '5');
    await rest('runs/log-batch', { run_id: live.run_id, metrics: [5, 6].map((step) => ({ key: 'loss', value: 0.01, timestamp: Date.now(), step })) });
    await page.waitForFunction(() => document.querySelector('[data-title=loss]')?.dataset.points === '7', null, { timeout: 20_000 });
    // The table polls the RUNNING run by id, not the whole search.
    assert.ok(requests.some((r) => r.url.endsWith('runs/search') && r.body.includes(`attributes.run_id IN ('${live.run_id}')`)), 'polled by run id');
    await page.getByTestId('live-toggle').click();
    await page.getByTestId('live-state').getByText('live updates paused').waitFor();
    assert.match(await hash(), /live=off/);
    requests.length = 0;
    await rest('runs/log-batch', { run_id: live.run_id, metrics: [{ key: 'loss', value: 0.005, timestamp: Date.now(), step: 7 }] });
    await page.waitForTimeout(6000);
    assert.deepEqual(requests, [], 'no polling while paused');
    assert.equal(await page.locator('[data-title=loss]').getAttribute('data-points'), '7');
    await page.getByTestId('live-toggle').click();
    await page.waitForFunction(() => document.querySelector('[data-title=loss]')?.dataset.points === '8', null, { timeout: 20_000 });
  } finally {
    page.off('request', onRequest);
    await rest('runs/update', { run_id: live.run_id, status: 'FINISHED', end_time: Date.now() });
  }
});

test('image gallery: images logged with mlflow.log_image, side by side, with a step slider', async () => {
  await at(`#/experiments/${explorer.experiment_id}?tab=images`);
  const gallery = page.locator('[data-testid=image-gallery][data-key="samples/input"]');
  await gallery.waitFor();
  const cells = gallery.getByTestId('gallery-cell');
  assert.equal(await cells.count(), 2);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=gallery-cell] img')].every((i) => i.naturalWidth === 8));
  assert.deepEqual(await cells.locator('img').evaluateAll((i) => i.map((e) => e.dataset.step)), ['2', '2']);
  await gallery.getByTestId('image-step').fill('0');
  await gallery.getByTestId('image-step-value').getByText('0').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=gallery-cell] img')].every((i) => i.dataset.step === '0' && i.complete && i.naturalWidth === 8));
  await gallery.getByTestId('image-step').fill('1');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=gallery-cell] img')].every((i) => i.dataset.step === '1' && i.complete));
  await shot('image-gallery');
});

test("HTML artifacts render in a sandboxed iframe; JSON tables as tables; MLflow's artifacts deep link", async () => {
  const runId = explorer.run_ids[0];
  await at(`#/experiments/${explorer.experiment_id}/runs/${runId}/artifacts/estimator.html`);
  const frame = page.getByTestId('html-preview');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts');
  await page.frameLocator('[data-testid=html-preview]').locator('#estimator', { hasText: 'RandomForestRegressor' }).waitFor();
  await shot('html-preview');
  await page.locator('[data-testid=artifact-file][data-path="table.json"]').click();
  await page.getByRole('cell', { name: 'x2' }).waitFor();
  await page.getByRole('cell', { name: '0.75' }).waitFor();
  assert.deepEqual(dialogs, []);
});

test('Parquet artifacts (pandas + pyarrow through the stock client) preview their first rows as a table', async () => {
  const runId = explorer.run_ids[0];
  await at(`#/experiments/${explorer.experiment_id}/runs/${runId}/artifacts/predictions.parquet`);
  const table = page.locator('[data-testid=artifact-preview] [data-testid=csv-preview]');
  await table.waitFor();
  assert.equal(await page.getByTestId('parquet-summary').textContent(), 'First 100 of 300 rows');
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['id', 'score', 'label']);
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.equal(rows.length, 100);
  // The values pandas wrote: id i, score i / 4, label row-i (int64 ids shown exactly).
  assert.deepEqual(rows[0], ['0', '0', 'row-0']);
  assert.deepEqual(rows[99], ['99', '24.75', 'row-99']);
  await shot('parquet-preview');
});

test('logged models: experiment tab, their own page with type and links; model-metrics link; datasets tab', async () => {
  await at(`#/experiments/${explorer.experiment_id}?tab=models`);
  const row = page.getByTestId('logged-model-row').filter({ hasText: 'forest' });
  await row.waitFor();
  assert.match(await row.textContent(), /regressor/);
  assert.match(await row.textContent(), /0\.42/);
  assert.match(await row.textContent(), /seed-0|[0-9a-f]{32}/);
  await row.getByRole('link', { name: 'forest' }).click();
  await page.getByTestId('model-name').getByText('forest').waitFor();
  assert.match(await hash(), new RegExp(`#/experiments/${explorer.experiment_id}/models/m-`));
  await page.getByTestId('model-details').getByText('regressor').waitFor();
  await page.getByTestId('model-metrics').getByText('0.42').waitFor();
  await page.getByTestId('model-params').getByText('max_depth').waitFor();
  await shot('logged-model');
  await page.getByTestId('model-source-run').click();
  await page.getByTestId('run-name').getByText('seed-0').waitFor();

  await at(`#/experiments/${explorer.experiment_id}/runs/${explorer.run_ids[0]}/model-metrics`);
  await page.getByTestId('logged-models').getByRole('link', { name: 'forest' }).waitFor();

  await at(`#/experiments/${explorer.experiment_id}?tab=datasets`);
  const datasets = page.getByTestId('experiment-datasets');
  await datasets.getByText('digits').waitFor();
  await datasets.getByText('6 runs').waitFor();
});

test('what a new user tripped over: plurals, placeholder, headers, about, not-found, registry links', async () => {
  await at(`#/experiments/${live.experiment_id}`);
  await page.getByTestId('runs-count').getByText(/^1 run$/).waitFor();
  const placeholder = await page.getByLabel('Filter runs').getAttribute('placeholder');
  assert.match(placeholder, /^Filter runs, e\.g\. /);
  await at(`#/compare?runs=${live.run_id}`);
  await page.getByRole('heading', { name: 'Compare 1 run', exact: true }).waitFor();

  // Experiment description and tags.
  await at(`#/experiments/${explorer.experiment_id}?cols=${encodeURIComponent('metric:train/loss|metric:final_acc|param:optimizer')}`);
  await page.getByTestId('experiment-description').locator('strong', { hasText: 'explorer' }).waitFor();
  await page.getByTestId('experiment-tags').getByText('ui-tests').waitFor();
  // Metric headers are shown whole (wrapping only after separators), not cut off.
  await page.locator('[data-testid=run-row]').nth(5).waitFor();
  const cut = await page.$$eval('.vheader .cell.head', (cells) => cells.filter((c) => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1).map((c) => c.textContent));
  assert.deepEqual(cut, []);

  await at('#/no/such/page');
  await page.getByTestId('not-found').getByText('/no/such/page').waitFor();
  await page.getByTestId('back-home').click();
  await page.waitForFunction(() => location.hash === '#/experiments');

  await at('#/models/some-model');
  await page.getByTestId('registered-model-name').getByText('some-model').waitFor();
  // Either the registry shows the model, or the page says plainly that there is none.
  await page.locator('[data-testid=registry-missing], [data-testid=registered-model]').first().waitFor();
  await shot('registered-model');
});
